//! Which fields a kind declares, so that the sandbox treats the others the
//! way a real API server does: refused under `fieldValidation=Strict`, dropped
//! otherwise (with a warning), and an error for server-side apply, which
//! cannot build a typed patch from them.
//!
//! Built-in kinds are checked against the `k8s-openapi` types (a field the
//! type does not keep through a round trip is unknown), custom resources
//! against their CRD's structural schema (`properties`, `items`,
//! `additionalProperties`, `x-kubernetes-preserve-unknown-fields`), with
//! `apiVersion`, `kind` and `metadata` (an ObjectMeta) always known.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::discovery::ResourceType;

/// How a write treats fields its kind does not declare (`fieldValidation`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them with a warning (the default).
    #[default]
    Warn,
    /// Refuse the write.
    Strict,
}

impl FieldValidation {
    /// The `fieldValidation` query parameter; `Err` carries the refused value.
    pub(crate) fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.unwrap_or("") {
            "" | "Warn" => Ok(Self::Warn),
            "Ignore" => Ok(Self::Ignore),
            "Strict" => Ok(Self::Strict),
            other => Err(other.to_owned()),
        }
    }
}

/// One field the kind does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownField {
    /// As strict decoding names it: `spec.containers[0].wat`.
    pub(crate) decoded: String,
    /// As server-side apply names it: `.spec.containers[name="main"].wat`.
    pub(crate) applied: String,
    /// Where it is, to drop it.
    pointer: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The fields of `object` that `rt` does not declare, in document order;
/// `crd` is the kind's CRD for a custom resource. Unknown kinds (and bodies
/// the typed check cannot read) declare everything.
pub(crate) fn unknown_fields(
    rt: &ResourceType,
    crd: Option<&Value>,
    object: &Value,
) -> Vec<UnknownField> {
    let mut found = Vec::new();
    if let Some(roundtrip) = builtin(&rt.group, &rt.plural) {
        if let Some(kept) = roundtrip(object) {
            missing(object, &kept, &mut Vec::new(), &mut found);
        }
        return found;
    }
    let Some(schema) = crd.and_then(|crd| version_schema(crd, &rt.version)) else {
        return found;
    };
    let Some(map) = object.as_object() else {
        return found;
    };
    for (key, value) in map {
        let mut at = vec![Step::Key(key.clone())];
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                if let Some(kept) = round_trip::<ObjectMeta>(value) {
                    missing(value, &kept, &mut at, &mut found);
                }
            }
            _ => match schema.pointer(&format!("/properties/{}", escape(key))) {
                Some(property) => against(value, property, &mut at, &mut found),
                None if preserves(schema) => {}
                None => found.push(named(&at)),
            },
        }
    }
    found
}

/// Removes `fields` from `object`.
pub(crate) fn drop_fields(object: &mut Value, fields: &[UnknownField]) {
    // NB: backwards, so that removing an array item does not shift a later one.
    for field in fields.iter().rev() {
        let Some((last, parents)) = field.pointer.split_last() else {
            continue;
        };
        let mut here = Some(&mut *object);
        for step in parents {
            here = match (step, here) {
                (Step::Key(key), Some(value)) => value.get_mut(key.as_str()),
                (Step::Index(index), Some(value)) => value.get_mut(*index),
                (_, None) => None,
            };
        }
        let Some(here) = here else {
            continue;
        };
        match (last, here) {
            (Step::Key(key), Value::Object(map)) => {
                map.remove(key);
            }
            (Step::Index(index), Value::Array(items)) if *index < items.len() => {
                items.remove(*index);
            }
            _ => {}
        }
    }
}

