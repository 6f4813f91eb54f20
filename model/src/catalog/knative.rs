//! Serverless services that scale with traffic, down to zero.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector};
use k8s_openapi::api::rbac::v1::PolicyRule;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{knative_networking, victoria_metrics};
use crate::generate::build::{self, COMPONENT_LABEL, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::names::{self, DerivedName, DnsLabel};
use crate::generate::Owned;
use crate::objects::{EnvValue, KnativeService, Resources};
use crate::reach;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Knative,
    id: "knative",
    name: "Knative Serving",
    group: BatteryGroup::Devtools,
    description: "Serverless services that scale with traffic, down to zero.",
    // NB: without a networking layer and a gateway no Knative Service ever
    // becomes Ready on a real cluster.
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::IstioGateway],
    integrations: &[
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "request metrics of every service",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Knative Serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnativeConfig {
    /// Where Knative's own components run.
    pub namespace: DnsLabel,
    /// activator.
    pub activator_image: ImageRef,
    /// autoscaler.
    pub autoscaler_image: ImageRef,
    /// controller.
    pub controller_image: ImageRef,
    /// webhook.
    pub webhook_image: ImageRef,
    /// queue-proxy sidecar.
    pub queue_image: ImageRef,
    /// net-gateway-api's controller: routes Knative Services on bi's Gateway.
    pub net_controller_image: ImageRef,
    /// net-gateway-api's webhook.
    pub net_webhook_image: ImageRef,
}

impl Default for KnativeConfig {
    fn default() -> Self {
        Self {
            namespace: checks::label("battery-knative"),
            activator_image: image(images::KNATIVE_ACTIVATOR),
            autoscaler_image: image(images::KNATIVE_AUTOSCALER),
            controller_image: image(images::KNATIVE_CONTROLLER),
            webhook_image: image(images::KNATIVE_WEBHOOK),
            queue_image: image(images::KNATIVE_QUEUE),
            net_controller_image: image(images::KNATIVE_NET_GATEWAY_API_CONTROLLER),
            net_webhook_image: image(images::KNATIVE_NET_GATEWAY_API_WEBHOOK),
        }
    }
}

impl KnativeConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "activator_image", &self.activator_image);
        checks::pinned(&mut problems, "autoscaler_image", &self.autoscaler_image);
        checks::pinned(&mut problems, "controller_image", &self.controller_image);
        checks::pinned(&mut problems, "webhook_image", &self.webhook_image);
        checks::pinned(&mut problems, "queue_image", &self.queue_image);
        checks::pinned(
            &mut problems,
            "net_controller_image",
            &self.net_controller_image,
        );
        checks::pinned(&mut problems, "net_webhook_image", &self.net_webhook_image);
        problems.into_result()
    }
}

/// The API version of Knative services.
pub const API_VERSION: &str = "serving.knative.dev/v1";

/// The ServiceAccount of the controller, autoscaler and webhook.
const CONTROLLER_ACCOUNT: &str = "controller";

/// The activator's own, narrower ServiceAccount.
const ACTIVATOR_ACCOUNT: &str = "activator";

/// Knative's label for its own objects; the config webhook only looks at
/// ConfigMaps carrying it.
const PART_OF: (&str, &str) = ("app.kubernetes.io/part-of", "knative-serving");

/// Where Knative's components serve Prometheus metrics (port name `metrics`).
const METRICS_PORT: u16 = 9090;

/// What a service's objects are labelled with (`battery/app`): `knative-<name>`.
const APP_PREFIX: &str = "knative-";

/// The app label of the service `name`: `knative-<name>`.
pub fn app_of(name: &str) -> String {
    format!("{APP_PREFIX}{name}")
}

/// The names and labels derived from a service's name; the longest name
/// validation accepts is what they all leave room for. Knative's own binds:
/// each revision (`<name>-00001`) gets a private Service `<name>-00001-private`.
pub const SERVICE_NAMES: &[DerivedName] = &[
    DerivedName::app_label(&[APP_PREFIX]),
    DerivedName {
        by: "Knative",
        what: "the revision's private Service",
        prefix: &[],
        suffix: "-00001-private",
        limit: names::SERVICE_NAME,
    },
];

/// The longest service name (49).
pub const SERVICE_NAME_MAX_LEN: usize = names::derived_max_len(SERVICE_NAMES);

/// The ConfigMaps Knative's components watch: each refuses to start
/// without all of them (missing keys take Knative's defaults).
const CONFIG_MAPS: [&str; 11] = [
    "config-autoscaler",
    "config-defaults",
    "config-deployment",
    "config-domain",
    "config-features",
    "config-gc",
    "config-leader-election",
    "config-logging",
    "config-network",
    "config-observability",
    "config-tracing",
];

