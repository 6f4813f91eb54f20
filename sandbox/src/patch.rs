//! PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386),
//! strategic merge patch and server-side apply.
//!
//! Two are approximations, and say so: a strategic merge patch is applied as a
//! merge patch (lists are replaced, not merged by key; `$patch`/`$retainKeys`/
//! `$setElementOrder` directives are dropped), and server-side apply is a merge
//! of the applied fields into the object, after removing the fields the same
//! field manager applied last time and no longer applies. Who owns which field,
//! and the conflicts `force` overrides, are `managed.rs`'s.

use serde_json::Value;

/// The patch types, from the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchKind {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchKind {
    /// The patch type of a Content-Type header value, if known.
    pub(crate) fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media.to_ascii_lowercase().as_str() {
            "application/json-patch+json" => Some(Self::Json),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Why a patch failed: its body could not be read (a real server's 400
/// "error decoding patch") or its operations could not be applied (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PatchError {
    /// The body is not a patch of its type.
    Decode(String),
    /// A JSON patch operation failed (a `test`, a missing path).
    Apply(String),
}

/// Applies a JSON, merge or strategic patch body to a copy of `target`.
pub(crate) fn patch(kind: PatchKind, target: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let mut result = target.clone();
    match kind {
        PatchKind::Json => {
            let operations: json_patch::Patch =
                serde_json::from_slice(body).map_err(|e| PatchError::Decode(e.to_string()))?;
            json_patch::patch(&mut result, &operations)
                .map_err(|e| PatchError::Apply(e.to_string()))?;
        }
        PatchKind::Merge => {
            let patch = json_object(body)?;
            json_patch::merge(&mut result, &patch);
        }
        PatchKind::Strategic => {
            let mut patch = json_object(body)?;
            drop_directives(&mut patch);
            json_patch::merge(&mut result, &patch);
        }
        PatchKind::Apply => {
            let applied = read_applied(body).map_err(PatchError::Decode)?;
            result = apply(target, None, &applied);
        }
    }
    Ok(result)
}

fn json_object(body: &[u8]) -> Result<Value, PatchError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PatchError::Decode(e.to_string()))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(PatchError::Decode(
            "the patch is not an object (a map of fields)".into(),
        ))
    }
}

/// Removes strategic-merge directives (`$patch`, `$setElementOrder/…`, `$retainKeys`…),
/// which this approximation cannot honour and must not store.
fn drop_directives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !key.starts_with('$'));
            map.values_mut().for_each(drop_directives);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_directives),
        _ => {}
    }
}

/// Reads a server-side apply body: YAML or JSON (YAML is a superset), must be a mapping.
pub(crate) fn read_applied(body: &[u8]) -> Result<Value, String> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => serde_yaml_ng::from_slice(body)
            .map_err(|e| format!("the apply body is neither JSON nor YAML: {e}"))?,
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err("the apply body must be an object (a YAML mapping)".into())
    }
}

/// Server-side apply, approximated: drop from `existing` what `previous` (this manager's
/// last applied configuration) set and `applied` no longer sets, then merge `applied`
/// in (maps merged, lists of items with a `name` merged by name, other lists replaced).
pub(crate) fn apply(existing: &Value, previous: Option<&Value>, applied: &Value) -> Value {
    let mut result = existing.clone();
    if let Some(previous) = previous {
        remove_dropped(&mut result, previous, applied);
    }
    merge_applied(&mut result, applied);
    result
}

