//! Labels nodes with their hardware features (GPUs, CPU flags) so workloads land on the right nodes.

use k8s_openapi::api::core::v1::{
    EnvVar, EnvVarSource, HostPathVolumeSource, ObjectFieldSelector, Toleration, Volume,
};
use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use super::victoria_metrics;
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::NodeFeatureDiscovery,
    id: "node_feature_discovery",
    name: "Node Feature Discovery",
    group: BatteryGroup::Ai,
    description: "Labels nodes with their hardware features (GPUs, CPU flags) so workloads land on the right nodes.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Node Feature Discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeFeatureDiscoveryConfig {
    /// node-feature-discovery.
    pub image: ImageRef,
}

impl Default for NodeFeatureDiscoveryConfig {
    fn default() -> Self {
        Self {
            image: image(images::NODE_FEATURE_DISCOVERY),
        }
    }
}

impl NodeFeatureDiscoveryConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

const MASTER: &str = "nfd-master";
const WORKER: &str = "nfd-worker";

/// NFD's API group; its CRDs are all `v1alpha1`.
const GROUP: &str = "nfd.k8s-sigs.io";

/// Port of NFD's health checks and metrics (master and worker).
const PORT: u16 = 8080;

/// The resources this battery needs, in the base namespace:
///
/// - the CRDs NFD's own components use (bi creates no custom resources of
///   them): `nodefeatures` (each worker publishes its node's features as a
///   NodeFeature), and `nodefeaturerules` and `nodefeaturegroups`, which the
///   master watches and cannot start without;
/// - the master: Deployment, ServiceAccount, ClusterRole (+ binding) to
///   label nodes and read the NFD objects, a Service, a metrics scrape;
/// - the workers: a DaemonSet on every node reading the host's `/sys`,
///   `/boot`, `/lib`, `/usr/lib` and `/etc/os-release` read-only (as a
///   non-root user: those are world-readable), a ServiceAccount and a Role
///   (+ binding) to write their NodeFeatures.
///
/// Its default rules label NVIDIA GPU nodes
/// `feature.node.kubernetes.io/pci-10de.present: "true"`, which the NVIDIA
/// device plugin and GPU model instances select. Reads no secrets.
pub fn generate(
    config: &NodeFeatureDiscoveryConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.base_namespace();
    let mut out = Vec::new();
    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }
    out.extend(master(config, ctx, namespace)?);
    out.extend(worker(config, namespace)?);
    Ok(out)
}

/// NFD's CRDs at v0.18.2, as upstream ships them: the three of
/// `nfd-api-crds.yaml`. Upstream's `noderesourcetopologies` CRD is left
/// out: only the topology-updater uses it, and bi does not run one.
pub const CRDS: [UpstreamCrd; 3] = [
    upstream_crd!(
        "nodefeatures.nfd.k8s-sigs.io",
        "node-feature-discovery",
        "v0.18.2",
        "deployment/base/nfd-crds/nfd-api-crds.yaml",
        "f8a40048b99110feaee4813dbb92ebfdaa3c7d722e1836a804207e22f72a9072"
    ),
    upstream_crd!(
        "nodefeaturegroups.nfd.k8s-sigs.io",
        "node-feature-discovery",
        "v0.18.2",
        "deployment/base/nfd-crds/nfd-api-crds.yaml",
        "f8a40048b99110feaee4813dbb92ebfdaa3c7d722e1836a804207e22f72a9072"
    ),
    upstream_crd!(
        "nodefeaturerules.nfd.k8s-sigs.io",
        "node-feature-discovery",
        "v0.18.2",
        "deployment/base/nfd-crds/nfd-api-crds.yaml",
        "f8a40048b99110feaee4813dbb92ebfdaa3c7d722e1836a804207e22f72a9072"
    ),
];

fn resources(cpu_millicores: u64, memory_mib: u64, memory_limit_mib: u64) -> Resources {
    Resources {
        cpu_request: Cpu::millicores(cpu_millicores),
        cpu_limit: None,
        memory_request: Memory::mebibytes(memory_mib),
        memory_limit: Some(Memory::mebibytes(memory_limit_mib)),
    }
}

