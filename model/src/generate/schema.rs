//! Checks a custom resource against the structural `openAPIV3Schema` of the
//! CRD bi ships for it, as the API server would: types, required fields,
//! enums, bounds, and unknown fields (which a strict server rejects unless
//! the schema says `x-kubernetes-preserve-unknown-fields`; `apiVersion`,
//! `kind` and `metadata` are always allowed at the root). CEL rules
//! (`x-kubernetes-validations`) and string patterns are not evaluated.

use serde_json::Value;

/// Every way `value` breaks `schema`, as `path: problem` lines (empty when valid).
pub fn violations(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, value, "", &mut out);
    out
}

fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let at = |p: &str| {
        if p.is_empty() {
            "<root>".to_owned()
        } else {
            p.to_owned()
        }
    };
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            out.push(format!("{}: must be an integer or a string", at(path)));
        }
        return;
    }
    let preserve = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let Some(object) = value.as_object() else {
                out.push(format!("{}: must be an object", at(path)));
                return;
            };
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, item) in object {
                let child = join(path, key);
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(sub), _) => check(sub, item, &child, out),
                    (None, Some(sub)) if sub.is_object() => check(sub, item, &child, out),
                    (None, _) if preserve || path_is_metadata(path) => {}
                    (None, _) if path.is_empty() && IMPLICIT_AT_ROOT.contains(&key.as_str()) => {}
                    (None, _) => out.push(format!("{child}: unknown field")),
                }
            }
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(required) {
                    out.push(format!("{}: required", join(path, required)));
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                out.push(format!("{}: must be an array", at(path)));
                return;
            };
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        Some("string") => {
            let Some(text) = value.as_str() else {
                out.push(format!("{}: must be a string", at(path)));
                return;
            };
            if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
                && !allowed.iter().any(|a| a.as_str() == Some(text))
            {
                out.push(format!("{}: {text:?} is not one of {allowed:?}", at(path)));
            }
        }
        Some("integer") => match value.as_i64() {
            Some(n) => bounds(schema, n as f64, path, out),
            None => out.push(format!("{}: must be an integer", at(path))),
        },
        Some("number") => match value.as_f64() {
            Some(n) => bounds(schema, n, path, out),
            None => out.push(format!("{}: must be a number", at(path))),
        },
        Some("boolean") => {
            if !value.is_boolean() {
                out.push(format!("{}: must be a boolean", at(path)));
            }
        }
        Some(other) => out.push(format!("{}: schema has unknown type {other}", at(path))),
        None if preserve => {}
        None => out.push(format!("{}: schema has no type (not structural)", at(path))),
    }
}

fn bounds(schema: &Value, n: f64, path: &str, out: &mut Vec<String>) {
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && n < min
    {
        out.push(format!("{path}: {n} is below the minimum {min}"));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && n > max
    {
        out.push(format!("{path}: {n} is above the maximum {max}"));
    }
}

/// What the API server allows at the root of every custom resource, listed
/// in its CRD's schema or not (Istio's list only `spec` and `status`).
const IMPLICIT_AT_ROOT: &[&str] = &["apiVersion", "kind", "metadata"];

/// `metadata` is validated by the API server itself, not by the CRD schema.
fn path_is_metadata(path: &str) -> bool {
    path == "metadata" || path.starts_with("metadata.")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "apiVersion": { "type": "string" },
                "kind": { "type": "string" },
                "metadata": { "type": "object" },
                "spec": {
                    "type": "object",
                    "required": ["instances"],
                    "properties": {
                        "instances": { "type": "integer", "minimum": 1 },
                        "mode": { "type": "string", "enum": ["a", "b"] },
                        "port": { "x-kubernetes-int-or-string": true },
                        "extra": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                        "labels": { "type": "object", "additionalProperties": { "type": "string" } }
                    }
                }
            }
        })
    }

    #[test]
    fn a_valid_resource_has_no_violations() {
        let value = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": { "name": "n", "labels": {} },
            "spec": { "instances": 2, "mode": "a", "port": "http", "extra": { "any": [1] }, "labels": { "k": "v" } }
        });
        assert_eq!(violations(&schema(), &value), Vec::<String>::new());
    }

    #[test]
    fn finds_unknown_fields_wrong_types_enums_bounds_and_missing_fields() {
        let value = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {},
            "spec": { "instance": 2, "mode": "c", "port": 1.5, "labels": { "k": 1 } }
        });
        let found = violations(&schema(), &value);
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(found.contains(&"spec.instance: unknown field".to_owned()));
        assert!(found.contains(&"spec.instances: required".to_owned()));
        let zero = json!({ "spec": { "instances": 0 } });
        assert_eq!(
            violations(&schema(), &zero),
            ["spec.instances: 0 is below the minimum 1"]
        );
    }

    #[test]
    fn api_version_kind_and_metadata_need_not_be_listed_at_the_root() {
        let schema = json!({
            "type": "object",
            "properties": { "spec": { "type": "object", "properties": { "a": { "type": "string" } } } },
        });
        let value = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": { "name": "n" },
            "spec": { "a": "b", "kind": "X" }, "extra": 1
        });
        assert_eq!(
            violations(&schema, &value),
            ["extra: unknown field", "spec.kind: unknown field"]
        );
    }
}