/// Knative Serving in its namespace: the CRDs its components watch, the
/// activator, autoscaler, controller and webhook (Deployments, Services,
/// ServiceAccounts, RBAC, the webhook configurations it keeps up to date,
/// its ConfigMaps), and a `serving.knative.dev/v1 Service` per
/// [`KnativeService`] in the same namespace. With Istio, Knative's ingress
/// class is Istio's; with VictoriaMetrics, the components and every
/// service's queue-proxy are scraped. Reads no stored secrets.
pub fn generate(config: &KnativeConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = config.namespace.as_str();
    let mut resources = vec![Resource::new(app, &build::namespace(namespace, &[]))?];
    for crd in &CRDS {
        resources.push(crd.resource(app)?);
    }
    resources.push(Resource::new(
        app,
        &build::service_account(namespace, CONTROLLER_ACCOUNT),
    )?);
    resources.push(Resource::new(
        app,
        &build::service_account(namespace, ACTIVATOR_ACCOUNT),
    )?);
    for (role, rules, account) in [
        (
            "knative-serving-admin",
            controller_rules(),
            CONTROLLER_ACCOUNT,
        ),
        (
            "knative-serving-activator-cluster",
            build::rules(ACTIVATOR_CLUSTER_RULES),
            ACTIVATOR_ACCOUNT,
        ),
    ] {
        resources.push(Resource::new(app, &build::cluster_role(role, rules))?);
        resources.push(Resource::new(
            app,
            &build::cluster_role_binding(role, role, namespace, account),
        )?);
    }
    resources.push(Resource::new(
        app,
        &build::role(
            namespace,
            "knative-serving-activator",
            activator_namespace_rules(),
        ),
    )?);
    resources.push(Resource::new(
        app,
        &build::role_binding(
            namespace,
            "knative-serving-activator",
            "knative-serving-activator",
            ACTIVATOR_ACCOUNT,
        ),
    )?);
    for config_map in config_maps(config, ctx) {
        resources.push(Resource::new(app, &config_map)?);
    }
    // NB: the webhook fills this Secret with its own certificate and injects
    // the CA into the configurations below; bi sets neither field.
    resources.push(Resource::new(
        app,
        &build::secret(namespace, "webhook-certs", BTreeMap::new()),
    )?);
    resources.push(Resource::new(app, &mutating_webhook(namespace))?);
    for validating in validating_webhooks(namespace) {
        resources.push(Resource::new(app, &validating)?);
    }

    for component in components(config, namespace) {
        resources.push(Resource::new(app, &component.deployment)?);
        let mut service = build::service(
            namespace,
            component.service,
            component.name,
            &component.service_ports,
        );
        service.metadata.labels = Some(build::string_map(&[(COMPONENT_LABEL, component.name)]));
        resources.push(Resource::new(app, &service)?);
        if let Some(scrape) = victoria_metrics::scrape(
            ctx,
            app,
            namespace,
            // NB: not `knative-<name>`, which a user's service may be called.
            &format!("{}-metrics", component.name),
            component.name,
            "metrics",
        )? {
            resources.push(scrape);
        }
    }

    if reach::gateway(ctx).is_some() {
        resources.extend(knative_networking::generate(
            config,
            ctx,
            app,
            CONTROLLER_ACCOUNT,
        )?);
    }

    let mut services: Vec<&Owned<KnativeService>> = ctx.state.knative_services.iter().collect();
    services.sort_by(|a, b| a.object.name.cmp(&b.object.name));
    for owned in services {
        let app = app_of(&owned.object.name);
        resources.push(Resource::from_value(
            &app,
            knative_service(namespace, owned),
        )?);
        // NB: Knative makes a `<revision>-private` Service per revision with
        // the queue-proxy's request metrics on `http-usermetric`.
        if let Some(scrape) =
            victoria_metrics::scrape(ctx, &app, namespace, &app, &app, "http-usermetric")?
        {
            resources.push(scrape);
        }
    }
    Ok(resources)
}

