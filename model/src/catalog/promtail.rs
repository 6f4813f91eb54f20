//! Ships every pod's logs to Loki.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HostPathVolumeSource, ObjectFieldSelector, PodSpec, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use super::{loki, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Promtail,
    id: "promtail",
    name: "Promtail",
    group: BatteryGroup::Monitoring,
    description: "Ships every pod's logs to Loki.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::Loki],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Promtail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromtailConfig {
    /// Promtail.
    pub image: ImageRef,
}

impl Default for PromtailConfig {
    fn default() -> Self {
        Self {
            image: image(images::PROMTAIL),
        }
    }
}

impl PromtailConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The DaemonSet, ServiceAccount, ClusterRole, ConfigMap and Service.
const NAME: &str = "promtail";

/// Promtail's HTTP port (`/ready`, `/metrics`).
const HTTP_PORT: u16 = 3101;

/// The resources this battery needs, in the monitoring namespace: a
/// DaemonSet (one Promtail per node, tolerating every taint) that tails the
/// pods' log files under the node's `/var/log` (read-only) and pushes them
/// to Loki's Service, its config, a ServiceAccount with a ClusterRole to
/// discover pods, and a Service for its own metrics. Reads no secrets.
pub fn generate(
    config: &PromtailConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.monitoring_namespace();
    let config_name = format!("{NAME}-config");
    let config_map = Resource::new(
        app,
        &build::config_map(
            namespace,
            &config_name,
            [("promtail.yaml".to_owned(), promtail_yaml(ctx)?)].into(),
        ),
    )?;

    let container = ContainerSpec {
        args: vec![
            "-config.file=/etc/promtail/promtail.yaml".to_owned(),
            // NB: `${HOSTNAME}` in the config is this pod's node.
            "-config.expand-env=true".to_owned(),
        ],
        env: vec![node_name_env()],
        ports: vec![("http-metrics", HTTP_PORT)],
        resources: Some(Resources {
            cpu_request: Cpu::millicores(50),
            cpu_limit: None,
            memory_request: Memory::mebibytes(64),
            memory_limit: Some(Memory::mebibytes(256)),
        }),
        health: Some(Health::Http("/ready", HTTP_PORT)),
        mounts: vec![
            ("config".to_owned(), "/etc/promtail".to_owned()),
            ("positions".to_owned(), "/run/promtail".to_owned()),
            ("logs".to_owned(), "/var/log".to_owned()),
        ],
        ..ContainerSpec::new("promtail", &config.image)
    };
    let volumes = vec![
        Volume {
            name: "config".to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: config_name,
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        // NB: positions are lost when the pod is replaced, so a new pod
        // re-reads the files still on the node (Loki drops exact duplicates).
        Volume {
            name: "positions".to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
        Volume {
            name: "logs".to_owned(),
            host_path: Some(HostPathVolumeSource {
                path: "/var/log".to_owned(),
                type_: Some("Directory".to_owned()),
            }),
            ..Volume::default()
        },
    ];
    let mut daemon_set = build::daemon_set(namespace, NAME, Some(NAME), &[container], volumes);
    if let Some(spec) = daemon_set.spec.as_mut() {
        let template = &mut spec.template;
        template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                "battery/config-hash".to_owned(),
                config_map.hash.to_string(),
            );
        if let Some(pod) = template.spec.as_mut() {
            read_logs_as_root(pod);
        }
    }

    let mut out = vec![
        Resource::new(app, &build::service_account(namespace, NAME))?,
        Resource::new(
            app,
            &build::cluster_role(
                NAME,
                vec![build::rule(
                    &[""],
                    &["nodes", "nodes/proxy", "services", "endpoints", "pods"],
                    &["get", "list", "watch"],
                )],
            ),
        )?,
        Resource::new(
            app,
            &build::cluster_role_binding(NAME, NAME, namespace, NAME),
        )?,
        config_map,
        Resource::new(app, &daemon_set)?,
        Resource::new(
            app,
            &build::service(namespace, NAME, NAME, &[("http-metrics", HTTP_PORT)]),
        )?,
    ];
    out.extend(victoria_metrics::scrape(
        ctx,
        app,
        namespace,
        NAME,
        NAME,
        "http-metrics",
    )?);
    Ok(out)
}

/// `HOSTNAME`: the node the pod runs on.
fn node_name_env() -> EnvVar {
    EnvVar {
        name: "HOSTNAME".to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: "spec.nodeName".to_owned(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// NB: the container runtime writes pod logs as root with mode 0640, so
/// only root (or a process with `CAP_DAC_READ_SEARCH`, which Kubernetes
/// cannot give a non-root user) can read them. Promtail therefore runs as
/// root, with every capability dropped except `DAC_READ_SEARCH`, no
/// privilege escalation, a read-only root filesystem, and `/var/log`
/// mounted read-only.
fn read_logs_as_root(pod: &mut PodSpec) {
    if let Some(context) = pod.security_context.as_mut() {
        context.run_as_non_root = Some(false);
        context.run_as_user = Some(0);
        context.run_as_group = Some(0);
    }
    pod.tolerations = Some(vec![Toleration {
        operator: Some("Exists".to_owned()),
        ..Toleration::default()
    }]);
    for container in &mut pod.containers {
        if let Some(context) = container.security_context.as_mut() {
            context.run_as_non_root = Some(false);
            context.read_only_root_filesystem = Some(true);
            context.capabilities = Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                add: Some(vec!["DAC_READ_SEARCH".to_owned()]),
            });
        }
        for mount in container.volume_mounts.iter_mut().flatten() {
            if mount.name == "logs" || mount.name == "config" {
                mount.read_only = Some(true);
            }
        }
    }
}

/// `promtail.yaml`: every pod on this node, labelled with its namespace,
/// pod, container and app, pushed to Loki.
fn promtail_yaml(ctx: &Context<'_>) -> Result<String, GenerateError> {
    let relabel =
        |source: &str, target: &str| json!({ "source_labels": [source], "target_label": target });
    let document = json!({
        "server": { "http_listen_port": HTTP_PORT, "grpc_listen_port": 0 },
        "positions": { "filename": "/run/promtail/positions.yaml" },
        "clients": [{ "url": loki::push_url(ctx) }],
        "scrape_configs": [{
            "job_name": "kubernetes-pods",
            "pipeline_stages": [{ "cri": {} }],
            "kubernetes_sd_configs": [{
                "role": "pod",
                "selectors": [{ "role": "pod", "field": "spec.nodeName=${HOSTNAME}" }],
            }],
            "relabel_configs": [
                relabel("__meta_kubernetes_namespace", "namespace"),
                relabel("__meta_kubernetes_pod_name", "pod"),
                relabel("__meta_kubernetes_pod_container_name", "container"),
                relabel("__meta_kubernetes_pod_label_battery_app", "app"),
                relabel("__meta_kubernetes_pod_node_name", "node"),
                {
                    "source_labels": [
                        "__meta_kubernetes_pod_uid",
                        "__meta_kubernetes_pod_container_name",
                    ],
                    "separator": "/",
                    "target_label": "__path__",
                    "replacement": "/var/log/pods/*$1/*.log",
                },
            ],
        }],
    });
    serde_yaml_ng::to_string(&document)
        .map_err(|err| GenerateError::Malformed(format!("{}: promtail.yaml: {err}", INFO.id)))
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find;
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::*;
    use crate::generate::{DesiredState, Secrets};

    fn generated(kinds: &[BatteryKind], config: &PromtailConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    #[test]
    fn generates_a_daemon_set_with_rbac_config_and_service() {
        let resources = generated(&[BatteryKind::Promtail], &PromtailConfig::default());
        let mut paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{}", r.path.kind, r.path.name))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "ClusterRole/promtail",
                "ClusterRoleBinding/promtail",
                "ConfigMap/promtail-config",
                "DaemonSet/promtail",
                "Service/promtail",
                "ServiceAccount/promtail",
            ]
        );
    }

    #[test]
    fn pushes_to_lokis_service() {
        let resources = generated(&[BatteryKind::Promtail], &PromtailConfig::default());
        let config_map = find(&resources, "ConfigMap", "promtail-config").unwrap();
        let config: Value =
            serde_yaml_ng::from_str(config_map.body["data"]["promtail.yaml"].as_str().unwrap())
                .unwrap();
        assert_eq!(
            config["clients"][0]["url"],
            "http://loki.battery-monitoring.svc:3100/loki/api/v1/push"
        );
        assert_eq!(
            config["scrape_configs"][0]["kubernetes_sd_configs"][0]["selectors"][0]["field"],
            "spec.nodeName=${HOSTNAME}"
        );
    }

    #[test]
    fn reads_var_log_read_only_as_root_with_one_capability() {
        let config = PromtailConfig {
            image: ImageRef::parse("registry.example/promtail:9.0.0").unwrap(),
        };
        let resources = generated(&[BatteryKind::Promtail], &config);
        let pod =
            &find(&resources, "DaemonSet", "promtail").unwrap().body["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "registry.example/promtail:9.0.0");
        assert_eq!(container["resources"]["requests"]["memory"], "64Mi");
        let logs = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "logs")
            .unwrap();
        assert_eq!(logs["hostPath"]["path"], "/var/log");
        let mount = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "logs")
            .unwrap();
        assert_eq!(mount["readOnly"], true);
        let security = &container["securityContext"];
        assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(security["capabilities"]["add"], json!(["DAC_READ_SEARCH"]));
        assert_eq!(security["allowPrivilegeEscalation"], false);
        assert_eq!(security["readOnlyRootFilesystem"], true);
        assert_eq!(pod["securityContext"]["runAsUser"], 0);
    }

    #[test]
    fn scraped_only_with_victoria_metrics() {
        let without = generated(&[BatteryKind::Promtail], &PromtailConfig::default());
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(
            &[BatteryKind::Promtail, BatteryKind::VictoriaMetrics],
            &PromtailConfig::default(),
        );
        assert!(find(&with, "VMServiceScrape", "promtail").is_some());
    }

    #[test]
    fn reads_no_secrets() {
        let state = DesiredState::with_batteries(&[BatteryKind::Promtail]).unwrap();
        let stored = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        assert!(generate(&PromtailConfig::default(), &ctx).is_ok());
    }
}
