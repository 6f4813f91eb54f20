//! Issues and renews TLS certificates, including from Let's Encrypt.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector};
use k8s_openapi::api::rbac::v1::PolicyRule;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use super::{BatteryConfig, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::CertManager,
    id: "cert_manager",
    name: "cert-manager",
    group: BatteryGroup::NetSecurity,
    description: "Issues and renews TLS certificates, including from Let's Encrypt.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of cert-manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertManagerConfig {
    /// The controller.
    pub controller_image: ImageRef,
    /// The webhook.
    pub webhook_image: ImageRef,
    /// The CA injector.
    pub cainjector_image: ImageRef,
    /// Contact e-mail for a Let's Encrypt issuer; none means no ACME issuer.
    pub acme_email: Option<String>,
}

impl Default for CertManagerConfig {
    fn default() -> Self {
        Self {
            controller_image: image(images::CERT_MANAGER_CONTROLLER),
            webhook_image: image(images::CERT_MANAGER_WEBHOOK),
            cainjector_image: image(images::CERT_MANAGER_CAINJECTOR),
            acme_email: None,
        }
    }
}

impl CertManagerConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "controller_image", &self.controller_image);
        checks::pinned(&mut problems, "webhook_image", &self.webhook_image);
        checks::pinned(&mut problems, "cainjector_image", &self.cainjector_image);
        email(&mut problems, "acme_email", self.acme_email.as_deref());
        problems.into_result()
    }
}

/// A plausible e-mail address: one '@' with text on both sides and a dot in the domain.
fn email(problems: &mut Problems, field: &str, address: Option<&str>) {
    if let Some(address) = address {
        let valid = match address.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !address.contains(char::is_whitespace)
            }
            None => false,
        };
        if !valid {
            problems.push(
                field,
                Rule::Format,
                format!("{address:?} is not an e-mail address"),
            );
        }
    }
}

/// Let's Encrypt's production ACME directory.
pub const LETS_ENCRYPT_SERVER: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// The ClusterIssuer that requests certificates from Let's Encrypt.
pub const LETS_ENCRYPT_ISSUER: &str = "lets-encrypt";

const CONTROLLER: &str = "cert-manager";
const CAINJECTOR: &str = "cert-manager-cainjector";
const WEBHOOK: &str = "cert-manager-webhook";
/// The Secret the webhook keeps its serving CA in (and cainjector reads).
const WEBHOOK_CA_SECRET: &str = "cert-manager-webhook-ca";

/// cert-manager's CRDs at v1.19.2, as upstream ships them (`deploy/crds`,
/// the same CRDs the chart templates with Helm labels).
pub const CRDS: [UpstreamCrd; 6] = [
    upstream_crd!(
        "challenges.acme.cert-manager.io",
        "cert-manager",
        "v1.19.2",
        "deploy/crds/acme.cert-manager.io_challenges.yaml",
        "4df5e6ed266167174379f0a01a685e421b8a1640c1c56a32a7a7a220e27b18da"
    ),
    upstream_crd!(
        "orders.acme.cert-manager.io",
        "cert-manager",
        "v1.19.2",
        "deploy/crds/acme.cert-manager.io_orders.yaml",
        "04d683cb98ab2785dcc85339d4fcf501b1e50dc6fd9d425bebbb580b5219324b"
    ),
    upstream_crd!(
        "certificaterequests.cert-manager.io",
        "cert-manager",
        "v1.19.2",
        "deploy/crds/cert-manager.io_certificaterequests.yaml",
        "f1faff122ec19793214ecab644f39f47294f60ca4d9fca0534a8f17b305dd2f7"
    ),
    upstream_crd!(
        "certificates.cert-manager.io",
        "cert-manager",
        "v1.19.2",
        "deploy/crds/cert-manager.io_certificates.yaml",
        "7c99af3441710ffb4c0988c87a36a1448b293d4c99bf4e5ca8d3adbfc1f63b3e"
    ),
    upstream_crd!(
        "clusterissuers.cert-manager.io",
        "cert-manager",
        "v1.19.2",
        "deploy/crds/cert-manager.io_clusterissuers.yaml",
        "3d71d9faf472b2c1fdc49639b3896c4b373bdeff41f25bd9f502a4bd1f14a538"
    ),
    upstream_crd!(
        "issuers.cert-manager.io",
        "cert-manager",
        "v1.19.2",
        "deploy/crds/cert-manager.io_issuers.yaml",
        "a7ffbadca04b32f3bbce923d545291abb032dddb659791f6e2872dd323513a52"
    ),
];

