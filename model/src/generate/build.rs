//! Builders for the Kubernetes objects generators make over and over, so every
//! battery gets the same hardening: pinned images, non-root security
//! contexts, probes, resource requests/limits from typed configs, and
//! selectors on a stable `battery/component` label.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction,
    Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, Secret, SecretKeySelector,
    SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec, TCPSocketAction, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Duration, Storage};

/// The label selectors and pod templates use: the workload's own name.
pub const COMPONENT_LABEL: &str = "battery/component";

/// The user every bi-built container runs as when the image does not say.
pub const NON_ROOT_UID: i64 = 65_532;

/// Metadata with a name and, for namespaced objects, a namespace.
pub fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        ..ObjectMeta::default()
    }
}

/// Metadata with extra labels.
pub fn meta_with_labels(
    namespace: Option<&str>,
    name: &str,
    labels: &[(&str, &str)],
) -> ObjectMeta {
    ObjectMeta {
        labels: Some(string_map(labels)),
        ..meta(namespace, name)
    }
}

/// A `BTreeMap<String, String>` from pairs.
pub fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A namespace, with optional extra labels (e.g. Istio injection).
pub fn namespace(name: &str, labels: &[(&str, &str)]) -> Namespace {
    Namespace {
        metadata: meta_with_labels(None, name, labels),
        ..Namespace::default()
    }
}

/// A service account.
pub fn service_account(namespace: &str, name: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(Some(namespace), name),
        ..ServiceAccount::default()
    }
}

/// An RBAC rule.
pub fn rule(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let owned = |items: &[&str]| Some(items.iter().map(|s| (*s).to_owned()).collect());
    PolicyRule {
        api_groups: owned(api_groups),
        resources: owned(resources),
        verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

/// An RBAC rule as data, `(apiGroups, resources, verbs)`, written as the
/// operator's upstream manifests list it.
pub type RuleSpec = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// RBAC rules from their data, in order.
pub fn rules(specs: &[RuleSpec]) -> Vec<PolicyRule> {
    specs
        .iter()
        .map(|(groups, resources, verbs)| rule(groups, resources, verbs))
        .collect()
}

/// An RBAC rule limited to the named objects.
pub fn named_rule(
    api_groups: &[&str],
    resources: &[&str],
    verbs: &[&str],
    names: &[&str],
) -> PolicyRule {
    PolicyRule {
        resource_names: Some(names.iter().map(|n| (*n).to_owned()).collect()),
        ..rule(api_groups, resources, verbs)
    }
}

/// A cluster role.
pub fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(None, name),
        rules: Some(rules),
        ..ClusterRole::default()
    }
}

/// Binds a cluster role to a service account.
pub fn cluster_role_binding(
    name: &str,
    role: &str,
    sa_namespace: &str,
    sa_name: &str,
) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(None, name),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "ClusterRole".to_owned(),
            name: role.to_owned(),
        },
        subjects: Some(vec![service_account_subject(sa_namespace, sa_name)]),
    }
}

/// A namespaced role.
pub fn role(namespace: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: meta(Some(namespace), name),
        rules: Some(rules),
    }
}

/// Binds a role to a service account of the same namespace.
pub fn role_binding(namespace: &str, name: &str, role: &str, sa_name: &str) -> RoleBinding {
    RoleBinding {
        metadata: meta(Some(namespace), name),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: role.to_owned(),
        },
        subjects: Some(vec![service_account_subject(namespace, sa_name)]),
    }
}

fn service_account_subject(namespace: &str, name: &str) -> Subject {
    Subject {
        kind: "ServiceAccount".to_owned(),
        name: name.to_owned(),
        namespace: Some(namespace.to_owned()),
        ..Subject::default()
    }
}

/// A config map.
pub fn config_map(namespace: &str, name: &str, data: BTreeMap<String, String>) -> ConfigMap {
    ConfigMap {
        metadata: meta(Some(namespace), name),
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// Settings of a battery that runs inside the control server: a ConfigMap
/// with one duration as a Go duration (`key`, e.g. `15m`) and in whole
/// seconds (`<key>_seconds`).
pub fn duration_settings(namespace: &str, name: &str, key: &str, value: Duration) -> ConfigMap {
    let seconds_key = format!("{key}_seconds");
    config_map(
        namespace,
        name,
        string_map(&[
            (key, &value.to_string()),
            (&seconds_key, &value.as_seconds().to_string()),
        ]),
    )
}

/// A secret with string values (the API server stores them base64-encoded).
pub fn secret(namespace: &str, name: &str, values: BTreeMap<String, String>) -> Secret {
    Secret {
        metadata: meta(Some(namespace), name),
        string_data: Some(values),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    }
}

/// The predictable name of the Secret holding a data object's connection
/// details (`host`, `port`, `username`, `password`, `database`, `url`):
/// `<kind>-<object>-connection`, or `<kind>-<object>-<user>-connection`.
pub fn connection_secret_name(kind: &str, object: &str, user: Option<&str>) -> String {
    let suffix = super::CONNECTION_SUFFIX;
    match user {
        Some(user) => format!("{kind}-{object}-{user}{suffix}"),
        None => format!("{kind}-{object}{suffix}"),
    }
}

/// An environment variable with a literal value.
pub fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..EnvVar::default()
    }
}

