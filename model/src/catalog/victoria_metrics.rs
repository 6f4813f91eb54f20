//! VictoriaMetrics in cluster mode: a long-term, PromQL-compatible metrics store.

use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Duration, Memory, Storage};
use crate::upstream_crd;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::VictoriaMetrics,
    id: "victoria_metrics",
    name: "VictoriaMetrics",
    group: BatteryGroup::Monitoring,
    description: "VictoriaMetrics in cluster mode: a long-term, PromQL-compatible metrics store.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::VmAgent],
    integrations: &[Integration {
        partner: BatteryKind::IstioGateway,
        what: "vmui at https://victoria-metrics.<domain>/select/0/vmui/",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of VictoriaMetrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VictoriaMetricsConfig {
    /// The VictoriaMetrics operator.
    pub operator_image: ImageRef,
    /// Version tag of the vminsert/vmselect/vmstorage images.
    pub cluster_version: String,
    /// Copies of every sample kept across vmstorage nodes.
    pub replication_factor: u32,
    /// vminsert replicas.
    pub vminsert_replicas: u32,
    /// vmselect replicas.
    pub vmselect_replicas: u32,
    /// vmstorage replicas.
    pub vmstorage_replicas: u32,
    /// Volume of each vmstorage replica.
    pub vmstorage_volume: Storage,
    /// Cache volume of each vmselect replica.
    pub vmselect_volume: Storage,
    /// How long samples are kept.
    pub retention: Duration,
}

impl Default for VictoriaMetricsConfig {
    fn default() -> Self {
        Self {
            operator_image: image(images::VM_OPERATOR),
            cluster_version: images::VM_CLUSTER_VERSION.to_owned(),
            replication_factor: 1,
            vminsert_replicas: 1,
            vmselect_replicas: 1,
            vmstorage_replicas: 1,
            vmstorage_volume: Storage::gibibytes(10),
            vmselect_volume: Storage::gibibytes(2),
            retention: Duration::hours(24 * 30),
        }
    }
}

impl VictoriaMetricsConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "operator_image", &self.operator_image);
        version_tag(&mut problems, "cluster_version", &self.cluster_version);
        checks::replicas(
            &mut problems,
            "replication_factor",
            self.replication_factor,
            98,
        );
        checks::replicas(
            &mut problems,
            "vminsert_replicas",
            self.vminsert_replicas,
            98,
        );
        checks::replicas(
            &mut problems,
            "vmselect_replicas",
            self.vmselect_replicas,
            98,
        );
        checks::replicas(
            &mut problems,
            "vmstorage_replicas",
            self.vmstorage_replicas,
            98,
        );
        checks::storage_at_least(
            &mut problems,
            "vmstorage_volume",
            self.vmstorage_volume,
            Storage::gibibytes(1),
        );
        checks::storage_at_least(
            &mut problems,
            "vmselect_volume",
            self.vmselect_volume,
            Storage::mebibytes(512),
        );
        checks::duration_range(
            &mut problems,
            "retention",
            self.retention,
            Duration::hours(24),
            Duration::hours(24 * 3650),
        );
        if self.replication_factor > self.vmstorage_replicas {
            problems.push(
                "replication_factor",
                Rule::Consistency,
                format!(
                    "cannot keep {} copies on {} vmstorage replica(s); raise vmstorage_replicas or lower the factor",
                    self.replication_factor, self.vmstorage_replicas
                ),
            );
        }
        problems.into_result()
    }
}

/// A container image tag: 1–128 of letters, digits, '_', '.', '-', not starting with '.' or '-'.
fn version_tag(problems: &mut Problems, field: &str, tag: &str) {
    let valid = (1..=128).contains(&tag.len())
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid || tag == "latest" {
        problems.push(
            field,
            Rule::Format,
            format!(
                "{tag:?} is not a pinned image tag (e.g. {})",
                images::VM_CLUSTER_VERSION
            ),
        );
    }
}

/// Name of the VMCluster (and the VMAgent): the operator names its
/// Services after it (`vminsert-bi`, `vmselect-bi`).
pub const CLUSTER: &str = "bi";

/// The operator's Deployment, ServiceAccount and ClusterRole.
const OPERATOR: &str = "vm-operator";

