//! Scans workloads' images and configuration and keeps vulnerability reports in the cluster.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, ConfigMapEnvSource, EnvFromSource};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{checks, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::Duration;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::TrivyOperator,
    id: "trivy_operator",
    name: "Trivy Operator",
    group: BatteryGroup::NetSecurity,
    description: "Scans workloads' images and configuration and keeps vulnerability reports in the cluster.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "vulnerability metrics",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Trivy Operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrivyOperatorConfig {
    /// The Trivy operator.
    pub image: ImageRef,
    /// How often every workload is scanned again.
    pub scan_interval: Duration,
}

impl Default for TrivyOperatorConfig {
    fn default() -> Self {
        Self {
            image: image(images::TRIVY_OPERATOR),
            scan_interval: Duration::hours(24),
        }
    }
}

impl TrivyOperatorConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::duration_range(
            &mut problems,
            "scan_interval",
            self.scan_interval,
            Duration::hours(1),
            Duration::hours(24 * 30),
        );
        problems.into_result()
    }
}

const NAME: &str = "trivy-operator";

/// The Trivy scanner the scan jobs run. NB: pinned here, next to the
/// operator version it fits (trivy-operator 0.29 ships with Trivy 0.67).
const TRIVY_REPOSITORY: &str = "mirror.gcr.io/aquasec/trivy";
const TRIVY_TAG: &str = "0.67.2";

/// The ConfigMap holding the operator's `OPERATOR_*` settings (read with
/// `envFrom`), the scan interval among them.
const SETTINGS: &str = "trivy-operator-settings";

/// The operator's CRDs at v0.29.0, as upstream ships them: all 12 of the
/// chart's `crds/`, which Helm installs whichever scanners are on. bi
/// writes no reports; the operator does.
pub const CRDS: [UpstreamCrd; 12] = [
    upstream_crd!(
        "clustercompliancereports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_clustercompliancereports.yaml",
        "102f63d977e1c3cc5f88e11ecf0fd6ce2adca1196ce5851d8cd061cbb1855061"
    ),
    upstream_crd!(
        "clusterconfigauditreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_clusterconfigauditreports.yaml",
        "50999772676ca461bb0dd99f11764d465a502cd2068a9803cb202d6788671fc5"
    ),
    upstream_crd!(
        "clusterinfraassessmentreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_clusterinfraassessmentreports.yaml",
        "c4f5f56b05a882da05d5be4462d9f496dce5074ebb9d32b02177653d9bd9999b"
    ),
    upstream_crd!(
        "clusterrbacassessmentreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_clusterrbacassessmentreports.yaml",
        "7d1ac2f4ccba9dcca47931c0a90196ac743f146cc818ffd9c0e3b8ca8aef768c"
    ),
    upstream_crd!(
        "clustersbomreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_clustersbomreports.yaml",
        "39d5e57aaa124346d9f5646fcfd7944b5763575146809493753548e58de9b0d2"
    ),
    upstream_crd!(
        "clustervulnerabilityreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_clustervulnerabilityreports.yaml",
        "5bc4227795cf2113805605590f3e9183035024796ad6990166a69d443cc3b432"
    ),
    upstream_crd!(
        "configauditreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_configauditreports.yaml",
        "8928605825702f065aa80c45b0d7dc563f82ecc04f7b073985a7507dad1dd9f5"
    ),
    upstream_crd!(
        "exposedsecretreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_exposedsecretreports.yaml",
        "4644cd8c1ab40f7f3bcd73f8cc4b8dcf79940e2b5c99b96d598adc768626c210"
    ),
    upstream_crd!(
        "infraassessmentreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_infraassessmentreports.yaml",
        "c846ffeb1463ab5cc5fd82088030d59377fbc3fc94346561c37bf2b4910307a7"
    ),
    upstream_crd!(
        "rbacassessmentreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_rbacassessmentreports.yaml",
        "6de7a4ad034a9276da2a9ea48d006efd2f9dbed937070c92c4fae50418694378"
    ),
    upstream_crd!(
        "sbomreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_sbomreports.yaml",
        "3a947b8a7ae1e2bbdc438a08211b26f2cea66e10eae51ba31d3130b3965ecce3"
    ),
    upstream_crd!(
        "vulnerabilityreports.aquasecurity.github.io",
        "trivy-operator",
        "v0.29.0",
        "deploy/helm/crds/aquasecurity.github.io_vulnerabilityreports.yaml",
        "4d9de4b56a9634c6c5fb4802c6672bcec790d9af5262b95fa900b28fd85cfe48"
    ),
];

