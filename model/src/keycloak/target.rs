//! Keycloak items as the engine plans them: each becomes a [`Resource`]
//! under the pseudo API version `keycloak/v26`
//! (`keycloak/v26/Client/batterycore/bi-grafana`), so the plan, the
//! history, the diff and rollback treat both targets alike; and the pure
//! rules the engine reads Keycloak's answers with: bi's marker attributes,
//! redaction, and which fields drifted.

use serde_json::{Map, Value};

use super::item::{KeycloakItem, KeycloakKind, KeycloakPath};
use crate::generate::{
    ContentHash, Context, GenerateError, Observed, Resource, ResourcePath, SECRET_PLACEHOLDER,
};

/// The pseudo API version of every Keycloak item's path.
pub const API_VERSION: &str = "keycloak/v26";
/// The pseudo API group: `ResourcePath::group()` of a Keycloak item.
pub const GROUP: &str = "keycloak";
/// The attribute marking what bi created (`"true"`): only that is deleted.
pub const MANAGED_ATTRIBUTE: &str = "bi.managed";
/// The attribute holding the item's content hash, as `battery/hash` does.
pub const HASH_ATTRIBUTE: &str = "bi.hash";

impl KeycloakKind {
    /// Its kind in paths: `Realm`, `Group`, `Client`, `RequiredAction`, `User`.
    pub fn resource_kind(self) -> &'static str {
        match self {
            Self::Realm => "Realm",
            Self::Group => "Group",
            Self::Client => "Client",
            Self::RequiredAction => "RequiredAction",
            Self::User => "User",
        }
    }

    /// The kind named `kind` in a path.
    pub fn from_resource_kind(kind: &str) -> Option<Self> {
        [
            Self::Realm,
            Self::Group,
            Self::Client,
            Self::RequiredAction,
            Self::User,
        ]
        .into_iter()
        .find(|k| k.resource_kind() == kind)
    }

    /// The JSON pointers of secret values in its representation.
    pub fn secret_pointers(self) -> &'static [&'static str] {
        match self {
            Self::Client => &["/secret"],
            Self::User => &["/credentials"],
            Self::Realm | Self::Group | Self::RequiredAction => &[],
        }
    }

    /// Whether its `attributes` hold lists of strings (groups, users) rather
    /// than strings (realms, clients).
    fn list_attributes(self) -> bool {
        matches!(self, Self::Group | Self::User)
    }

    /// Whether it can carry bi's marker attributes. A required action
    /// cannot (it is the realm's, and bi's when the realm is), nor can a
    /// user: Keycloak's user profile refuses attributes it does not declare.
    pub fn has_attributes(self) -> bool {
        !matches!(self, Self::RequiredAction | Self::User)
    }

    /// The fields of its representation that only its creation sets: a
    /// user's initial password, required actions and groups, which the
    /// user and the realm's administrators change afterwards.
    pub fn create_only(self) -> &'static [&'static str] {
        match self {
            Self::User => &["credentials", "requiredActions", "groups"],
            _ => &[],
        }
    }
}

impl KeycloakPath {
    /// Its path in the plan: `keycloak/v26/Client/batterycore/bi-grafana`,
    /// `keycloak/v26/Realm/batterycore`.
    pub fn resource_path(&self) -> ResourcePath {
        let realm = (self.kind != KeycloakKind::Realm).then_some(self.realm.as_str());
        ResourcePath::new(API_VERSION, self.kind.resource_kind(), realm, &self.name)
    }

    /// The Keycloak item at `path`, or None when `path` is a Kubernetes object's.
    pub fn of(path: &ResourcePath) -> Option<Self> {
        if path.api_version != API_VERSION {
            return None;
        }
        let kind = KeycloakKind::from_resource_kind(&path.kind)?;
        let realm = match kind {
            KeycloakKind::Realm => path.name.clone(),
            _ => path.namespace.clone()?,
        };
        Some(Self {
            kind,
            realm,
            name: path.name.clone(),
        })
    }
}

/// Whether `path` is a Keycloak item's.
pub fn is_keycloak(path: &ResourcePath) -> bool {
    path.api_version == API_VERSION
}

