//! Connection Secrets: what a data object (a PostgreSQL user, a Redis
//! instance, a FerretDB service) publishes for the services that use it
//! (in the data namespace and, by `cloudnative_pg::publish_connection_secrets`,
//! in every namespace where users' services run), listed by name and key
//! for the forms that let a service read one.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// Whether `resource` is a connection Secret (a core Secret whose name ends
/// with [`CONNECTION_SUFFIX`]).
pub fn is_connection(resource: &Resource) -> bool {
    resource.path.api_version == "v1"
        && resource.path.kind == "Secret"
        && resource.path.name.ends_with(CONNECTION_SUFFIX)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::build;

    fn secret(namespace: &str, name: &str, app: &str) -> Resource {
        let mut values = BTreeMap::new();
        values.insert("url".to_owned(), "postgres://app:pw@main-rw/app".to_owned());
        values.insert("password".to_owned(), "pw".to_owned());
        Resource::new(app, &build::secret(namespace, name, values)).unwrap()
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
