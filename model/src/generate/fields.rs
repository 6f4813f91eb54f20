//! Field-level differences between two object bodies: what the deploy
//! history's diff, the drift report and the browser's change preview show.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::labels::HASH_ANNOTATION;

/// One field that differs between two bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Where, as a JSON pointer (`/spec/replicas`).
    pub pointer: String,
    /// The value before; None when the field was added.
    pub before: Option<Value>,
    /// The value after; None when the field was removed.
    pub after: Option<Value>,
}

/// A field's value as one line of text, as a person reads it: a string as
/// it is, anything else as JSON (`3`, `true`, `["a","b"]`).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Every field that differs from `before` to `after`, ignoring the hash
/// annotation (it differs whenever anything else does).
pub fn field_changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    compare(
        "",
        Some(&without_hash(before)),
        Some(&without_hash(after)),
        &mut changes,
    );
    changes
}

/// `body` without its `battery/hash` annotation.
fn without_hash(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(annotations) = body
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(HASH_ANNOTATION);
    }
    body
}

/// Every field that differs from `before` to `after`.
pub fn changed_fields(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    compare("", Some(before), Some(after), &mut changes);
    changes
}

/// Records at `pointer` how `before` became `after`: objects key by key,
/// arrays index by index, anything else as a whole.
fn compare(
    pointer: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    changes: &mut Vec<FieldChange>,
) {
    match (before, after) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            for key in keys {
                let at = format!("{pointer}/{}", escape(key));
                compare(&at, old.get(key), new.get(key), changes);
            }
        }
        (Some(Value::Array(old)), Some(Value::Array(new))) => {
            for i in 0..old.len().max(new.len()) {
                compare(&format!("{pointer}/{i}"), old.get(i), new.get(i), changes);
            }
        }
        (old, new) if old != new => changes.push(FieldChange {
            pointer: pointer.to_owned(),
            before: old.cloned(),
            after: new.cloned(),
        }),
        _ => {}
    }
}

/// `key` as one JSON pointer token (RFC 6901: `~` → `~0`, `/` → `~1`).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(pointer: &str, before: Option<Value>, after: Option<Value>) -> FieldChange {
        FieldChange {
            pointer: pointer.to_owned(),
            before,
            after,
        }
    }

    #[test]
    fn equal_bodies_have_no_changes() {
        let body = json!({ "spec": { "replicas": 1, "ports": [80, 443] } });
        assert_eq!(field_changes(&body, &body), vec![]);
    }

    #[test]
    fn changes_are_reported_at_their_pointer() {
        let before = json!({
            "spec": { "replicas": 1, "ports": [80], "gone": true },
            "metadata": { "annotations": { "battery/hash": "a", "x/y": "1" } },
        });
        let after = json!({
            "spec": { "replicas": 2, "ports": [80, 443], "new": "yes" },
            "metadata": { "annotations": { "battery/hash": "b", "x/y": "2" } },
        });
        assert_eq!(
            field_changes(&before, &after),
            vec![
                change(
                    "/metadata/annotations/x~1y",
                    Some(json!("1")),
                    Some(json!("2"))
                ),
                change("/spec/gone", Some(json!(true)), None),
                change("/spec/new", None, Some(json!("yes"))),
                change("/spec/ports/1", None, Some(json!(443))),
                change("/spec/replicas", Some(json!(1)), Some(json!(2))),
            ]
        );
    }

    #[test]
    fn a_type_change_replaces_the_whole_value() {
        let before = json!({ "spec": { "a": { "b": 1 } } });
        let after = json!({ "spec": { "a": [1] } });
        assert_eq!(
            field_changes(&before, &after),
            vec![change("/spec/a", Some(json!({ "b": 1 })), Some(json!([1])))]
        );
    }

    #[test]
    fn only_the_hash_annotation_differing_is_no_change() {
        let before = json!({ "metadata": { "annotations": { "battery/hash": "a" } } });
        let after = json!({ "metadata": { "annotations": { "battery/hash": "b" } } });
        assert_eq!(field_changes(&before, &after), vec![]);
    }
}