/// A user's service as Knative's `Service`: named by its project (for its
/// hostname), and cluster-local when it is not exposed.
fn knative_service(namespace: &str, owned: &Owned<KnativeService>) -> Value {
    let service = &owned.object;
    let env: Vec<Value> = service
        .env
        .iter()
        .map(|var| match &var.value {
            EnvValue::Literal(value) => json!({ "name": var.name, "value": value }),
            EnvValue::SecretRef { secret, key } => json!({
                "name": var.name,
                "valueFrom": { "secretKeyRef": { "name": secret, "key": key } },
            }),
        })
        .collect();
    let mut container = json!({
        "image": service.image.to_string(),
        "ports": [{ "containerPort": service.port }],
        "securityContext": {
            "runAsNonRoot": true,
            "allowPrivilegeEscalation": false,
            "capabilities": { "drop": ["ALL"] },
            "seccompProfile": { "type": "RuntimeDefault" },
        },
    });
    if !env.is_empty() {
        container["env"] = Value::Array(env);
    }
    let component = app_of(&service.name);
    let mut body = build::custom_resource(
        API_VERSION,
        "Service",
        Some(namespace),
        &service.name,
        json!({
            "template": {
                "metadata": {
                    "labels": { COMPONENT_LABEL: component },
                    "annotations": {
                        "autoscaling.knative.dev/min-scale": service.min_scale.to_string(),
                        "autoscaling.knative.dev/max-scale": service.max_scale.to_string(),
                        "autoscaling.knative.dev/metric": "concurrency",
                        "autoscaling.knative.dev/target": service.concurrency_target.to_string(),
                    },
                },
                "spec": { "containers": [container] },
            },
        }),
    );
    if let Some(project) = &owned.project {
        body["metadata"]["annotations"] = json!({ PROJECT_ANNOTATION: project });
    }
    if !service.expose {
        body["metadata"]["labels"] = json!({ VISIBILITY_LABEL: "cluster-local" });
    }
    body
}

/// The annotation naming a Knative Service's project (its hostname's
/// middle part, see [`DOMAIN_TEMPLATE`]).
pub const PROJECT_ANNOTATION: &str = "battery/project";

/// Knative's label that keeps a service off the external gateway.
const VISIBILITY_LABEL: &str = "networking.knative.dev/visibility";

