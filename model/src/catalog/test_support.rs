//! Lookups and schema helpers the battery generators' unit tests share.

use serde_json::Value;

use crate::generate::Resource;

/// The generated resource of `kind` named `name`, if any.
pub fn find<'a>(resources: &'a [Resource], kind: &str, name: &str) -> Option<&'a Resource> {
    resources
        .iter()
        .find(|r| r.path.kind == kind && r.path.name == name)
}

/// The generated resource of `kind` named `name`; panics naming it when absent.
pub fn find_required<'a>(resources: &'a [Resource], kind: &str, name: &str) -> &'a Resource {
    find(resources, kind, name).unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The names of the generated resources of `kind`, in generation order.
pub fn names_of<'a>(resources: &'a [Resource], kind: &str) -> Vec<&'a str> {
    resources
        .iter()
        .filter(|r| r.path.kind == kind)
        .map(|r| r.path.name.as_str())
        .collect()
}

/// `schema` without `x-kubernetes-preserve-unknown-fields` where it lists
/// properties: a typo in a field bi sets is then an unknown field.
pub fn strict(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), strict(v))).collect();
            if map.contains_key("properties") {
                out.remove("x-kubernetes-preserve-unknown-fields");
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}