/// The operator's environment: only the vulnerability scanner is on (the
/// other report kinds' CRDs ship all the same, as upstream's chart installs
/// them), and every report expires after `scan_interval`, which makes the
/// operator scan again.
fn settings(config: &TrivyOperatorConfig, namespace: &str) -> BTreeMap<String, String> {
    let ttl = config.scan_interval.to_string();
    build::string_map(&[
        ("OPERATOR_NAMESPACE", namespace),
        ("OPERATOR_TARGET_NAMESPACES", ""),
        ("OPERATOR_EXCLUDE_NAMESPACES", "kube-system"),
        (
            "OPERATOR_TARGET_WORKLOADS",
            "pod,replicaset,replicationcontroller,statefulset,daemonset,cronjob,job",
        ),
        ("OPERATOR_SERVICE_ACCOUNT", NAME),
        ("OPERATOR_LOG_DEV_MODE", "false"),
        ("OPERATOR_SCAN_JOB_TIMEOUT", "5m"),
        ("OPERATOR_CONCURRENT_SCAN_JOBS_LIMIT", "3"),
        ("OPERATOR_SCAN_JOB_RETRY_AFTER", "30s"),
        ("OPERATOR_BATCH_DELETE_LIMIT", "10"),
        ("OPERATOR_BATCH_DELETE_DELAY", "10s"),
        ("OPERATOR_METRICS_BIND_ADDRESS", ":8080"),
        ("OPERATOR_METRICS_FINDINGS_ENABLED", "true"),
        ("OPERATOR_METRICS_VULN_ID_ENABLED", "false"),
        ("OPERATOR_HEALTH_PROBE_BIND_ADDRESS", ":9090"),
        ("OPERATOR_VULNERABILITY_SCANNER_ENABLED", "true"),
        (
            "OPERATOR_VULNERABILITY_SCANNER_SCAN_ONLY_CURRENT_REVISIONS",
            "true",
        ),
        ("OPERATOR_SCANNER_REPORT_TTL", &ttl),
        ("OPERATOR_CONFIG_AUDIT_SCANNER_ENABLED", "false"),
        ("OPERATOR_RBAC_ASSESSMENT_SCANNER_ENABLED", "false"),
        ("OPERATOR_INFRA_ASSESSMENT_SCANNER_ENABLED", "false"),
        ("OPERATOR_CLUSTER_COMPLIANCE_ENABLED", "false"),
        ("OPERATOR_EXPOSED_SECRET_SCANNER_ENABLED", "false"),
        ("OPERATOR_SBOM_GENERATION_ENABLED", "false"),
        ("OPERATOR_CLUSTER_SBOM_CACHE_ENABLED", "false"),
        ("OPERATOR_ACCESS_GLOBAL_SECRETS_SERVICE_ACCOUNTS", "false"),
        ("OPERATOR_WEBHOOK_BROADCAST_URL", ""),
        ("OPERATOR_PRIVATE_REGISTRY_SCAN_SECRETS_NAMES", "{}"),
        ("OPERATOR_LEADER_ELECTION_ENABLED", "false"),
    ])
}