impl KeycloakItem {
    /// The item as the engine plans it; its body keeps its secrets (they
    /// are sent to Keycloak), its hash does not.
    pub fn resource(&self) -> Resource {
        Resource {
            path: self.path.resource_path(),
            app: self.app.clone(),
            body: self.body.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// Every Keycloak item of the desired state, as the engine plans them.
pub fn resources(ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    Ok(super::generate(ctx)?
        .iter()
        .map(KeycloakItem::resource)
        .collect())
}

/// `body` of the item of `kind` with its secrets as placeholders: what
/// history keeps and the browser sees.
pub fn redacted(kind: KeycloakKind, body: &Value) -> Value {
    let mut body = body.clone();
    for pointer in kind.secret_pointers() {
        if let Some(value) = body.pointer_mut(pointer) {
            *value = Value::String(SECRET_PLACEHOLDER.to_owned());
        }
    }
    body
}

/// `body` without the fields only a creation sets: what an update sends
/// and the drift sweep compares.
pub fn kept(kind: KeycloakKind, body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        for field in kind.create_only() {
            object.remove(*field);
        }
    }
    body
}

/// `body` as sent to Keycloak: with bi's marker and hash among its
/// attributes (in the attribute shape of its kind).
pub fn marked(kind: KeycloakKind, body: &Value, hash: &ContentHash) -> Value {
    let mut body = body.clone();
    if !kind.has_attributes() {
        return body;
    }
    let Some(object) = body.as_object_mut() else {
        return body;
    };
    let attributes = object
        .entry("attributes")
        .or_insert_with(|| Value::Object(Map::new()));
    if !attributes.is_object() {
        *attributes = Value::Object(Map::new());
    }
    if let Some(attributes) = attributes.as_object_mut() {
        for (key, value) in [(MANAGED_ATTRIBUTE, "true"), (HASH_ATTRIBUTE, hash.as_str())] {
            let value = Value::String(value.to_owned());
            let value = if kind.list_attributes() {
                Value::Array(vec![value])
            } else {
                value
            };
            attributes.insert(key.to_owned(), value);
        }
    }
    body
}

/// An attribute of `live` as Keycloak returns it (a string, or the first of
/// a list of strings).
fn attribute<'a>(live: &'a Value, key: &str) -> Option<&'a str> {
    match live.get("attributes")?.get(key)? {
        Value::String(value) => Some(value),
        Value::Array(values) => values.first()?.as_str(),
        _ => None,
    }
}

/// What the plan needs of an item Keycloak holds at `path`: whether bi
/// created it (its marker) and the hash bi last wrote. `desired` is bi's
/// item at that path, if any: an item with no room for attributes (a
/// required action) counts as unchanged when every field bi sets holds.
pub fn observed(path: &KeycloakPath, live: &Value, desired: Option<&Resource>) -> Observed {
    let (managed, hash) = if path.kind.has_attributes() {
        let managed = attribute(live, MANAGED_ATTRIBUTE) == Some("true");
        let hash = attribute(live, HASH_ATTRIBUTE)
            .and_then(|hash| serde_json::from_value(Value::String(hash.to_owned())).ok());
        (managed, hash)
    } else {
        let hash = desired
            .filter(|resource| drifted(&kept(path.kind, &resource.body), live).is_empty())
            .map(|resource| resource.hash.clone());
        (true, hash)
    };
    Observed {
        path: path.resource_path(),
        managed,
        hash,
        owned: false,
    }
}

/// The fields of `desired` that `live` does not hold (JSON pointers into
/// `desired`): what the drift sweep reports. Only fields bi sets count;
/// lists of strings compare as sets (Keycloak keeps redirect URIs as a
/// set), lists of objects match by `name` or `alias` (protocol mappers,
/// required actions), and a secret Keycloak does not return is not
/// compared.
pub fn drifted(desired: &Value, live: &Value) -> Vec<String> {
    let mut fields = Vec::new();
    compare("", desired, Some(live), &mut fields);
    fields.sort();
    fields
}