/// The API group and version of every VictoriaMetrics custom resource.
const API_VERSION: &str = "operator.victoriametrics.com/v1beta1";
const GROUP: &str = "operator.victoriametrics.com";

/// Where vmselect serves queries and its UI (vmui).
pub const VMSELECT_PORT: u16 = 8481;

/// The Service the operator puts in front of vmselect.
pub fn vmselect_service() -> String {
    format!("vmselect-{CLUSTER}")
}

/// The Prometheus-compatible query URL of vmselect (Grafana's datasource).
pub fn select_url(ctx: &Context<'_>) -> String {
    format!(
        "http://{}.{}.svc:{VMSELECT_PORT}/select/0/prometheus",
        vmselect_service(),
        ctx.monitoring_namespace()
    )
}

/// The Prometheus remote-write URL of vminsert (where vmagent ships samples).
pub fn insert_url(ctx: &Context<'_>) -> String {
    format!(
        "http://vminsert-{CLUSTER}.{}.svc:8480/insert/0/prometheus/api/v1/write",
        ctx.monitoring_namespace()
    )
}

/// Metrics scraping of one workload: a `VMServiceScrape` named `name` in
/// `namespace` that scrapes `/metrics` on the Service port `port_name` of
/// every pod labelled `battery/component: <component>`, or `None` when
/// VictoriaMetrics is not installed.
///
/// NB: the Services bi builds select pods by `battery/component` but do not
/// carry that label themselves, so the scrape selects every Service of the
/// namespace and keeps only the endpoints whose *pod* has the component
/// label (a `keep` relabeling on the pod label discovery attaches). The
/// port is the Service port's name, which `build::service` makes equal to
/// the container port's name.
pub fn scrape(
    ctx: &Context<'_>,
    app: &str,
    namespace: &str,
    name: &str,
    component: &str,
    port_name: &str,
) -> Result<Option<Resource>, GenerateError> {
    scrape_with(ctx, app, namespace, name, component, port_name, None)
}

/// [`scrape`] of a workload whose `/metrics` needs a bearer token: the key
/// `key` of the Secret `secret` in the same namespace.
#[allow(clippy::too_many_arguments)]
pub fn scrape_with_token(
    ctx: &Context<'_>,
    app: &str,
    namespace: &str,
    name: &str,
    component: &str,
    port_name: &str,
    token: (&str, &str),
) -> Result<Option<Resource>, GenerateError> {
    scrape_with(ctx, app, namespace, name, component, port_name, Some(token))
}

#[allow(clippy::too_many_arguments)]
fn scrape_with(
    ctx: &Context<'_>,
    app: &str,
    namespace: &str,
    name: &str,
    component: &str,
    port_name: &str,
    token: Option<(&str, &str)>,
) -> Result<Option<Resource>, GenerateError> {
    if !ctx.installed(BatteryKind::VictoriaMetrics) {
        return Ok(None);
    }
    let body = service_scrape(namespace, name, component, port_name, token);
    Resource::from_value(app, body).map(Some)
}

fn service_scrape(
    namespace: &str,
    name: &str,
    component: &str,
    port_name: &str,
    token: Option<(&str, &str)>,
) -> Value {
    let pod_label = format!(
        "__meta_kubernetes_pod_label_{}",
        build::COMPONENT_LABEL.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let mut endpoint = json!({
        "port": port_name,
        "path": "/metrics",
        "scheme": "http",
        "relabelConfigs": [{
            "action": "keep",
            "sourceLabels": [pod_label],
            "regex": component,
        }],
    });
    if let Some((secret, key)) = token {
        endpoint["bearerTokenSecret"] = json!({ "name": secret, "key": key });
    }
    build::custom_resource(
        API_VERSION,
        "VMServiceScrape",
        Some(namespace),
        name,
        json!({
            "discoveryRole": "endpoints",
            "selector": {},
            "namespaceSelector": { "matchNames": [namespace] },
            "endpoints": [endpoint],
        }),
    )
}

/// The retention as VictoriaMetrics and Loki write it: whole days when it
/// is a number of days, else whole hours (rounded up).
pub(crate) fn retention_period(retention: &Duration) -> String {
    let hours = retention.as_millis().div_ceil(3_600_000);
    if hours.is_multiple_of(24) {
        format!("{}d", hours / 24)
    } else {
        format!("{hours}h")
    }
}

/// Requests (and a memory limit) for pods whose config has none.
fn fixed_resources(cpu_millicores: u64, memory_mib: u64, memory_limit_mib: u64) -> Resources {
    Resources {
        cpu_request: Cpu::millicores(cpu_millicores),
        cpu_limit: None,
        memory_request: Memory::mebibytes(memory_mib),
        memory_limit: Some(Memory::mebibytes(memory_limit_mib)),
    }
}

fn json_of<T: serde::Serialize>(what: &str, value: &T) -> Result<Value, GenerateError> {
    serde_json::to_value(value)
        .map_err(|err| GenerateError::Malformed(format!("{}: {what}: {err}", INFO.id)))
}

/// A volume claim template (`spec` only) of `size`, as the operator takes it.
fn claim_template(size: &Storage) -> Value {
    json!({
        "volumeClaimTemplate": {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": { "requests": { "storage": size.to_string() } },
            }
        }
    })
}

