//! What the API server fills in on a write: defaults per kind, generation
//! (bumped only when the spec changes), and Secrets' `stringData` folded
//! into `data`.

use serde_json::{Value, json};

use super::{CRD_GROUP, CRD_PLURAL, metadata_mut, name_of, now};
use crate::discovery::ResourceType;

/// What bumps an object's `metadata.generation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Generation {
    /// The kind has none (ConfigMap, Secret, Namespace, Service, RBAC, …).
    None,
    /// A change outside metadata and status.
    Spec,
    /// That, or a change of the annotations (Deployments: they are copied to ReplicaSets).
    SpecAndAnnotations,
}

/// Which built-in kinds have a generation, as a real API server's strategies
/// set it; custom resources and CRDs always have one.
pub(super) fn generation_of(rt: &ResourceType) -> Generation {
    let with_generation = [
        ("", "pods"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("networking.k8s.io", "networkpolicies"),
        ("networking.k8s.io", "ingresses"),
        ("networking.k8s.io", "ingressclasses"),
        ("policy", "poddisruptionbudgets"),
        (
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
        ),
        (
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
        ),
        ("scheduling.k8s.io", "priorityclasses"),
        (CRD_GROUP, CRD_PLURAL),
    ];
    if rt.is("apps", "deployments") {
        Generation::SpecAndAnnotations
    } else if with_generation
        .iter()
        .any(|(group, plural)| rt.is(group, plural))
        || !crate::discovery::is_builtin_group(&rt.group)
    {
        Generation::Spec
    } else {
        Generation::None
    }
}

/// Everything generation is about: the object without metadata and status.
pub(super) fn spec_part(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        for field in ["metadata", "status", "apiVersion", "kind"] {
            map.remove(field);
        }
    }
    object
}

/// What the server fills in per kind: Namespaces are Active and labelled with their
/// name; CRDs are validated and report Established/NamesAccepted.
pub(super) fn defaults(rt: &ResourceType, object: &mut Value) -> Result<(), String> {
    if rt.is("", "secrets") {
        merge_string_data(object);
    }
    if rt.is("", "namespaces") {
        let name = name_of(object).unwrap_or_default();
        let metadata = metadata_mut(object);
        let labels = metadata.entry("labels").or_insert_with(|| json!({}));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
        if object.pointer("/spec/finalizers").is_none() {
            object["spec"] = json!({ "finalizers": ["kubernetes"] });
        }
        if object.pointer("/status/phase").is_none() {
            object["status"] = json!({ "phase": "Active" });
        }
    }
    if rt.is(CRD_GROUP, CRD_PLURAL) {
        let types = crate::discovery::crd_resource_types(object)?;
        let storage = object
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|versions| {
                versions
                    .iter()
                    .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|v| v.get("name").cloned())
            .unwrap_or(Value::Null);
        let served = types.first().map(|rt| rt.version.clone());
        let names = object.pointer("/spec/names").cloned().unwrap_or(json!({}));
        let mut accepted = names;
        if accepted.get("singular").is_none()
            && let Some(first) = types.first()
        {
            accepted["singular"] = json!(first.singular);
        }
        if accepted.get("listKind").is_none()
            && let Some(kind) = accepted.get("kind").and_then(Value::as_str)
        {
            accepted["listKind"] = json!(format!("{kind}List"));
        }
        let since = object
            .pointer("/metadata/creationTimestamp")
            .cloned()
            .unwrap_or(json!(now()));
        let condition = |kind: &str, reason: &str, message: &str| {
            json!({
                "type": kind,
                "status": "True",
                "lastTransitionTime": since,
                "reason": reason,
                "message": message,
            })
        };
        object["status"] = json!({
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
            "acceptedNames": accepted,
            "storedVersions": [storage],
        });
        if served.is_none() {
            return Err("spec.versions: at least one version must be served".into());
        }
    }
    Ok(())
}

/// A Secret's write-only `stringData`, merged into `data` (base64) and
/// dropped, as the API server does: readers only ever see `data`.
pub(super) fn merge_string_data(object: &mut Value) {
    use base64::Engine as _;

    let Some(string_data) = object
        .as_object_mut()
        .and_then(|map| map.remove("stringData"))
    else {
        return;
    };
    let Value::Object(values) = string_data else {
        return;
    };
    if !object.get("data").is_some_and(Value::is_object) {
        object["data"] = json!({});
    }
    for (key, value) in values {
        if let Some(text) = value.as_str() {
            object["data"][key.as_str()] =
                json!(base64::engine::general_purpose::STANDARD.encode(text));
        }
    }
}
