//! The kinds the sandbox serves and the discovery documents that list them.
//!
//! Built-in kinds are a fixed table (what bi generates, plus what kubectl and
//! controllers commonly touch); every CustomResourceDefinition stored in the
//! sandbox adds its served versions. kube-rs' `Discovery` and kubectl read
//! `/api`, `/apis` and `/apis/{group}/{version}` from here; the aggregated
//! discovery format is not offered, so clients fall back to these plain lists.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use serde_json::{Value, json};

/// The verbs every served resource allows.
const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// The verbs of a `/status` subresource.
const STATUS_VERBS: [&str; 3] = ["get", "patch", "update"];

/// One resource at one group/version, as discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceType {
    /// API group; "" for the core group.
    pub(crate) group: String,
    /// Version, e.g. `v1`.
    pub(crate) version: String,
    /// Plural resource name used in URLs, e.g. `deployments`.
    pub(crate) plural: String,
    /// Singular name, e.g. `deployment`.
    pub(crate) singular: String,
    /// Kind, e.g. `Deployment`.
    pub(crate) kind: String,
    /// Whether objects live in a namespace.
    pub(crate) namespaced: bool,
    /// kubectl short names (`deploy`).
    pub(crate) short_names: Vec<String>,
    /// Whether a `/status` subresource splits status writes from spec writes.
    pub(crate) status: bool,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or `pods` for the core group, as error messages say it.
    pub(crate) fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Whether this is the given built-in resource.
    pub(crate) fn is(&self, group: &str, plural: &str) -> bool {
        self.group == group && self.plural == plural
    }

    fn discovery_entries(&self) -> Vec<Value> {
        let mut main = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": VERBS,
        });
        if !self.short_names.is_empty() {
            main["shortNames"] = json!(self.short_names);
        }
        if self.group.is_empty() && matches!(self.plural.as_str(), "pods" | "services")
            || matches!(
                (self.group.as_str(), self.plural.as_str()),
                (
                    "apps",
                    "deployments" | "statefulsets" | "daemonsets" | "replicasets"
                ) | ("batch", "jobs" | "cronjobs")
            )
        {
            // NB: `kubectl get all` expands the "all" category from discovery.
            main["categories"] = json!(["all"]);
        }
        let mut entries = vec![main];
        if self.status {
            entries.push(json!({
                "name": format!("{}/status", self.plural),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": STATUS_VERBS,
            }));
        }
        if super::scale::has_scale(self) {
            entries.push(json!({
                "name": format!("{}/scale", self.plural),
                "singularName": "",
                "namespaced": self.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": STATUS_VERBS,
            }));
        }
        entries
    }
}

/// Whether `group` is one of the built-in API groups (custom resources live elsewhere).
pub(crate) fn is_builtin_group(group: &str) -> bool {
    BUILTIN.iter().any(|builtin| builtin.0 == group)
}

/// group, version, plural, singular, kind, namespaced, short names, status subresource.
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    bool,
);