/// The resources this battery needs: the operator (in the base namespace,
/// with the other operators), its CRDs, and the `bi` VMCluster in the
/// monitoring namespace.
pub fn generate(
    config: &VictoriaMetricsConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let base = ctx.base_namespace();
    let monitoring = ctx.monitoring_namespace();
    let mut out = Vec::new();

    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }

    out.push(Resource::new(app, &build::service_account(base, OPERATOR))?);
    out.push(Resource::new(
        app,
        &build::cluster_role(OPERATOR, operator_rules()),
    )?);
    out.push(Resource::new(
        app,
        &build::cluster_role_binding(OPERATOR, OPERATOR, base, OPERATOR),
    )?);
    out.push(Resource::new(
        app,
        &build::role(base, OPERATOR, build::rules(LEADER_ELECTION_RULES)),
    )?);
    out.push(Resource::new(
        app,
        &build::role_binding(base, OPERATOR, OPERATOR, OPERATOR),
    )?);
    let operator = ContainerSpec {
        args: vec![
            "--health-probe-bind-address=:8081".to_owned(),
            "--metrics-bind-address=:8080".to_owned(),
        ],
        env: vec![
            // An empty WATCH_NAMESPACE watches every namespace: scrapes live
            // next to the workloads they scrape.
            build::env("WATCH_NAMESPACE", ""),
            build::env("VM_ENABLEDPROMETHEUSCONVERTER", "false"),
        ],
        ports: vec![("http", 8080), ("probe", 8081)],
        resources: Some(fixed_resources(100, 128, 512)),
        health: Some(Health::Http("/health", 8081)),
        ..ContainerSpec::new("operator", &config.operator_image)
    };
    out.push(Resource::new(
        app,
        &build::deployment(base, OPERATOR, 1, Some(OPERATOR), &[operator], Vec::new()),
    )?);
    out.push(Resource::new(
        app,
        &build::service(base, OPERATOR, OPERATOR, &[("http", 8080)]),
    )?);
    out.extend(scrape(ctx, app, base, OPERATOR, OPERATOR, "http")?);

    out.push(Resource::from_value(app, cluster(config, monitoring)?)?);
    // NB: vmselect has no sign-in of its own; its UI is routed through this
    // proxy once SSO is installed.
    let vmselect = vmselect_service();
    out.extend(super::sso::oauth2_proxy(
        ctx,
        app,
        monitoring,
        &vmselect,
        &vmselect,
        VMSELECT_PORT,
    )?);
    Ok(out)
}

/// The `bi` VMCluster.
fn cluster(config: &VictoriaMetricsConfig, namespace: &str) -> Result<Value, GenerateError> {
    let image = json!({ "tag": config.cluster_version });
    let resources = |cpu, memory, limit| {
        json_of(
            "resources",
            &build::resources(&fixed_resources(cpu, memory, limit)),
        )
    };
    Ok(build::custom_resource(
        API_VERSION,
        "VMCluster",
        Some(namespace),
        CLUSTER,
        json!({
            "retentionPeriod": retention_period(&config.retention),
            "replicationFactor": config.replication_factor,
            "useStrictSecurity": true,
            "vmstorage": {
                "replicaCount": config.vmstorage_replicas,
                "image": image,
                "resources": resources(100, 256, 2048)?,
                "storageDataPath": "/vm-data",
                "storage": claim_template(&config.vmstorage_volume),
            },
            "vmselect": {
                "replicaCount": config.vmselect_replicas,
                "image": image,
                "resources": resources(100, 256, 1024)?,
                "cacheMountPath": "/select-cache",
                "storage": claim_template(&config.vmselect_volume),
            },
            "vminsert": {
                "replicaCount": config.vminsert_replicas,
                "image": image,
                "resources": resources(100, 128, 512)?,
            },
        }),
    ))
}

