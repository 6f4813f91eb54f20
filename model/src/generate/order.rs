//! The order resources are applied in: namespaces, then CRDs (which must be
//! established before their custom resources), then identities and
//! configuration, then workloads, then custom resources, then what bi keeps
//! in Keycloak (once the Keycloak it talks to is applied). Deletions run in
//! the reverse order.

use serde::{Deserialize, Serialize};

use super::ResourcePath;

/// An apply stage, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Namespaces.
    Namespaces,
    /// CustomResourceDefinitions.
    Crds,
    /// ServiceAccounts, RBAC, ConfigMaps, Secrets, classes.
    Config,
    /// Deployments, StatefulSets, Services, PVCs, NetworkPolicies, …
    Workloads,
    /// Admission webhook configurations, once the Services they call exist:
    /// registered earlier, a webhook with no backend yet would refuse the
    /// writes of its own battery's configuration and workloads.
    Webhooks,
    /// Custom resources, once their CRDs and operators exist.
    CustomResources,
    /// Keycloak's realm, groups and clients, through its Admin REST API:
    /// after everything in the cluster, Keycloak itself included.
    Keycloak,
}

/// API groups served by Kubernetes itself (not by a CRD).
const BUILT_IN_GROUPS: [&str; 13] = [
    "",
    "apps",
    "batch",
    "policy",
    "autoscaling",
    "rbac.authorization.k8s.io",
    "networking.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "apiregistration.k8s.io",
];

/// The stage a resource is applied in.
pub fn stage_of(path: &ResourcePath) -> Stage {
    match path.kind.as_str() {
        "Namespace" => Stage::Namespaces,
        "CustomResourceDefinition" => Stage::Crds,
        _ if path.api_version == crate::keycloak::API_VERSION => Stage::Keycloak,
        _ if !BUILT_IN_GROUPS.contains(&path.group()) => Stage::CustomResources,
        "ServiceAccount" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
        | "ConfigMap" | "Secret" | "PriorityClass" | "StorageClass" | "IngressClass" => {
            Stage::Config
        }
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => Stage::Webhooks,
        _ => Stage::Workloads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(api_version: &str, kind: &str) -> ResourcePath {
        ResourcePath::new(api_version, kind, None, "x")
    }

    #[test]
    fn stages_follow_the_apply_order() {
        assert_eq!(stage_of(&path("v1", "Namespace")), Stage::Namespaces);
        assert_eq!(
            stage_of(&path("apiextensions.k8s.io/v1", "CustomResourceDefinition")),
            Stage::Crds
        );
        assert_eq!(stage_of(&path("v1", "Secret")), Stage::Config);
        assert_eq!(
            stage_of(&path("rbac.authorization.k8s.io/v1", "ClusterRole")),
            Stage::Config
        );
        assert_eq!(stage_of(&path("apps/v1", "Deployment")), Stage::Workloads);
        assert_eq!(stage_of(&path("v1", "Service")), Stage::Workloads);
        assert_eq!(
            stage_of(&path(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration"
            )),
            Stage::Webhooks
        );
        assert_eq!(
            stage_of(&path("postgresql.cnpg.io/v1", "Cluster")),
            Stage::CustomResources
        );
        assert!(Stage::Namespaces < Stage::Crds && Stage::Workloads < Stage::Webhooks);
        assert!(Stage::Webhooks < Stage::CustomResources);
        assert_eq!(stage_of(&path("keycloak/v26", "Client")), Stage::Keycloak);
        assert!(Stage::CustomResources < Stage::Keycloak);
    }
}
