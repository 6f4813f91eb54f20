//! Connection Secrets: what a data object (a PostgreSQL user, a Redis
//! instance, a FerretDB service) publishes for the services that use it, and
//! copies of them in the namespaces of the services that reference them.
//!
//! A container can only read a Secret of its own namespace, but databases
//! live in the data namespace and services in Knative's or the traditional
//! services' namespace. So when a generated workload's environment names a
//! connection Secret (`secretKeyRef.name`) that its namespace lacks, this pass
//! emits a copy there, with the same data, owned by the data object's app:
//! it goes when the reference or the data object goes, and changes when the
//! password does. Nothing is copied where nothing refers to it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::GenerateError;
use super::labels::{APP_LABEL, HASH_ANNOTATION, MANAGED_BY_LABEL, MANAGED_LABEL};
use super::resource::Resource;

/// The suffix every connection Secret's name ends with
/// (see [`super::build::connection_secret_name`]).
pub const CONNECTION_SUFFIX: &str = "-connection";

/// A connection Secret a service can reference in its environment: its name
/// and keys, never its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSecret {
    /// The Secret's name (`postgres-main-app-connection`).
    pub name: String,
    /// The data object it connects to (`postgres-main`): its `battery/app`.
    pub app: String,
    /// Its keys (`host`, `port`, `password`, `url`, …), sorted.
    pub keys: Vec<String>,
}

fn is_secret(resource: &Resource) -> bool {
    resource.path.api_version == "v1" && resource.path.kind == "Secret"
}

fn is_connection(resource: &Resource) -> bool {
    is_secret(resource) && resource.path.name.ends_with(CONNECTION_SUFFIX)
}

/// Every connection Secret among `generated`, by name (copies count once).
pub fn connection_secrets(generated: &[Resource]) -> Vec<ConnectionSecret> {
    let mut found: BTreeMap<&str, ConnectionSecret> = BTreeMap::new();
    for resource in generated.iter().filter(|r| is_connection(r)) {
        let keys = ["stringData", "data"]
            .iter()
            .filter_map(|field| resource.body.get(field).and_then(Value::as_object))
            .flat_map(|values| values.keys().cloned())
            .collect::<BTreeSet<String>>();
        found
            .entry(resource.path.name.as_str())
            .or_insert_with(|| ConnectionSecret {
                name: resource.path.name.clone(),
                app: resource.app.clone(),
                keys: keys.into_iter().collect(),
            });
    }
    found.into_values().collect()
}

