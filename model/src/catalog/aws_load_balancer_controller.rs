//! Provisions AWS Network and Application Load Balancers for services and gateways.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{SecretVolumeSource, Volume};
use k8s_openapi::api::networking::v1::{
    IngressClass, IngressClassParametersReference, IngressClassSpec,
};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider};
use super::{checks, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::AwsLoadBalancerController,
    id: "aws_load_balancer_controller",
    name: "AWS Load Balancer Controller",
    group: BatteryGroup::Magic,
    description: "Provisions AWS Network and Application Load Balancers for services and gateways.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[ClusterProvider::Aws],
};

/// Configuration of AWS Load Balancer Controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsLoadBalancerControllerConfig {
    /// The controller.
    pub image: ImageRef,
    /// Subnet ids the load balancers may use (`subnet-…`).
    pub subnets: Vec<String>,
}

impl Default for AwsLoadBalancerControllerConfig {
    fn default() -> Self {
        Self {
            image: image(images::AWS_LOAD_BALANCER_CONTROLLER),
            subnets: Vec::new(),
        }
    }
}

impl AwsLoadBalancerControllerConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        subnet_ids(&mut problems, "subnets", &self.subnets);
        problems.into_result()
    }
}

/// Subnet ids look like `subnet-` followed by 8 or 17 hex digits; each appears once.
fn subnet_ids(problems: &mut Problems, field: &str, subnets: &[String]) {
    for (i, subnet) in subnets.iter().enumerate() {
        let hex = subnet.strip_prefix("subnet-").unwrap_or("");
        let valid = matches!(hex.len(), 8 | 17)
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !valid {
            problems.push(
                format!("{field}[{i}]"),
                Rule::Format,
                format!("{subnet:?} is not a subnet id like subnet-0abc1234"),
            );
        } else if subnets[..i].contains(subnet) {
            problems.push(
                format!("{field}[{i}]"),
                Rule::Unique,
                format!("{subnet} is listed twice"),
            );
        }
    }
}

const NAME: &str = "aws-load-balancer-controller";
const GROUP: &str = "elbv2.k8s.aws";
/// The IngressClass (and its IngressClassParams) Ingresses ask for ALBs with.
pub const INGRESS_CLASS: &str = "alb";
/// The Secret holding the webhook server's certificate (from cert-manager).
const TLS_SECRET: &str = "aws-load-balancer-tls";
const WEBHOOK_PORT: u16 = 9443;

/// The controller's CRDs at v2.16.0, as upstream ships them: the three of
/// `config/crd/bases`, which its YAML install applies (the chart's
/// `crds.yaml`). The gateway.k8s.aws and aga.k8s.aws CRDs the chart adds
/// serve features that are off by default (`NLBGatewayAPI`,
/// `ALBGatewayAPI`, `AGAController`), as they are in bi.
pub const CRDS: [UpstreamCrd; 3] = [
    upstream_crd!(
        "albtargetcontrolconfigs.elbv2.k8s.aws",
        "aws-load-balancer-controller",
        "v2.16.0",
        "config/crd/bases/elbv2.k8s.aws_albtargetcontrolconfigs.yaml",
        "9531efad7086e50c1e3951f169838106bc2496d50b8006351b2a931867c511c3"
    ),
    upstream_crd!(
        "ingressclassparams.elbv2.k8s.aws",
        "aws-load-balancer-controller",
        "v2.16.0",
        "config/crd/bases/elbv2.k8s.aws_ingressclassparams.yaml",
        "ecc9a6272f05b23da799e8c62f2ace623ca7b061e9808fdee50d1ab15dfbd825"
    ),
    upstream_crd!(
        "targetgroupbindings.elbv2.k8s.aws",
        "aws-load-balancer-controller",
        "v2.16.0",
        "config/crd/bases/elbv2.k8s.aws_targetgroupbindings.yaml",
        "7e0416549c7bcd31fd92fee0720e70b382dc0f643363815580a7b289fda9b4a6"
    ),
];