/// The built-in kinds, in the order discovery lists their groups.
#[rustfmt::skip]
const BUILTIN: &[Builtin] = &[
    ("", "v1", "namespaces", "namespace", "Namespace", false, &["ns"], true),
    ("", "v1", "nodes", "node", "Node", false, &["no"], true),
    ("", "v1", "pods", "pod", "Pod", true, &["po"], true),
    ("", "v1", "services", "service", "Service", true, &["svc"], true),
    ("", "v1", "configmaps", "configmap", "ConfigMap", true, &["cm"], false),
    ("", "v1", "secrets", "secret", "Secret", true, &[], false),
    ("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, &["sa"], false),
    ("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, &["pvc"], true),
    ("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, &["pv"], true),
    ("", "v1", "events", "event", "Event", true, &["ev"], false),
    ("", "v1", "endpoints", "endpoints", "Endpoints", true, &["ep"], false),
    ("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, &[], false),
    ("apps", "v1", "deployments", "deployment", "Deployment", true, &["deploy"], true),
    ("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, &["sts"], true),
    ("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, &["ds"], true),
    ("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, &["rs"], true),
    ("batch", "v1", "jobs", "job", "Job", true, &[], true),
    ("batch", "v1", "cronjobs", "cronjob", "CronJob", true, &["cj"], true),
    ("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, &[], false),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, &[], false),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, &[], false),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, &[], false),
    ("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, &["netpol"], false),
    ("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, &["ing"], true),
    ("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, &[], false),
    ("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, &["pdb"], true),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false, &["crd", "crds"], true),
    ("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, &[], false),
    ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, &[], false),
    ("apiregistration.k8s.io", "v1", "apiservices", "apiservice", "APIService", false, &[], true),
    ("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, &[], false),
    ("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, &["sc"], false),
    ("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, &["pc"], false),
];

/// Every resource the sandbox serves right now: the built-ins and the CRDs' kinds.
#[derive(Debug, Clone)]
pub(crate) struct Kinds {
    builtin: Vec<ResourceType>,
    custom: Vec<ResourceType>,
}

impl Kinds {
    /// The built-in kinds only.
    pub(crate) fn builtin() -> Self {
        let builtin = BUILTIN
            .iter()
            .map(
                |&(group, version, plural, singular, kind, namespaced, short_names, status)| {
                    ResourceType {
                        group: group.to_owned(),
                        version: version.to_owned(),
                        plural: plural.to_owned(),
                        singular: singular.to_owned(),
                        kind: kind.to_owned(),
                        namespaced,
                        short_names: short_names.iter().map(|s| (*s).to_owned()).collect(),
                        status,
                    }
                },
            )
            .collect();
        Self {
            builtin,
            custom: Vec::new(),
        }
    }

    /// Replaces the custom kinds with those of these CRD objects (invalid ones are skipped).
    pub(crate) fn set_custom<'a>(&mut self, crds: impl Iterator<Item = &'a Value>) {
        self.custom = crds
            .filter_map(|crd| crd_resource_types(crd).ok())
            .flatten()
            .filter(|rt| self.builtin_for(&rt.group, &rt.plural).is_none())
            .collect();
    }

    fn builtin_for(&self, group: &str, plural: &str) -> Option<&ResourceType> {
        self.builtin.iter().find(|rt| rt.is(group, plural))
    }

    fn all(&self) -> impl Iterator<Item = &ResourceType> {
        self.builtin.iter().chain(self.custom.iter())
    }

    /// The resource served at `group/version/plural`.
    pub(crate) fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.all()
            .find(|rt| rt.group == group && rt.version == version && rt.plural == plural)
    }

    /// Whether any resource is served in `group` ("" is the core group, always served).
    pub(crate) fn serves_group(&self, group: &str) -> bool {
        group.is_empty() || self.all().any(|rt| rt.group == group)
    }

    /// Any version of the resource `group/plural` (for internal writes).
    pub(crate) fn any_version(&self, group: &str, plural: &str) -> Option<&ResourceType> {
        self.all().find(|rt| rt.is(group, plural))
    }

    /// Non-core groups with their versions, preferred (first listed) version first.
    fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for rt in self.all().filter(|rt| !rt.group.is_empty()) {
            match groups.iter_mut().find(|(group, _)| *group == rt.group) {
                Some((_, versions)) => {
                    if !versions.contains(&rt.version) {
                        versions.push(rt.version.clone());
                    }
                }
                None => groups.push((rt.group.clone(), vec![rt.version.clone()])),
            }
        }
        groups
    }

    /// Every served group/version ("" group for core), core first.
    pub(crate) fn group_versions(&self) -> Vec<(String, String)> {
        let mut versions = vec![(String::new(), "v1".to_owned())];
        for (group, group_versions) in self.groups() {
            versions.extend(
                group_versions
                    .into_iter()
                    .map(|version| (group.clone(), version)),
            );
        }
        versions
    }

    /// The resources served at one group/version.
    pub(crate) fn resources_of(&self, group: &str, version: &str) -> Vec<&ResourceType> {
        self.all()
            .filter(|rt| rt.group == group && rt.version == version)
            .collect()
    }

    /// `/api`: the core group's versions.
    pub(crate) fn core_versions(&self, addr: SocketAddr) -> Value {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": addr.to_string() }],
        })
    }

    /// `/apis`: every non-core group.
    pub(crate) fn group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups()
            .into_iter()
            .map(|(group, versions)| group_json(&group, &versions))
            .collect();
        json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
    }

    /// `/apis/{group}`: one group, if served.
    pub(crate) fn group(&self, name: &str) -> Option<Value> {
        self.groups()
            .into_iter()
            .find(|(group, _)| group == name)
            .map(|(group, versions)| {
                let mut value = group_json(&group, &versions);
                value["kind"] = json!("APIGroup");
                value["apiVersion"] = json!("v1");
                value
            })
    }

    /// `/api/v1` or `/apis/{group}/{version}`: the resources of one group/version, if served.
    pub(crate) fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let resources: Vec<Value> = self
            .all()
            .filter(|rt| rt.group == group && rt.version == version)
            .flat_map(ResourceType::discovery_entries)
            .collect();
        if resources.is_empty() {
            return None;
        }
        let group_version = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }))
    }
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| json!({ "groupVersion": format!("{group}/{version}"), "version": version }))
        .collect();
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

/// The annotation a CRD in a protected group (`*.k8s.io`, `*.kubernetes.io`) needs.
const APPROVAL: &str = "api-approved.kubernetes.io";

/// A CRD in a group the Kubernetes project owns must say where its API was
/// approved (a URL) or that it was not (`unapproved…`), as a real API server
/// insists; other groups need nothing.
fn check_approval(crd: &Value, group: &str) -> Result<(), String> {
    let protected = ["k8s.io", "kubernetes.io"]
        .iter()
        .any(|owned| group == *owned || group.ends_with(&format!(".{owned}")));
    if !protected {
        return Ok(());
    }
    let field = format!("metadata.annotations[{APPROVAL}]");
    let see = "see https://github.com/kubernetes/enhancements/pull/1111";
    let approval = crd
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(APPROVAL))
        .and_then(Value::as_str);
    match approval {
        None => Err(format!(
            "{field}: Required value: protected groups must have approval annotation \"{APPROVAL}\", {see}"
        )),
        Some(reason) if reason.starts_with("unapproved") || is_url(reason) => Ok(()),
        Some(other) => Err(format!(
            "{field}: Invalid value: {other:?}: protected groups must have approval annotation \"{APPROVAL}\" with either a URL or a reason starting with \"unapproved\", {see}"
        )),
    }
}

/// Whether `text` is an absolute URL with a host (`https://github.com/…`).
fn is_url(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
            && !rest.starts_with('/')
    })
}

/// The served resources a CRD defines (one per served version, storage version first),
/// or why the CRD is invalid.
pub(crate) fn crd_resource_types(crd: &Value) -> Result<Vec<ResourceType>, String> {
    let spec = crd.get("spec").ok_or("spec: Required value")?;
    let text = |value: Option<&Value>, field: &str| -> Result<String, String> {
        match value.and_then(Value::as_str) {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => Err(format!("{field}: Required value")),
        }
    };
    let group = text(spec.get("group"), "spec.group")?;
    let names = spec.get("names");
    let plural = text(names.and_then(|n| n.get("plural")), "spec.names.plural")?;
    let kind = text(names.and_then(|n| n.get("kind")), "spec.names.kind")?;
    let singular = names
        .and_then(|n| n.get("singular"))
        .and_then(Value::as_str)
        .map_or_else(|| kind.to_ascii_lowercase(), str::to_owned);
    let short_names: Vec<String> = names
        .and_then(|n| n.get("shortNames"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let namespaced = match spec.get("scope").and_then(Value::as_str) {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        _ => {
            return Err(
                "spec.scope: Unsupported value: must be \"Namespaced\" or \"Cluster\"".into(),
            );
        }
    };
    let expected_name = format!("{plural}.{group}");
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name != expected_name {
        return Err(format!(
            "metadata.name: Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"
        ));
    }
    check_approval(crd, &group)?;
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .filter(|list| !list.is_empty())
        .ok_or("spec.versions: Required value: must have exactly one version marked as storage version")?;
    let mut types = Vec::new();
    let mut seen = BTreeSet::new();
    for version in versions {
        let name = text(version.get("name"), "spec.versions[].name")?;
        if !seen.insert(name.clone()) {
            return Err(format!("spec.versions: Duplicate value: {name:?}"));
        }
        if version.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let rt = ResourceType {
            group: group.clone(),
            version: name,
            plural: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            namespaced,
            short_names: short_names.clone(),
            status: version.pointer("/subresources/status").is_some(),
        };
        // NB: the storage version is the one discovery prefers.
        if version.get("storage").and_then(Value::as_bool) == Some(true) {
            types.insert(0, rt);
        } else {
            types.push(rt);
        }
    }
    let storage = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if storage != 1 {
        return Err(
            "spec.versions: Invalid value: must have exactly one version marked as storage version"
                .into(),
        );
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": { "name": "widgets.example.com" },
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": { "plural": "widgets", "kind": "Widget" },
                "versions": [
                    { "name": "v1alpha1", "served": true, "storage": false },
                    { "name": "v1", "served": true, "storage": true, "subresources": { "status": {} } },
                ],
            },
        })
    }

    #[test]
    fn crd_versions_become_served_resources_storage_first() {
        let types = crd_resource_types(&crd()).unwrap();
        assert_eq!(types.len(), 2);
        assert_eq!(types[0].version, "v1");
        assert!(types[0].status);
        assert!(!types[1].status);
        assert_eq!(types[0].singular, "widget");
    }

    #[test]
    fn crd_name_must_be_plural_dot_group() {
        let mut crd = crd();
        crd["metadata"]["name"] = json!("widgets");
        assert!(
            crd_resource_types(&crd)
                .unwrap_err()
                .contains("metadata.name")
        );
    }

    #[test]
    fn custom_kinds_join_discovery() {
        let mut kinds = Kinds::builtin();
        assert!(kinds.find("example.com", "v1", "widgets").is_none());
        let crd = crd();
        kinds.set_custom(std::iter::once(&crd));
        assert!(kinds.find("example.com", "v1", "widgets").is_some());
        let list = kinds.group_list();
        let group = list["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "example.com")
            .unwrap();
        assert_eq!(group["preferredVersion"]["version"], "v1");
        let resources = kinds.resource_list("example.com", "v1").unwrap();
        assert_eq!(resources["resources"][1]["name"], "widgets/status");
    }

    #[test]
    fn core_group_lists_namespaces() {
        let kinds = Kinds::builtin();
        let list = kinds.resource_list("", "v1").unwrap();
        assert_eq!(list["groupVersion"], "v1");
        assert!(
            list["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "namespaces" && r["namespaced"] == false)
        );
    }
}
