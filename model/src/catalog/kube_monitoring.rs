//! kube-state-metrics, node-exporter and metrics-server, with their metrics scraped into VictoriaMetrics.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, HTTPGetAction, HostPathVolumeSource, Probe, Toleration, Volume,
};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
    APIService, APIServiceSpec, ServiceReference,
};
use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider, Integration};
use super::victoria_metrics;
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::KubeMonitoring,
    id: "kube_monitoring",
    name: "Kubernetes Monitoring",
    group: BatteryGroup::Monitoring,
    description: "kube-state-metrics, node-exporter and metrics-server, with their metrics scraped into VictoriaMetrics.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::VictoriaMetrics],
    integrations: &[Integration {
        partner: BatteryKind::Grafana,
        what: "Kubernetes dashboards in Grafana",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Kubernetes Monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubeMonitoringConfig {
    /// kube-state-metrics.
    pub kube_state_metrics_image: ImageRef,
    /// node-exporter.
    pub node_exporter_image: ImageRef,
    /// metrics-server.
    pub metrics_server_image: ImageRef,
}

impl Default for KubeMonitoringConfig {
    fn default() -> Self {
        Self {
            kube_state_metrics_image: image(images::KUBE_STATE_METRICS),
            node_exporter_image: image(images::NODE_EXPORTER),
            metrics_server_image: image(images::METRICS_SERVER),
        }
    }
}

impl KubeMonitoringConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(
            &mut problems,
            "kube_state_metrics_image",
            &self.kube_state_metrics_image,
        );
        checks::pinned(
            &mut problems,
            "node_exporter_image",
            &self.node_exporter_image,
        );
        checks::pinned(
            &mut problems,
            "metrics_server_image",
            &self.metrics_server_image,
        );
        problems.into_result()
    }
}

const KUBE_STATE_METRICS: &str = "kube-state-metrics";
const NODE_EXPORTER: &str = "node-exporter";
const METRICS_SERVER: &str = "metrics-server";

/// The object kinds kube-state-metrics reports on: exactly those its
/// ClusterRole may list (no Secrets or ConfigMaps: it does not need their
/// contents to count them, and bi does not give it that right).
const STATE_RESOURCES: [(&str, &str); 17] = [
    ("", "nodes"),
    ("", "namespaces"),
    ("", "pods"),
    ("", "services"),
    ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"),
    ("", "resourcequotas"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("policy", "poddisruptionbudgets"),
    ("networking.k8s.io", "ingresses"),
    ("storage.k8s.io", "storageclasses"),
];

/// The resources this battery needs, all in the monitoring namespace:
///
/// - kube-state-metrics: Deployment, ServiceAccount, read-only ClusterRole
///   (+ binding), Service, scraped;
/// - node-exporter: a DaemonSet on every node, a Service, scraped;
/// - metrics-server: Deployment, ServiceAccount, RBAC (its ClusterRole,
///   the aggregated reader role, auth delegation, and the authentication
///   reader Role in `kube-system`), Service, and the `v1beta1.metrics.k8s.io`
///   APIService that makes `kubectl top` and autoscalers work.
///
/// Reads no secrets.
pub fn generate(
    config: &KubeMonitoringConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let namespace = ctx.monitoring_namespace();
    let mut out = kube_state_metrics(config, ctx, namespace)?;
    out.extend(node_exporter(config, ctx, namespace)?);
    out.extend(metrics_server(config, ctx, namespace)?);
    Ok(out)
}

fn resources(cpu_millicores: u64, memory_mib: u64, memory_limit_mib: u64) -> Resources {
    Resources {
        cpu_request: Cpu::millicores(cpu_millicores),
        cpu_limit: None,
        memory_request: Memory::mebibytes(memory_mib),
        memory_limit: Some(Memory::mebibytes(memory_limit_mib)),
    }
}

fn kube_state_metrics(
    config: &KubeMonitoringConfig,
    ctx: &Context<'_>,
    namespace: &str,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, resource) in STATE_RESOURCES {
        by_group.entry(group).or_default().push(resource);
    }
    let rules = by_group
        .iter()
        .map(|(group, resources)| build::rule(&[group], resources, &["list", "watch"]))
        .collect();
    let mut names: Vec<&str> = STATE_RESOURCES.iter().map(|(_, r)| *r).collect();
    names.sort_unstable();

    let container = ContainerSpec {
        args: vec![
            "--port=8080".to_owned(),
            "--telemetry-port=8081".to_owned(),
            format!("--resources={}", names.join(",")),
        ],
        ports: vec![("http-metrics", 8080), ("telemetry", 8081)],
        resources: Some(resources(50, 128, 512)),
        health: Some(Health::Http("/livez", 8080)),
        ..ContainerSpec::new(KUBE_STATE_METRICS, &config.kube_state_metrics_image)
    };
    let mut out = vec![
        Resource::new(app, &build::service_account(namespace, KUBE_STATE_METRICS))?,
        Resource::new(app, &build::cluster_role(KUBE_STATE_METRICS, rules))?,
        Resource::new(
            app,
            &build::cluster_role_binding(
                KUBE_STATE_METRICS,
                KUBE_STATE_METRICS,
                namespace,
                KUBE_STATE_METRICS,
            ),
        )?,
        Resource::new(
            app,
            &build::deployment(
                namespace,
                KUBE_STATE_METRICS,
                1,
                Some(KUBE_STATE_METRICS),
                &[container],
                Vec::new(),
            ),
        )?,
        Resource::new(
            app,
            &build::service(
                namespace,
                KUBE_STATE_METRICS,
                KUBE_STATE_METRICS,
                &[("http-metrics", 8080), ("telemetry", 8081)],
            ),
        )?,
    ];
    out.extend(victoria_metrics::scrape(
        ctx,
        app,
        namespace,
        KUBE_STATE_METRICS,
        KUBE_STATE_METRICS,
        "http-metrics",
    )?);
    Ok(out)
}