/// The controller's ClusterRole, as upstream's chart `rbac.yaml` (v2.16.0)
/// grants it with the chart's default of no access to every Secret.
const CLUSTER_RULES: &[build::RuleSpec] = &[
    (&[GROUP], &["targetgroupbindings"], ALL_VERBS),
    (&[GROUP], &["ingressclassparams"], READ),
    (&[GROUP], &["albtargetcontrolconfigs"], &["get"]),
    (&[""], &["events"], &["create", "patch"]),
    (&[""], &["pods"], READ),
    (&["networking.k8s.io"], &["ingressclasses"], READ),
    (
        &["", "extensions", "networking.k8s.io"],
        &["services", "ingresses"],
        &["get", "list", "patch", "update", "watch"],
    ),
    (&[""], &["nodes", "namespaces", "endpoints"], READ),
    (
        &[""],
        &["configmaps"],
        &["get", "delete", "create", "update"],
    ),
    (
        &[GROUP, "", "extensions", "networking.k8s.io"],
        &[
            "targetgroupbindings/status",
            "pods/status",
            "services/status",
            "ingresses/status",
        ],
        &["update", "patch"],
    ),
    (&["discovery.k8s.io"], &["endpointslices"], READ),
    (
        &["gateway.k8s.aws"],
        &[
            "loadbalancerconfigurations",
            "targetgroupconfigurations",
            "listenerruleconfigurations",
        ],
        &["get", "list", "watch", "patch"],
    ),
    (
        &["gateway.k8s.aws"],
        &[
            "loadbalancerconfigurations/finalizers",
            "targetgroupconfigurations/finalizers",
            "listenerruleconfigurations/finalizers",
        ],
        &["update", "patch"],
    ),
    (
        &["gateway.k8s.aws"],
        &[
            "loadbalancerconfigurations/status",
            "targetgroupconfigurations/status",
            "listenerruleconfigurations/status",
        ],
        &["get", "patch", "watch"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &["gatewayclasses", "gateways"],
        &["get", "list", "watch", "patch"],
    ),
    (&["gateway.networking.k8s.io"], &["referencegrants"], READ),
    (
        &["gateway.networking.k8s.io"],
        &["gatewayclasses/finalizers", "gateways/finalizers"],
        &["update", "patch"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &["gatewayclasses/status", "gateways/status"],
        &["get", "patch", "update"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &[
            "grpcroutes",
            "httproutes",
            "tcproutes",
            "tlsroutes",
            "udproutes",
        ],
        READ,
    ),
    (
        &["gateway.networking.k8s.io"],
        &[
            "grpcroutes/finalizers",
            "httproutes/finalizers",
            "tcproutes/finalizers",
            "tlsroutes/finalizers",
            "udproutes/finalizers",
        ],
        &["update"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &[
            "grpcroutes/status",
            "httproutes/status",
            "tcproutes/status",
            "tlsroutes/status",
            "udproutes/status",
        ],
        &["get", "patch", "update"],
    ),
    (
        &["aga.k8s.aws"],
        &["globalaccelerators"],
        &["get", "list", "patch", "watch"],
    ),
    (
        &["aga.k8s.aws"],
        &["globalaccelerators/finalizers"],
        &["patch", "update"],
    ),
    (
        &["aga.k8s.aws"],
        &["globalaccelerators/status"],
        &["patch", "update"],
    ),
];

const READ: &[&str] = &["get", "list", "watch"];
const ALL_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// The lock the controller's leader election takes (a ConfigMap and a Lease).
const LEADER_LOCK: &str = "aws-load-balancer-controller-leader";

/// The controller's Role in its namespace (upstream's leader-election role).
fn namespace_rules() -> Vec<PolicyRule> {
    vec![
        build::rule(&[""], &["configmaps"], &["create"]),
        build::named_rule(
            &[""],
            &["configmaps"],
            &["get", "patch", "update"],
            &[LEADER_LOCK],
        ),
        build::rule(&["coordination.k8s.io"], &["leases"], &["create"]),
        build::named_rule(
            &["coordination.k8s.io"],
            &["leases"],
            &["get", "update", "patch"],
            &[LEADER_LOCK],
        ),
    ]
}

/// The webhook server's certificate, from a self-signed cert-manager Issuer.
fn serving_certificate(namespace: &str) -> [Value; 2] {
    let issuer = build::custom_resource(
        "cert-manager.io/v1",
        "Issuer",
        Some(namespace),
        NAME,
        json!({ "selfSigned": {} }),
    );
    let service = format!("{NAME}-webhook.{namespace}.svc");
    let certificate = build::custom_resource(
        "cert-manager.io/v1",
        "Certificate",
        Some(namespace),
        NAME,
        json!({
            "commonName": service,
            "dnsNames": [service, format!("{service}.cluster.local")],
            "secretName": TLS_SECRET,
            "duration": "8760h",
            "renewBefore": "720h",
            "privateKey": { "algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always" },
            "issuerRef": { "group": "cert-manager.io", "kind": "Issuer", "name": NAME },
        }),
    );
    [issuer, certificate]
}

fn deployment(
    config: &AwsLoadBalancerControllerConfig,
    ctx: &Context<'_>,
    namespace: &str,
) -> Deployment {
    let mut container = ContainerSpec::new("controller", &config.image);
    container.args = vec![
        format!("--cluster-name={}", ctx.state.installation),
        format!("--ingress-class={INGRESS_CLASS}"),
        "--default-target-type=ip".to_owned(),
        // NB: the webhooks that mutate Services and Pods are not registered
        // (no webhook configurations are generated): Services opt in with
        // annotations, as the ingress gateway does.
        "--enable-service-mutator-webhook=false".to_owned(),
        format!("--webhook-bind-port={WEBHOOK_PORT}"),
        "--metrics-bind-addr=:8080".to_owned(),
        "--health-probe-bind-addr=:61779".to_owned(),
    ];
    container.ports = vec![("webhook-server", WEBHOOK_PORT), ("metrics-server", 8080)];
    container.health = Some(Health::Http("/healthz", 61779));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(100),
        cpu_limit: None,
        memory_request: Memory::mebibytes(128),
        memory_limit: Some(Memory::mebibytes(512)),
    });
    container.mounts = vec![(
        "cert".to_owned(),
        "/tmp/k8s-webhook-server/serving-certs".to_owned(),
    )];
    let cert = Volume {
        name: "cert".to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(TLS_SECRET.to_owned()),
            default_mode: Some(0o440),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    build::deployment(namespace, NAME, 1, Some(NAME), &[container], vec![cert])
}

/// The resources this battery needs, in the base namespace: the
/// controller's Deployment, ServiceAccount, ClusterRole (+binding) and
/// leader-election Role (+binding); upstream's elbv2.k8s.aws CRDs; an
/// IngressClassParams `alb`
/// carrying the configured subnets (internet-facing) and the IngressClass
/// `alb` that uses it; with cert-manager, a self-signed Issuer and a
/// Certificate for the controller's webhook server (its pod needs that
/// certificate to start). The istio_gateway battery puts the same subnets
/// on its NLB Service. Reads no secrets; AWS credentials come from the
/// pod's identity, set up outside bi.
pub fn generate(
    config: &AwsLoadBalancerControllerConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = ctx.base_namespace();
    let mut out = Vec::new();
    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }
    out.extend([
        Resource::new(app, &build::service_account(ns, NAME))?,
        Resource::new(app, &build::cluster_role(NAME, build::rules(CLUSTER_RULES)))?,
        Resource::new(app, &build::cluster_role_binding(NAME, NAME, ns, NAME))?,
        Resource::new(app, &build::role(ns, NAME, namespace_rules()))?,
        Resource::new(app, &build::role_binding(ns, NAME, NAME, NAME))?,
    ]);
    if ctx.installed(BatteryKind::CertManager) {
        for body in serving_certificate(ns) {
            out.push(Resource::from_value(app, body)?);
        }
    }
    out.push(Resource::new(app, &deployment(config, ctx, ns))?);
    out.push(Resource::new(
        app,
        &build::service(
            ns,
            &format!("{NAME}-webhook"),
            NAME,
            &[("webhook-server", 443)],
        ),
    )?);
    out.push(Resource::new(
        app,
        &build::service(ns, NAME, NAME, &[("metrics-server", 8080)]),
    )?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, NAME, NAME, "metrics-server")? {
        out.push(scrape);
    }

    let mut params = json!({ "scheme": "internet-facing", "ipAddressType": "ipv4" });
    if !config.subnets.is_empty() {
        params["subnets"] = json!({ "ids": config.subnets });
    }
    out.push(Resource::from_value(
        app,
        build::custom_resource(
            "elbv2.k8s.aws/v1beta1",
            "IngressClassParams",
            None,
            INGRESS_CLASS,
            params,
        ),
    )?);
    let class = IngressClass {
        metadata: build::meta(None, INGRESS_CLASS),
        spec: Some(IngressClassSpec {
            controller: Some("ingress.k8s.aws/alb".to_owned()),
            parameters: Some(IngressClassParametersReference {
                api_group: Some(GROUP.to_owned()),
                kind: "IngressClassParams".to_owned(),
                name: INGRESS_CLASS.to_owned(),
                ..IngressClassParametersReference::default()
            }),
        }),
    };
    out.push(Resource::new(app, &class)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::cert_manager::{certificate_schema, issuer_schema};
    use crate::catalog::test_support::strict;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};

    fn generated(kinds: &[BatteryKind], config: &AwsLoadBalancerControllerConfig) -> Vec<Resource> {
        let mut state = DesiredState::with_batteries(kinds).unwrap();
        state.provider = ClusterProvider::Aws;
        let empty = std::collections::BTreeMap::new();
        generate(config, &Context::new(&state, Secrets::Stored(&empty))).unwrap()
    }

    fn subnets() -> AwsLoadBalancerControllerConfig {
        AwsLoadBalancerControllerConfig {
            subnets: vec!["subnet-0abc1234".into(), "subnet-0def5678".into()],
            ..AwsLoadBalancerControllerConfig::default()
        }
    }

    fn kinds(resources: &[Resource]) -> Vec<(&str, &str)> {
        resources
            .iter()
            .map(|r| (r.path.kind.as_str(), r.path.name.as_str()))
            .collect()
    }

    #[test]
    fn generates_the_controller_its_crds_and_the_alb_class() {
        let resources = generated(&[BatteryKind::AwsLoadBalancerController], &subnets());
        assert_eq!(
            kinds(&resources),
            [
                (
                    "CustomResourceDefinition",
                    "albtargetcontrolconfigs.elbv2.k8s.aws"
                ),
                (
                    "CustomResourceDefinition",
                    "ingressclassparams.elbv2.k8s.aws"
                ),
                (
                    "CustomResourceDefinition",
                    "targetgroupbindings.elbv2.k8s.aws"
                ),
                ("ServiceAccount", NAME),
                ("ClusterRole", NAME),
                ("ClusterRoleBinding", NAME),
                ("Role", NAME),
                ("RoleBinding", NAME),
                ("Deployment", NAME),
                ("Service", "aws-load-balancer-controller-webhook"),
                ("Service", NAME),
                ("IngressClassParams", INGRESS_CLASS),
                ("IngressClass", INGRESS_CLASS),
            ]
        );
        let params = &resources[11];
        assert_eq!(
            params.body["spec"]["subnets"]["ids"],
            json!(["subnet-0abc1234", "subnet-0def5678"])
        );
        assert_eq!(
            resources[12].body["spec"]["parameters"]["kind"],
            "IngressClassParams"
        );
    }

    #[test]
    fn the_ingress_class_params_fit_upstreams_schema() {
        // Checked against the schema the controller ships, with and
        // without subnets.
        let schema = CRDS
            .iter()
            .find(|crd| crd.name == "ingressclassparams.elbv2.k8s.aws")
            .and_then(|crd| crd.schema("v1beta1"))
            .unwrap();
        for config in [AwsLoadBalancerControllerConfig::default(), subnets()] {
            let resources = generated(&[BatteryKind::AwsLoadBalancerController], &config);
            let params = resources
                .iter()
                .find(|r| r.path.kind == "IngressClassParams")
                .unwrap();
            assert_eq!(violations(&schema, &params.body), Vec::<String>::new());
            assert_eq!(
                violations(&strict(&schema), &params.body),
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn the_pod_runs_the_configured_image_for_this_cluster() {
        let resources = generated(&[BatteryKind::AwsLoadBalancerController], &subnets());
        let deployment = resources
            .iter()
            .find(|r| r.path.kind == "Deployment")
            .unwrap();
        let deployment: Deployment = serde_json::from_value(deployment.body.clone()).unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some(images::AWS_LOAD_BALANCER_CONTROLLER)
        );
        assert!(container.resources.is_some() && container.liveness_probe.is_some());
        assert!(
            container
                .args
                .as_ref()
                .unwrap()
                .contains(&"--cluster-name=bi".to_owned())
        );
    }

    #[test]
    fn the_webhook_certificate_comes_from_cert_manager_when_installed() {
        let without = generated(&[BatteryKind::AwsLoadBalancerController], &subnets());
        assert!(without.iter().all(|r| r.path.kind != "Certificate"));
        let with = generated(
            &[
                BatteryKind::AwsLoadBalancerController,
                BatteryKind::CertManager,
            ],
            &subnets(),
        );
        let certificate = with.iter().find(|r| r.path.kind == "Certificate").unwrap();
        assert_eq!(certificate.body["spec"]["secretName"], TLS_SECRET);
        assert_eq!(
            violations(&certificate_schema().unwrap(), &certificate.body),
            Vec::<String>::new()
        );
        let issuer = with.iter().find(|r| r.path.kind == "Issuer").unwrap();
        assert_eq!(
            violations(&issuer_schema().unwrap(), &issuer.body),
            Vec::<String>::new()
        );
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let config = AwsLoadBalancerControllerConfig::default();
        let without = generated(&[BatteryKind::AwsLoadBalancerController], &config);
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(
            &[
                BatteryKind::AwsLoadBalancerController,
                BatteryKind::VictoriaMetrics,
            ],
            &config,
        );
        assert!(with.iter().any(|r| r.path.kind == "VMServiceScrape"));
    }

    #[test]
    fn subnet_ids_are_checked_one_by_one() {
        let config = AwsLoadBalancerControllerConfig {
            subnets: vec![
                "subnet-0abc1234".into(),
                "sub-1".into(),
                "subnet-0abc1234".into(),
            ],
            ..AwsLoadBalancerControllerConfig::default()
        };
        let problems = config.validate().unwrap_err();
        assert_eq!(
            problems.for_field("subnets[1]").map(|e| e.rule),
            Some(Rule::Format)
        );
        assert_eq!(
            problems.for_field("subnets[2]").map(|e| e.rule),
            Some(Rule::Unique)
        );
    }
}