/// The v1 schema cert-manager ships for `name` (`certificates.cert-manager.io`):
/// what the Certificates and Issuers bi writes are checked against.
#[cfg(feature = "upstream-crds")]
pub fn upstream_schema(name: &str) -> Option<Value> {
    CRDS.iter()
        .find(|crd| crd.name == name)
        .and_then(|crd| crd.schema("v1"))
}

/// The schema of `Certificate` (cert-manager.io/v1), upstream's.
#[cfg(feature = "upstream-crds")]
pub fn certificate_schema() -> Option<Value> {
    upstream_schema("certificates.cert-manager.io")
}

/// The schema of `Issuer` (and `ClusterIssuer`: the same spec), upstream's.
#[cfg(feature = "upstream-crds")]
pub fn issuer_schema() -> Option<Value> {
    upstream_schema("issuers.cert-manager.io")
}

/// An environment variable from a field of the pod (`metadata.namespace`).
fn env_from_field(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn fixed_resources(cpu: u64, memory: u64, memory_limit: u64) -> Resources {
    Resources {
        cpu_request: Cpu::millicores(cpu),
        cpu_limit: None,
        memory_request: Memory::mebibytes(memory),
        memory_limit: Some(Memory::mebibytes(memory_limit)),
    }
}

/// The controller's ClusterRole rules: the union of upstream's
/// `-controller-*` ClusterRoles (chart `rbac.yaml`, v1.19.2), which bi binds
/// as one role. The `approve` and `sign` rules need resource names and follow
/// in [`controller_rules`].
const CONTROLLER_RULES: &[build::RuleSpec] = &[
    // -controller-issuers
    (
        &["cert-manager.io"],
        &["issuers", "issuers/status"],
        &["update", "patch"],
    ),
    (
        &["cert-manager.io"],
        &["issuers"],
        &["get", "list", "watch"],
    ),
    (
        &[""],
        &["secrets"],
        &["get", "list", "watch", "create", "update", "delete"],
    ),
    (&[""], &["events"], &["create", "patch"]),
    // -controller-clusterissuers
    (
        &["cert-manager.io"],
        &["clusterissuers", "clusterissuers/status"],
        &["update", "patch"],
    ),
    (
        &["cert-manager.io"],
        &["clusterissuers"],
        &["get", "list", "watch"],
    ),
    // -controller-certificates
    (
        &["cert-manager.io"],
        &[
            "certificates",
            "certificates/status",
            "certificaterequests",
            "certificaterequests/status",
        ],
        &["update", "patch"],
    ),
    (
        &["cert-manager.io"],
        &[
            "certificates",
            "certificaterequests",
            "clusterissuers",
            "issuers",
        ],
        &["get", "list", "watch"],
    ),
    (
        &["cert-manager.io"],
        &["certificates/finalizers", "certificaterequests/finalizers"],
        &["update"],
    ),
    (
        &["acme.cert-manager.io"],
        &["orders"],
        &["create", "delete", "get", "list", "watch"],
    ),
    (
        &[""],
        &["secrets"],
        &[
            "get", "list", "watch", "create", "update", "delete", "patch",
        ],
    ),
    // -controller-orders
    (
        &["acme.cert-manager.io"],
        &["orders", "orders/status"],
        &["update", "patch"],
    ),
    (
        &["acme.cert-manager.io"],
        &["orders", "challenges"],
        &["get", "list", "watch"],
    ),
    (
        &["acme.cert-manager.io"],
        &["challenges"],
        &["create", "delete"],
    ),
    (
        &["acme.cert-manager.io"],
        &["orders/finalizers"],
        &["update"],
    ),
    // -controller-challenges: HTTP-01 solver pods, services, ingresses and routes.
    (
        &["acme.cert-manager.io"],
        &["challenges", "challenges/status"],
        &["update", "patch"],
    ),
    (
        &[""],
        &["pods", "services"],
        &["get", "list", "watch", "create", "delete"],
    ),
    (
        &["networking.k8s.io"],
        &["ingresses"],
        &["get", "list", "watch", "create", "delete", "update"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &["httproutes"],
        &["get", "list", "watch", "create", "delete", "update"],
    ),
    (
        &["route.openshift.io"],
        &["routes/custom-host"],
        &["create"],
    ),
    (
        &["acme.cert-manager.io"],
        &["challenges/finalizers"],
        &["update"],
    ),
    // -controller-ingress-shim
    (
        &["cert-manager.io"],
        &["certificates", "certificaterequests"],
        &["create", "update", "delete"],
    ),
    (
        &["networking.k8s.io"],
        &["ingresses/finalizers"],
        &["update"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &["gateways", "httproutes"],
        &["get", "list", "watch"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &["gateways/finalizers", "httproutes/finalizers"],
        &["update"],
    ),
    // -controller-certificatesigningrequests
    (
        &["certificates.k8s.io"],
        &["certificatesigningrequests"],
        &["get", "list", "watch", "update"],
    ),
    (
        &["certificates.k8s.io"],
        &["certificatesigningrequests/status"],
        &["update", "patch"],
    ),
    (
        &["authorization.k8s.io"],
        &["subjectaccessreviews"],
        &["create"],
    ),
];

/// Signers the controller approves and signs for: cert-manager.io's own.
const CERT_MANAGER_SIGNERS: &[&str] = &[
    "issuers.cert-manager.io/*",
    "clusterissuers.cert-manager.io/*",
];

fn controller_rules() -> Vec<PolicyRule> {
    let mut rules = build::rules(CONTROLLER_RULES);
    // -controller-approve:cert-manager-io (the chart's default signer names)
    rules.push(build::named_rule(
        &["cert-manager.io"],
        &["signers"],
        &["approve"],
        CERT_MANAGER_SIGNERS,
    ));
    // -controller-certificatesigningrequests
    rules.push(build::named_rule(
        &["certificates.k8s.io"],
        &["signers"],
        &["sign"],
        CERT_MANAGER_SIGNERS,
    ));
    rules
}

/// The CA injector's ClusterRole rules, as upstream's `cainjector-rbac.yaml`.
const CAINJECTOR_RULES: &[build::RuleSpec] = &[
    (
        &["cert-manager.io"],
        &["certificates"],
        &["get", "list", "watch"],
    ),
    (&[""], &["secrets"], &["get", "list", "watch"]),
    (&[""], &["events"], &["get", "create", "update", "patch"]),
    (
        &["admissionregistration.k8s.io"],
        &[
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
        ],
        &["get", "list", "watch", "update", "patch"],
    ),
    (
        &["apiregistration.k8s.io"],
        &["apiservices"],
        &["get", "list", "watch", "update", "patch"],
    ),
    (
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        &["get", "list", "watch", "update", "patch"],
    ),
];

/// A leader-election Role's rules: the named leases, and creating them.
fn leader_election_rules(leases: &[&str]) -> Vec<PolicyRule> {
    vec![
        build::named_rule(
            &["coordination.k8s.io"],
            &["leases"],
            &["get", "update", "patch"],
            leases,
        ),
        build::rule(&["coordination.k8s.io"], &["leases"], &["create"]),
    ]
}

/// The webhook's endpoint in the API server's eyes.
fn webhook_client(namespace: &str, path: &str) -> WebhookClientConfig {
    // NB: no caBundle: cainjector copies it from the webhook's CA Secret
    // (the `inject-ca-from-secret` annotation), and server-side apply leaves
    // the field it owns alone.
    WebhookClientConfig {
        service: Some(ServiceReference {
            name: WEBHOOK.to_owned(),
            namespace: namespace.to_owned(),
            path: Some(path.to_owned()),
            port: Some(443),
        }),
        ..WebhookClientConfig::default()
    }
}

/// What the mutating webhook sees: only new CertificateRequests (upstream
/// defaults nothing else).
fn mutating_rules() -> Vec<RuleWithOperations> {
    vec![RuleWithOperations {
        api_groups: Some(vec!["cert-manager.io".to_owned()]),
        api_versions: Some(vec!["v1".to_owned()]),
        operations: Some(vec!["CREATE".to_owned()]),
        resources: Some(vec!["certificaterequests".to_owned()]),
        ..RuleWithOperations::default()
    }]
}

/// What the validating webhook sees: every cert-manager resource.
fn validating_rules() -> Vec<RuleWithOperations> {
    vec![RuleWithOperations {
        api_groups: Some(vec![
            "cert-manager.io".to_owned(),
            "acme.cert-manager.io".to_owned(),
        ]),
        api_versions: Some(vec!["v1".to_owned()]),
        operations: Some(vec!["CREATE".to_owned(), "UPDATE".to_owned()]),
        resources: Some(vec!["*/*".to_owned()]),
        ..RuleWithOperations::default()
    }]
}

fn webhook_configurations(
    namespace: &str,
) -> (MutatingWebhookConfiguration, ValidatingWebhookConfiguration) {
    let mut metadata = build::meta(None, WEBHOOK);
    metadata.annotations = Some(build::string_map(&[(
        "cert-manager.io/inject-ca-from-secret",
        &format!("{namespace}/{WEBHOOK_CA_SECRET}"),
    )]));
    let mutating = MutatingWebhookConfiguration {
        metadata: metadata.clone(),
        webhooks: Some(vec![MutatingWebhook {
            name: "webhook.cert-manager.io".to_owned(),
            admission_review_versions: vec!["v1".to_owned()],
            client_config: webhook_client(namespace, "/mutate"),
            failure_policy: Some("Fail".to_owned()),
            match_policy: Some("Equivalent".to_owned()),
            rules: Some(mutating_rules()),
            side_effects: "None".to_owned(),
            timeout_seconds: Some(30),
            ..MutatingWebhook::default()
        }]),
    };
    let validating = ValidatingWebhookConfiguration {
        metadata,
        webhooks: Some(vec![ValidatingWebhook {
            name: "webhook.cert-manager.io".to_owned(),
            admission_review_versions: vec!["v1".to_owned()],
            client_config: webhook_client(namespace, "/validate"),
            failure_policy: Some("Fail".to_owned()),
            match_policy: Some("Equivalent".to_owned()),
            namespace_selector: Some(LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "cert-manager.io/disable-validation".to_owned(),
                    operator: "NotIn".to_owned(),
                    values: Some(vec!["true".to_owned()]),
                }]),
                ..LabelSelector::default()
            }),
            rules: Some(validating_rules()),
            side_effects: "None".to_owned(),
            timeout_seconds: Some(30),
            ..ValidatingWebhook::default()
        }]),
    };
    (mutating, validating)
}

