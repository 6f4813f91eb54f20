//! Adds and removes EC2 nodes to fit what the cluster needs.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, EnvVarSource, NodeAffinity, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, ObjectFieldSelector, ResourceFieldSelector,
};
use k8s_openapi::api::rbac::v1::PolicyRule;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider};
use super::{checks, ollama, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Karpenter,
    id: "karpenter",
    name: "Karpenter",
    group: BatteryGroup::Magic,
    description: "Adds and removes EC2 nodes to fit what the cluster needs.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[ClusterProvider::Aws],
};

/// Configuration of Karpenter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KarpenterConfig {
    /// The Karpenter controller.
    pub image: ImageRef,
    /// IAM role the new nodes assume.
    pub node_role_name: String,
    /// SQS queue for interruption events.
    pub queue_name: String,
    /// EC2 node class AMI alias.
    pub ami_alias: String,
}

impl Default for KarpenterConfig {
    fn default() -> Self {
        Self {
            image: image(images::KARPENTER),
            node_role_name: String::new(),
            queue_name: String::new(),
            ami_alias: "al2023@v20251002".to_owned(),
        }
    }
}

impl KarpenterConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        required(&mut problems, "node_role_name", &self.node_role_name);
        required(&mut problems, "queue_name", &self.queue_name);
        required(&mut problems, "ami_alias", &self.ami_alias);
        problems.into_result()
    }
}

/// A value AWS gives the installer; it cannot be defaulted.
fn required(problems: &mut Problems, field: &str, value: &str) {
    if value.trim().is_empty() {
        problems.push(
            field,
            Rule::Required,
            "must be set: it comes from the AWS account bi runs in",
        );
    }
}

const NAME: &str = "karpenter";
const CORE_GROUP: &str = "karpenter.sh";
const AWS_GROUP: &str = "karpenter.k8s.aws";

/// The NodePool (and EC2NodeClass) every ordinary pod lands on.
pub const DEFAULT_POOL: &str = "default";
/// The NodePool of NVIDIA GPU nodes (with the NVIDIA device plugin).
pub const GPU_POOL: &str = "nvidia-gpu";

/// The tag Karpenter finds the cluster's subnets and security groups by.
const DISCOVERY_TAG: &str = "karpenter.sh/discovery";

/// Karpenter's CRDs at 1.8.1, as upstream ships them (`pkg/apis/crds`, which
/// the chart's `crds/` links to): NodePools and EC2NodeClasses, which bi
/// writes, and NodeClaims and NodeOverlays, which Karpenter writes or reads.
pub const CRDS: [UpstreamCrd; 4] = [
    upstream_crd!(
        "ec2nodeclasses.karpenter.k8s.aws",
        "karpenter-provider-aws",
        "1.8.1",
        "pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml",
        "69a268b8e3ea9e6450d34b54884c5f3d959b7faccbae691c84acab2820b2e376"
    ),
    upstream_crd!(
        "nodeclaims.karpenter.sh",
        "karpenter-provider-aws",
        "1.8.1",
        "pkg/apis/crds/karpenter.sh_nodeclaims.yaml",
        "db26eccb984ef45d9885ce3dda1ab5031ed4b4efdfdb096a293d9b1c5f1c9725"
    ),
    upstream_crd!(
        "nodeoverlays.karpenter.sh",
        "karpenter-provider-aws",
        "1.8.1",
        "pkg/apis/crds/karpenter.sh_nodeoverlays.yaml",
        "55e69e9ab475de18f471682821d01edeb1d83e926b1f2b27ad07848716b37801"
    ),
    upstream_crd!(
        "nodepools.karpenter.sh",
        "karpenter-provider-aws",
        "1.8.1",
        "pkg/apis/crds/karpenter.sh_nodepools.yaml",
        "5755ea345eab77348694dfa2dd4e10e9d0ff040033f7826cf7878a50c30cd155"
    ),
];