/// The operator's plugin settings (`trivy-operator`) and Trivy's
/// (`trivy-operator-trivy-config`): scan jobs run Trivy standalone,
/// hardened like bi's own pods.
fn scanner_config_maps(namespace: &str) -> [ConfigMap; 2] {
    let container_security = json!({
        "allowPrivilegeEscalation": false,
        "capabilities": { "drop": ["ALL"] },
        "privileged": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
    })
    .to_string();
    let pod_security = json!({
        "runAsNonRoot": true,
        "runAsUser": build::NON_ROOT_UID,
        "runAsGroup": build::NON_ROOT_UID,
        "seccompProfile": { "type": "RuntimeDefault" },
    })
    .to_string();
    let operator = build::config_map(
        namespace,
        NAME,
        build::string_map(&[
            ("vulnerabilityReports.scanner", "Trivy"),
            ("vulnerabilityReports.scanJobsInSameNamespace", "false"),
            ("configAuditReports.scanner", "Trivy"),
            ("scanJob.compressLogs", "true"),
            ("scanJob.automountServiceAccountToken", "false"),
            (
                "scanJob.podTemplateContainerSecurityContext",
                &container_security,
            ),
            ("scanJob.podTemplatePodSecurityContext", &pod_security),
            ("report.recordFailedChecksOnly", "true"),
        ]),
    );
    let trivy = build::config_map(
        namespace,
        "trivy-operator-trivy-config",
        build::string_map(&[
            ("trivy.repository", TRIVY_REPOSITORY),
            ("trivy.tag", TRIVY_TAG),
            ("trivy.imagePullPolicy", "IfNotPresent"),
            ("trivy.mode", "Standalone"),
            ("trivy.command", "image"),
            ("trivy.severity", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"),
            ("trivy.slow", "true"),
            ("trivy.timeout", "5m0s"),
            ("trivy.dbRepository", "mirror.gcr.io/aquasec/trivy-db"),
            (
                "trivy.javaDbRepository",
                "mirror.gcr.io/aquasec/trivy-java-db",
            ),
            ("trivy.dbRepositoryInsecure", "false"),
            ("trivy.useBuiltinRegoPolicies", "false"),
            ("trivy.skipJavaDBUpdate", "false"),
            ("trivy.additionalVulnerabilityReportFields", ""),
            ("trivy.resources.requests.cpu", "100m"),
            ("trivy.resources.requests.memory", "128Mi"),
            ("trivy.resources.limits.cpu", "500m"),
            ("trivy.resources.limits.memory", "512Mi"),
        ]),
    );
    [operator, trivy]
}

/// The operator's ClusterRole, as upstream's chart (v0.29.0) grants it: the
/// controller-gen `generated/role.yaml` that `clusterrole.yaml` includes, and
/// the rules that file appends with `accessGlobalSecretsAndServiceAccount`
/// (the chart's default: image pull secrets of any workload).
const CLUSTER_RULES: &[build::RuleSpec] = &[
    (&[""], &["configmaps"], READ),
    (&[""], &["limitranges"], READ),
    (&[""], &["namespaces"], &["get"]),
    (&[""], &["nodes"], READ),
    (&[""], &["pods"], READ),
    (&[""], &["pods/log"], &["get", "list"]),
    (&[""], &["replicationcontrollers"], READ),
    (&[""], &["resourcequotas"], READ),
    (&[""], &["services"], READ),
    (
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        READ,
    ),
    (&["apps"], &["daemonsets"], READ),
    (&["apps"], &["deployments"], READ),
    (&["apps"], &["replicasets"], READ),
    (&["apps"], &["statefulsets"], READ),
    (&["apps.openshift.io"], &["deploymentconfigs"], READ),
    (
        &["aquasecurity.github.io"],
        &[
            "clustercompliancedetailreports",
            "clustercompliancereports",
            "clusterconfigauditreports",
            "clusterinfraassessmentreports",
            "clusterrbacassessmentreports",
            "clustersbomreports",
            "clustervulnerabilityreports",
            "configauditreports",
            "exposedsecretreports",
            "infraassessmentreports",
            "rbacassessmentreports",
            "sbomreports",
            "vulnerabilityreports",
        ],
        ALL_VERBS,
    ),
    (
        &["aquasecurity.github.io"],
        &["clustercompliancereports/status"],
        &["get", "patch", "update"],
    ),
    (&["batch"], &["cronjobs"], READ),
    (
        &["batch"],
        &["jobs"],
        &["create", "delete", "get", "list", "watch"],
    ),
    (&["networking.k8s.io"], &["ingresses"], READ),
    (&["networking.k8s.io"], &["networkpolicies"], READ),
    (
        &["rbac.authorization.k8s.io"],
        &[
            "clusterrolebindings",
            "clusterroles",
            "rolebindings",
            "roles",
        ],
        READ,
    ),
    // accessGlobalSecretsAndServiceAccount
    (&[""], &["secrets"], &["create", "get", "update"]),
    (&[""], &["serviceaccounts"], &["get"]),
    (&[""], &["nodes/proxy"], &["get"]),
];

/// The operator's Role in its namespace: upstream's `role.yaml` (scan jobs'
/// secrets and config maps) and `leader-election-role.yaml`.
const NAMESPACE_RULES: &[build::RuleSpec] = &[
    (&[""], &["configmaps"], &["create", "get", "list", "watch"]),
    (&[""], &["secrets"], &["create", "get", "delete", "update"]),
    (
        &["coordination.k8s.io"],
        &["leases"],
        &["create", "get", "update"],
    ),
    (&[""], &["events"], &["create"]),
];

const READ: &[&str] = &["get", "list", "watch"];
const ALL_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// The resources this battery needs, in the base namespace: the operator's
/// Deployment, ServiceAccount, ClusterRole (+binding) and Role (+binding),
/// upstream's CRDs (the reports the operator writes), the ConfigMap
/// `trivy-operator-settings` with the scan interval (`OPERATOR_SCANNER_REPORT_TTL`)
/// and the scanner's ConfigMaps, a metrics Service, and a scrape of the
/// vulnerability metrics once VictoriaMetrics is installed. Reads no secrets.
pub fn generate(
    config: &TrivyOperatorConfig,
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
        Resource::new(app, &build::role(ns, NAME, build::rules(NAMESPACE_RULES)))?,
        Resource::new(app, &build::role_binding(ns, NAME, NAME, NAME))?,
        Resource::new(app, &build::config_map(ns, SETTINGS, settings(config, ns)))?,
    ]);
    for config_map in scanner_config_maps(ns) {
        out.push(Resource::new(app, &config_map)?);
    }

    let mut container = ContainerSpec::new(NAME, &config.image);
    container.ports = vec![("metrics", 8080), ("probes", 9090)];
    container.health = Some(Health::Http("/healthz/", 9090));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(100),
        cpu_limit: None,
        memory_request: Memory::mebibytes(128),
        memory_limit: Some(Memory::mebibytes(512)),
    });
    let mut deployment = build::deployment(ns, NAME, 1, Some(NAME), &[container], Vec::new());
    if let Some(pod) = deployment
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        for container in &mut pod.containers {
            container.env_from = Some(vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: SETTINGS.to_owned(),
                    optional: Some(false),
                }),
                ..EnvFromSource::default()
            }]);
        }
    }
    out.push(Resource::new(app, &deployment)?);
    out.push(Resource::new(
        app,
        &build::service(ns, NAME, NAME, &[("metrics", 8080)]),
    )?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, NAME, NAME, "metrics")? {
        out.push(scrape);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DesiredState, Secrets};
    use k8s_openapi::api::apps::v1::Deployment;

    fn generated(kinds: &[BatteryKind], config: &TrivyOperatorConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        let empty = BTreeMap::new();
        generate(config, &Context::new(&state, Secrets::Stored(&empty))).unwrap()
    }

    #[test]
    fn generates_the_operator_its_crds_and_its_settings() {
        let resources = generated(
            &[BatteryKind::TrivyOperator],
            &TrivyOperatorConfig::default(),
        );
        let crds: Vec<&str> = resources
            .iter()
            .take_while(|r| r.path.kind == "CustomResourceDefinition")
            .map(|r| r.path.name.as_str())
            .collect();
        assert_eq!(crds, CRDS.map(|crd| crd.name));
        assert!(crds.contains(&"vulnerabilityreports.aquasecurity.github.io"));
        let kinds: Vec<(&str, &str)> = resources[crds.len()..]
            .iter()
            .map(|r| (r.path.kind.as_str(), r.path.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("ServiceAccount", NAME),
                ("ClusterRole", NAME),
                ("ClusterRoleBinding", NAME),
                ("Role", NAME),
                ("RoleBinding", NAME),
                ("ConfigMap", SETTINGS),
                ("ConfigMap", NAME),
                ("ConfigMap", "trivy-operator-trivy-config"),
                ("Deployment", NAME),
                ("Service", NAME),
            ]
        );
    }

    #[test]
    fn the_scan_interval_reaches_the_operator() {
        let config = TrivyOperatorConfig {
            scan_interval: Duration::hours(6),
            ..TrivyOperatorConfig::default()
        };
        let resources = generated(&[BatteryKind::TrivyOperator], &config);
        let settings = resources.iter().find(|r| r.path.name == SETTINGS).unwrap();
        assert_eq!(settings.body["data"]["OPERATOR_SCANNER_REPORT_TTL"], "6h");
        let deployment = resources
            .iter()
            .find(|r| r.path.kind == "Deployment")
            .unwrap();
        let deployment: Deployment = serde_json::from_value(deployment.body.clone()).unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(images::TRIVY_OPERATOR));
        assert!(container.resources.is_some() && container.liveness_probe.is_some());
        let env_from = container.env_from.as_ref().unwrap();
        assert_eq!(env_from[0].config_map_ref.as_ref().unwrap().name, SETTINGS);
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let config = TrivyOperatorConfig::default();
        let without = generated(&[BatteryKind::TrivyOperator], &config);
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(
            &[BatteryKind::TrivyOperator, BatteryKind::VictoriaMetrics],
            &config,
        );
        assert!(with.iter().any(|r| r.path.kind == "VMServiceScrape"));
    }
}