/// The Secret names a body's containers read with `secretKeyRef` or
/// `secretRef` (env and envFrom), wherever its pod template is.
fn referenced_secrets(body: &Value, into: &mut BTreeSet<String>) {
    match body {
        Value::Object(map) => {
            for (key, value) in map {
                if (key == "secretKeyRef" || key == "secretRef")
                    && let Some(name) = value.get("name").and_then(Value::as_str)
                {
                    into.insert(name.to_owned());
                }
                referenced_secrets(value, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| referenced_secrets(item, into)),
        _ => {}
    }
}

/// A copy of every connection Secret that a generated object references
/// from a namespace where it does not exist, in that namespace.
pub fn share(generated: &[Resource]) -> Result<Vec<Resource>, GenerateError> {
    let mut secrets_in: BTreeSet<(Option<&str>, &str)> = BTreeSet::new();
    let mut connections: BTreeMap<&str, &Resource> = BTreeMap::new();
    for resource in generated.iter().filter(|r| is_secret(r)) {
        secrets_in.insert((
            resource.path.namespace.as_deref(),
            resource.path.name.as_str(),
        ));
        if is_connection(resource) {
            // NB: the first by path wins, so the source is the same whatever
            // order the generators ran in.
            connections
                .entry(resource.path.name.as_str())
                .and_modify(|kept| {
                    if resource.path < kept.path {
                        *kept = resource;
                    }
                })
                .or_insert(resource);
        }
    }
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for resource in generated.iter().filter(|r| !is_secret(r)) {
        let Some(namespace) = resource.path.namespace.as_deref() else {
            continue;
        };
        let mut names = BTreeSet::new();
        referenced_secrets(&resource.body, &mut names);
        for name in names {
            if connections.contains_key(name.as_str())
                && !secrets_in.contains(&(Some(namespace), name.as_str()))
            {
                wanted.insert((namespace.to_owned(), name));
            }
        }
    }
    wanted
        .into_iter()
        .filter_map(|(namespace, name)| {
            connections
                .get(name.as_str())
                .map(|source| copy(source, &namespace))
        })
        .collect()
}

/// `source` in `namespace`, with its data and type, owned by its app.
fn copy(source: &Resource, namespace: &str) -> Result<Resource, GenerateError> {
    let mut body = source.body.clone();
    if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.remove(HASH_ANNOTATION);
        }
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            for key in [MANAGED_LABEL, APP_LABEL, MANAGED_BY_LABEL] {
                labels.remove(key);
            }
        }
    }
    Resource::from_value(&source.app, body)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::generate::build;

    fn secret(namespace: &str, name: &str, app: &str) -> Resource {
        let mut values = BTreeMap::new();
        values.insert("url".to_owned(), "postgres://app:pw@main-rw/app".to_owned());
        values.insert("password".to_owned(), "pw".to_owned());
        Resource::new(app, &build::secret(namespace, name, values)).unwrap()
    }

    fn deployment(namespace: &str, name: &str, secret: &str) -> Resource {
        Resource::from_value(
            name,
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": { "name": name, "namespace": namespace },
                "spec": { "template": { "spec": { "containers": [{
                    "name": name,
                    "image": "nginx:1.27",
                    "env": [{ "name": "DATABASE_URL", "valueFrom": {
                        "secretKeyRef": { "name": secret, "key": "url" } } }],
                }] } } },
            }),
        )
        .unwrap()
    }

    #[test]
    fn a_referenced_connection_secret_is_copied_into_the_services_namespace() {
        let generated = [
            secret(
                "battery-data",
                "postgres-main-app-connection",
                "postgres-main",
            ),
            deployment("battery-traditional", "web", "postgres-main-app-connection"),
        ];
        let copies = share(&generated).unwrap();
        assert_eq!(copies.len(), 1);
        let copy = &copies[0];
        assert_eq!(copy.path.namespace.as_deref(), Some("battery-traditional"));
        assert_eq!(copy.path.name, "postgres-main-app-connection");
        assert_eq!(copy.app, "postgres-main");
        assert_eq!(copy.body["stringData"], generated[0].body["stringData"]);
        assert_eq!(
            copy.body["metadata"]["labels"][APP_LABEL],
            json!("postgres-main")
        );
        assert_ne!(copy.hash, generated[0].hash, "the namespace is part of it");
    }

    #[test]
    fn nothing_is_copied_without_a_reference_or_where_the_secret_exists() {
        let source = secret("battery-data", "redis-cache-connection", "redis-cache");
        assert_eq!(share(std::slice::from_ref(&source)).unwrap(), []);
        let same_namespace = [
            source.clone(),
            deployment("battery-data", "worker", "redis-cache-connection"),
        ];
        assert_eq!(share(&same_namespace).unwrap(), []);
        let not_a_connection = [
            secret("battery-data", "api-token", "api"),
            deployment("battery-traditional", "web", "api-token"),
        ];
        assert_eq!(share(&not_a_connection).unwrap(), []);
    }

    #[test]
    fn two_services_in_one_namespace_share_one_copy() {
        let generated = [
            deployment("battery-traditional", "b", "redis-cache-connection"),
            secret("battery-data", "redis-cache-connection", "redis-cache"),
            deployment("battery-traditional", "a", "redis-cache-connection"),
        ];
        assert_eq!(share(&generated).unwrap().len(), 1);
    }

    #[test]
    fn connection_secrets_list_names_and_keys_never_values() {
        let generated = [
            secret(
                "battery-data",
                "postgres-main-app-connection",
                "postgres-main",
            ),
            secret(
                "battery-traditional",
                "postgres-main-app-connection",
                "postgres-main",
            ),
            secret("battery-data", "api-token", "api"),
        ];
        let listed = connection_secrets(&generated);
        assert_eq!(
            listed,
            [ConnectionSecret {
                name: "postgres-main-app-connection".to_owned(),
                app: "postgres-main".to_owned(),
                keys: vec!["password".to_owned(), "url".to_owned()],
            }]
        );
        let json = serde_json::to_string(&listed).unwrap();
        assert!(!json.contains("pw"), "{json}");
    }
}