/// Merges an applied configuration into `target`: maps key by key, lists
/// keyed by `name` item by item (others' items stay), anything else replaced.
fn merge_applied(target: &mut Value, applied: &Value) {
    match (target, applied) {
        (Value::Object(target), Value::Object(applied)) => {
            for (key, value) in applied {
                if value.is_null() {
                    target.remove(key);
                    continue;
                }
                match target.get_mut(key) {
                    Some(existing) => merge_applied(existing, value),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(applied))
            if is_keyed_by_name(target) && is_keyed_by_name(applied) =>
        {
            for item in applied {
                match target
                    .iter_mut()
                    .find(|t| t.get("name") == item.get("name"))
                {
                    Some(existing) => merge_applied(existing, item),
                    None => target.push(item.clone()),
                }
            }
        }
        (target, applied) => *target = applied.clone(),
    }
}

/// Whether every item of a list is an object with a string `name` (containers,
/// env, volumes, ports with names): server-side apply merges them by name.
fn is_keyed_by_name(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|item| item.get("name").is_some_and(Value::is_string))
}

/// Removes from `target` the fields `previous` set that `applied` does not set. Maps are
/// walked, so a map the manager stopped applying loses only the keys it had applied
/// (others' keys stay); a map left empty by that is removed.
fn remove_dropped(target: &mut Value, previous: &Value, applied: &Value) {
    let (Some(target), Some(previous)) = (target.as_object_mut(), previous.as_object()) else {
        return;
    };
    let nothing = Value::Object(serde_json::Map::new());
    for (key, old) in previous {
        let new = applied.get(key);
        if let (Some(Value::Array(old_items)), Some(Value::Array(new_items))) = (Some(old), new)
            && is_keyed_by_name(old_items)
        {
            // NB: items this manager applied before and no longer applies go.
            if let Some(Value::Array(items)) = target.get_mut(key) {
                items.retain(|item| {
                    let name = item.get("name");
                    let dropped = old_items.iter().any(|o| o.get("name") == name)
                        && !new_items.iter().any(|n| n.get("name") == name);
                    !dropped
                });
            }
            continue;
        }
        if new.is_some_and(|new| !(old.is_object() && new.is_object())) {
            continue;
        }
        match target.get_mut(key) {
            Some(child) if old.is_object() && child.is_object() => {
                remove_dropped(child, old, new.unwrap_or(&nothing));
                if new.is_none() && child.as_object().is_some_and(serde_json::Map::is_empty) {
                    target.remove(key);
                }
            }
            Some(_) if new.is_none() => {
                target.remove(key);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object() -> Value {
        json!({
            "metadata": { "name": "web", "labels": { "a": "1", "b": "2" } },
            "spec": { "replicas": 1, "ports": [1, 2] },
        })
    }

    #[test]
    fn content_types_map_to_patch_kinds() {
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json"),
            Some(PatchKind::Merge)
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml; charset=utf-8"),
            Some(PatchKind::Apply)
        );
        assert_eq!(PatchKind::from_content_type("application/json"), None);
    }

    #[test]
    fn merge_patch_merges_maps_and_removes_nulls() {
        let result = patch(
            PatchKind::Merge,
            &object(),
            br#"{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"ports":[3]}}"#,
        )
        .unwrap();
        assert_eq!(result["metadata"]["labels"], json!({ "b": "2", "c": "3" }));
        assert_eq!(result["spec"]["ports"], json!([3]));
        assert_eq!(result["spec"]["replicas"], 1);
    }

    #[test]
    fn json_patch_applies_operations_and_reports_failed_tests() {
        let result = patch(
            PatchKind::Json,
            &object(),
            br#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/spec/ports/-","value":9}]"#,
        )
        .unwrap();
        assert_eq!(result["spec"]["replicas"], 3);
        assert_eq!(result["spec"]["ports"], json!([1, 2, 9]));
        assert!(
            patch(
                PatchKind::Json,
                &object(),
                br#"[{"op":"test","path":"/spec/replicas","value":7}]"#
            )
            .is_err()
        );
        assert!(patch(PatchKind::Json, &object(), b"{}").is_err());
    }

    #[test]
    fn strategic_patch_drops_directives() {
        let result = patch(
            PatchKind::Strategic,
            &object(),
            br#"{"$setElementOrder/ports":[{"port":1}],"spec":{"replicas":2,"$retainKeys":["replicas"]}}"#,
        )
        .unwrap();
        assert_eq!(result["spec"]["replicas"], 2);
        assert!(result.get("$setElementOrder/ports").is_none());
        assert!(result["spec"].get("$retainKeys").is_none());
    }

    #[test]
    fn apply_removes_what_the_manager_stopped_applying() {
        let previous = json!({ "metadata": { "name": "web", "labels": { "a": "1" } }, "spec": { "replicas": 1 } });
        let applied = json!({ "metadata": { "name": "web", "labels": { "z": "9" } }, "spec": { "replicas": 4 } });
        let result = apply(&object(), Some(&previous), &applied);
        // "a" was ours and is gone; "b" belongs to someone else and stays.
        assert_eq!(result["metadata"]["labels"], json!({ "b": "2", "z": "9" }));
        assert_eq!(result["spec"]["replicas"], 4);
        assert_eq!(result["spec"]["ports"], json!([1, 2]));
        // A whole map no longer applied loses only what this manager had put in it.
        let applied = json!({ "metadata": { "name": "web" } });
        let result = apply(&object(), Some(&previous), &applied);
        assert_eq!(result["metadata"]["labels"], json!({ "b": "2" }));
        assert!(result["spec"].get("replicas").is_none());
        assert_eq!(result["spec"]["ports"], json!([1, 2]));
    }

    #[test]
    fn apply_bodies_may_be_yaml_or_json() {
        let yaml = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: v\n";
        assert_eq!(read_applied(yaml).unwrap()["data"]["k"], "v");
        assert_eq!(
            read_applied(br#"{"kind":"ConfigMap"}"#).unwrap()["kind"],
            "ConfigMap"
        );
        assert!(read_applied(b"- a\n- b\n").is_err());
    }
}