/// The HTTP-01 solver of the Let's Encrypt issuer: through the bi Gateway
/// when Istio's ingress gateway is installed, through an Ingress otherwise.
fn http01_solver(ctx: &Context<'_>) -> Value {
    let gateway_namespace = match ctx.state.batteries.get(&BatteryKind::Istio) {
        Some(BatteryConfig::Istio(istio))
            if ctx.installed(BatteryKind::IstioGateway)
                && ctx.installed(BatteryKind::GatewayApi) =>
        {
            Some(istio.namespace.to_string())
        }
        _ => None,
    };
    match gateway_namespace {
        Some(namespace) => json!({
            "http01": {
                "gatewayHTTPRoute": {
                    "parentRefs": [{
                        "group": "gateway.networking.k8s.io",
                        "kind": "Gateway",
                        "name": "bi",
                        "namespace": namespace,
                        "sectionName": "http",
                    }],
                },
            },
        }),
        None => json!({ "http01": { "ingress": {} } }),
    }
}

/// The resources this battery needs, all in the base namespace: the
/// controller, CA injector and webhook (Deployments, ServiceAccounts, RBAC),
/// the webhook's Service and admission webhook configurations, a metrics
/// Service (scraped once VictoriaMetrics is installed), the CRDs of cert-manager.io and acme.cert-manager.io, and a
/// Let's Encrypt ClusterIssuer when `acme_email` is set. Reads no secrets.
pub fn generate(
    config: &CertManagerConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = ctx.base_namespace();
    let gateway_api = ctx.installed(BatteryKind::GatewayApi);
    let mut out = Vec::new();

    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }

    // Identities and RBAC.
    for sa in [CONTROLLER, CAINJECTOR, WEBHOOK] {
        out.push(Resource::new(app, &build::service_account(ns, sa))?);
    }
    let cluster_roles = [
        (CONTROLLER, "cert-manager-controller", controller_rules()),
        (
            CAINJECTOR,
            "cert-manager-cainjector",
            build::rules(CAINJECTOR_RULES),
        ),
        (
            WEBHOOK,
            "cert-manager-webhook:subjectaccessreviews",
            vec![build::rule(
                &["authorization.k8s.io"],
                &["subjectaccessreviews"],
                &["create"],
            )],
        ),
    ];
    for (sa, role, rules) in cluster_roles {
        out.push(Resource::new(app, &build::cluster_role(role, rules))?);
        out.push(Resource::new(
            app,
            &build::cluster_role_binding(role, role, ns, sa),
        )?);
    }
    let roles = [
        // NB: the lease names are the ones the binaries use by default.
        (
            CONTROLLER,
            "cert-manager:leaderelection",
            leader_election_rules(&["cert-manager-controller"]),
        ),
        (
            CAINJECTOR,
            "cert-manager-cainjector:leaderelection",
            leader_election_rules(&[
                "cert-manager-cainjector-leader-election",
                "cert-manager-cainjector-leader-election-core",
            ]),
        ),
        // The controller may request tokens for its own ServiceAccount only.
        (
            CONTROLLER,
            "cert-manager-tokenrequest",
            vec![build::named_rule(
                &[""],
                &["serviceaccounts/token"],
                &["create"],
                &[CONTROLLER],
            )],
        ),
        (
            WEBHOOK,
            "cert-manager-webhook:dynamic-serving",
            vec![
                build::named_rule(
                    &[""],
                    &["secrets"],
                    &["get", "list", "watch", "update"],
                    &[WEBHOOK_CA_SECRET],
                ),
                build::rule(&[""], &["secrets"], &["create"]),
            ],
        ),
    ];
    for (sa, role, rules) in roles {
        out.push(Resource::new(app, &build::role(ns, role, rules))?);
        out.push(Resource::new(
            app,
            &build::role_binding(ns, role, role, sa),
        )?);
    }

    // The controller.
    let mut controller = ContainerSpec::new("cert-manager-controller", &config.controller_image);
    let acme_solver = config
        .controller_image
        .to_string()
        .replace("cert-manager-controller", "cert-manager-acmesolver");
    controller.args = vec![
        "--v=2".to_owned(),
        format!("--cluster-resource-namespace={ns}"),
        format!("--leader-election-namespace={ns}"),
        format!("--acme-http01-solver-image={acme_solver}"),
        "--max-concurrent-challenges=60".to_owned(),
    ];
    if gateway_api {
        controller.args.push("--enable-gateway-api".to_owned());
    }
    controller.env = vec![env_from_field("POD_NAMESPACE", "metadata.namespace")];
    controller.ports = vec![("http-metrics", 9402), ("http-healthz", 9403)];
    controller.health = Some(Health::Http("/livez", 9403));
    controller.resources = Some(fixed_resources(50, 128, 512));
    out.push(Resource::new(
        app,
        &build::deployment(
            ns,
            CONTROLLER,
            1,
            Some(CONTROLLER),
            &[controller],
            Vec::new(),
        ),
    )?);
    out.push(Resource::new(
        app,
        &build::service(ns, CONTROLLER, CONTROLLER, &[("http-metrics", 9402)]),
    )?);

    // The CA injector.
    let mut cainjector = ContainerSpec::new("cert-manager-cainjector", &config.cainjector_image);
    cainjector.args = vec![
        "--v=2".to_owned(),
        format!("--leader-election-namespace={ns}"),
    ];
    cainjector.env = vec![env_from_field("POD_NAMESPACE", "metadata.namespace")];
    cainjector.ports = vec![("http-metrics", 9402)];
    // NB: cainjector serves no health endpoint; its metrics port answers once it runs.
    cainjector.health = Some(Health::Tcp(9402));
    cainjector.resources = Some(fixed_resources(20, 128, 512));
    out.push(Resource::new(
        app,
        &build::deployment(
            ns,
            CAINJECTOR,
            1,
            Some(CAINJECTOR),
            &[cainjector],
            Vec::new(),
        ),
    )?);

    // The webhook: it makes and rotates its own serving certificate.
    let mut webhook = ContainerSpec::new("cert-manager-webhook", &config.webhook_image);
    webhook.args = vec![
        "--v=2".to_owned(),
        "--secure-port=10250".to_owned(),
        format!("--dynamic-serving-ca-secret-namespace={ns}"),
        format!("--dynamic-serving-ca-secret-name={WEBHOOK_CA_SECRET}"),
        format!("--dynamic-serving-dns-names={WEBHOOK},{WEBHOOK}.{ns},{WEBHOOK}.{ns}.svc"),
    ];
    webhook.env = vec![env_from_field("POD_NAMESPACE", "metadata.namespace")];
    webhook.ports = vec![("https", 10250), ("healthcheck", 6080)];
    webhook.health = Some(Health::Http("/livez", 6080));
    webhook.resources = Some(fixed_resources(20, 64, 128));
    out.push(Resource::new(
        app,
        &build::deployment(ns, WEBHOOK, 1, Some(WEBHOOK), &[webhook], Vec::new()),
    )?);
    out.push(Resource::new(
        app,
        &build::service(ns, WEBHOOK, WEBHOOK, &[("https", 443)]),
    )?);
    if let Some(scrape) =
        victoria_metrics::scrape(ctx, app, ns, CONTROLLER, CONTROLLER, "http-metrics")?
    {
        out.push(scrape);
    }
    let (mutating, validating) = webhook_configurations(ns);
    out.push(Resource::new(app, &mutating)?);
    out.push(Resource::new(app, &validating)?);

    if let Some(email) = &config.acme_email {
        let issuer = build::custom_resource(
            "cert-manager.io/v1",
            "ClusterIssuer",
            None,
            LETS_ENCRYPT_ISSUER,
            json!({
                "acme": {
                    "server": LETS_ENCRYPT_SERVER,
                    "email": email,
                    "privateKeySecretRef": { "name": "lets-encrypt-account" },
                    "solvers": [http01_solver(ctx)],
                },
            }),
        );
        out.push(Resource::from_value(app, issuer)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::names_of;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};
    use k8s_openapi::api::apps::v1::Deployment;

    fn generated(kinds: &[BatteryKind], config: &CertManagerConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        let empty = std::collections::BTreeMap::new();
        generate(config, &Context::new(&state, Secrets::Stored(&empty))).unwrap()
    }

    #[test]
    fn generates_controller_cainjector_webhook_and_crds() {
        let resources = generated(&[BatteryKind::CertManager], &CertManagerConfig::default());
        assert_eq!(
            names_of(&resources, "CustomResourceDefinition"),
            [
                "challenges.acme.cert-manager.io",
                "orders.acme.cert-manager.io",
                "certificaterequests.cert-manager.io",
                "certificates.cert-manager.io",
                "clusterissuers.cert-manager.io",
                "issuers.cert-manager.io",
            ]
        );
        // Upstream's CRDs, verbatim but for bi's labels and annotations.
        for (crd, upstream) in resources
            .iter()
            .filter(|r| r.path.kind == "CustomResourceDefinition")
            .zip(&CRDS)
        {
            let strip = |mut body: Value| {
                if let Some(metadata) = body["metadata"].as_object_mut() {
                    metadata.remove("labels");
                    metadata.remove("annotations");
                }
                body
            };
            assert_eq!(
                strip(crd.body.clone()),
                strip(upstream.body().unwrap()),
                "{}",
                upstream.name
            );
        }
        let workloads = [CONTROLLER, CAINJECTOR, WEBHOOK];
        assert_eq!(names_of(&resources, "Deployment"), workloads);
        assert_eq!(names_of(&resources, "ServiceAccount"), workloads);
        assert_eq!(names_of(&resources, "ClusterRole").len(), 3);
        assert_eq!(names_of(&resources, "ClusterRoleBinding").len(), 3);
        assert_eq!(names_of(&resources, "Service"), [CONTROLLER, WEBHOOK]);
        assert_eq!(
            names_of(&resources, "MutatingWebhookConfiguration"),
            [WEBHOOK]
        );
        assert_eq!(
            names_of(&resources, "ValidatingWebhookConfiguration"),
            [WEBHOOK]
        );
        assert!(names_of(&resources, "ClusterIssuer").is_empty());
        assert!(
            resources
                .iter()
                .filter(|r| r.path.namespace.is_some())
                .all(|r| r.path.namespace.as_deref() == Some("battery-base"))
        );
    }

    #[test]
    fn webhooks_point_at_the_service_and_leave_the_ca_bundle_to_cainjector() {
        let resources = generated(&[BatteryKind::CertManager], &CertManagerConfig::default());
        let mutating = resources
            .iter()
            .find(|r| r.path.kind == "MutatingWebhookConfiguration")
            .unwrap();
        let webhook = &mutating.body["webhooks"][0]["clientConfig"];
        assert_eq!(webhook["service"]["name"], WEBHOOK);
        assert_eq!(webhook["service"]["namespace"], "battery-base");
        assert!(webhook.get("caBundle").is_none());
        assert_eq!(
            mutating.body["metadata"]["annotations"]["cert-manager.io/inject-ca-from-secret"],
            "battery-base/cert-manager-webhook-ca"
        );
    }

    #[test]
    fn pods_run_the_configured_images_with_requests_and_probes() {
        let image = ImageRef::parse("quay.io/jetstack/cert-manager-controller:v1.19.1").unwrap();
        let config = CertManagerConfig {
            controller_image: image.clone(),
            ..CertManagerConfig::default()
        };
        let resources = generated(&[BatteryKind::CertManager], &config);
        for resource in resources.iter().filter(|r| r.path.kind == "Deployment") {
            let deployment: Deployment = serde_json::from_value(resource.body.clone()).unwrap();
            let pod = deployment.spec.unwrap().template.spec.unwrap();
            let container = &pod.containers[0];
            assert!(container.resources.is_some(), "{}", resource.path);
            assert!(container.liveness_probe.is_some(), "{}", resource.path);
            assert_eq!(
                pod.security_context.unwrap().run_as_non_root,
                Some(true),
                "{}",
                resource.path
            );
            if resource.path.name == CONTROLLER {
                assert_eq!(container.image.as_deref(), Some(image.to_string().as_str()));
                let args = container.args.as_ref().unwrap();
                assert!(args.contains(
                    &"--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1.19.1"
                        .to_owned()
                ));
            }
        }
    }

    #[test]
    fn an_acme_email_adds_a_lets_encrypt_issuer_that_fits_the_schema() {
        let config = CertManagerConfig {
            acme_email: Some("ops@example.com".to_owned()),
            ..CertManagerConfig::default()
        };
        let resources = generated(&[BatteryKind::CertManager], &config);
        let issuer = resources
            .iter()
            .find(|r| r.path.kind == "ClusterIssuer")
            .unwrap();
        assert_eq!(issuer.path.name, LETS_ENCRYPT_ISSUER);
        assert_eq!(issuer.body["spec"]["acme"]["email"], "ops@example.com");
        assert_eq!(
            issuer.body["spec"]["acme"]["solvers"][0]["http01"],
            json!({ "ingress": {} })
        );
        assert_eq!(
            violations(&issuer_schema().unwrap(), &issuer.body),
            Vec::<String>::new()
        );

        // Through the bi Gateway once Istio's ingress gateway is installed.
        let resources = generated(
            &[BatteryKind::CertManager, BatteryKind::IstioGateway],
            &config,
        );
        let issuer = resources
            .iter()
            .find(|r| r.path.kind == "ClusterIssuer")
            .unwrap();
        let parent = &issuer.body["spec"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"]
            [0];
        assert_eq!(parent["name"], "bi");
        assert_eq!(parent["namespace"], "battery-istio");
        assert_eq!(
            violations(&issuer_schema().unwrap(), &issuer.body),
            Vec::<String>::new()
        );
    }

    #[test]
    fn gateway_api_support_follows_the_gateway_api_battery() {
        let controller_args = |kinds: &[BatteryKind]| {
            let resources = generated(kinds, &CertManagerConfig::default());
            let deployment = resources
                .iter()
                .find(|r| r.path.kind == "Deployment" && r.path.name == CONTROLLER)
                .unwrap();
            deployment.body["spec"]["template"]["spec"]["containers"][0]["args"].clone()
        };
        let flag = json!("--enable-gateway-api");
        let without = controller_args(&[BatteryKind::CertManager]);
        assert!(!without.as_array().unwrap().contains(&flag));
        let with = controller_args(&[BatteryKind::CertManager, BatteryKind::GatewayApi]);
        assert!(with.as_array().unwrap().contains(&flag));
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let config = CertManagerConfig::default();
        let without = generated(&[BatteryKind::CertManager], &config);
        assert!(names_of(&without, "VMServiceScrape").is_empty());
        let with = generated(
            &[BatteryKind::CertManager, BatteryKind::VictoriaMetrics],
            &config,
        );
        assert_eq!(names_of(&with, "VMServiceScrape"), [CONTROLLER]);
    }

    #[test]
    fn the_schemas_reject_what_cert_manager_would() {
        let certificate = build::custom_resource(
            "cert-manager.io/v1",
            "Certificate",
            Some("battery-base"),
            "x",
            json!({ "secretName": "x", "privateKey": { "algorithm": "DSA" } }),
        );
        assert_eq!(
            violations(&certificate_schema().unwrap(), &certificate),
            [
                "spec.privateKey.algorithm: \"DSA\" is not one of [String(\"RSA\"), String(\"ECDSA\"), String(\"Ed25519\")]",
                "spec.issuerRef: required",
            ]
        );
    }

    #[test]
    fn refuses_a_malformed_acme_email() {
        for bad in [
            "ops",
            "ops@",
            "@example.com",
            "ops@example",
            "ops @example.com",
        ] {
            let config = CertManagerConfig {
                acme_email: Some(bad.to_owned()),
                ..CertManagerConfig::default()
            };
            assert!(config.validate().is_err(), "{bad} accepted");
        }
        let good = CertManagerConfig {
            acme_email: Some("ops@example.com".to_owned()),
            ..CertManagerConfig::default()
        };
        assert_eq!(good.validate(), Ok(()));
    }
}
