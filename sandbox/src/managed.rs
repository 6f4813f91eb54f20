//! Managed fields: which field manager owns which fields of an object, kept
//! in `metadata.managedFields` (FieldsV1) the way a real API server keeps
//! them, and the conflicts server-side apply reports when a manager applies a
//! value to a field another manager owns.
//!
//! An apply owns exactly the fields its configuration sets; an update (create,
//! PUT, PATCH) owns the fields it changed; a field one writer changes is no
//! longer owned by anyone else; a manager left owning nothing is dropped.
//!
//! Approximations, for want of the kinds' schemas: a list whose items are all
//! objects with a `name` is keyed by it (`k:{"name":"main"}`), `finalizers`
//! is a set (`v:"…"`), every other list is atomic (owned as a whole), and so
//! is a label selector (an object of `matchLabels` / `matchExpressions`).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// One field: its path elements, as FieldsV1 spells them (`f:spec`,
/// `k:{"name":"main"}`, `v:"x"`, and `.` for a list item or map itself).
type Path = Vec<String>;

/// A set of fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSet(BTreeSet<Path>);

/// How a manager wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, replace or a JSON / merge / strategic patch.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// Who writes an object, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Writer {
    /// `fieldManager`, else the client's User-Agent up to its first `/`.
    pub(crate) manager: String,
    /// Apply or update.
    pub(crate) operation: Operation,
}

impl Writer {
    /// An update by `manager`.
    pub(crate) fn update(manager: &str) -> Self {
        Self {
            manager: manager.to_owned(),
            operation: Operation::Update,
        }
    }

    /// An apply by `manager`.
    pub(crate) fn apply(manager: &str) -> Self {
        Self {
            manager: manager.to_owned(),
            operation: Operation::Apply,
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Value,
    subresource: Option<String>,
    fields: FieldSet,
}

impl Entry {
    fn is(&self, writer: &Writer) -> bool {
        self.manager == writer.manager
            && self.operation == writer.operation.as_str()
            && self.subresource.is_none()
    }

    /// How a conflict names this manager: `"bi"`, or `"kubectl" using apps/v1`
    /// for an update's.
    fn described(&self) -> String {
        if self.operation == Operation::Apply.as_str() {
            format!("\"{}\"", self.manager)
        } else {
            format!("\"{}\" using {}", self.manager, self.api_version)
        }
    }

    fn read(value: &Value) -> Option<Self> {
        let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            manager: text("manager")?,
            operation: text("operation")?,
            api_version: text("apiVersion").unwrap_or_default(),
            time: value.get("time").cloned().unwrap_or(Value::Null),
            subresource: text("subresource"),
            fields: FieldSet::from_fields_v1(value.get("fieldsV1").unwrap_or(&Value::Null)),
        })
    }

    fn write(&self) -> Value {
        let mut entry = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.fields.to_fields_v1(),
        });
        if let Some(subresource) = &self.subresource {
            entry["subresource"] = json!(subresource);
        }
        entry
    }
}

/// Object fields that no manager owns: identity and server-set metadata.
const OWNED_METADATA: [&str; 4] = ["labels", "annotations", "finalizers", "ownerReferences"];

/// Fields that are maps (not structs) in the built-in kinds: an update that
/// adds one owns the map itself too (`.`), as a real server records it.
const MAP_FIELDS: [&str; 10] = [
    "labels",
    "annotations",
    "data",
    "binaryData",
    "stringData",
    "nodeSelector",
    "limits",
    "requests",
    "parameters",
    "selector",
];

impl FieldSet {
    /// The fields `object` sets (apiVersion, kind, identity and, when `status`
    /// is false, status left out).
    pub(crate) fn of(object: &Value, status: bool) -> Self {
        let mut set = BTreeSet::new();
        let Some(map) = object.as_object() else {
            return Self(set);
        };
        for (key, value) in map {
            match key.as_str() {
                "apiVersion" | "kind" => {}
                "status" if !status => {}
                "metadata" => {
                    for field in OWNED_METADATA {
                        if let Some(value) = value.get(field) {
                            walk(field, value, &mut vec!["f:metadata".to_owned()], &mut set);
                        }
                    }
                }
                _ => walk(key, value, &mut Vec::new(), &mut set),
            }
        }
        Self(set)
    }

    fn from_fields_v1(value: &Value) -> Self {
        fn read(value: &Value, path: &mut Path, set: &mut BTreeSet<Path>) {
            let Some(map) = value.as_object() else {
                return;
            };
            if map.is_empty() && !path.is_empty() {
                set.insert(path.clone());
            }
            for (key, child) in map {
                path.push(key.clone());
                if key == "." {
                    set.insert(path.clone());
                } else {
                    read(child, path, set);
                }
                path.pop();
            }
        }
        let mut set = BTreeSet::new();
        read(value, &mut Vec::new(), &mut set);
        Self(set)
    }