/// What the operator may do, as upstream's controller-gen `role.yaml`
/// (v0.66.1) grants it: run the components it manages (workloads, Services,
/// Secrets, PVCs, PDBs) and grant the agents it runs the discovery rights
/// they need, which it must hold itself to grant.
const OPERATOR_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &[
            "configmaps",
            "configmaps/finalizers",
            "endpoints",
            "events",
            "persistentvolumeclaims",
            "persistentvolumeclaims/finalizers",
            "pods/eviction",
            "secrets",
            "secrets/finalizers",
            "services",
            "services/finalizers",
            "serviceaccounts",
            "serviceaccounts/finalizers",
        ],
        &["*"],
    ),
    (
        &[""],
        &[
            "configmaps/status",
            "pods",
            "nodes",
            "nodes/proxy",
            "nodes/metrics",
            "namespaces",
        ],
        &["get", "list", "watch"],
    ),
    (
        &["apps"],
        &[
            "deployments",
            "deployments/finalizers",
            "statefulsets",
            "statefulsets/finalizers",
            "daemonsets",
            "daemonsets/finalizers",
            "replicasets",
            "statefulsets/status",
        ],
        &["*"],
    ),
    (&["monitoring.coreos.com"], &["*"], &["*"]),
    (
        &["rbac.authorization.k8s.io"],
        &[
            "clusterrolebindings",
            "clusterrolebindings/finalizers",
            "clusterroles",
            "clusterroles/finalizers",
            "roles",
            "rolebindings",
        ],
        &["*"],
    ),
    (
        &["storage.k8s.io"],
        &["storageclasses"],
        &["list", "get", "watch"],
    ),
    (
        &["policy"],
        &["poddisruptionbudgets", "poddisruptionbudgets/finalizers"],
        &["*"],
    ),
    (
        &["route.openshift.io", "image.openshift.io"],
        &["routers/metrics", "registry/metrics"],
        &["get"],
    ),
    (&["autoscaling"], &["horizontalpodautoscalers"], &["*"]),
    (
        &["networking.k8s.io"],
        &["ingresses", "ingresses/finalizers"],
        &["*"],
    ),
    (
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        &["get", "list"],
    ),
    (
        &["discovery.k8s.io"],
        &["endpointslices"],
        &["list", "watch", "get"],
    ),
    (
        &[GROUP],
        &[
            "vlagents",
            "vlagents/finalizers",
            "vlagents/status",
            "vlogs",
            "vlogs/finalizers",
            "vlogs/status",
            "vlsingles",
            "vlsingles/finalizers",
            "vlsingles/status",
            "vlclusters",
            "vlclusters/finalizers",
            "vlclusters/status",
            "vtsingles",
            "vtsingles/finalizers",
            "vtsingles/status",
            "vtclusters",
            "vtclusters/finalizers",
            "vtclusters/status",
            "vmagents",
            "vmagents/finalizers",
            "vmagents/status",
            "vmalertmanagerconfigs",
            "vmalertmanagerconfigs/finalizers",
            "vmalertmanagerconfigs/status",
            "vmalertmanagers",
            "vmalertmanagers/finalizers",
            "vmalertmanagers/status",
            "vmalerts",
            "vmalerts/finalizers",
            "vmalerts/status",
            "vmauths",
            "vmauths/finalizers",
            "vmauths/status",
            "vmclusters",
            "vmclusters/finalizers",
            "vmclusters/status",
            "vmnodescrapes",
            "vmnodescrapes/finalizers",
            "vmnodescrapes/status",
            "vmpodscrapes",
            "vmpodscrapes/finalizers",
            "vmpodscrapes/status",
            "vmprobes",
            "vmprobes/finalizers",
            "vmprobes/status",
            "vmrules",
            "vmrules/finalizers",
            "vmrules/status",
            "vmscrapeconfigs",
            "vmscrapeconfigs/finalizers",
            "vmscrapeconfigs/status",
            "vmservicescrapes",
            "vmservicescrapes/finalizers",
            "vmservicescrapes/status",
            "vmsingles",
            "vmsingles/finalizers",
            "vmsingles/status",
            "vmstaticscrapes",
            "vmstaticscrapes/finalizers",
            "vmstaticscrapes/status",
            "vmusers",
            "vmusers/finalizers",
            "vmusers/status",
            "vmanomalies",
            "vmanomalies/finalizers",
            "vmanomalies/status",
        ],
        &["*"],
    ),
    (&["gateway.networking.k8s.io"], &["httproutes"], &["*"]),
];