fn host_path(name: &str, path: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        host_path: Some(HostPathVolumeSource {
            path: path.to_owned(),
            type_: None,
        }),
        ..Volume::default()
    }
}

/// node-exporter reads the node's `/proc`, `/sys` and root filesystem.
///
/// NB: it needs the host's network namespace (to report the node's network
/// interfaces, not the pod's) and PID namespace (to see the node's
/// processes), so the pod sets `hostNetwork` and `hostPID`. It still runs
/// as a non-root user with every capability dropped, and every host path is
/// mounted read-only: everything it reads is world-readable.
fn node_exporter(
    config: &KubeMonitoringConfig,
    ctx: &Context<'_>,
    namespace: &str,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let container = ContainerSpec {
        args: vec![
            "--path.procfs=/host/proc".to_owned(),
            "--path.sysfs=/host/sys".to_owned(),
            "--path.rootfs=/host/root".to_owned(),
            "--web.listen-address=:9100".to_owned(),
            "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+|var/lib/kubelet/.+)($|/)".to_owned(),
        ],
        ports: vec![("metrics", 9100)],
        resources: Some(resources(20, 32, 128)),
        health: Some(Health::Http("/", 9100)),
        mounts: vec![
            ("proc".to_owned(), "/host/proc".to_owned()),
            ("sys".to_owned(), "/host/sys".to_owned()),
            ("root".to_owned(), "/host/root".to_owned()),
        ],
        ..ContainerSpec::new(NODE_EXPORTER, &config.node_exporter_image)
    };
    let volumes = vec![
        host_path("proc", "/proc"),
        host_path("sys", "/sys"),
        host_path("root", "/"),
    ];
    let mut daemon_set = build::daemon_set(namespace, NODE_EXPORTER, None, &[container], volumes);
    if let Some(pod) = daemon_set
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        pod.host_network = Some(true);
        pod.host_pid = Some(true);
        pod.dns_policy = Some("ClusterFirstWithHostNet".to_owned());
        pod.tolerations = Some(vec![Toleration {
            operator: Some("Exists".to_owned()),
            ..Toleration::default()
        }]);
        for container in &mut pod.containers {
            if let Some(context) = container.security_context.as_mut() {
                context.read_only_root_filesystem = Some(true);
            }
            for mount in container.volume_mounts.iter_mut().flatten() {
                mount.read_only = Some(true);
                if mount.name == "root" {
                    mount.mount_propagation = Some("HostToContainer".to_owned());
                }
            }
        }
    }
    let mut out = vec![
        Resource::new(app, &daemon_set)?,
        Resource::new(
            app,
            &build::service(
                namespace,
                NODE_EXPORTER,
                NODE_EXPORTER,
                &[("metrics", 9100)],
            ),
        )?,
    ];
    out.extend(victoria_metrics::scrape(
        ctx,
        app,
        namespace,
        NODE_EXPORTER,
        NODE_EXPORTER,
        "metrics",
    )?);
    Ok(out)
}