/// nfd-master's ClusterRole, as upstream's chart `clusterrole.yaml`
/// (v0.18.2) grants it; its own leader-election lease follows by name.
const MASTER_RULES: &[build::RuleSpec] = &[
    (&[""], &["namespaces"], &["watch", "list"]),
    (
        &[""],
        &["nodes", "nodes/status"],
        &["get", "patch", "update", "list"],
    ),
    (
        &[GROUP],
        &["nodefeatures", "nodefeaturerules", "nodefeaturegroups"],
        &["get", "list", "watch"],
    ),
    (
        &[GROUP],
        &["nodefeaturegroups/status"],
        &["patch", "update"],
    ),
    (&["coordination.k8s.io"], &["leases"], &["create"]),
];

fn master(
    config: &NodeFeatureDiscoveryConfig,
    ctx: &Context<'_>,
    namespace: &str,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let mut rules = build::rules(MASTER_RULES);
    rules.push(build::named_rule(
        &["coordination.k8s.io"],
        &["leases"],
        &["get", "update"],
        &["nfd-master.nfd.kubernetes.io"],
    ));
    let container = ContainerSpec {
        command: vec!["nfd-master".to_owned()],
        ports: vec![("http", PORT)],
        resources: Some(resources(100, 128, 1024)),
        health: Some(Health::Http("/healthz", PORT)),
        ..ContainerSpec::new("nfd-master", &config.image)
    };
    let mut out = vec![
        Resource::new(app, &build::service_account(namespace, MASTER))?,
        Resource::new(app, &build::cluster_role(MASTER, rules))?,
        Resource::new(
            app,
            &build::cluster_role_binding(MASTER, MASTER, namespace, MASTER),
        )?,
        Resource::new(
            app,
            &build::deployment(namespace, MASTER, 1, Some(MASTER), &[container], Vec::new()),
        )?,
        Resource::new(
            app,
            &build::service(namespace, MASTER, MASTER, &[("http", PORT)]),
        )?,
    ];
    out.extend(victoria_metrics::scrape(
        ctx, app, namespace, MASTER, MASTER, "http",
    )?);
    Ok(out)
}