/// One of Knative's own components.
struct Component {
    name: &'static str,
    service: &'static str,
    service_ports: Vec<(&'static str, u16)>,
    deployment: Deployment,
}

/// `POD_NAME` and friends: Knative reads them from the downward API.
fn field_env(name: &str, field: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field.to_owned(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// A component's requests (CPU in millicores, memory in MiB) and memory limit.
pub(super) fn component_resources(cpu: u64, memory: u64, memory_limit: u64) -> Resources {
    Resources {
        cpu_request: Cpu::millicores(cpu),
        cpu_limit: None,
        memory_request: Memory::mebibytes(memory),
        memory_limit: Some(Memory::mebibytes(memory_limit)),
    }
}

/// The activator (buffers requests while a service scales from zero), the
/// autoscaler, the controller and the admission webhook. Their Services
/// carry the names Knative looks them up by.
fn components(config: &KnativeConfig, namespace: &str) -> Vec<Component> {
    let common = |container: &mut ContainerSpec| {
        container.env.extend([
            build::env("SYSTEM_NAMESPACE", namespace),
            build::env("CONFIG_LOGGING_NAME", "config-logging"),
            build::env("CONFIG_OBSERVABILITY_NAME", "config-observability"),
            build::env("METRICS_DOMAIN", "knative.dev/internal/serving"),
            field_env("POD_NAME", "metadata.name"),
        ]);
    };

    let mut activator = ContainerSpec::new("activator", &config.activator_image);
    common(&mut activator);
    activator.env.push(field_env("POD_IP", "status.podIP"));
    activator.ports = vec![("http", 8012), ("http2", 8013), ("metrics", METRICS_PORT)];
    // NB: Knative's handlers answer kubelet probes (they recognise the user agent).
    activator.health = Some(Health::Http("/", 8012));
    activator.resources = Some(component_resources(300, 128, 600));

    let mut autoscaler = ContainerSpec::new("autoscaler", &config.autoscaler_image);
    common(&mut autoscaler);
    autoscaler.env.push(field_env("POD_IP", "status.podIP"));
    autoscaler.ports = vec![("http", 8080), ("metrics", METRICS_PORT)];
    autoscaler.health = Some(Health::Http("/", 8080));
    autoscaler.resources = Some(component_resources(100, 128, 1024));

    let mut controller = ContainerSpec::new("controller", &config.controller_image);
    common(&mut controller);
    controller.ports = vec![("probes", 8080), ("metrics", METRICS_PORT)];
    controller.health = Some(Health::Http("/health", 8080));
    controller.resources = Some(component_resources(100, 128, 1024));

    let mut webhook = ContainerSpec::new("webhook", &config.webhook_image);
    common(&mut webhook);
    webhook.env.extend([
        build::env("WEBHOOK_NAME", "webhook"),
        build::env("WEBHOOK_PORT", "8443"),
    ]);
    webhook.ports = vec![("https-webhook", 8443), ("metrics", METRICS_PORT)];
    // NB: it serves TLS with its own CA: a TCP check avoids the scheme.
    webhook.health = Some(Health::Tcp(8443));
    webhook.resources = Some(component_resources(100, 128, 512));

    let deployment = |name: &str, account: &str, container: ContainerSpec| {
        build::deployment(namespace, name, 1, Some(account), &[container], Vec::new())
    };
    vec![
        Component {
            name: "activator",
            service: "activator-service",
            service_ports: vec![("http", 80), ("http2", 81), ("metrics", METRICS_PORT)],
            deployment: deployment("activator", ACTIVATOR_ACCOUNT, activator),
        },
        Component {
            name: "autoscaler",
            service: "autoscaler",
            service_ports: vec![("http", 8080), ("metrics", METRICS_PORT)],
            deployment: deployment("autoscaler", CONTROLLER_ACCOUNT, autoscaler),
        },
        Component {
            name: "controller",
            service: "controller",
            service_ports: vec![("metrics", METRICS_PORT)],
            deployment: deployment("controller", CONTROLLER_ACCOUNT, controller),
        },
        Component {
            name: "webhook",
            service: "webhook",
            service_ports: vec![("https-webhook", 443), ("metrics", METRICS_PORT)],
            deployment: deployment("webhook", CONTROLLER_ACCOUNT, webhook),
        },
    ]
}

/// `<service>.<project>.<domain>` (`<service>.<domain>` outside projects):
/// Knative hands a Route its Service's annotations, bi's project one
/// included. Knative checks the template against a name without it.
pub const DOMAIN_TEMPLATE: &str =
    "{{.Name}}.{{with index .Annotations \"battery/project\"}}{{.}}.{{end}}{{.Domain}}";

/// Knative's ConfigMaps: what bi decides (the queue-proxy image; with the
/// gateway, net-gateway-api's ingress class, the installation domain and
/// bi's hostname template) and Knative's defaults for the rest.
fn config_maps(
    config: &KnativeConfig,
    ctx: &Context<'_>,
) -> Vec<k8s_openapi::api::core::v1::ConfigMap> {
    let namespace = config.namespace.as_str();
    let gateway = reach::gateway(ctx);
    CONFIG_MAPS
        .iter()
        .map(|name| {
            let data = match *name {
                "config-deployment" => {
                    build::string_map(&[("queue-sidecar-image", &config.queue_image.to_string())])
                }
                "config-network" if gateway.is_some() => build::string_map(&[
                    ("ingress-class", knative_networking::INGRESS_CLASS),
                    ("domain-template", DOMAIN_TEMPLATE),
                ]),
                "config-domain" => match &gateway {
                    Some(gateway) => build::string_map(&[(gateway.domain.as_str(), "")]),
                    None => BTreeMap::new(),
                },
                _ => BTreeMap::new(),
            };
            let mut config_map = build::config_map(namespace, name, data);
            // NB: the config webhook validates ConfigMaps by these labels
            // (upstream's own, see `validating_webhooks`).
            config_map.metadata.labels = Some(build::string_map(&[
                PART_OF,
                ("app.kubernetes.io/name", "knative-serving"),
                ("app.kubernetes.io/component", config_map_component(name)),
            ]));
            config_map
        })
        .collect()
}

fn webhook_client(namespace: &str) -> WebhookClientConfig {
    WebhookClientConfig {
        service: Some(ServiceReference {
            name: "webhook".to_owned(),
            namespace: namespace.to_owned(),
            ..ServiceReference::default()
        }),
        ..WebhookClientConfig::default()
    }
}

/// The component upstream labels a ConfigMap with.
fn config_map_component(name: &str) -> &'static str {
    match name {
        "config-autoscaler" => "autoscaler",
        "config-logging" => "logging",
        "config-network" => "networking",
        "config-observability" => "observability",
        "config-tracing" => "tracing",
        _ => "controller",
    }
}

/// The resources the defaulting and validating webhooks see, as upstream
/// ships them (the webhook rewrites these rules itself once it runs).
fn webhook_rules(operations: &[&str]) -> Vec<RuleWithOperations> {
    let strings = |items: &[&str]| Some(items.iter().map(|i| (*i).to_owned()).collect());
    vec![RuleWithOperations {
        api_groups: strings(&[
            "autoscaling.internal.knative.dev",
            "networking.internal.knative.dev",
            "serving.knative.dev",
        ]),
        api_versions: strings(&["*"]),
        operations: strings(operations),
        scope: Some("*".to_owned()),
        resources: strings(&[
            "metrics",
            "podautoscalers",
            "certificates",
            "ingresses",
            "serverlessservices",
            "configurations",
            "revisions",
            "routes",
            "services",
            "domainmappings",
            "domainmappings/status",
        ]),
    }]
}

/// The defaulting webhook.
fn mutating_webhook(namespace: &str) -> MutatingWebhookConfiguration {
    let name = "webhook.serving.knative.dev";
    MutatingWebhookConfiguration {
        metadata: build::meta(None, name),
        webhooks: Some(vec![MutatingWebhook {
            name: name.to_owned(),
            admission_review_versions: vec!["v1".to_owned(), "v1beta1".to_owned()],
            client_config: webhook_client(namespace),
            failure_policy: Some("Fail".to_owned()),
            rules: Some(webhook_rules(&["CREATE", "UPDATE"])),
            side_effects: "None".to_owned(),
            timeout_seconds: Some(10),
            ..MutatingWebhook::default()
        }]),
    }
}

/// The validating webhooks for Knative's resources and its ConfigMaps (the
/// latter's rules are written by the webhook itself, as upstream leaves them
/// out).
fn validating_webhooks(namespace: &str) -> Vec<ValidatingWebhookConfiguration> {
    let webhook = |name: &str,
                   rules: Option<Vec<RuleWithOperations>>,
                   object_selector: Option<LabelSelector>| {
        ValidatingWebhookConfiguration {
            metadata: build::meta(None, name),
            webhooks: Some(vec![ValidatingWebhook {
                name: name.to_owned(),
                admission_review_versions: vec!["v1".to_owned(), "v1beta1".to_owned()],
                client_config: webhook_client(namespace),
                failure_policy: Some("Fail".to_owned()),
                side_effects: "None".to_owned(),
                timeout_seconds: Some(10),
                object_selector,
                rules,
                ..ValidatingWebhook::default()
            }]),
        }
    };
    let requirement = |key: &str, values: &[&str]| LabelSelectorRequirement {
        key: key.to_owned(),
        operator: "In".to_owned(),
        values: Some(values.iter().map(|v| (*v).to_owned()).collect()),
    };
    let config_maps = LabelSelector {
        match_expressions: Some(vec![
            requirement("app.kubernetes.io/name", &["knative-serving"]),
            requirement(
                "app.kubernetes.io/component",
                &[
                    "autoscaler",
                    "controller",
                    "logging",
                    "networking",
                    "observability",
                    "tracing",
                    "net-certmanager",
                ],
            ),
        ]),
        ..LabelSelector::default()
    };
    vec![
        webhook(
            "validation.webhook.serving.knative.dev",
            Some(webhook_rules(&["CREATE", "UPDATE", "DELETE"])),
            None,
        ),
        webhook(
            "config.webhook.serving.knative.dev",
            None,
            Some(config_maps),
        ),
    ]
}

/// Everything the controller, autoscaler and webhook manage, as upstream's
/// `knative-serving-core` ClusterRole (v1.20.0) grants it: Knative's own
/// groups, the Deployments and Services of every revision, HPAs, leases,
/// and the webhook configurations and CRDs the webhook keeps current. The
/// `clusterroles` delete on `knative-serving-certmanager` follows in
/// [`controller_rules`].
const CONTROLLER_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &[
            "pods",
            "namespaces",
            "secrets",
            "configmaps",
            "endpoints",
            "services",
            "events",
            "serviceaccounts",
        ],
        ALL_VERBS,
    ),
    // For RestrictedEndpointsAdmission.
    (&[""], &["endpoints/restricted"], &["create"]),
    // Finalizers for the owner references of the webhook.
    (&[""], &["namespaces/finalizers"], &["update"]),
    (
        &["apps"],
        &["deployments", "deployments/finalizers"],
        ALL_VERBS,
    ),
    (
        &["admissionregistration.k8s.io"],
        &[
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
        ],
        ALL_VERBS,
    ),
    (
        &["apiextensions.k8s.io"],
        &[
            "customresourcedefinitions",
            "customresourcedefinitions/status",
        ],
        ALL_VERBS,
    ),
    (&["autoscaling"], &["horizontalpodautoscalers"], ALL_VERBS),
    (&["coordination.k8s.io"], &["leases"], ALL_VERBS),
    (
        &[
            "serving.knative.dev",
            "autoscaling.internal.knative.dev",
            "networking.internal.knative.dev",
        ],
        &["*", "*/status", "*/finalizers"],
        &[
            "get",
            "list",
            "create",
            "update",
            "delete",
            "deletecollection",
            "patch",
            "watch",
        ],
    ),
    (&["caching.internal.knative.dev"], &["images"], ALL_VERBS),
    (
        &["cert-manager.io"],
        &[
            "certificates",
            "clusterissuers",
            "certificaterequests",
            "issuers",
        ],
        ALL_VERBS,
    ),
    (&["acme.cert-manager.io"], &["challenges"], ALL_VERBS),
];

