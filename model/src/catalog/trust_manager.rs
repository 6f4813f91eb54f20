//! Distributes the Battery CA's bundle to every namespace so workloads trust it.

use k8s_openapi::api::admissionregistration::v1::{
    RuleWithOperations, ServiceReference, ValidatingWebhook, ValidatingWebhookConfiguration,
    WebhookClientConfig,
};
use k8s_openapi::api::core::v1::{SecretVolumeSource, Volume};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::battery_ca;
use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::TrustManager,
    id: "trust_manager",
    name: "trust-manager",
    group: BatteryGroup::NetSecurity,
    description: "Distributes the Battery CA's bundle to every namespace so workloads trust it.",
    dependencies: &[BatteryKind::CertManager, BatteryKind::BatteryCa],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of trust-manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustManagerConfig {
    /// trust-manager.
    pub image: ImageRef,
}

impl Default for TrustManagerConfig {
    fn default() -> Self {
        Self {
            image: image(images::TRUST_MANAGER),
        }
    }
}

impl TrustManagerConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

const NAME: &str = "trust-manager";
/// The Secret cert-manager keeps the webhook's serving certificate in.
const WEBHOOK_TLS_SECRET: &str = "trust-manager-tls";
const WEBHOOK_PORT: u16 = 6443;

/// The `Bundle` every namespace gets the Battery CA from (a ConfigMap of the
/// same name, key `ca.crt`).
pub const CA_BUNDLE: &str = "battery-ca";

/// trust-manager's CRD at v0.20.2, as upstream ships it (`deploy/crds`):
/// `Bundle` only. The `ClusterBundle` of `deploy/crds` is left out, as
/// v0.20.2's chart leaves it out: this controller neither watches it nor
/// has RBAC for it.
pub const CRDS: [UpstreamCrd; 1] = [upstream_crd!(
    "bundles.trust.cert-manager.io",
    "trust-manager",
    "v0.20.2",
    "deploy/crds/trust.cert-manager.io_bundles.yaml",
    "1c02cd90dce50c8d543bae06787ce74e1c574eb3edd706e162bb3594ba81d8f5"
)];

/// The webhook's serving certificate: a namespaced self-signed Issuer and a
/// Certificate for the Service's name.
fn webhook_certificate(namespace: &str) -> [Value; 2] {
    let issuer = build::custom_resource(
        "cert-manager.io/v1",
        "Issuer",
        Some(namespace),
        NAME,
        json!({ "selfSigned": {} }),
    );
    let certificate = build::custom_resource(
        "cert-manager.io/v1",
        "Certificate",
        Some(namespace),
        NAME,
        json!({
            "commonName": format!("{NAME}.{namespace}.svc"),
            "dnsNames": [format!("{NAME}.{namespace}.svc")],
            "secretName": WEBHOOK_TLS_SECRET,
            "duration": "8760h",
            "renewBefore": "720h",
            "privateKey": { "algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always" },
            "issuerRef": { "group": "cert-manager.io", "kind": "Issuer", "name": NAME },
        }),
    );
    [issuer, certificate]
}

fn webhook_configuration(namespace: &str) -> ValidatingWebhookConfiguration {
    let mut metadata = build::meta(None, NAME);
    // NB: no caBundle here: cert-manager's cainjector copies it from the
    // Certificate's secret (this annotation) and owns that field.
    metadata.annotations = Some(build::string_map(&[(
        "cert-manager.io/inject-ca-from",
        &format!("{namespace}/{NAME}"),
    )]));
    ValidatingWebhookConfiguration {
        metadata,
        webhooks: Some(vec![ValidatingWebhook {
            name: "trust.cert-manager.io".to_owned(),
            admission_review_versions: vec!["v1".to_owned()],
            client_config: WebhookClientConfig {
                service: Some(ServiceReference {
                    name: NAME.to_owned(),
                    namespace: namespace.to_owned(),
                    path: Some("/validate-trust-cert-manager-io-v1alpha1-bundle".to_owned()),
                    port: Some(443),
                }),
                ..WebhookClientConfig::default()
            },
            failure_policy: Some("Fail".to_owned()),
            rules: Some(vec![RuleWithOperations {
                api_groups: Some(vec!["trust.cert-manager.io".to_owned()]),
                api_versions: Some(vec!["v1alpha1".to_owned()]),
                operations: Some(vec!["CREATE".to_owned(), "UPDATE".to_owned()]),
                resources: Some(vec!["bundles".to_owned()]),
                ..RuleWithOperations::default()
            }]),
            side_effects: "None".to_owned(),
            timeout_seconds: Some(5),
            ..ValidatingWebhook::default()
        }]),
    }
}