    fn to_fields_v1(&self) -> Value {
        let mut root = Map::new();
        for path in &self.0 {
            let mut node = &mut root;
            for element in path {
                let child = node
                    .entry(element.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                let Value::Object(child) = child else {
                    break;
                };
                node = child;
            }
        }
        Value::Object(root)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Adds the fields of `value` (at `key` under `path`) to `set`.
fn walk(key: &str, value: &Value, path: &mut Path, set: &mut BTreeSet<Path>) {
    path.push(format!("f:{key}"));
    match value {
        Value::Object(map) if !map.is_empty() && !is_label_selector(map) => {
            for (child_key, child) in map {
                walk(child_key, child, path, set);
            }
        }
        Value::Array(items) if key == "finalizers" => {
            for item in items {
                path.push(format!("v:{item}"));
                set.insert(path.clone());
                path.pop();
            }
        }
        Value::Array(items) if is_keyed_by_name(items) => {
            for item in items {
                let name = item.get("name").cloned().unwrap_or(Value::Null);
                path.push(format!("k:{}", json!({ "name": name })));
                path.push(".".to_owned());
                set.insert(path.clone());
                path.pop();
                if let Some(fields) = item.as_object() {
                    for (child_key, child) in fields {
                        walk(child_key, child, path, set);
                    }
                }
                path.pop();
            }
        }
        _ => {
            set.insert(path.clone());
        }
    }
    path.pop();
}

fn is_label_selector(map: &Map<String, Value>) -> bool {
    map.keys()
        .all(|key| key == "matchLabels" || key == "matchExpressions")
}

fn is_keyed_by_name(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|item| item.get("name").is_some_and(Value::is_string))
}

/// The value at `path` in `object`, if it is there (`.` is the item itself).
fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut here = object;
    for element in path {
        here = if let Some(field) = element.strip_prefix("f:") {
            here.get(field)?
        } else if let Some(key) = element.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(key).ok()?;
            here.as_array()?
                .iter()
                .find(|item| key.iter().all(|(k, v)| item.get(k) == Some(v)))?
        } else if let Some(member) = element.strip_prefix("v:") {
            let member: Value = serde_json::from_str(member).ok()?;
            here.as_array()?.iter().find(|item| **item == member)?
        } else {
            here
        };
    }
    Some(here)
}

/// A field as a conflict names it: `.spec.containers[name="main"].image`.
fn display(path: &[String]) -> String {
    let mut text = String::new();
    for element in path {
        if let Some(field) = element.strip_prefix("f:") {
            text.push('.');
            text.push_str(field);
        } else if let Some(key) = element.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
            let pairs: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
            text.push_str(&format!("[{}]", pairs.join(",")));
        } else if let Some(member) = element.strip_prefix("v:") {
            text.push_str(&format!("[={member}]"));
        }
    }
    text
}

fn entries(object: &Value) -> Vec<Entry> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Entry::read).collect())
        .unwrap_or_default()
}

/// The conflicts of applying `applied` (owned fields `applying`) by `writer`
/// to `current`: every field another manager owns whose value would change,
/// as (manager as a conflict names it, field), in a stable order.
pub(crate) fn conflicts(
    current: &Value,
    applied: &Value,
    applying: &FieldSet,
    writer: &Writer,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in entries(current) {
        if entry.is(writer) || entry.subresource.is_some() {
            continue;
        }
        for path in entry.fields.0.intersection(&applying.0) {
            if path.last().is_some_and(|last| last == ".") {
                continue;
            }
            if value_at(current, path) != value_at(applied, path) {
                found.push((entry.described(), display(path)));
            }
        }
    }
    found
}