/// Karpenter's ClusterRole, as upstream's chart (1.8.1) grants it: the
/// `-core` ClusterRole (karpenter.sh and the cluster's scheduling inputs)
/// and the AWS provider's `clusterrole.yaml`, which bi binds as one.
const CLUSTER_RULES: &[build::RuleSpec] = &[
    (
        &[CORE_GROUP],
        &[
            "nodepools",
            "nodepools/status",
            "nodeclaims",
            "nodeclaims/status",
            "nodeoverlays",
            "nodeoverlays/status",
        ],
        READ,
    ),
    (
        &[""],
        &[
            "pods",
            "nodes",
            "persistentvolumes",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "namespaces",
        ],
        READ,
    ),
    (
        &["storage.k8s.io"],
        &["storageclasses", "csinodes", "volumeattachments"],
        &["get", "watch", "list"],
    ),
    (
        &["apps"],
        &["daemonsets", "deployments", "replicasets", "statefulsets"],
        &["list", "watch"],
    ),
    (&["policy"], &["poddisruptionbudgets"], READ),
    (&[""], &["events"], READ),
    (
        &[CORE_GROUP],
        &["nodeclaims", "nodeclaims/status"],
        &["create", "delete", "update", "patch"],
    ),
    (
        &[CORE_GROUP],
        &["nodepools", "nodepools/status", "nodeoverlays/status"],
        &["update", "patch"],
    ),
    (&[""], &["events"], &["create", "patch"]),
    (&[""], &["nodes"], &["patch", "delete", "update"]),
    (&[""], &["pods/eviction"], &["create"]),
    (&[""], &["pods"], &["delete"]),
    // The AWS provider.
    (&[AWS_GROUP], &["ec2nodeclasses"], READ),
    (
        &[AWS_GROUP],
        &["ec2nodeclasses", "ec2nodeclasses/status"],
        &["patch", "update"],
    ),
];

const READ: &[&str] = &["get", "list", "watch"];

/// Karpenter's Role in its namespace (upstream's `role.yaml`): leader election.
fn namespace_rules() -> Vec<PolicyRule> {
    vec![
        build::rule(&["coordination.k8s.io"], &["leases"], &["get", "watch"]),
        build::named_rule(
            &["coordination.k8s.io"],
            &["leases"],
            &["patch", "update"],
            &["karpenter-leader-election"],
        ),
        build::rule(&["coordination.k8s.io"], &["leases"], &["create"]),
    ]
}

/// Where the cluster's DNS Service lives; Karpenter reads its address.
const DNS_NAMESPACE: &str = "kube-system";

/// Karpenter's Role in kube-system (upstream's `-dns` Role).
fn dns_rules() -> Vec<PolicyRule> {
    vec![build::named_rule(
        &[""],
        &["services"],
        &["get"],
        &["kube-dns"],
    )]
}

fn deployment(config: &KarpenterConfig, ctx: &Context<'_>, namespace: &str) -> Deployment {
    let mut container = ContainerSpec::new("controller", &config.image);
    container.env = vec![
        build::env("KUBERNETES_MIN_VERSION", "1.19.0-0"),
        build::env("KARPENTER_SERVICE", NAME),
        build::env("DISABLE_WEBHOOK", "true"),
        build::env("METRICS_PORT", "8080"),
        build::env("HEALTH_PROBE_PORT", "8081"),
        EnvVar {
            name: "SYSTEM_NAMESPACE".to_owned(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.namespace".to_owned(),
                    api_version: None,
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        EnvVar {
            name: "MEMORY_LIMIT".to_owned(),
            value_from: Some(EnvVarSource {
                resource_field_ref: Some(ResourceFieldSelector {
                    container_name: Some("controller".to_owned()),
                    divisor: Some(Quantity("0".to_owned())),
                    resource: "limits.memory".to_owned(),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        build::env(
            "FEATURE_GATES",
            "SpotToSpotConsolidation=false,NodeRepair=false",
        ),
        build::env("BATCH_MAX_DURATION", "10s"),
        build::env("BATCH_IDLE_DURATION", "1s"),
        build::env("CLUSTER_NAME", ctx.state.installation.as_str()),
        build::env("VM_MEMORY_OVERHEAD_PERCENT", "0.075"),
        build::env("INTERRUPTION_QUEUE", &config.queue_name),
        build::env("RESERVED_ENIS", "0"),
        build::env("LOG_LEVEL", "info"),
    ];
    container.ports = vec![("http-metrics", 8080), ("http", 8081)];
    container.health = Some(Health::Http("/healthz", 8081));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(250),
        cpu_limit: None,
        memory_request: Memory::mebibytes(256),
        memory_limit: Some(Memory::gibibytes(1)),
    });
    let mut deployment =
        build::deployment(namespace, NAME, 1, Some(NAME), &[container], Vec::new());
    if let Some(pod) = deployment
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        // Karpenter must not run on the nodes it manages, or it could
        // consolidate itself away.
        pod.affinity = Some(Affinity {
            node_affinity: Some(NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(vec![NodeSelectorRequirement {
                            key: "karpenter.sh/nodepool".to_owned(),
                            operator: "DoesNotExist".to_owned(),
                            values: None,
                        }]),
                        ..NodeSelectorTerm::default()
                    }],
                }),
                ..NodeAffinity::default()
            }),
            ..Affinity::default()
        });
    }
    deployment
}

fn node_class_ref() -> Value {
    json!({ "group": AWS_GROUP, "kind": "EC2NodeClass", "name": DEFAULT_POOL })
}

