//! The `/scale` subresource of Deployments, StatefulSets and ReplicaSets: an
//! `autoscaling/v1` `Scale` view of `spec.replicas` (and `status.replicas`,
//! the selector), read and written the way `kubectl scale` and autoscalers
//! use it on a real API server.

use serde_json::{Value, json};

use super::discovery::ResourceType;
use super::patch::{self, PatchError, PatchKind};
use super::status::{ApiError, ApiResult};

/// Whether `rt` has a `/scale` subresource.
pub(crate) fn has_scale(rt: &ResourceType) -> bool {
    rt.group == "apps"
        && matches!(
            rt.plural.as_str(),
            "deployments" | "statefulsets" | "replicasets"
        )
}

/// The `Scale` of `object`.
pub(crate) fn view(object: &Value) -> Value {
    let mut metadata = json!({});
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(value) = object.pointer(&format!("/metadata/{field}")) {
            metadata[field] = value.clone();
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": { "replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(1)) },
        "status": {
            "replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector(object.pointer("/spec/selector")),
        },
    })
}

/// The replicas a PUT of a `Scale` asks for, and its resourceVersion precondition.
pub(crate) fn replicas_of(body: &Value) -> ApiResult<(i64, Option<String>)> {
    let replicas = body
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::bad_request(format!(
            "spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
        )));
    }
    let resource_version = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|rv| !rv.is_empty())
        .map(str::to_owned);
    Ok((replicas, resource_version))
}

/// The `Scale` after a JSON, merge or strategic patch of it.
pub(crate) fn patched(scale: &Value, kind: PatchKind, body: &[u8]) -> ApiResult<Value> {
    patch::patch(kind, scale, body).map_err(|error| match error {
        PatchError::Decode(why) => ApiError::bad_request(format!("error decoding patch: {why}")),
        PatchError::Apply(_) => ApiError::rejected(),
    })
}

/// A label selector as a string: `app=web,tier in (a,b)`.
fn selector(selector: Option<&Value>) -> String {
    let mut terms: Vec<String> = selector
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let expressions = selector
        .and_then(|s| s.get("matchExpressions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for expression in expressions {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let term = match expression.get("operator").and_then(Value::as_str) {
            Some("In") => format!("{key} in ({})", values.join(",")),
            Some("NotIn") => format!("{key} notin ({})", values.join(",")),
            Some("Exists") => key.to_owned(),
            Some("DoesNotExist") => format!("!{key}"),
            _ => continue,
        };
        terms.push(term);
    }
    terms.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_shows_replicas_and_selector() {
        let deployment = json!({
            "metadata": { "name": "web", "namespace": "a", "uid": "u", "resourceVersion": "7" },
            "spec": { "replicas": 3, "selector": { "matchLabels": { "app": "web" } } },
            "status": { "replicas": 2 }
        });
        let scale = view(&deployment);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(
            scale["status"],
            json!({ "replicas": 2, "selector": "app=web" })
        );
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
    }
}