/// Records in `new`'s `metadata.managedFields` that `writer` wrote it over
/// `old` (None: created it); `applied` is what an apply owns. `status` says
/// whether status is the object's own (no status subresource).
pub(crate) fn record(
    old: Option<&Value>,
    new: &mut Value,
    writer: &Writer,
    api_version: &str,
    applied: Option<FieldSet>,
    status: bool,
    now: &str,
) {
    let nothing = Value::Null;
    let before = old.unwrap_or(&nothing);
    let old_fields = FieldSet::of(before, status);
    let new_fields = FieldSet::of(new, status);
    let changed: BTreeSet<&Path> = new_fields
        .0
        .iter()
        .filter(|path| {
            if path.last().is_some_and(|last| last == ".") {
                value_at(before, &path[..path.len() - 1]).is_none()
            } else {
                value_at(before, path) != value_at(new, path)
            }
        })
        .collect();
    let removed: BTreeSet<&Path> = old_fields.0.difference(&new_fields.0).collect();

    let mut list = old.map(entries).unwrap_or_default();
    for entry in list.iter_mut().filter(|entry| !entry.is(writer)) {
        entry
            .fields
            .0
            .retain(|path| !changed.contains(path) && !removed.contains(path));
    }
    let index = match list.iter().position(|entry| entry.is(writer)) {
        Some(index) => index,
        None => {
            list.push(Entry {
                manager: writer.manager.clone(),
                operation: writer.operation.as_str().to_owned(),
                api_version: api_version.to_owned(),
                time: json!(now),
                subresource: None,
                fields: FieldSet::default(),
            });
            list.len() - 1
        }
    };
    if let Some(entry) = list.get_mut(index) {
        let owned = match applied {
            Some(applied) => applied,
            None => {
                let mut owned = entry.fields.clone();
                owned.0.retain(|path| !removed.contains(path));
                owned.0.extend(changed.iter().map(|path| (*path).clone()));
                owned.0.extend(new_maps(before, new, &changed));
                owned
            }
        };
        if owned != entry.fields || entry.time.is_null() {
            entry.time = json!(now);
        }
        entry.fields = owned;
        entry.api_version = api_version.to_owned();
    }
    list.retain(|entry| !entry.fields.is_empty());
    let written: Vec<Value> = list.iter().map(Entry::write).collect();
    if let Some(metadata) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        if written.is_empty() {
            metadata.remove("managedFields");
        } else {
            metadata.insert("managedFields".into(), Value::Array(written));
        }
    }
}

/// The maps (`labels`, `data`, …) an update added, as `.` fields.
fn new_maps(before: &Value, new: &Value, changed: &BTreeSet<&Path>) -> Vec<Path> {
    let mut maps = BTreeSet::new();
    for path in changed {
        for end in 1..path.len() {
            let parent = &path[..end];
            let is_map = parent
                .last()
                .and_then(|element| element.strip_prefix("f:"))
                .is_some_and(|field| MAP_FIELDS.contains(&field));
            if is_map
                && value_at(before, parent).is_none()
                && value_at(new, parent).is_some_and(Value::is_object)
            {
                let mut node = parent.to_vec();
                node.push(".".to_owned());
                maps.insert(node);
            }
        }
    }
    maps.into_iter().collect()
}

/// Drops every `managedFields` entry (a client may not write them).
pub(crate) fn strip(object: &mut Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: u32, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "web", "labels": { "app": "web" } },
            "spec": {
                "replicas": replicas,
                "selector": { "matchLabels": { "app": "web" } },
                "template": { "spec": { "containers": [{ "name": "main", "image": image }] } }
            }
        })
    }

    #[test]
    fn fields_follow_fields_v1() {
        let fields = FieldSet::of(&deployment(1, "a"), false);
        assert_eq!(
            fields.to_fields_v1(),
            json!({
                "f:metadata": { "f:labels": { "f:app": {} } },
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": { "f:spec": { "f:containers": {
                        "k:{\"name\":\"main\"}": { ".": {}, "f:image": {}, "f:name": {} }
                    } } }
                }
            })
        );
        assert_eq!(FieldSet::from_fields_v1(&fields.to_fields_v1()), fields);
    }

    #[test]
    fn applying_another_managers_value_conflicts_unless_equal() {
        let mut object = deployment(1, "a");
        let bi = Writer::apply("bi");
        let owned = FieldSet::of(&object, false);
        record(None, &mut object, &bi, "apps/v1", Some(owned), false, "t");
        let other = Writer::apply("other");
        let same = deployment(1, "a");
        assert!(conflicts(&object, &same, &FieldSet::of(&same, false), &other).is_empty());
        let changed = deployment(3, "b");
        assert_eq!(
            conflicts(&object, &changed, &FieldSet::of(&changed, false), &other),
            [
                ("\"bi\"".to_owned(), ".spec.replicas".to_owned()),
                (
                    "\"bi\"".to_owned(),
                    ".spec.template.spec.containers[name=\"main\"].image".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn an_update_takes_the_fields_it_changes() {
        let mut object = deployment(1, "a");
        let bi = Writer::apply("bi");
        let owned = FieldSet::of(&object, false);
        record(None, &mut object, &bi, "apps/v1", Some(owned), false, "t");
        let before = object.clone();
        object["spec"]["replicas"] = json!(5);
        record(
            Some(&before),
            &mut object,
            &Writer::update("kubectl"),
            "apps/v1",
            None,
            false,
            "t",
        );
        let changed = deployment(2, "a");
        assert_eq!(
            conflicts(&object, &changed, &FieldSet::of(&changed, false), &bi),
            [(
                "\"kubectl\" using apps/v1".to_owned(),
                ".spec.replicas".to_owned()
            )]
        );
    }
}