/// The round trip through the built-in kind's type, if it is one.
fn builtin(group: &str, plural: &str) -> Option<fn(&Value) -> Option<Value>> {
    let roundtrip: fn(&Value) -> Option<Value> = match (group, plural) {
        ("", "namespaces") => round_trip::<Namespace>,
        ("", "nodes") => round_trip::<Node>,
        ("", "pods") => round_trip::<Pod>,
        ("", "services") => round_trip::<Service>,
        ("", "configmaps") => round_trip::<ConfigMap>,
        ("", "secrets") => round_trip::<Secret>,
        ("", "serviceaccounts") => round_trip::<ServiceAccount>,
        ("", "persistentvolumeclaims") => round_trip::<PersistentVolumeClaim>,
        ("", "persistentvolumes") => round_trip::<PersistentVolume>,
        ("", "events") => round_trip::<Event>,
        ("", "endpoints") => round_trip::<Endpoints>,
        ("apps", "deployments") => round_trip::<Deployment>,
        ("apps", "statefulsets") => round_trip::<StatefulSet>,
        ("apps", "daemonsets") => round_trip::<DaemonSet>,
        ("apps", "replicasets") => round_trip::<ReplicaSet>,
        ("batch", "jobs") => round_trip::<Job>,
        ("batch", "cronjobs") => round_trip::<CronJob>,
        ("rbac.authorization.k8s.io", "roles") => round_trip::<Role>,
        ("rbac.authorization.k8s.io", "rolebindings") => round_trip::<RoleBinding>,
        ("rbac.authorization.k8s.io", "clusterroles") => round_trip::<ClusterRole>,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => round_trip::<ClusterRoleBinding>,
        ("networking.k8s.io", "networkpolicies") => round_trip::<NetworkPolicy>,
        ("networking.k8s.io", "ingresses") => round_trip::<Ingress>,
        ("networking.k8s.io", "ingressclasses") => round_trip::<IngressClass>,
        ("policy", "poddisruptionbudgets") => round_trip::<PodDisruptionBudget>,
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            round_trip::<CustomResourceDefinition>
        }
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => {
            round_trip::<MutatingWebhookConfiguration>
        }
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            round_trip::<ValidatingWebhookConfiguration>
        }
        ("apiregistration.k8s.io", "apiservices") => round_trip::<APIService>,
        ("coordination.k8s.io", "leases") => round_trip::<Lease>,
        ("storage.k8s.io", "storageclasses") => round_trip::<StorageClass>,
        ("scheduling.k8s.io", "priorityclasses") => round_trip::<PriorityClass>,
        _ => return None,
    };
    Some(roundtrip)
}

/// `value` read into `K` and written back: what `K` keeps of it.
fn round_trip<K: DeserializeOwned + Serialize>(value: &Value) -> Option<Value> {
    let typed: K = serde_json::from_value(value.clone()).ok()?;
    serde_json::to_value(typed).ok()
}

/// Adds the fields of `given` that `kept` lost.
fn missing(given: &Value, kept: &Value, at: &mut Vec<Step>, found: &mut Vec<UnknownField>) {
    match (given, kept) {
        (Value::Object(given_map), Value::Object(kept_map)) => {
            for (key, value) in given_map {
                if value.is_null() {
                    continue;
                }
                at.push(Step::Key(key.clone()));
                match kept_map.get(key) {
                    Some(kept_value) => missing(value, kept_value, at, found),
                    None => found.push(named(at)),
                }
                at.pop();
            }
        }
        (Value::Array(given_items), Value::Array(kept_items)) => {
            for (index, (item, kept_item)) in given_items.iter().zip(kept_items).enumerate() {
                at.push(Step::Index(index));
                missing(item, kept_item, at, found);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Adds the fields of `value` that `schema` (a structural schema node) does not declare.
fn against(value: &Value, schema: &Value, at: &mut Vec<Step>, found: &mut Vec<UnknownField>) {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, child) in map {
                at.push(Step::Key(key.clone()));
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(property), _) => against(child, property, at, found),
                    (None, Some(Value::Object(additional))) => {
                        against(child, &Value::Object(additional.clone()), at, found);
                    }
                    (None, Some(Value::Bool(true))) => {}
                    _ if preserves(schema) => {}
                    _ if is_embedded_or_open(schema) => {}
                    _ => found.push(named(at)),
                }
                at.pop();
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    at.push(Step::Index(index));
                    against(item, item_schema, at, found);
                    at.pop();
                }
            }
        }
        _ => {}
    }
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

