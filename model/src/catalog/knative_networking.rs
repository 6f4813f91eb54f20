//! Knative's networking layer: net-gateway-api, so Knative Services get
//! HTTPRoutes on bi's own Gateway, next to every other route, served with
//! the same listeners and certificates.
//!
//! NB: of Knative's two layers (`../shared/upstream` has both at v1.20.0)
//! bi runs net-gateway-api, not net-istio: net-istio programs Istio's own
//! `Gateway`/`VirtualService` API, which would be a second, separately
//! configured front door (its own TLS settings) on the same ingress pods.
//! With net-gateway-api there is one Gateway, one set of HTTPS listeners
//! and one kind of route to show. Scale to zero works the same in both: the
//! activator stays in the path while a service has no pods.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    ServiceReference, ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::istio_gateway;
use super::knative::{KnativeConfig, component_resources};
use crate::generate::build::{self, COMPONENT_LABEL, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::reach;

/// The ingress class Knative's routes are handed to.
pub const INGRESS_CLASS: &str = "gateway-api.ingress.networking.knative.dev";

/// The controller's Deployment.
const CONTROLLER: &str = "net-gateway-api-controller";

/// The webhook's Deployment, Service and webhook configuration name.
const WEBHOOK: &str = "net-gateway-api-webhook";

/// The validating webhook (it checks `config-gateway`).
const WEBHOOK_CONFIGURATION: &str = "config.webhook.gateway-api.networking.internal.knative.dev";

/// The ClusterRole upstream ships for the controller (bi binds it directly;
/// upstream aggregates it into `knative-serving-admin`).
pub const CLUSTER_ROLE: &str = "knative-gateway-api-core";

/// The controller's rules, as upstream's `200-clusterrole.yaml` lists them.
const RULES: &[build::RuleSpec] = &[
    (
        &["gateway.networking.k8s.io"],
        &["httproutes", "referencegrants", "referencepolicies"],
        &[
            "get", "list", "create", "update", "delete", "patch", "watch",
        ],
    ),
    (
        &["gateway.networking.k8s.io"],
        &["gateways"],
        &["get", "list", "update", "patch", "watch"],
    ),
];

/// Upstream's labels on its objects; the webhook selects ConfigMaps by them.
fn labels() -> BTreeMap<String, String> {
    build::string_map(&[
        ("app.kubernetes.io/component", "net-gateway-api"),
        ("app.kubernetes.io/name", "knative-serving"),
        ("networking.knative.dev/ingress-provider", "net-gateway-api"),
    ])
}

/// One gateway entry of `config-gateway`.
fn gateway_entry(namespace: &str, gateway: &str, service: &str) -> String {
    format!(
        "- class: {class}\n  gateway: {namespace}/{gateway}\n  service: {namespace}/{service}\n  supported-features:\n  - HTTPRouteRequestTimeout\n",
        class = istio_gateway::GATEWAY,
    )
}

/// `config-gateway`: external routes go to bi's Gateway (its address is the
/// load balancer), cluster-local ones to the local Gateway.
fn config_gateway(ctx: &Context<'_>, namespace: &str) -> k8s_openapi::api::core::v1::ConfigMap {
    let istio = reach::istio_namespace(ctx);
    let external = gateway_entry(&istio, istio_gateway::GATEWAY, istio_gateway::NAME);
    let local = gateway_entry(
        &istio,
        istio_gateway::LOCAL_GATEWAY,
        istio_gateway::LOCAL_GATEWAY,
    );
    let mut config_map = build::config_map(
        namespace,
        "config-gateway",
        build::string_map(&[("external-gateways", &external), ("local-gateways", &local)]),
    );
    config_map.metadata.labels = Some(labels());
    config_map
}

fn webhook_configuration(namespace: &str) -> ValidatingWebhookConfiguration {
    ValidatingWebhookConfiguration {
        metadata: build::meta(None, WEBHOOK_CONFIGURATION),
        webhooks: Some(vec![ValidatingWebhook {
            name: WEBHOOK_CONFIGURATION.to_owned(),
            admission_review_versions: vec!["v1".to_owned(), "v1beta1".to_owned()],
            client_config: WebhookClientConfig {
                service: Some(ServiceReference {
                    name: WEBHOOK.to_owned(),
                    namespace: namespace.to_owned(),
                    ..ServiceReference::default()
                }),
                ..WebhookClientConfig::default()
            },
            failure_policy: Some("Fail".to_owned()),
            side_effects: "None".to_owned(),
            object_selector: Some(LabelSelector {
                match_labels: Some(build::string_map(&[
                    ("app.kubernetes.io/name", "knative-serving"),
                    ("app.kubernetes.io/component", "net-gateway-api"),
                ])),
                ..LabelSelector::default()
            }),
            ..ValidatingWebhook::default()
        }]),
    }
}

/// net-gateway-api in Knative's namespace: its controller and webhook
/// (Deployments on Knative's `controller` ServiceAccount, the webhook's
/// Service and the Secret it keeps its certificate in), the ClusterRole
/// upstream ships with a binding, the validating webhook for its ConfigMap,
/// and `config-gateway` naming bi's Gateways. Reads no secrets.
pub fn generate(
    config: &KnativeConfig,
    ctx: &Context<'_>,
    app: &str,
    account: &str,
) -> Result<Vec<Resource>, GenerateError> {
    let namespace = config.namespace.as_str();
    let common = |container: &mut ContainerSpec| {
        container.env.extend([
            build::env("SYSTEM_NAMESPACE", namespace),
            build::env("CONFIG_LOGGING_NAME", "config-logging"),
            build::env("CONFIG_OBSERVABILITY_NAME", "config-observability"),
            build::env("METRICS_DOMAIN", "knative.dev/net-gateway-api"),
        ]);
    };
    let mut controller = ContainerSpec::new("controller", &config.net_controller_image);
    common(&mut controller);
    controller.ports = vec![("metrics", 9090), ("profiling", 8008)];
    controller.resources = Some(component_resources(100, 100, 1000));
    // NB: upstream's controller has no probe endpoint; its metrics port
    // answers once it runs.
    controller.health = Some(Health::Tcp(9090));

    let mut webhook = ContainerSpec::new("webhook", &config.net_webhook_image);
    common(&mut webhook);
    webhook.env.extend([
        build::env("WEBHOOK_NAME", WEBHOOK),
        build::env("WEBHOOK_PORT", "8443"),
    ]);
    webhook.ports = vec![
        ("metrics", 9090),
        ("profiling", 8008),
        ("https-webhook", 8443),
    ];
    webhook.resources = Some(component_resources(20, 20, 200));
    webhook.health = Some(Health::Tcp(8443));

    let deployment = |name: &str, container: ContainerSpec| {
        build::deployment(namespace, name, 1, Some(account), &[container], Vec::new())
    };
    let mut service = build::service(
        namespace,
        WEBHOOK,
        WEBHOOK,
        &[("https-webhook", 443), ("metrics", 9090)],
    );
    service.metadata.labels = Some(build::string_map(&[(COMPONENT_LABEL, WEBHOOK)]));
    Ok(vec![
        Resource::new(app, &build::cluster_role(CLUSTER_ROLE, build::rules(RULES)))?,
        Resource::new(
            app,
            &build::cluster_role_binding(CLUSTER_ROLE, CLUSTER_ROLE, namespace, account),
        )?,
        Resource::new(app, &config_gateway(ctx, namespace))?,
        // NB: the webhook fills this Secret with its own certificate and
        // injects the CA into its configuration; bi sets neither.
        Resource::new(
            app,
            &build::secret(namespace, "net-gateway-api-webhook-certs", BTreeMap::new()),
        )?,
        Resource::new(app, &webhook_configuration(namespace))?,
        Resource::new(app, &deployment(CONTROLLER, controller))?,
        Resource::new(app, &deployment(WEBHOOK, webhook))?,
        Resource::new(app, &service)?,
    ])
}