const ALL_VERBS: &[&str] = &[
    "get", "list", "create", "update", "delete", "patch", "watch",
];

fn controller_rules() -> Vec<PolicyRule> {
    let mut rules = build::rules(CONTROLLER_RULES);
    rules.push(build::named_rule(
        &["rbac.authorization.k8s.io"],
        &["clusterroles"],
        &["delete"],
        &["knative-serving-certmanager"],
    ));
    rules
}

/// The activator only reads where to send requests: upstream's
/// `knative-serving-activator-cluster` ClusterRole.
const ACTIVATOR_CLUSTER_RULES: &[build::RuleSpec] = &[
    (&[""], &["services", "endpoints"], &["get", "list", "watch"]),
    (
        &["serving.knative.dev"],
        &["revisions"],
        &["get", "list", "watch"],
    ),
];

/// ... and its configuration and certificates in its own namespace:
/// upstream's `knative-serving-activator` Role.
fn activator_namespace_rules() -> Vec<PolicyRule> {
    vec![
        build::rule(&[""], &["configmaps", "secrets"], &["get", "list", "watch"]),
        build::named_rule(
            &[""],
            &["secrets"],
            &["get", "list", "watch"],
            &["routing-serving-certs", "knative-serving-certs"],
        ),
    ]
}

/// Knative Serving's CRDs at v1.20.0, as upstream ships them: every CRD
/// of its `serving-crds.yaml`, i.e. `config/core/300-resources` and the
/// networking and caching CRDs it links in from `vendor/`. Its components'
/// informers never sync without them; bi writes only `services`.
pub const CRDS: [UpstreamCrd; 12] = [
    upstream_crd!(
        "certificates.networking.internal.knative.dev",
        "knative-serving",
        "v1.20.0",
        "vendor/knative.dev/networking/config/certificate.yaml",
        "fb0d76e0833f37aebd6b5ceffe7452a72f2a3205d4813a907bf0fde169a26689"
    ),
    upstream_crd!(
        "configurations.serving.knative.dev",
        "knative-serving",
        "v1.20.0",
        "config/core/300-resources/configuration.yaml",
        "f6d60818da8ce4ce276d8844469506b604eac53ed069927ee08b8c9adc0dbeec"
    ),
    upstream_crd!(
        "clusterdomainclaims.networking.internal.knative.dev",
        "knative-serving",
        "v1.20.0",
        "vendor/knative.dev/networking/config/domain-claim.yaml",
        "7ccff632beef374ca159b58c6fba254051ff09fb478611eb9752e1734944fcf5"
    ),
    upstream_crd!(
        "domainmappings.serving.knative.dev",
        "knative-serving",
        "v1.20.0",
        "config/core/300-resources/domain-mapping.yaml",
        "6913d57ccee28f69a9eeffd932121a2359f9a24bb52aab537092922e16ecd874"
    ),
    upstream_crd!(
        "ingresses.networking.internal.knative.dev",
        "knative-serving",
        "v1.20.0",
        "vendor/knative.dev/networking/config/ingress.yaml",
        "54d782e97dfd21d57573ddbbd746c2df0703df19f9ec7a2b664e35395d5552e3"
    ),
    upstream_crd!(
        "metrics.autoscaling.internal.knative.dev",
        "knative-serving",
        "v1.20.0",
        "config/core/300-resources/metric.yaml",
        "4c5cd0134b89c445109492e1bb4a2890d2efb2f44f4523c117bbdcb9796eb4f1"
    ),
    upstream_crd!(
        "podautoscalers.autoscaling.internal.knative.dev",
        "knative-serving",
        "v1.20.0",
        "config/core/300-resources/podautoscaler.yaml",
        "7b0c9961301e581d5c24e0e7d65684b75ee29e44d799fffb8345914cab424767"
    ),
    upstream_crd!(
        "revisions.serving.knative.dev",
        "knative-serving",
        "v1.20.0",
        "config/core/300-resources/revision.yaml",
        "b188651a6c0ddab8812cebaa689d5cc6291641273c3e55e229a9e89e91b9a48a"
    ),
    upstream_crd!(
        "routes.serving.knative.dev",
        "knative-serving",
        "v1.20.0",
        "config/core/300-resources/route.yaml",
        "782a5a6f2a69c9e33b6be8fb7b6ba0acad1283365fa63eb64512a78a716219a7"
    ),
    upstream_crd!(
        "serverlessservices.networking.internal.knative.dev",
        "knative-serving",
        "v1.20.0",
        "vendor/knative.dev/networking/config/serverlessservice.yaml",
        "e079752eecee6cce342b9290693086dc330eb03b59b3f4454244d00786220e3d"
    ),
    upstream_crd!(
        "services.serving.knative.dev",
        "knative-serving",
        "v1.20.0",
        "config/core/300-resources/service.yaml",
        "7e0639913891a6f4456f3db659d2b26f486b9cc43adb2c12b957030a7d7b1e5b"
    ),
    upstream_crd!(
        "images.caching.internal.knative.dev",
        "knative-serving",
        "v1.20.0",
        "vendor/knative.dev/caching/config/image.yaml",
        "079d3253b44e1e7fdce3ac7fe7213c0b9f5d0201f408a9b93e37a9f251f5186f"
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::find_required as find;
    use crate::catalog::test_support::strict;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Owned, Secrets};
    use crate::objects::EnvVar as UserEnvVar;

    fn web() -> KnativeService {
        KnativeService {
            env: vec![
                UserEnvVar::literal("LOG_LEVEL", "debug"),
                UserEnvVar::secret("DATABASE_URL", "postgres-main-app-connection", "url"),
            ],
            ..KnativeService::new("web", ImageRef::parse("ghcr.io/acme/web:1.2.3").unwrap())
        }
    }

    fn state(extra: &[BatteryKind]) -> DesiredState {
        let mut kinds = vec![BatteryKind::Knative];
        kinds.extend_from_slice(extra);
        let mut state = DesiredState::with_batteries(&kinds).unwrap();
        state.knative_services.push(Owned::unowned(KnativeService {
            min_scale: 2,
            max_scale: 5,
            scale_to_zero: false,
            concurrency_target: 50,
            port: 3000,
            ..KnativeService::new("api", ImageRef::parse("ghcr.io/acme/api:2.0.0").unwrap())
        }));
        state.knative_services.push(Owned::unowned(web()));
        state
    }

    fn run(state: &DesiredState) -> Vec<Resource> {
        let empty = BTreeMap::new();
        generate(
            &KnativeConfig::default(),
            &Context::new(state, Secrets::Stored(&empty)),
        )
        .unwrap()
    }

    #[test]
    fn generates_serving_its_crds_configuration_and_components() {
        let resources = run(&state(&[]));
        let ns = find(&resources, "Namespace", "battery-knative");
        assert_eq!(ns.app, "knative");
        let crds = resources
            .iter()
            .filter(|r| r.path.kind == "CustomResourceDefinition")
            .count();
        assert_eq!(crds, 12);
        find(
            &resources,
            "CustomResourceDefinition",
            "services.serving.knative.dev",
        );
        for name in ["activator", "autoscaler", "controller", "webhook"] {
            let deployment = find(&resources, "Deployment", name);
            assert_eq!(
                deployment.path.namespace.as_deref(),
                Some("battery-knative")
            );
            let container = &deployment.body["spec"]["template"]["spec"]["containers"][0];
            assert!(
                container["image"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("/cmd/{name}:"))
            );
            assert!(container["resources"]["requests"]["cpu"].is_string());
            assert!(container["readinessProbe"].is_object());
        }
        for name in ["activator-service", "autoscaler", "controller", "webhook"] {
            find(&resources, "Service", name);
        }
        for name in CONFIG_MAPS {
            find(&resources, "ConfigMap", name);
        }
        let deployment = find(&resources, "ConfigMap", "config-deployment");
        assert_eq!(
            deployment.body["data"]["queue-sidecar-image"],
            images::KNATIVE_QUEUE
        );
        find(
            &resources,
            "MutatingWebhookConfiguration",
            "webhook.serving.knative.dev",
        );
        find(
            &resources,
            "ValidatingWebhookConfiguration",
            "validation.webhook.serving.knative.dev",
        );
        find(&resources, "ClusterRoleBinding", "knative-serving-admin");
        find(&resources, "ServiceAccount", ACTIVATOR_ACCOUNT);
        let network = find(&resources, "ConfigMap", "config-network");
        assert_eq!(
            network.body["data"]["ingress-class"],
            knative_networking::INGRESS_CLASS
        );
    }

    #[test]
    fn user_services_become_knative_services() {
        let resources = run(&state(&[]));
        let api = find(&resources, "Service", "api");
        assert_eq!(api.path.api_version, API_VERSION);
        assert_eq!(api.app, "knative-api");
        assert_eq!(api.path.namespace.as_deref(), Some("battery-knative"));
        let template = &api.body["spec"]["template"];
        let annotations = &template["metadata"]["annotations"];
        assert_eq!(annotations["autoscaling.knative.dev/min-scale"], "2");
        assert_eq!(annotations["autoscaling.knative.dev/max-scale"], "5");
        assert_eq!(annotations["autoscaling.knative.dev/target"], "50");
        let container = &template["spec"]["containers"][0];
        assert_eq!(container["image"], "ghcr.io/acme/api:2.0.0");
        assert_eq!(container["ports"][0]["containerPort"], 3000);
        assert!(container.get("env").is_none());
        let web = &find(&resources, "Service", "web").body["spec"]["template"];
        assert_eq!(
            web["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"],
            "0"
        );
        let env = &web["spec"]["containers"][0]["env"];
        assert_eq!(env[0], json!({ "name": "LOG_LEVEL", "value": "debug" }));
        assert_eq!(
            env[1],
            json!({ "name": "DATABASE_URL", "valueFrom": { "secretKeyRef": {
                "name": "postgres-main-app-connection", "key": "url" } } })
        );
    }

    #[test]
    fn knative_services_validate_against_their_crd() {
        // Checked against the schema Knative ships.
        let schema = CRDS
            .iter()
            .find(|crd| crd.name == "services.serving.knative.dev")
            .and_then(|crd| crd.schema("v1"))
            .unwrap();
        let resources = run(&state(&[]));
        for name in ["api", "web"] {
            let service = resources
                .iter()
                .find(|r| r.path.api_version == API_VERSION && r.path.name == name)
                .unwrap();
            assert_eq!(violations(&schema, &service.body), Vec::<String>::new());
            assert_eq!(
                violations(&strict(&schema), &service.body),
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn services_are_routed_by_net_gateway_api_at_their_project_hosts() {
        let mut state = state(&[]);
        state.knative_services[0].project = Some("shop".to_owned());
        state.knative_services[1].object.expose = false;
        let resources = run(&state);
        let network = &find(&resources, "ConfigMap", "config-network").body["data"];
        assert_eq!(network["ingress-class"], knative_networking::INGRESS_CLASS);
        assert_eq!(network["domain-template"], DOMAIN_TEMPLATE);
        let domain = &find(&resources, "ConfigMap", "config-domain").body["data"];
        assert_eq!(domain, &json!({ "bi.localhost": "" }));
        let gateways = &find(&resources, "ConfigMap", "config-gateway").body["data"];
        assert_eq!(
            gateways["external-gateways"],
            "- class: bi\n  gateway: battery-istio/bi\n  service: battery-istio/istio-ingressgateway\n  supported-features:\n  - HTTPRouteRequestTimeout\n"
        );
        assert!(
            gateways["local-gateways"]
                .as_str()
                .unwrap()
                .contains("gateway: battery-istio/bi-local\n")
        );
        for name in ["net-gateway-api-controller", "net-gateway-api-webhook"] {
            let deployment = find(&resources, "Deployment", name);
            assert_eq!(
                deployment.body["spec"]["template"]["spec"]["serviceAccountName"],
                CONTROLLER_ACCOUNT
            );
        }
        find(&resources, "ClusterRoleBinding", knative_networking::CLUSTER_ROLE);
        // The project names the host; an unexposed service stays inside.
        let api = find(&resources, "Service", "api");
        assert_eq!(api.path.api_version, API_VERSION);
        assert_eq!(api.body["metadata"]["annotations"][PROJECT_ANNOTATION], "shop");
        let web = find(&resources, "Service", "web");
        assert!(
            web.body["metadata"]["annotations"]
                .get(PROJECT_ANNOTATION)
                .is_none()
        );
        assert_eq!(
            web.body["metadata"]["labels"]["networking.knative.dev/visibility"],
            "cluster-local"
        );
    }

    #[test]
    fn victoria_metrics_scrapes_components_and_services() {
        assert!(
            !run(&state(&[]))
                .iter()
                .any(|r| r.path.kind == "VMServiceScrape")
        );
        let resources = run(&state(&[BatteryKind::VictoriaMetrics]));
        let scrapes: Vec<&str> = resources
            .iter()
            .filter(|r| r.path.kind == "VMServiceScrape")
            .map(|r| r.path.name.as_str())
            .collect();
        assert_eq!(
            scrapes,
            [
                "activator-metrics",
                "autoscaler-metrics",
                "controller-metrics",
                "webhook-metrics",
                "knative-api",
                "knative-web",
            ]
        );
    }

    #[test]
    fn typed_objects_round_trip_through_k8s_openapi() {
        let resources = run(&state(&[]));
        for resource in resources.iter().filter(|r| r.path.kind == "Deployment") {
            let typed: Deployment = serde_json::from_value(resource.body.clone()).unwrap();
            assert_eq!(serde_json::to_value(typed).unwrap(), resource.body);
        }
    }
}