/// A schema node that says nothing about its fields' shape (no type, or an
/// int-or-string): nothing under it can be judged.
fn is_embedded_or_open(schema: &Value) -> bool {
    schema.get("type").is_none() && schema.get("properties").is_none()
}

/// The CRD's schema for `version`.
fn version_schema<'a>(crd: &'a Value, version: &str) -> Option<&'a Value> {
    crd.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(version))?
        .pointer("/schema/openAPIV3Schema")
}

/// The unknown field at `at`, named as strict decoding names it (the
/// apply-style name is filled in by [`name_for_apply`]).
fn named(at: &[Step]) -> UnknownField {
    let mut decoded = String::new();
    for step in at {
        match step {
            Step::Key(key) => {
                if !decoded.is_empty() {
                    decoded.push('.');
                }
                decoded.push_str(key);
            }
            Step::Index(index) => decoded.push_str(&format!("[{index}]")),
        }
    }
    UnknownField {
        applied: String::new(),
        decoded,
        pointer: at.to_vec(),
    }
}

/// Fills in the apply-style names of `fields` from the body they are in.
pub(crate) fn name_for_apply(fields: &mut [UnknownField], body: &Value) {
    for field in fields {
        let mut text = String::new();
        let mut here = Some(body);
        for step in &field.pointer {
            match step {
                Step::Key(key) => {
                    text.push('.');
                    text.push_str(key);
                    here = here.and_then(|value| value.get(key.as_str()));
                }
                Step::Index(index) => {
                    let item = here.and_then(|value| value.get(*index));
                    match item.and_then(|item| item.get("name")) {
                        Some(name) => text.push_str(&format!("[name={name}]")),
                        None => text.push_str(&format!("[{index}]")),
                    }
                    here = item;
                }
            }
        }
        field.applied = text;
    }
}

/// A JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::discovery::Kinds;

    fn rt(group: &str, plural: &str) -> ResourceType {
        Kinds::builtin()
            .any_version(group, plural)
            .cloned()
            .unwrap()
    }

    #[test]
    fn built_in_kinds_know_their_fields() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "p", "bogus": 1 },
            "spec": { "containers": [{ "name": "m", "image": "x", "wat": 1 }], "extra": {} }
        });
        let found = unknown_fields(&rt("", "pods"), None, &pod);
        let names: Vec<&str> = found.iter().map(|f| f.decoded.as_str()).collect();
        assert_eq!(
            names,
            ["metadata.bogus", "spec.containers[0].wat", "spec.extra"]
        );
        let mut dropped = pod.clone();
        drop_fields(&mut dropped, &found);
        assert!(unknown_fields(&rt("", "pods"), None, &dropped).is_empty());
        assert_eq!(dropped["spec"]["containers"][0]["image"], "x");
    }

    #[test]
    fn custom_resources_follow_their_schema() {
        let crd = json!({ "spec": { "versions": [{ "name": "v1", "schema": { "openAPIV3Schema": {
            "type": "object",
            "properties": { "spec": { "type": "object", "properties": {
                "size": { "type": "integer" },
                "free": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
            } } }
        } } }] } });
        let widget = json!({
            "apiVersion": "example.com/v1", "kind": "Gizmo",
            "metadata": { "name": "g", "bogus": 1 },
            "spec": { "size": 1, "extra": 2, "free": { "x": 1 } },
            "top": 1
        });
        let custom = ResourceType {
            group: "example.com".into(),
            ..rt("", "configmaps")
        };
        let mut found = unknown_fields(&custom, Some(&crd), &widget);
        let names: Vec<&str> = found.iter().map(|f| f.decoded.as_str()).collect();
        assert_eq!(names, ["metadata.bogus", "spec.extra", "top"]);
        name_for_apply(&mut found, &widget);
        assert_eq!(found[1].applied, ".spec.extra");
    }
}