fn default_pool() -> Value {
    build::custom_resource(
        "karpenter.sh/v1",
        "NodePool",
        None,
        DEFAULT_POOL,
        json!({
            "template": {
                "spec": {
                    "nodeClassRef": node_class_ref(),
                    "requirements": [
                        { "key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"] },
                        { "key": "kubernetes.io/os", "operator": "In", "values": ["linux"] },
                        { "key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"] },
                        { "key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"] },
                        { "key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["4"] },
                    ],
                    "expireAfter": "720h",
                },
            },
            "disruption": {
                "consolidationPolicy": "WhenEmptyOrUnderutilized",
                "consolidateAfter": "1m",
            },
            "limits": { "cpu": "1000", "memory": "4000Gi" },
        }),
    )
}

/// NVIDIA GPU nodes, tainted so only pods that ask for GPUs land there, and
/// labelled as node-feature-discovery will (the label GPU pods select).
fn gpu_pool() -> Value {
    build::custom_resource(
        "karpenter.sh/v1",
        "NodePool",
        None,
        GPU_POOL,
        json!({
            "template": {
                "metadata": {
                    "labels": { ollama::NVIDIA_NODE_LABEL: "true" },
                },
                "spec": {
                    "nodeClassRef": node_class_ref(),
                    "requirements": [
                        { "key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"] },
                        { "key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"] },
                        { "key": "karpenter.k8s.aws/instance-gpu-manufacturer", "operator": "In", "values": ["nvidia"] },
                    ],
                    "taints": [{ "key": "nvidia.com/gpu", "effect": "NoSchedule" }],
                    "expireAfter": "720h",
                },
            },
            "disruption": {
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": "5m",
            },
            "limits": { "nvidia.com/gpu": "16" },
            "weight": 10,
        }),
    )
}

fn node_class(config: &KarpenterConfig, ctx: &Context<'_>) -> Value {
    let cluster = ctx.state.installation.as_str();
    let discovery = json!([{ "tags": { DISCOVERY_TAG: cluster } }]);
    build::custom_resource(
        "karpenter.k8s.aws/v1",
        "EC2NodeClass",
        None,
        DEFAULT_POOL,
        json!({
            "role": config.node_role_name,
            "amiSelectorTerms": [{ "alias": config.ami_alias }],
            "subnetSelectorTerms": discovery,
            "securityGroupSelectorTerms": discovery,
            "tags": { DISCOVERY_TAG: cluster, "app.kubernetes.io/managed-by": "bi" },
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
        }),
    )
}