/// An environment variable from the pod's own fields.
fn field_env(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// The host paths a worker reads: (volume, host path, mount path).
const HOST_PATHS: [(&str, &str, &str); 5] = [
    ("host-boot", "/boot", "/host-boot"),
    ("host-os-release", "/etc/os-release", "/host-etc/os-release"),
    ("host-sys", "/sys", "/host-sys"),
    ("host-usr-lib", "/usr/lib", "/host-usr/lib"),
    ("host-lib", "/lib", "/host-lib"),
];

fn worker(
    config: &NodeFeatureDiscoveryConfig,
    namespace: &str,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let container = ContainerSpec {
        command: vec!["nfd-worker".to_owned()],
        env: vec![
            field_env("NODE_NAME", "spec.nodeName"),
            field_env("POD_NAME", "metadata.name"),
            field_env("POD_UID", "metadata.uid"),
            field_env("POD_NAMESPACE", "metadata.namespace"),
        ],
        ports: vec![("http", PORT)],
        resources: Some(resources(5, 64, 512)),
        health: Some(Health::Http("/healthz", PORT)),
        mounts: HOST_PATHS
            .iter()
            .map(|(volume, _, mount)| ((*volume).to_owned(), (*mount).to_owned()))
            .collect(),
        ..ContainerSpec::new("nfd-worker", &config.image)
    };
    let volumes = HOST_PATHS
        .iter()
        .map(|(volume, path, _)| Volume {
            name: (*volume).to_owned(),
            host_path: Some(HostPathVolumeSource {
                path: (*path).to_owned(),
                type_: None,
            }),
            ..Volume::default()
        })
        .collect();
    let mut daemon_set = build::daemon_set(namespace, WORKER, Some(WORKER), &[container], volumes);
    if let Some(pod) = daemon_set
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
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
            }
        }
    }
    Ok(vec![
        Resource::new(app, &build::service_account(namespace, WORKER))?,
        Resource::new(
            app,
            &build::role(
                namespace,
                WORKER,
                vec![
                    build::rule(
                        &[GROUP],
                        &["nodefeatures"],
                        &["create", "get", "update", "delete"],
                    ),
                    build::rule(&[""], &["pods"], &["get"]),
                ],
            ),
        )?,
        Resource::new(app, &build::role_binding(namespace, WORKER, WORKER, WORKER))?,
        Resource::new(app, &daemon_set)?,
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::generate::{DesiredState, Secrets, schema};

    fn generated(config: &NodeFeatureDiscoveryConfig, kinds: &[BatteryKind]) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        let stored = BTreeMap::new();
        generate(config, &Context::new(&state, Secrets::Stored(&stored))).unwrap()
    }

    #[test]
    fn generates_crds_master_and_workers() {
        let resources = generated(
            &NodeFeatureDiscoveryConfig::default(),
            &[BatteryKind::NodeFeatureDiscovery],
        );
        let mut paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{}", r.path.kind, r.path.name))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "ClusterRole/nfd-master",
                "ClusterRoleBinding/nfd-master",
                "CustomResourceDefinition/nodefeaturegroups.nfd.k8s-sigs.io",
                "CustomResourceDefinition/nodefeaturerules.nfd.k8s-sigs.io",
                "CustomResourceDefinition/nodefeatures.nfd.k8s-sigs.io",
                "DaemonSet/nfd-worker",
                "Deployment/nfd-master",
                "Role/nfd-worker",
                "RoleBinding/nfd-worker",
                "Service/nfd-master",
                "ServiceAccount/nfd-master",
                "ServiceAccount/nfd-worker",
            ]
        );
        // What a worker publishes passes the schema NFD ships.
        let feature = json!({
            "apiVersion": "nfd.k8s-sigs.io/v1alpha1",
            "kind": "NodeFeature",
            "metadata": { "name": "node-1" },
            "spec": { "labels": { "a": "b" }, "features": { "flags": {} } },
        });
        assert_eq!(
            schema::violations(&CRDS[0].schema("v1alpha1").unwrap(), &feature),
            Vec::<String>::new()
        );
    }

    #[test]
    fn both_run_the_configured_image_and_workers_read_the_host_read_only() {
        let config = NodeFeatureDiscoveryConfig {
            image: ImageRef::parse("registry.example/nfd:v1.0.0").unwrap(),
        };
        let resources = generated(&config, &[BatteryKind::NodeFeatureDiscovery]);
        let pod = |kind: &str| {
            resources.iter().find(|r| r.path.kind == kind).unwrap().body["spec"]["template"]["spec"]
                .clone()
        };
        let master = pod("Deployment");
        assert_eq!(
            master["containers"][0]["image"],
            "registry.example/nfd:v1.0.0"
        );
        assert_eq!(master["containers"][0]["command"], json!(["nfd-master"]));
        let worker = pod("DaemonSet");
        let container = &worker["containers"][0];
        assert_eq!(container["image"], "registry.example/nfd:v1.0.0");
        assert_eq!(container["resources"]["requests"]["cpu"], "5m");
        assert_eq!(container["securityContext"]["runAsNonRoot"], true);
        let mounts = container["volumeMounts"].as_array().unwrap();
        assert_eq!(mounts.len(), HOST_PATHS.len());
        assert!(mounts.iter().all(|m| m["readOnly"] == true));
        assert_eq!(
            container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
            "spec.nodeName"
        );
    }

    #[test]
    fn the_master_is_scraped_only_with_victoria_metrics() {
        let without = generated(
            &NodeFeatureDiscoveryConfig::default(),
            &[BatteryKind::NodeFeatureDiscovery],
        );
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(
            &NodeFeatureDiscoveryConfig::default(),
            &[
                BatteryKind::NodeFeatureDiscovery,
                BatteryKind::VictoriaMetrics,
            ],
        );
        assert!(
            with.iter()
                .any(|r| r.path.kind == "VMServiceScrape" && r.path.name == "nfd-master")
        );
    }
}
