//! NetworkPolicies that isolate every namespace bi creates: ingress is denied
//! by default and allowed only from the same namespace and from the
//! namespaces whose batteries need to reach in (metrics scraping from the
//! monitoring namespace, traffic from the ingress gateway, the control
//! server). The data namespace also accepts bi's other namespaces, where the
//! services that use the databases run; namespaces hosting admission
//! webhooks (operators, Knative) accept the API server, which has no
//! namespace to select.

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::build::{meta, string_map};
use super::context::Context;
use super::error::GenerateError;
use super::labels::MANAGED_LABEL;
use super::resource::Resource;
use crate::catalog::BatteryKind;

/// The label Kubernetes puts on every namespace with its own name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The app label of the policies this module generates.
const APP: &str = "network_policies";

fn from_namespace(namespace: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(string_map(&[(NAMESPACE_NAME_LABEL, namespace)])),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// One policy per namespace among `generated`'s Namespaces.
pub fn generate(ctx: &Context<'_>, generated: &[Resource]) -> Result<Vec<Resource>, GenerateError> {
    let mut namespaces: Vec<&str> = generated
        .iter()
        .filter(|r| r.path.kind == "Namespace" && r.path.api_version == "v1")
        .map(|r| r.path.name.as_str())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();

    let mut allowed_from = Vec::new();
    if ctx.installed(BatteryKind::VmAgent) || ctx.installed(BatteryKind::VictoriaMetrics) {
        allowed_from.push(ctx.monitoring_namespace().to_owned());
    }
    if ctx.installed(BatteryKind::IstioGateway)
        && let Some(crate::catalog::BatteryConfig::Istio(istio)) =
            ctx.state.batteries.get(&BatteryKind::Istio)
    {
        allowed_from.push(istio.namespace.to_string());
    }
    // The control server reaches into every namespace it manages (health, logs).
    allowed_from.push(ctx.core_namespace().to_owned());

    // Namespaces with a Service that an admission webhook calls.
    let mut webhook_namespaces: Vec<&str> = generated
        .iter()
        .filter(|r| r.path.kind.ends_with("WebhookConfiguration"))
        .flat_map(|r| {
            r.body["webhooks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w["clientConfig"]["service"]["namespace"].as_str())
        })
        .collect();
    webhook_namespaces.push(ctx.base_namespace());

    let mut policies = Vec::new();
    for namespace in namespaces {
        let mut peers = vec![NetworkPolicyPeer {
            pod_selector: Some(LabelSelector::default()),
            ..NetworkPolicyPeer::default()
        }];
        peers.extend(
            allowed_from
                .iter()
                .filter(|from| from.as_str() != namespace)
                .map(|from| from_namespace(from)),
        );
        let mut rules = vec![NetworkPolicyIngressRule {
            from: Some(peers),
            ..NetworkPolicyIngressRule::default()
        }];
        if namespace == ctx.data_namespace() {
            rules.push(NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(LabelSelector {
                        match_labels: Some(string_map(&[(MANAGED_LABEL, "true")])),
                        ..LabelSelector::default()
                    }),
                    ..NetworkPolicyPeer::default()
                }]),
                ..NetworkPolicyIngressRule::default()
            });
        }
        if webhook_namespaces.contains(&namespace) {
            rules.push(NetworkPolicyIngressRule::default());
        }
        let policy = NetworkPolicy {
            metadata: meta(Some(namespace), "battery-isolation"),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".to_owned()]),
                ingress: Some(rules),
                ..NetworkPolicySpec::default()
            }),
        };
        policies.push(Resource::new(APP, &policy)?);
    }
    Ok(policies)
}