/// The resources this battery needs, in the base namespace: the Karpenter
/// controller (Deployment kept off the nodes it manages, ServiceAccount,
/// ClusterRole + binding, leader-election Role + binding), upstream's CRDs,
/// an EC2NodeClass `default`
/// (`node_role_name`, `ami_alias`, subnets and security groups tagged
/// `karpenter.sh/discovery: <installation>`), a NodePool `default`, and,
/// with the NVIDIA device plugin installed, a tainted GPU NodePool
/// `nvidia-gpu`. Interruption events come from the SQS queue `queue_name`.
/// Reads no secrets; AWS credentials come from the pod's identity (EKS Pod
/// Identity for the `karpenter` service account), set up outside bi.
pub fn generate(
    config: &KarpenterConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = ctx.base_namespace();
    let mut out = Vec::new();
    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }
    out.push(Resource::new(app, &build::service_account(ns, NAME))?);
    out.push(Resource::new(
        app,
        &build::cluster_role(NAME, build::rules(CLUSTER_RULES)),
    )?);
    out.push(Resource::new(
        app,
        &build::cluster_role_binding(NAME, NAME, ns, NAME),
    )?);
    out.push(Resource::new(
        app,
        &build::role(ns, NAME, namespace_rules()),
    )?);
    out.push(Resource::new(
        app,
        &build::role_binding(ns, NAME, NAME, NAME),
    )?);
    let dns = format!("{NAME}-dns");
    out.push(Resource::new(
        app,
        &build::role(DNS_NAMESPACE, &dns, dns_rules()),
    )?);
    let mut dns_binding = build::role_binding(DNS_NAMESPACE, &dns, &dns, NAME);
    // NB: the ServiceAccount is in Karpenter's namespace, not kube-system.
    for subject in dns_binding.subjects.iter_mut().flatten() {
        subject.namespace = Some(ns.to_owned());
    }
    out.push(Resource::new(app, &dns_binding)?);
    out.push(Resource::new(app, &deployment(config, ctx, ns))?);
    out.push(Resource::new(
        app,
        &build::service(ns, NAME, NAME, &[("http-metrics", 8080)]),
    )?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, NAME, NAME, "http-metrics")? {
        out.push(scrape);
    }
    out.push(Resource::from_value(app, node_class(config, ctx))?);
    out.push(Resource::from_value(app, default_pool())?);
    if ctx.installed(BatteryKind::NvidiaDevicePlugin) {
        out.push(Resource::from_value(app, gpu_pool())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{names_of, strict};
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};

    fn config() -> KarpenterConfig {
        KarpenterConfig {
            node_role_name: "bi-nodes".to_owned(),
            queue_name: "bi-interruptions".to_owned(),
            ..KarpenterConfig::default()
        }
    }

    fn generated(kinds: &[BatteryKind]) -> Vec<Resource> {
        let mut state = DesiredState::with_batteries(kinds).unwrap();
        state.provider = ClusterProvider::Aws;
        let empty = std::collections::BTreeMap::new();
        generate(&config(), &Context::new(&state, Secrets::Stored(&empty))).unwrap()
    }

    #[test]
    fn generates_the_controller_its_crds_and_a_default_pool() {
        let resources = generated(&[BatteryKind::Karpenter]);
        assert_eq!(
            names_of(&resources, "CustomResourceDefinition"),
            [
                "ec2nodeclasses.karpenter.k8s.aws",
                "nodeclaims.karpenter.sh",
                "nodeoverlays.karpenter.sh",
                "nodepools.karpenter.sh",
            ]
        );
        for kind in [
            "Deployment",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
        ] {
            assert_eq!(names_of(&resources, kind), [NAME], "{kind}");
        }
        for kind in ["Role", "RoleBinding"] {
            assert_eq!(
                names_of(&resources, kind),
                [NAME, "karpenter-dns"],
                "{kind}"
            );
        }
        assert_eq!(names_of(&resources, "NodePool"), [DEFAULT_POOL]);
        assert_eq!(names_of(&resources, "EC2NodeClass"), [DEFAULT_POOL]);
    }

    #[test]
    fn the_node_class_and_the_controller_use_the_aws_names() {
        let resources = generated(&[BatteryKind::Karpenter]);
        let class = resources
            .iter()
            .find(|r| r.path.kind == "EC2NodeClass")
            .unwrap();
        assert_eq!(class.body["spec"]["role"], "bi-nodes");
        assert_eq!(
            class.body["spec"]["amiSelectorTerms"][0]["alias"],
            "al2023@v20251002"
        );
        let deployment = resources
            .iter()
            .find(|r| r.path.kind == "Deployment")
            .unwrap();
        let deployment: k8s_openapi::api::apps::v1::Deployment =
            serde_json::from_value(deployment.body.clone()).unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(images::KARPENTER));
        assert!(container.resources.is_some() && container.liveness_probe.is_some());
        let env = container.env.as_ref().unwrap();
        let queue = env.iter().find(|e| e.name == "INTERRUPTION_QUEUE").unwrap();
        assert_eq!(queue.value.as_deref(), Some("bi-interruptions"));
    }

    #[test]
    fn a_gpu_pool_only_with_the_nvidia_device_plugin() {
        let without = generated(&[BatteryKind::Karpenter]);
        assert!(!names_of(&without, "NodePool").contains(&GPU_POOL));
        let with = generated(&[BatteryKind::Karpenter, BatteryKind::NvidiaDevicePlugin]);
        assert_eq!(names_of(&with, "NodePool"), [DEFAULT_POOL, GPU_POOL]);
    }

    #[test]
    fn every_custom_resource_fits_its_crd_schema() {
        // Checked against the schemas Karpenter ships, with the GPU pool.
        let resources = generated(&[BatteryKind::Karpenter, BatteryKind::NvidiaDevicePlugin]);
        let mut checked = 0;
        for resource in &resources {
            let name = match resource.path.kind.as_str() {
                "NodePool" => "nodepools.karpenter.sh",
                "EC2NodeClass" => "ec2nodeclasses.karpenter.k8s.aws",
                _ => continue,
            };
            let schema = CRDS
                .iter()
                .find(|crd| crd.name == name)
                .and_then(|crd| crd.schema("v1"))
                .unwrap();
            assert_eq!(
                violations(&schema, &resource.body),
                Vec::<String>::new(),
                "{}",
                resource.path
            );
            assert_eq!(
                violations(&strict(&schema), &resource.body),
                Vec::<String>::new(),
                "{} (strict)",
                resource.path
            );
            checked += 1;
        }
        assert_eq!(checked, 3);
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let without = generated(&[BatteryKind::Karpenter]);
        assert!(names_of(&without, "VMServiceScrape").is_empty());
        let with = generated(&[BatteryKind::Karpenter, BatteryKind::VictoriaMetrics]);
        assert_eq!(names_of(&with, "VMServiceScrape"), [NAME]);
    }

    #[test]
    fn aws_names_are_required() {
        let problems = KarpenterConfig::default().validate().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["node_role_name", "queue_name"]);
    }
}