fn compare(pointer: &str, desired: &Value, live: Option<&Value>, fields: &mut Vec<String>) {
    let Some(live) = live else {
        if pointer != "/secret" {
            fields.push(pointer.to_owned());
        }
        return;
    };
    match (desired, live) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let at = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                compare(&at, value, have.get(key), fields);
            }
        }
        (Value::Array(want), Value::Array(have)) if want.iter().all(Value::is_object) => {
            for (index, element) in want.iter().enumerate() {
                let key = ["name", "alias"]
                    .into_iter()
                    .find_map(|key| element.get(key).map(|value| (key, value)));
                let found = match key {
                    Some((key, value)) => have.iter().find(|h| h.get(key) == Some(value)),
                    None => have.get(index),
                };
                compare(&format!("{pointer}/{index}"), element, found, fields);
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            let mut want: Vec<String> = want.iter().map(Value::to_string).collect();
            let mut have: Vec<String> = have.iter().map(Value::to_string).collect();
            want.sort();
            want.dedup();
            have.sort();
            have.dedup();
            if want != have {
                fields.push(pointer.to_owned());
            }
        }
        (want, have) if want != have => fields.push(pointer.to_owned()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn client_path() -> KeycloakPath {
        KeycloakPath {
            kind: KeycloakKind::Client,
            realm: "batterycore".to_owned(),
            name: "bi-grafana".to_owned(),
        }
    }

    #[test]
    fn paths_go_both_ways_and_read_like_resource_paths() {
        let path = client_path();
        let resource = path.resource_path();
        assert_eq!(
            resource.to_string(),
            "keycloak/v26/Client/batterycore/bi-grafana"
        );
        assert_eq!(resource.group(), GROUP);
        assert_eq!(KeycloakPath::of(&resource), Some(path));
        let realm = KeycloakPath {
            kind: KeycloakKind::Realm,
            realm: "batterycore".to_owned(),
            name: "batterycore".to_owned(),
        };
        assert_eq!(
            realm.resource_path().to_string(),
            "keycloak/v26/Realm/batterycore"
        );
        assert_eq!(KeycloakPath::of(&realm.resource_path()), Some(realm));
        assert_eq!(
            KeycloakPath::of(&ResourcePath::new("v1", "Secret", Some("a"), "b")),
            None
        );
    }

    #[test]
    fn markers_take_the_attribute_shape_of_the_kind_and_read_back() {
        let hash = ContentHash::of(&json!({"a": 1}));
        let client = marked(
            KeycloakKind::Client,
            &json!({"clientId": "x", "attributes": {"pkce.code.challenge.method": "S256"}}),
            &hash,
        );
        assert_eq!(client["attributes"][MANAGED_ATTRIBUTE], "true");
        assert_eq!(client["attributes"]["pkce.code.challenge.method"], "S256");
        let group = marked(KeycloakKind::Group, &json!({"name": "g"}), &hash);
        assert_eq!(group["attributes"][HASH_ATTRIBUTE], json!([hash.as_str()]));
        let seen = observed(&client_path(), &client, None);
        assert!(seen.managed);
        assert_eq!(seen.hash, Some(hash));
        let foreign = observed(&client_path(), &json!({"clientId": "x"}), None);
        assert!(!foreign.managed && foreign.hash.is_none());
    }

    #[test]
    fn only_fields_bi_sets_drift_and_sets_compare_as_sets() {
        let desired = json!({
            "enabled": true,
            "secret": "s",
            "redirectUris": ["https://a/cb", "https://b/cb"],
            "protocolMappers": [{"name": "groups", "config": {"claim.name": "groups"}}],
        });
        let live = json!({
            "id": "4f1c", "enabled": true,
            "redirectUris": ["https://b/cb", "https://a/cb"],
            "protocolMappers": [
                {"id": "1", "name": "other"},
                {"id": "2", "name": "groups", "config": {"claim.name": "groups", "x": "y"}},
            ],
        });
        assert!(
            drifted(&desired, &live).is_empty(),
            "{:?}",
            drifted(&desired, &live)
        );
        let edited = json!({
            "enabled": false, "secret": "t",
            "redirectUris": ["https://a/cb", "https://evil/cb"],
            "protocolMappers": [],
        });
        assert_eq!(
            drifted(&desired, &edited),
            ["/enabled", "/protocolMappers/0", "/redirectUris", "/secret"]
        );
    }

    #[test]
    fn secrets_are_placeholders_in_what_is_kept() {
        let body = json!({"clientId": "x", "secret": "t0p"});
        assert_eq!(
            redacted(KeycloakKind::Client, &body)["secret"],
            SECRET_PLACEHOLDER
        );
        assert_eq!(redacted(KeycloakKind::Group, &body)["secret"], "t0p");
    }
}