fn https_probe(path: &str, initial_delay: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String("https".to_owned()),
            scheme: Some("HTTPS".to_owned()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Probe::default()
    }
}

/// metrics-server: resource metrics for `kubectl top` and autoscaling,
/// served through the aggregation layer.
fn metrics_server(
    config: &KubeMonitoringConfig,
    ctx: &Context<'_>,
    namespace: &str,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let mut args = vec![
        "--cert-dir=/tmp".to_owned(),
        "--secure-port=10250".to_owned(),
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname".to_owned(),
        "--kubelet-use-node-status-port".to_owned(),
        "--metric-resolution=15s".to_owned(),
    ];
    if ctx.state.provider != ClusterProvider::Aws {
        // NB: outside EKS, kubelets usually serve self-signed certificates
        // that no cluster CA vouches for.
        args.push("--kubelet-insecure-tls".to_owned());
    }
    let container = ContainerSpec {
        args,
        ports: vec![("https", 10250)],
        resources: Some(resources(100, 200, 512)),
        mounts: vec![("tmp".to_owned(), "/tmp".to_owned())],
        ..ContainerSpec::new(METRICS_SERVER, &config.metrics_server_image)
    };
    let tmp = Volume {
        name: "tmp".to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    };
    let mut deployment = build::deployment(
        namespace,
        METRICS_SERVER,
        1,
        Some(METRICS_SERVER),
        &[container],
        vec![tmp],
    );
    if let Some(pod) = deployment
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        pod.priority_class_name = Some("system-cluster-critical".to_owned());
        for container in &mut pod.containers {
            // NB: metrics-server only serves HTTPS, which `Health` cannot say.
            container.liveness_probe = Some(https_probe("/livez", 30));
            container.readiness_probe = Some(https_probe("/readyz", 20));
            if let Some(context) = container.security_context.as_mut() {
                context.read_only_root_filesystem = Some(true);
            }
        }
    }

    let reader = format!("{METRICS_SERVER}-aggregated-reader");
    let mut aggregated_reader = build::cluster_role(
        &reader,
        vec![build::rule(
            &["metrics.k8s.io"],
            &["pods", "nodes"],
            &["get", "list", "watch"],
        )],
    );
    // NB: lets everyone who may view, edit or administer a namespace read its metrics.
    aggregated_reader.metadata.labels = Some(build::string_map(&[
        ("rbac.authorization.k8s.io/aggregate-to-view", "true"),
        ("rbac.authorization.k8s.io/aggregate-to-edit", "true"),
        ("rbac.authorization.k8s.io/aggregate-to-admin", "true"),
    ]));
    let auth_reader = RoleBinding {
        metadata: build::meta(
            Some("kube-system"),
            &format!("{METRICS_SERVER}-auth-reader"),
        ),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: "extension-apiserver-authentication-reader".to_owned(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: METRICS_SERVER.to_owned(),
            namespace: Some(namespace.to_owned()),
            ..Subject::default()
        }]),
    };
    let api_service = APIService {
        metadata: build::meta(None, "v1beta1.metrics.k8s.io"),
        spec: Some(APIServiceSpec {
            group: Some("metrics.k8s.io".to_owned()),
            version: Some("v1beta1".to_owned()),
            group_priority_minimum: 100,
            version_priority: 100,
            // NB: metrics-server serves a self-signed certificate of its own.
            insecure_skip_tls_verify: Some(true),
            service: Some(ServiceReference {
                name: Some(METRICS_SERVER.to_owned()),
                namespace: Some(namespace.to_owned()),
                port: Some(443),
            }),
            ..APIServiceSpec::default()
        }),
        status: None,
    };

    Ok(vec![
        Resource::new(app, &build::service_account(namespace, METRICS_SERVER))?,
        Resource::new(
            app,
            &build::cluster_role(
                METRICS_SERVER,
                vec![
                    build::rule(&[""], &["nodes/metrics"], &["get"]),
                    build::rule(&[""], &["pods", "nodes"], &["get", "list", "watch"]),
                ],
            ),
        )?,
        Resource::new(
            app,
            &build::cluster_role_binding(METRICS_SERVER, METRICS_SERVER, namespace, METRICS_SERVER),
        )?,
        Resource::new(
            app,
            &build::cluster_role_binding(
                &format!("{METRICS_SERVER}-auth-delegator"),
                "system:auth-delegator",
                namespace,
                METRICS_SERVER,
            ),
        )?,
        Resource::new(app, &aggregated_reader)?,
        Resource::new(app, &auth_reader)?,
        Resource::new(app, &deployment)?,
        Resource::new(
            app,
            &build::service(namespace, METRICS_SERVER, METRICS_SERVER, &[("https", 443)]),
        )?,
        Resource::new(app, &api_service)?,
    ])
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use serde_json::json;

    use super::*;
    use crate::generate::{DesiredState, Secrets, schema};

    fn state(provider: ClusterProvider) -> DesiredState {
        let mut state = DesiredState::with_batteries(&[BatteryKind::KubeMonitoring]).unwrap();
        state.provider = provider;
        state
    }

    fn generated(provider: ClusterProvider, config: &KubeMonitoringConfig) -> Vec<Resource> {
        let state = state(provider);
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    #[test]
    fn generates_the_three_components_with_rbac_services_and_scrapes() {
        let resources = generated(ClusterProvider::Kind, &KubeMonitoringConfig::default());
        let mut paths: Vec<String> = resources
            .iter()
            .map(|r| {
                let ns = r.path.namespace.as_deref().unwrap_or("-");
                format!("{}/{ns}/{}", r.path.kind, r.path.name)
            })
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "APIService/-/v1beta1.metrics.k8s.io",
                "ClusterRole/-/kube-state-metrics",
                "ClusterRole/-/metrics-server",
                "ClusterRole/-/metrics-server-aggregated-reader",
                "ClusterRoleBinding/-/kube-state-metrics",
                "ClusterRoleBinding/-/metrics-server",
                "ClusterRoleBinding/-/metrics-server-auth-delegator",
                "DaemonSet/battery-monitoring/node-exporter",
                "Deployment/battery-monitoring/kube-state-metrics",
                "Deployment/battery-monitoring/metrics-server",
                "RoleBinding/kube-system/metrics-server-auth-reader",
                "Service/battery-monitoring/kube-state-metrics",
                "Service/battery-monitoring/metrics-server",
                "Service/battery-monitoring/node-exporter",
                "ServiceAccount/battery-monitoring/kube-state-metrics",
                "ServiceAccount/battery-monitoring/metrics-server",
                "VMServiceScrape/battery-monitoring/kube-state-metrics",
                "VMServiceScrape/battery-monitoring/node-exporter",
            ]
        );
        for scrape in resources
            .iter()
            .filter(|r| r.path.kind == "VMServiceScrape")
        {
            assert_eq!(
                schema::violations(
                    &victoria_metrics::vmservicescrape_schema().unwrap(),
                    &scrape.body
                ),
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn every_pod_runs_its_configured_image() {
        let config = KubeMonitoringConfig {
            kube_state_metrics_image: ImageRef::parse("r.example/ksm:v1.0.0").unwrap(),
            node_exporter_image: ImageRef::parse("r.example/node-exporter:v1.0.0").unwrap(),
            metrics_server_image: ImageRef::parse("r.example/metrics-server:v1.0.0").unwrap(),
        };
        let resources = generated(ClusterProvider::Kind, &config);
        let image = |kind: &str, name: &str| {
            find(&resources, kind, name).body["spec"]["template"]["spec"]["containers"][0]["image"]
                .clone()
        };
        assert_eq!(
            image("Deployment", "kube-state-metrics"),
            "r.example/ksm:v1.0.0"
        );
        assert_eq!(
            image("DaemonSet", "node-exporter"),
            "r.example/node-exporter:v1.0.0"
        );
        assert_eq!(
            image("Deployment", "metrics-server"),
            "r.example/metrics-server:v1.0.0"
        );
    }

    #[test]
    fn node_exporter_shares_the_hosts_namespaces_but_not_root() {
        let resources = generated(ClusterProvider::Kind, &KubeMonitoringConfig::default());
        let pod = &find(&resources, "DaemonSet", "node-exporter").body["spec"]["template"]["spec"];
        assert_eq!(pod["hostNetwork"], true);
        assert_eq!(pod["hostPID"], true);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        let container = &pod["containers"][0];
        assert_eq!(container["securityContext"]["runAsNonRoot"], true);
        assert_eq!(container["resources"]["requests"]["cpu"], "20m");
        assert!(
            container["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["readOnly"] == true)
        );
    }

    #[test]
    fn metrics_server_registers_the_metrics_api_and_checks_over_https() {
        let resources = generated(ClusterProvider::Kind, &KubeMonitoringConfig::default());
        let api = &find(&resources, "APIService", "v1beta1.metrics.k8s.io").body["spec"];
        assert_eq!(api["group"], "metrics.k8s.io");
        assert_eq!(
            api["service"],
            json!({ "name": "metrics-server", "namespace": "battery-monitoring", "port": 443 })
        );
        let container = &find(&resources, "Deployment", "metrics-server").body["spec"]["template"]
            ["spec"]["containers"][0];
        assert_eq!(container["livenessProbe"]["httpGet"]["scheme"], "HTTPS");
        assert!(
            container["args"]
                .to_string()
                .contains("--kubelet-insecure-tls")
        );
        let service = &find(&resources, "Service", "metrics-server").body["spec"]["ports"][0];
        assert_eq!(service["port"], 443);
        assert_eq!(service["targetPort"], "https");

        let aws = generated(ClusterProvider::Aws, &KubeMonitoringConfig::default());
        let container = &find(&aws, "Deployment", "metrics-server").body["spec"]["template"]["spec"]
            ["containers"][0];
        assert!(
            !container["args"]
                .to_string()
                .contains("--kubelet-insecure-tls")
        );
    }

    #[test]
    fn kube_state_metrics_lists_exactly_what_it_may_read() {
        let resources = generated(ClusterProvider::Kind, &KubeMonitoringConfig::default());
        let role = &find(&resources, "ClusterRole", "kube-state-metrics").body;
        let allowed: usize = role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rule| rule["resources"].as_array().unwrap().len())
            .sum();
        assert_eq!(allowed, STATE_RESOURCES.len());
        assert!(!role.to_string().contains("secrets"));
        let args = find(&resources, "Deployment", "kube-state-metrics").body["spec"]["template"]
            ["spec"]["containers"][0]["args"]
            .to_string();
        assert!(
            args.contains("--resources=cronjobs,daemonsets,deployments"),
            "{args}"
        );
    }

    #[test]
    fn reads_no_secrets() {
        let state = state(ClusterProvider::Kind);
        let stored = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        assert!(generate(&KubeMonitoringConfig::default(), &ctx).is_ok());
    }
}
