//! One generated Kubernetes object: its path, its body and its content hash.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::canonical::canonical_json;
use super::error::GenerateError;
use super::labels::{APP_LABEL, HASH_ANNOTATION, MANAGED_BY_LABEL, MANAGED_LABEL, NAME_LABEL};

/// Where an object lives in the Kubernetes API.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourcePath {
    /// `v1`, `apps/v1`, `postgresql.cnpg.io/v1`, …
    pub api_version: String,
    /// `Deployment`, `Cluster`, …
    pub kind: String,
    /// None for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ResourcePath {
    /// A path from its parts.
    pub fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    /// The API version within the group (`v1`).
    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version.as_str(), |(_, version)| version)
    }
}

impl fmt::Display for ResourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.api_version, self.kind)?;
        if let Some(namespace) = &self.namespace {
            write!(f, "/{namespace}")?;
        }
        write!(f, "/{}", self.name)
    }
}

/// sha256 of a resource's canonical JSON, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentHash(String);

impl ContentHash {
    /// The hash of `value`'s canonical JSON.
    pub fn of(value: &Value) -> Self {
        let digest = Sha256::digest(canonical_json(value).as_bytes());
        Self(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A generated object, labelled as bi's and annotated with its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Where it lives.
    pub path: ResourcePath,
    /// The battery or user object it belongs to (`battery/app`).
    pub app: String,
    /// The full object, labels and hash annotation included.
    pub body: Value,
    /// sha256 of the canonical body without the hash annotation.
    pub hash: ContentHash,
}

impl Resource {
    /// A resource from a typed Kubernetes object (k8s-openapi serializes
    /// `apiVersion` and `kind` itself).
    pub fn new<K: Serialize>(app: &str, object: &K) -> Result<Self, GenerateError> {
        let value = serde_json::to_value(object)
            .map_err(|err| GenerateError::Malformed(format!("{app}: {err}")))?;
        Self::from_value(app, value)
    }

    /// A resource from a JSON object that has `apiVersion`, `kind` and
    /// `metadata.name` (custom resources are built this way).
    pub fn from_value(app: &str, mut body: Value) -> Result<Self, GenerateError> {
        let text =
            |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let malformed = |what: &str| GenerateError::Malformed(format!("{app}: {what}"));
        let api_version = text(&body, "apiVersion").ok_or_else(|| malformed("no apiVersion"))?;
        let kind = text(&body, "kind").ok_or_else(|| malformed("no kind"))?;
        let metadata = body
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| malformed("no metadata"))?;
        let name = metadata
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| malformed("no metadata.name"))?;
        let namespace = metadata
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);

        let labels = object_at(metadata, "labels");
        for (key, value) in [
            (MANAGED_LABEL, "true"),
            (APP_LABEL, app),
            (MANAGED_BY_LABEL, "bi"),
        ] {
            labels.insert(key.to_owned(), Value::String(value.to_owned()));
        }
        labels
            .entry(NAME_LABEL.to_owned())
            .or_insert_with(|| Value::String(app.to_owned()));
        let annotations = object_at(metadata, "annotations");
        annotations.remove(HASH_ANNOTATION);
        if annotations.is_empty() {
            metadata.remove("annotations");
        }

        let hash = ContentHash::of(&body);
        if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            object_at(metadata, "annotations")
                .insert(HASH_ANNOTATION.to_owned(), Value::String(hash.to_string()));
        }
        Ok(Self {
            path: ResourcePath {
                api_version,
                kind,
                namespace,
                name,
            },
            app: app.to_owned(),
            body,
            hash,
        })
    }
}

/// The object under `key`, created if absent (or replaced if not an object).
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(object) => object,
        // NB: made an object just above.
        _ => unreachable!("slot was just made an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    fn config_map() -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some("settings".into()),
                namespace: Some("battery-core".into()),
                ..ObjectMeta::default()
            },
            data: Some([("a".to_owned(), "1".to_owned())].into()),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn typed_objects_get_their_path_labels_and_hash() {
        let resource = Resource::new("battery_core", &config_map()).unwrap();
        assert_eq!(
            resource.path.to_string(),
            "v1/ConfigMap/battery-core/settings"
        );
        let labels = &resource.body["metadata"]["labels"];
        assert_eq!(labels[MANAGED_LABEL], "true");
        assert_eq!(labels[APP_LABEL], "battery_core");
        assert_eq!(labels[MANAGED_BY_LABEL], "bi");
        assert_eq!(
            resource.body["metadata"]["annotations"][HASH_ANNOTATION],
            resource.hash.as_str()
        );
    }

    #[test]
    fn the_hash_is_computed_without_the_hash_annotation() {
        let first = Resource::new("battery_core", &config_map()).unwrap();
        // Feeding a generated body back in (hash annotation present) hashes the same.
        let again = Resource::from_value("battery_core", first.body.clone()).unwrap();
        assert_eq!(again.hash, first.hash);
        assert_eq!(again.body, first.body);
    }

    #[test]
    fn known_hashes_are_stable_across_machines() {
        // Pinned: a change here means every installation re-applies everything.
        assert_eq!(
            ContentHash::of(&json!({})).as_str(),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let resource = Resource::new("battery_core", &config_map()).unwrap();
        // The same digest Python's json.dumps(sort_keys=True, separators=(',', ':')) gives.
        assert_eq!(
            resource.hash.as_str(),
            "ef0a363cc84e235d1ee602f814baf395d5c962c8c4b1235c67fca6d0d15d3e3f"
        );
        assert_eq!(
            resource.hash.as_str(),
            ContentHash::of(&json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "data": { "a": "1" },
                "metadata": {
                    "name": "settings",
                    "namespace": "battery-core",
                    "labels": {
                        "app.kubernetes.io/managed-by": "bi",
                        "app.kubernetes.io/name": "battery_core",
                        "battery/app": "battery_core",
                        "battery/managed": "true"
                    }
                }
            }))
            .as_str()
        );
    }

    #[test]
    fn objects_without_a_name_are_refused() {
        let err = Resource::from_value(
            "x",
            json!({ "apiVersion": "v1", "kind": "Secret", "metadata": {} }),
        )
        .unwrap_err();
        assert_eq!(err, GenerateError::Malformed("x: no metadata.name".into()));
    }
}