/// An environment variable read from a Secret (never a copied value).
pub fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// Requests and limits from a typed [`Resources`], in canonical quantities.
pub fn resources(resources: &Resources) -> ResourceRequirements {
    let mut requests = BTreeMap::new();
    requests.insert(
        "cpu".to_owned(),
        Quantity(resources.cpu_request.to_string()),
    );
    requests.insert(
        "memory".to_owned(),
        Quantity(resources.memory_request.to_string()),
    );
    let mut limits = BTreeMap::new();
    if let Some(cpu) = resources.cpu_limit {
        limits.insert("cpu".to_owned(), Quantity(cpu.to_string()));
    }
    if let Some(memory) = resources.memory_limit {
        limits.insert("memory".to_owned(), Quantity(memory.to_string()));
    }
    ResourceRequirements {
        requests: Some(requests),
        limits: (!limits.is_empty()).then_some(limits),
        ..ResourceRequirements::default()
    }
}

/// How a container is checked for liveness and readiness.
#[derive(Debug, Clone)]
pub enum Health {
    /// An HTTP GET on a path and port.
    Http(&'static str, u16),
    /// A TCP connect to a port.
    Tcp(u16),
}

impl Health {
    fn probe(&self, initial_delay: i32) -> Probe {
        let mut probe = Probe {
            initial_delay_seconds: Some(initial_delay),
            period_seconds: Some(10),
            timeout_seconds: Some(5),
            failure_threshold: Some(6),
            ..Probe::default()
        };
        match self {
            Self::Http(path, port) => {
                probe.http_get = Some(HTTPGetAction {
                    path: Some((*path).to_owned()),
                    port: IntOrString::Int(i32::from(*port)),
                    ..HTTPGetAction::default()
                });
            }
            Self::Tcp(port) => {
                probe.tcp_socket = Some(TCPSocketAction {
                    port: IntOrString::Int(i32::from(*port)),
                    ..TCPSocketAction::default()
                });
            }
        }
        probe
    }
}

/// One container, hardened: runs as non-root without privilege escalation,
/// all capabilities dropped, the runtime's default seccomp profile.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Container name.
    pub name: String,
    /// Pinned image.
    pub image: ImageRef,
    /// Overrides the image's entrypoint, when not empty.
    pub command: Vec<String>,
    /// Arguments.
    pub args: Vec<String>,
    /// Environment.
    pub env: Vec<EnvVar>,
    /// Named ports (name ≤ 15 characters).
    pub ports: Vec<(&'static str, u16)>,
    /// Requests and limits.
    pub resources: Option<Resources>,
    /// Liveness and readiness check.
    pub health: Option<Health>,
    /// Volume mounts: (volume name, mount path).
    pub mounts: Vec<(String, String)>,
}

impl ContainerSpec {
    /// A container with nothing but a name and an image.
    pub fn new(name: &str, image: &ImageRef) -> Self {
        Self {
            name: name.to_owned(),
            image: image.clone(),
            command: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            ports: Vec::new(),
            resources: None,
            health: None,
            mounts: Vec::new(),
        }
    }

    /// The k8s-openapi container.
    pub fn build(&self) -> Container {
        let owned = |items: &[String]| (!items.is_empty()).then(|| items.to_vec());
        Container {
            name: self.name.clone(),
            image: Some(self.image.to_string()),
            image_pull_policy: Some("IfNotPresent".to_owned()),
            command: owned(&self.command),
            args: owned(&self.args),
            env: (!self.env.is_empty()).then(|| self.env.clone()),
            ports: (!self.ports.is_empty()).then(|| {
                self.ports
                    .iter()
                    .map(|(name, port)| ContainerPort {
                        name: Some((*name).to_owned()),
                        container_port: i32::from(*port),
                        protocol: Some("TCP".to_owned()),
                        ..ContainerPort::default()
                    })
                    .collect()
            }),
            resources: self.resources.as_ref().map(resources),
            liveness_probe: self.health.as_ref().map(|h| h.probe(30)),
            readiness_probe: self.health.as_ref().map(|h| h.probe(5)),
            security_context: Some(SecurityContext {
                run_as_non_root: Some(true),
                allow_privilege_escalation: Some(false),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".to_owned()]),
                    ..Capabilities::default()
                }),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_owned(),
                    ..SeccompProfile::default()
                }),
                ..SecurityContext::default()
            }),
            volume_mounts: (!self.mounts.is_empty()).then(|| {
                self.mounts
                    .iter()
                    .map(|(name, path)| VolumeMount {
                        name: name.clone(),
                        mount_path: path.clone(),
                        ..VolumeMount::default()
                    })
                    .collect()
            }),
            ..Container::default()
        }
    }
}

