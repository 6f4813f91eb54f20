//! Scrapes metrics from every monitored workload and ships them to VictoriaMetrics.

use k8s_openapi::api::core::v1::{ConfigMapVolumeSource, EmptyDirVolumeSource, Volume};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{sso, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Duration, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::VmAgent,
    id: "vm_agent",
    name: "vmagent",
    group: BatteryGroup::Monitoring,
    description: "Scrapes metrics from every monitored workload and ships them to VictoriaMetrics.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::IstioGateway,
        what: "its UI at https://vm-agent.<domain>/",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of vmagent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VmAgentConfig {
    /// vmagent.
    pub image: ImageRef,
    /// How often targets are scraped.
    pub scrape_interval: Duration,
}

impl Default for VmAgentConfig {
    fn default() -> Self {
        Self {
            image: image(images::VMAGENT),
            scrape_interval: Duration::seconds(30),
        }
    }
}

impl VmAgentConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::duration_range(
            &mut problems,
            "scrape_interval",
            self.scrape_interval,
            Duration::seconds(5),
            Duration::minutes(5),
        );
        problems.into_result()
    }
}

/// The Deployment, ServiceAccount, ClusterRole, ConfigMap and Service.
pub const NAME: &str = "vmagent";

/// Where vmagent serves its UI, API and metrics.
pub const PORT: u16 = 8429;