/// The operator's ClusterRole: [`OPERATOR_RULES`] and upstream's metrics URLs.
fn operator_rules() -> Vec<PolicyRule> {
    let mut rules = build::rules(OPERATOR_RULES);
    rules.push(PolicyRule {
        non_resource_urls: Some(
            ["/metrics", "/metrics/resources", "/metrics/slis"]
                .map(str::to_owned)
                .to_vec(),
        ),
        verbs: ["get", "watch", "list"].map(str::to_owned).to_vec(),
        ..PolicyRule::default()
    });
    rules
}

/// The operator's Role in its own namespace, as upstream's
/// `leader_election_role.yaml`.
const LEADER_ELECTION_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &["configmaps"],
        &[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ],
    ),
    (&[""], &["configmaps/status"], &["get", "update", "patch"]),
    (&[""], &["events"], &["create", "patch"]),
    (
        &["coordination.k8s.io"],
        &["leases"],
        &["create", "get", "update"],
    ),
];

/// The operator's CRDs at v0.66.1, as upstream ships them: every CRD of
/// `config/crd/overlay/crd.yaml` (one file of 22), as upstream's install
/// does; each controller of the operator needs its CRD to start.
pub const CRDS: [UpstreamCrd; 22] = [
    upstream_crd!(
        "vlagents.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vlclusters.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vlogs.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vlsingles.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmagents.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmalertmanagerconfigs.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmalertmanagers.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmalerts.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmanomalies.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmauths.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmclusters.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmnodescrapes.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmpodscrapes.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmprobes.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmrules.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmscrapeconfigs.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmservicescrapes.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmsingles.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmstaticscrapes.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vmusers.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vtclusters.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
    upstream_crd!(
        "vtsingles.operator.victoriametrics.com",
        "victoriametrics-operator",
        "v0.66.1",
        "config/crd/overlay/crd.yaml",
        "3046e86e53d8315dd59ce892c61942d080c40db32403c9fa3970931916f66234"
    ),
];

/// The schema the operator ships for `name`
/// (`vmclusters.operator.victoriametrics.com`) at `version`: what the
/// custom resources bi writes are checked against.
#[cfg(feature = "upstream-crds")]
pub fn upstream_schema(name: &str, version: &str) -> Option<Value> {
    CRDS.iter()
        .find(|crd| crd.name == name)
        .and_then(|crd| crd.schema(version))
}

/// The schema of `VMCluster` (v1beta1), upstream's.
#[cfg(feature = "upstream-crds")]
pub fn vmcluster_schema() -> Option<Value> {
    upstream_schema("vmclusters.operator.victoriametrics.com", "v1beta1")
}

/// The schema of `VMServiceScrape` (v1beta1), upstream's.
#[cfg(feature = "upstream-crds")]
pub fn vmservicescrape_schema() -> Option<Value> {
    upstream_schema("vmservicescrapes.operator.victoriametrics.com", "v1beta1")
}

/// The schema of `VMAgent` (v1beta1), upstream's.
#[cfg(feature = "upstream-crds")]
pub fn vmagent_schema() -> Option<Value> {
    upstream_schema("vmagents.operator.victoriametrics.com", "v1beta1")
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use crate::catalog::test_support::{names_of, strict};
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::{DesiredState, Secrets, schema};

    fn state() -> DesiredState {
        DesiredState::with_batteries(&[BatteryKind::VictoriaMetrics]).unwrap()
    }

    fn generated(config: &VictoriaMetricsConfig) -> Vec<Resource> {
        let state = state();
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    #[test]
    fn generates_the_operator_its_crds_and_the_cluster() {
        let resources = generated(&VictoriaMetricsConfig::default());
        let mut paths: Vec<String> = resources
            .iter()
            .filter(|r| r.path.kind != "CustomResourceDefinition")
            .map(|r| format!("{}/{}", r.path.kind, r.path.name))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "ClusterRole/vm-operator",
                "ClusterRoleBinding/vm-operator",
                "Deployment/vm-operator",
                "Role/vm-operator",
                "RoleBinding/vm-operator",
                "Service/vm-operator",
                "ServiceAccount/vm-operator",
                "VMCluster/bi",
                "VMServiceScrape/vm-operator",
            ]
        );
        // Every CRD upstream's crd.yaml holds, the kinds bi writes among them.
        let crds = names_of(&resources, "CustomResourceDefinition");
        assert_eq!(crds, CRDS.map(|crd| crd.name));
        assert_eq!(crds.len(), 22);
        for kind in ["vmagents", "vmclusters", "vmservicescrapes"] {
            assert!(crds.contains(&format!("{kind}.{GROUP}").as_str()), "{kind}");
        }
        assert!(resources.iter().all(|r| r.app == "victoria_metrics"));
        let operator = find(&resources, "Deployment", "vm-operator");
        assert_eq!(operator.path.namespace.as_deref(), Some("battery-base"));
        let cluster = find(&resources, "VMCluster", "bi");
        assert_eq!(
            cluster.path.namespace.as_deref(),
            Some("battery-monitoring")
        );
    }

    #[test]
    fn the_operator_runs_the_configured_image_with_fixed_requests() {
        let config = VictoriaMetricsConfig {
            operator_image: ImageRef::parse("registry.example/vm/operator:v9.9.9").unwrap(),
            ..VictoriaMetricsConfig::default()
        };
        let resources = generated(&config);
        let pod = &find(&resources, "Deployment", "vm-operator").body["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "registry.example/vm/operator:v9.9.9");
        assert_eq!(container["resources"]["requests"]["cpu"], "100m");
        assert_eq!(container["resources"]["requests"]["memory"], "128Mi");
        assert_eq!(container["securityContext"]["runAsNonRoot"], true);
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/health");
        assert_eq!(pod["serviceAccountName"], "vm-operator");
        let args: Vec<&str> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // Every CRD ships, so every controller runs, as upstream's do.
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("--controller.disableReconcileFor")),
            "{args:?}"
        );
    }

    /// The largest config the tests use.
    fn largest_tested() -> VictoriaMetricsConfig {
        VictoriaMetricsConfig {
            cluster_version: "v1.200.0-cluster".into(),
            replication_factor: 2,
            vminsert_replicas: 2,
            vmselect_replicas: 3,
            vmstorage_replicas: 4,
            vmstorage_volume: Storage::gibibytes(50),
            vmselect_volume: Storage::mebibytes(512),
            retention: Duration::hours(36),
            ..VictoriaMetricsConfig::default()
        }
    }

    #[test]
    fn the_cluster_follows_the_typed_config() {
        let config = largest_tested();
        let resources = generated(&config);
        let spec = &find(&resources, "VMCluster", "bi").body["spec"];
        assert_eq!(spec["retentionPeriod"], "36h");
        assert_eq!(spec["replicationFactor"], 2);
        assert_eq!(spec["vminsert"]["replicaCount"], 2);
        assert_eq!(spec["vmselect"]["replicaCount"], 3);
        assert_eq!(spec["vmstorage"]["replicaCount"], 4);
        for component in ["vminsert", "vmselect", "vmstorage"] {
            assert_eq!(spec[component]["image"]["tag"], "v1.200.0-cluster");
            assert!(spec[component]["resources"]["requests"]["cpu"].is_string());
        }
        let claim = |component: &str| {
            spec[component]["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]
                ["storage"]
                .clone()
        };
        assert_eq!(claim("vmstorage"), "50Gi");
        assert_eq!(claim("vmselect"), "512Mi");
    }

    #[test]
    fn retention_is_written_in_days_when_it_is_whole_days() {
        assert_eq!(retention_period(&Duration::hours(24 * 30)), "30d");
        assert_eq!(retention_period(&Duration::hours(36)), "36h");
        assert_eq!(retention_period(&Duration::minutes(24 * 60 + 1)), "25h");
    }

    #[test]
    fn the_cluster_and_scrapes_validate_against_their_crds() {
        // Checked against the schemas the operator ships, at the default
        // config and at the largest one the tests use.
        let largest = largest_tested();
        let cluster_schema = vmcluster_schema().unwrap();
        let scrape_schema = vmservicescrape_schema().unwrap();
        for config in [VictoriaMetricsConfig::default(), largest] {
            let resources = generated(&config);
            let cluster = find(&resources, "VMCluster", "bi");
            let scrape = find(&resources, "VMServiceScrape", "vm-operator");
            for (schema, cr) in [(&cluster_schema, cluster), (&scrape_schema, scrape)] {
                assert_eq!(schema::violations(schema, &cr.body), Vec::<String>::new());
                assert_eq!(
                    schema::violations(&strict(schema), &cr.body),
                    Vec::<String>::new()
                );
            }
        }
        // A broken cluster is caught.
        let resources = generated(&VictoriaMetricsConfig::default());
        let mut broken = find(&resources, "VMCluster", "bi").body.clone();
        broken["spec"]["vmstorage"]["replicaCount"] = json!("two");
        assert_eq!(
            schema::violations(&cluster_schema, &broken),
            ["spec.vmstorage.replicaCount: must be an integer"]
        );
    }

    #[test]
    fn scrape_selects_pods_by_component_and_port_name() {
        let state = state();
        let ctx = Context::new(&state, Secrets::Preview);
        let scrape = scrape(
            &ctx,
            "redis-cache",
            "battery-data",
            "redis-cache",
            "redis-cache",
            "metrics",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            scrape.path.to_string(),
            "operator.victoriametrics.com/v1beta1/VMServiceScrape/battery-data/redis-cache"
        );
        assert_eq!(scrape.app, "redis-cache");
        let spec = &scrape.body["spec"];
        assert_eq!(
            spec["namespaceSelector"]["matchNames"],
            json!(["battery-data"])
        );
        let endpoint = &spec["endpoints"][0];
        assert_eq!(endpoint["port"], "metrics");
        assert_eq!(
            endpoint["relabelConfigs"][0],
            json!({
                "action": "keep",
                "sourceLabels": ["__meta_kubernetes_pod_label_battery_component"],
                "regex": "redis-cache",
            })
        );
        assert_eq!(
            schema::violations(&vmservicescrape_schema().unwrap(), &scrape.body),
            Vec::<String>::new()
        );
    }

    #[test]
    fn scrape_is_none_without_victoria_metrics() {
        let state = DesiredState::with_batteries(&[BatteryKind::VmAgent]).unwrap();
        let ctx = Context::new(&state, Secrets::Preview);
        assert_eq!(
            scrape(&ctx, "x", "battery-data", "x", "x", "metrics").unwrap(),
            None
        );
    }

    #[test]
    fn reads_no_secrets() {
        let state = state();
        let stored = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        assert!(generate(&VictoriaMetricsConfig::default(), &ctx).is_ok());
    }

    #[test]
    fn urls_point_at_the_operator_made_services() {
        let state = state();
        let ctx = Context::new(&state, Secrets::Preview);
        assert_eq!(
            select_url(&ctx),
            "http://vmselect-bi.battery-monitoring.svc:8481/select/0/prometheus"
        );
        assert_eq!(
            insert_url(&ctx),
            "http://vminsert-bi.battery-monitoring.svc:8480/insert/0/prometheus/api/v1/write"
        );
    }

    #[test]
    fn replication_factor_cannot_exceed_storage_replicas() {
        let config = VictoriaMetricsConfig {
            replication_factor: 3,
            vmstorage_replicas: 2,
            ..VictoriaMetricsConfig::default()
        };
        let err = config.validate().unwrap_err();
        let err = err.for_field("replication_factor").unwrap();
        assert_eq!(err.rule, Rule::Consistency);
        assert!(
            err.message
                .starts_with("cannot keep 3 copies on 2 vmstorage replica(s)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let config = VictoriaMetricsConfig {
            vminsert_replicas: 0,
            vmselect_replicas: 99,
            vmstorage_volume: Storage::mebibytes(10),
            cluster_version: "latest".to_owned(),
            ..VictoriaMetricsConfig::default()
        };
        let problems = config.validate().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "cluster_version",
                "vminsert_replicas",
                "vmselect_replicas",
                "vmstorage_volume"
            ]
        );
    }
}