/// A pod template: the containers, the service account, volumes, and a
/// non-root pod security context.
pub fn pod_template(
    component: &str,
    service_account: Option<&str>,
    containers: &[ContainerSpec],
    volumes: Vec<Volume>,
) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(string_map(&[(COMPONENT_LABEL, component)])),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: service_account.map(str::to_owned),
            automount_service_account_token: Some(service_account.is_some()),
            containers: containers.iter().map(ContainerSpec::build).collect(),
            volumes: (!volumes.is_empty()).then_some(volumes),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(NON_ROOT_UID),
                run_as_group: Some(NON_ROOT_UID),
                fs_group: Some(NON_ROOT_UID),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_owned(),
                    ..SeccompProfile::default()
                }),
                ..PodSecurityContext::default()
            }),
            ..PodSpec::default()
        }),
    }
}

fn selector(component: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(string_map(&[(COMPONENT_LABEL, component)])),
        ..LabelSelector::default()
    }
}

/// A Deployment named after its component.
pub fn deployment(
    namespace: &str,
    name: &str,
    replicas: u32,
    service_account: Option<&str>,
    containers: &[ContainerSpec],
    volumes: Vec<Volume>,
) -> Deployment {
    Deployment {
        metadata: meta(Some(namespace), name),
        spec: Some(DeploymentSpec {
            replicas: Some(i32::try_from(replicas).unwrap_or(i32::MAX)),
            selector: selector(name),
            template: pod_template(name, service_account, containers, volumes),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// A StatefulSet with one volume claim template (`data`) of `storage` per
/// replica, mounted by the containers that ask for volume `data`.
pub fn stateful_set(
    namespace: &str,
    name: &str,
    replicas: u32,
    service_account: Option<&str>,
    containers: &[ContainerSpec],
    storage: Option<&Storage>,
) -> StatefulSet {
    StatefulSet {
        metadata: meta(Some(namespace), name),
        spec: Some(StatefulSetSpec {
            replicas: Some(i32::try_from(replicas).unwrap_or(i32::MAX)),
            selector: selector(name),
            service_name: Some(name.to_owned()),
            template: pod_template(name, service_account, containers, Vec::new()),
            volume_claim_templates: storage.map(|size| {
                vec![PersistentVolumeClaim {
                    metadata: meta(None, "data"),
                    spec: Some(claim_spec(size)),
                    ..PersistentVolumeClaim::default()
                }]
            }),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// A DaemonSet (one pod per node).
pub fn daemon_set(
    namespace: &str,
    name: &str,
    service_account: Option<&str>,
    containers: &[ContainerSpec],
    volumes: Vec<Volume>,
) -> DaemonSet {
    DaemonSet {
        metadata: meta(Some(namespace), name),
        spec: Some(DaemonSetSpec {
            selector: selector(name),
            template: pod_template(name, service_account, containers, volumes),
            ..DaemonSetSpec::default()
        }),
        ..DaemonSet::default()
    }
}

fn claim_spec(size: &Storage) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
        resources: Some(VolumeResourceRequirements {
            requests: Some([("storage".to_owned(), Quantity(size.to_string()))].into()),
            ..VolumeResourceRequirements::default()
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// A standalone PersistentVolumeClaim.
pub fn persistent_volume_claim(
    namespace: &str,
    name: &str,
    size: &Storage,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(Some(namespace), name),
        spec: Some(claim_spec(size)),
        ..PersistentVolumeClaim::default()
    }
}

/// A volume backed by a claim.
pub fn claim_volume(name: &str, claim: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        persistent_volume_claim: Some(
            k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                claim_name: claim.to_owned(),
                ..Default::default()
            },
        ),
        ..Volume::default()
    }
}

/// A volume with the keys of the Secret `secret` as files (read-only, mode
/// 0400 for the pod's user); `optional`: the pod starts without it.
pub fn secret_volume(name: &str, secret: &str, optional: bool) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(k8s_openapi::api::core::v1::SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            optional: optional.then_some(true),
            default_mode: Some(0o400),
            ..Default::default()
        }),
        ..Volume::default()
    }
}

/// A ClusterIP Service selecting the pods of `component`.
pub fn service(namespace: &str, name: &str, component: &str, ports: &[(&str, u16)]) -> Service {
    Service {
        metadata: meta(Some(namespace), name),
        spec: Some(ServiceSpec {
            selector: Some(string_map(&[(COMPONENT_LABEL, component)])),
            ports: Some(
                ports
                    .iter()
                    .map(|(port_name, port)| ServicePort {
                        name: Some((*port_name).to_owned()),
                        port: i32::from(*port),
                        target_port: Some(IntOrString::String((*port_name).to_owned())),
                        protocol: Some("TCP".to_owned()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// A custom resource as JSON: `apiVersion`, `kind`, metadata and `spec`.
pub fn custom_resource(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    spec: Value,
) -> Value {
    let mut metadata = json!({ "name": name });
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec })
}