/// Where the ServiceAccount's token and CA are mounted in every pod.
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The resources this battery needs, all in the monitoring namespace:
///
/// - a vmagent Deployment (with its ServiceAccount, a discovery ClusterRole
///   and a ConfigMap) that scrapes the cluster itself: the API servers, the
///   kubelets and cAdvisor;
/// - once VictoriaMetrics is installed, a `VMAgent` that its operator runs
///   and that turns every `VMServiceScrape` (see
///   [`victoria_metrics::scrape`]) into scrape jobs. A plain vmagent cannot
///   read those custom resources; only the operator translates them.
///
/// Both write to vminsert. Without VictoriaMetrics there is nowhere to
/// write, and vmagent refuses to start without a `-remoteWrite.url`: the
/// Deployment is then scaled to zero and has no remote write.
pub fn generate(config: &VmAgentConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.monitoring_namespace();
    let victoria_metrics = ctx.installed(BatteryKind::VictoriaMetrics);
    let mut out = vec![
        Resource::new(app, &build::service_account(namespace, NAME))?,
        Resource::new(app, &build::cluster_role(NAME, discovery_rules()))?,
        Resource::new(
            app,
            &build::cluster_role_binding(NAME, NAME, namespace, NAME),
        )?,
        Resource::new(
            app,
            &build::config_map(
                namespace,
                &format!("{NAME}-config"),
                [("scrape.yml".to_owned(), scrape_config(config)?)].into(),
            ),
        )?,
    ];

    let mut args = vec![
        "-promscrape.config=/etc/vmagent/scrape.yml".to_owned(),
        // NB: re-reads the ConfigMap's file when it changes; no restart needed.
        "-promscrape.configCheckInterval=30s".to_owned(),
        "-remoteWrite.tmpDataPath=/tmp/vmagent".to_owned(),
        format!("-httpListenAddr=:{PORT}"),
    ];
    if victoria_metrics {
        args.push(format!(
            "-remoteWrite.url={}",
            victoria_metrics::insert_url(ctx)
        ));
    }
    let container = ContainerSpec {
        args,
        ports: vec![("http", PORT)],
        resources: Some(Resources {
            cpu_request: Cpu::millicores(100),
            cpu_limit: None,
            memory_request: Memory::mebibytes(128),
            memory_limit: Some(Memory::mebibytes(512)),
        }),
        health: Some(Health::Http("/health", PORT)),
        mounts: vec![
            ("config".to_owned(), "/etc/vmagent".to_owned()),
            ("tmp".to_owned(), "/tmp".to_owned()),
        ],
        ..ContainerSpec::new("vmagent", &config.image)
    };
    let volumes = vec![
        Volume {
            name: "config".to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: format!("{NAME}-config"),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "tmp".to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
    ];
    let replicas = u32::from(victoria_metrics);
    out.push(Resource::new(
        app,
        &build::deployment(namespace, NAME, replicas, Some(NAME), &[container], volumes),
    )?);
    out.push(Resource::new(
        app,
        &build::service(namespace, NAME, NAME, &[("http", PORT)]),
    )?);
    out.extend(victoria_metrics::scrape(
        ctx, app, namespace, NAME, NAME, "http",
    )?);

    if victoria_metrics {
        out.push(Resource::from_value(app, service_agent(config, ctx))?);
    }
    // NB: vmagent has no sign-in of its own; its UI is routed through this
    // proxy once SSO is installed.
    out.extend(sso::oauth2_proxy(ctx, app, namespace, NAME, NAME, PORT)?);
    Ok(out)
}

/// The scrape interval as Prometheus and vmagent read it (`30s`, `1m30s`,
/// or milliseconds when it is not a whole number of seconds).
fn interval(duration: &Duration) -> String {
    if duration.as_millis().is_multiple_of(1000) {
        duration.to_string()
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// What discovery and scraping read: nodes (kubelet and cAdvisor metrics),
/// Services, endpoints and pods, and the API server's `/metrics`.
fn discovery_rules() -> Vec<PolicyRule> {
    const READ: &[&str] = &["get", "list", "watch"];
    vec![
        build::rule(
            &[""],
            &[
                "nodes",
                "nodes/metrics",
                "nodes/proxy",
                "services",
                "endpoints",
                "pods",
            ],
            READ,
        ),
        build::rule(&["discovery.k8s.io"], &["endpointslices"], READ),
        PolicyRule {
            non_resource_urls: Some(vec!["/metrics".to_owned(), "/metrics/cadvisor".to_owned()]),
            verbs: vec!["get".to_owned()],
            ..PolicyRule::default()
        },
    ]
}

/// The Deployment's `scrape.yml`: the cluster's own metrics.
fn scrape_config(config: &VmAgentConfig) -> Result<String, GenerateError> {
    let token = format!("{SA_DIR}/token");
    let ca = format!("{SA_DIR}/ca.crt");
    let node_job = |job: &str, path: &str| {
        json!({
            "job_name": job,
            "kubernetes_sd_configs": [{ "role": "node" }],
            "scheme": "https",
            "metrics_path": path,
            "bearer_token_file": token,
            // NB: kubelets serve self-signed certificates on most clusters.
            "tls_config": { "ca_file": ca, "insecure_skip_verify": true },
            "relabel_configs": [{
                "source_labels": ["__meta_kubernetes_node_name"],
                "target_label": "node",
            }],
        })
    };
    let document = json!({
        "global": { "scrape_interval": interval(&config.scrape_interval) },
        "scrape_configs": [
            {
                "job_name": "kubernetes-apiservers",
                "kubernetes_sd_configs": [{ "role": "endpoints" }],
                "scheme": "https",
                "bearer_token_file": token,
                "tls_config": { "ca_file": ca },
                "relabel_configs": [{
                    "source_labels": [
                        "__meta_kubernetes_namespace",
                        "__meta_kubernetes_service_name",
                        "__meta_kubernetes_endpoint_port_name",
                    ],
                    "action": "keep",
                    "regex": "default;kubernetes;https",
                }],
            },
            node_job("kubelet", "/metrics"),
            node_job("cadvisor", "/metrics/cadvisor"),
        ],
    });
    serde_yaml_ng::to_string(&document)
        .map_err(|err| GenerateError::Malformed(format!("{}: scrape.yml: {err}", INFO.id)))
}

/// The image as the operator takes it: repository and tag (a digest rides
/// along on the tag, `v1.2.3@sha256:…`).
fn image_spec(image: &ImageRef) -> Value {
    let tag = match (image.tag(), image.digest()) {
        (Some(tag), Some(digest)) => format!("{tag}@{digest}"),
        (Some(tag), None) => tag.to_owned(),
        (None, Some(digest)) => format!("@{digest}"),
        (None, None) => "latest".to_owned(),
    };
    json!({ "repository": image.name(), "tag": tag })
}

/// The operator-run agent that scrapes every `VMServiceScrape` in the
/// cluster (and nothing else: the other scrape kinds have no CRD here).
fn service_agent(config: &VmAgentConfig, ctx: &Context<'_>) -> Value {
    build::custom_resource(
        "operator.victoriametrics.com/v1beta1",
        "VMAgent",
        Some(ctx.monitoring_namespace()),
        victoria_metrics::CLUSTER,
        json!({
            "image": image_spec(&config.image),
            "replicaCount": 1,
            "scrapeInterval": interval(&config.scrape_interval),
            "selectAllByDefault": false,
            "serviceScrapeSelector": {},
            "serviceScrapeNamespaceSelector": {},
            "useStrictSecurity": true,
            "resources": {
                "requests": { "cpu": "100m", "memory": "128Mi" },
                "limits": { "memory": "512Mi" },
            },
            "remoteWrite": [{ "url": victoria_metrics::insert_url(ctx) }],
        }),
    )
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find;
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::{DesiredState, Secrets, schema};

    fn generated(kinds: &[BatteryKind], config: &VmAgentConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    fn args(deployment: &Resource) -> Vec<String> {
        deployment.body["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn writes_to_vminsert_and_runs_a_service_agent_with_victoria_metrics() {
        let resources = generated(&[BatteryKind::VictoriaMetrics], &VmAgentConfig::default());
        let mut paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{}", r.path.kind, r.path.name))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "ClusterRole/vmagent",
                "ClusterRoleBinding/vmagent",
                "ConfigMap/vmagent-config",
                "Deployment/vmagent",
                "Service/vmagent",
                "ServiceAccount/vmagent",
                "VMAgent/bi",
                "VMServiceScrape/vmagent",
            ]
        );
        let deployment = find(&resources, "Deployment", "vmagent").unwrap();
        assert_eq!(deployment.body["spec"]["replicas"], 1);
        assert!(args(deployment).contains(
            &"-remoteWrite.url=http://vminsert-bi.battery-monitoring.svc:8480/insert/0/prometheus/api/v1/write"
                .to_owned()
        ));
        let agent = find(&resources, "VMAgent", "bi").unwrap();
        assert_eq!(
            agent.body["spec"]["remoteWrite"][0]["url"],
            "http://vminsert-bi.battery-monitoring.svc:8480/insert/0/prometheus/api/v1/write"
        );
        assert_eq!(
            agent.body["spec"]["serviceScrapeNamespaceSelector"],
            json!({})
        );
        assert_eq!(
            schema::violations(&victoria_metrics::vmagent_schema().unwrap(), &agent.body),
            Vec::<String>::new()
        );
        let scrape = find(&resources, "VMServiceScrape", "vmagent").unwrap();
        assert_eq!(
            schema::violations(
                &victoria_metrics::vmservicescrape_schema().unwrap(),
                &scrape.body
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn without_victoria_metrics_nothing_is_written_and_the_agent_waits_at_zero() {
        let resources = generated(&[BatteryKind::VmAgent], &VmAgentConfig::default());
        let deployment = find(&resources, "Deployment", "vmagent").unwrap();
        assert_eq!(deployment.body["spec"]["replicas"], 0);
        assert!(
            !args(deployment)
                .iter()
                .any(|a| a.starts_with("-remoteWrite.url"))
        );
        assert!(find(&resources, "VMAgent", "bi").is_none());
        assert!(resources.iter().all(|r| r.path.kind != "VMServiceScrape"));
    }

    #[test]
    fn the_pod_uses_the_configured_image_and_scrape_interval() {
        let config = VmAgentConfig {
            image: ImageRef::parse("registry.example/vmagent:v1.2.3").unwrap(),
            scrape_interval: Duration::seconds(90),
        };
        let resources = generated(&[BatteryKind::VictoriaMetrics], &config);
        let deployment = find(&resources, "Deployment", "vmagent").unwrap();
        let pod = &deployment.body["spec"]["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["image"],
            "registry.example/vmagent:v1.2.3"
        );
        assert_eq!(
            pod["containers"][0]["resources"]["requests"]["memory"],
            "128Mi"
        );
        assert_eq!(pod["serviceAccountName"], "vmagent");
        let config_map = find(&resources, "ConfigMap", "vmagent-config").unwrap();
        let scrape: Value =
            serde_yaml_ng::from_str(config_map.body["data"]["scrape.yml"].as_str().unwrap())
                .unwrap();
        assert_eq!(scrape["global"]["scrape_interval"], "1m30s");
        let jobs: Vec<&str> = scrape["scrape_configs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|job| job["job_name"].as_str().unwrap())
            .collect();
        assert_eq!(jobs, ["kubernetes-apiservers", "kubelet", "cadvisor"]);
        let agent = find(&resources, "VMAgent", "bi").unwrap();
        assert_eq!(agent.body["spec"]["scrapeInterval"], "1m30s");
        assert_eq!(
            agent.body["spec"]["image"],
            json!({ "repository": "registry.example/vmagent", "tag": "v1.2.3" })
        );
    }

    #[test]
    fn fractional_intervals_are_written_in_milliseconds() {
        assert_eq!(interval(&Duration::milliseconds(5_500)), "5500ms");
        assert_eq!(interval(&Duration::seconds(30)), "30s");
    }

    #[test]
    fn reads_no_secrets() {
        let state = DesiredState::with_batteries(&[BatteryKind::VictoriaMetrics]).unwrap();
        let stored = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        assert!(generate(&VmAgentConfig::default(), &ctx).is_ok());
    }
}