/// The ClusterRole's rules, as upstream's chart (v0.20.2) grants them: its
/// `clusterrole.yaml`, and the `namespacedResourcesRules` of `_helpers.tpl`
/// that it includes when no target namespaces are set (bi sets none).
const CLUSTER_RULES: &[build::RuleSpec] = &[
    (
        &["trust.cert-manager.io"],
        &["bundles"],
        &["get", "list", "watch"],
    ),
    (
        &["trust.cert-manager.io"],
        &["bundles/finalizers"],
        &["update"],
    ),
    (&["trust.cert-manager.io"], &["bundles/status"], &["patch"]),
    (&[""], &["namespaces"], &["get", "list", "watch"]),
    // namespacedResourcesRules: the Bundle's target ConfigMaps, and events.
    (
        &[""],
        &["configmaps"],
        &["get", "list", "create", "patch", "watch", "delete"],
    ),
    (&["", "events.k8s.io"], &["events"], &["create", "patch"]),
];

/// The leader-election Role's rules, as upstream's `role.yaml`.
const LEADER_ELECTION_RULES: &[build::RuleSpec] = &[(
    &["coordination.k8s.io"],
    &["leases"],
    &["get", "create", "update", "watch", "list"],
)];

/// The resources this battery needs, in the base namespace (which is also
/// its trust namespace, where the `battery-ca` secret lives): the
/// trust-manager Deployment, ServiceAccount, RBAC, its validating webhook
/// (Service, configuration, and a cert-manager Issuer + Certificate for its
/// serving certificate), the `bundles.trust.cert-manager.io` CRD, and the
/// Bundle `battery-ca` that copies the CA certificate into a ConfigMap
/// `battery-ca` in every namespace. Reads no secrets.
pub fn generate(
    config: &TrustManagerConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = ctx.base_namespace();
    let mut out = Vec::new();
    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }

    out.push(Resource::new(app, &build::service_account(ns, NAME))?);
    let rules = build::rules(CLUSTER_RULES);
    out.push(Resource::new(app, &build::cluster_role(NAME, rules))?);
    out.push(Resource::new(
        app,
        &build::cluster_role_binding(NAME, NAME, ns, NAME),
    )?);
    // The bundle sources (the CA secret) live in the trust namespace.
    let namespaced = build::rules(&[(&[""], &["secrets"], &["get", "list", "watch"])]);
    out.push(Resource::new(app, &build::role(ns, NAME, namespaced))?);
    out.push(Resource::new(
        app,
        &build::role_binding(ns, NAME, NAME, NAME),
    )?);
    let leader_election = format!("{NAME}:leaderelection");
    out.push(Resource::new(
        app,
        &build::role(ns, &leader_election, build::rules(LEADER_ELECTION_RULES)),
    )?);
    out.push(Resource::new(
        app,
        &build::role_binding(ns, &leader_election, &leader_election, NAME),
    )?);

    for body in webhook_certificate(ns) {
        out.push(Resource::from_value(app, body)?);
    }
    let mut container = ContainerSpec::new(NAME, &config.image);
    container.args = vec![
        "--log-format=json".to_owned(),
        "--log-level=1".to_owned(),
        "--metrics-port=9402".to_owned(),
        "--readiness-probe-port=6060".to_owned(),
        "--readiness-probe-path=/readyz".to_owned(),
        "--leader-elect=true".to_owned(),
        format!("--leader-election-namespace={ns}"),
        format!("--trust-namespace={ns}"),
        "--webhook-host=0.0.0.0".to_owned(),
        format!("--webhook-port={WEBHOOK_PORT}"),
        "--webhook-certificate-dir=/tls".to_owned(),
    ];
    container.ports = vec![("webhook", WEBHOOK_PORT), ("metrics", 9402)];
    container.health = Some(Health::Http("/readyz", 6060));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(25),
        cpu_limit: None,
        memory_request: Memory::mebibytes(64),
        memory_limit: Some(Memory::mebibytes(256)),
    });
    container.mounts = vec![("tls".to_owned(), "/tls".to_owned())];
    let tls = Volume {
        name: "tls".to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(WEBHOOK_TLS_SECRET.to_owned()),
            default_mode: Some(0o440),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    out.push(Resource::new(
        app,
        &build::deployment(ns, NAME, 1, Some(NAME), &[container], vec![tls]),
    )?);
    out.push(Resource::new(
        app,
        &build::service(ns, NAME, NAME, &[("webhook", 443), ("metrics", 9402)]),
    )?);
    out.push(Resource::new(app, &webhook_configuration(ns))?);

    let bundle = build::custom_resource(
        "trust.cert-manager.io/v1alpha1",
        "Bundle",
        None,
        CA_BUNDLE,
        json!({
            "sources": [{ "secret": { "name": battery_ca::CA_NAME, "key": "ca.crt" } }],
            "target": { "configMap": { "key": "ca.crt" } },
        }),
    );
    out.push(Resource::from_value(app, bundle)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::cert_manager::{certificate_schema, issuer_schema};
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};
    use k8s_openapi::api::apps::v1::Deployment;

    fn generated(config: &TrustManagerConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(&[BatteryKind::TrustManager]).unwrap();
        let empty = std::collections::BTreeMap::new();
        generate(config, &Context::new(&state, Secrets::Stored(&empty))).unwrap()
    }

    #[test]
    fn generates_the_operator_its_webhook_and_the_ca_bundle() {
        let resources = generated(&TrustManagerConfig::default());
        let kinds: Vec<(&str, &str)> = resources
            .iter()
            .map(|r| (r.path.kind.as_str(), r.path.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("CustomResourceDefinition", "bundles.trust.cert-manager.io"),
                ("ServiceAccount", "trust-manager"),
                ("ClusterRole", "trust-manager"),
                ("ClusterRoleBinding", "trust-manager"),
                ("Role", "trust-manager"),
                ("RoleBinding", "trust-manager"),
                ("Role", "trust-manager:leaderelection"),
                ("RoleBinding", "trust-manager:leaderelection"),
                ("Issuer", "trust-manager"),
                ("Certificate", "trust-manager"),
                ("Deployment", "trust-manager"),
                ("Service", "trust-manager"),
                ("ValidatingWebhookConfiguration", "trust-manager"),
                ("Bundle", "battery-ca"),
            ]
        );
        let bundle = &resources[13].body["spec"];
        assert_eq!(bundle["sources"][0]["secret"]["name"], "battery-ca");
        assert_eq!(bundle["target"]["configMap"]["key"], "ca.crt");
    }

    #[test]
    fn the_pod_runs_the_configured_image_with_limits() {
        let image =
            crate::image::ImageRef::parse("quay.io/jetstack/trust-manager:v0.20.1").unwrap();
        let config = TrustManagerConfig {
            image: image.clone(),
        };
        let resources = generated(&config);
        let deployment = resources
            .iter()
            .find(|r| r.path.kind == "Deployment")
            .unwrap();
        let deployment: Deployment = serde_json::from_value(deployment.body.clone()).unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(image.to_string().as_str()));
        assert!(container.resources.as_ref().unwrap().requests.is_some());
        assert!(container.readiness_probe.is_some());
        assert!(
            container
                .args
                .as_ref()
                .unwrap()
                .contains(&"--trust-namespace=battery-base".to_owned())
        );
    }

    #[test]
    fn every_custom_resource_fits_its_crd_schema() {
        for resource in generated(&TrustManagerConfig::default()) {
            let schema = match resource.path.kind.as_str() {
                "Bundle" => CRDS[0].schema("v1alpha1").unwrap(),
                "Certificate" => certificate_schema().unwrap(),
                "Issuer" => issuer_schema().unwrap(),
                _ => continue,
            };
            assert_eq!(
                violations(&schema, &resource.body),
                Vec::<String>::new(),
                "{}",
                resource.path
            );
        }
    }
}
