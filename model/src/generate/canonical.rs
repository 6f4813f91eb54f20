//! Canonical JSON: object keys sorted, no insignificant whitespace. The
//! content hash is taken over this form, so it never depends on map order,
//! serde_json features or the machine.

use serde_json::Value;

/// `value` as canonical JSON text.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::String(text) => write_string(text, out),
        // NB: null, booleans and numbers print the same everywhere.
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push_str(&Value::String(text.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_whitespace_dropped() {
        let value = json!({ "b": [ { "z": 1, "a": "x" } ], "a": { "d": null, "c": true } });
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":true,"d":null},"b":[{"a":"x","z":1}]}"#
        );
    }

    #[test]
    fn strings_are_escaped_like_json() {
        assert_eq!(canonical_json(&json!("a\"b\n")), r#""a\"b\n""#);
    }
}
