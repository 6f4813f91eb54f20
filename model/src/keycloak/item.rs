//! One object bi keeps in Keycloak, as its Admin REST API (Keycloak 26)
//! represents it: what the engine will compare, apply and record, like a
//! Kubernetes resource.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::generate::{ContentHash, SECRET_PLACEHOLDER};

/// What kind of Keycloak object, in the order they must be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeycloakKind {
    /// A realm (`RealmRepresentation`).
    Realm,
    /// A group in a realm (`GroupRepresentation`).
    Group,
    /// An OIDC client in a realm (`ClientRepresentation`).
    Client,
    /// A required action of a realm (`RequiredActionProviderRepresentation`):
    /// every realm has them; bi sets whether new users must take one.
    RequiredAction,
    /// A user in a realm (`UserRepresentation`).
    User,
}

impl KeycloakKind {
    /// Its identifier in paths: `realm`, `group`, `client`, `user`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Realm => "realm",
            Self::Group => "group",
            Self::Client => "client",
            Self::RequiredAction => "required-action",
            Self::User => "user",
        }
    }
}

/// Where an item lives: `keycloak/client/batterycore/bi-grafana`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeycloakPath {
    /// Its kind.
    pub kind: KeycloakKind,
    /// Its realm (a realm's own name for a realm).
    pub realm: String,
    /// Its name: the realm's, the group's, the client id, the username.
    pub name: String,
}

impl fmt::Display for KeycloakPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            KeycloakKind::Realm => write!(f, "keycloak/realm/{}", self.name),
            kind => write!(f, "keycloak/{}/{}/{}", kind.id(), self.realm, self.name),
        }
    }
}

/// One desired Keycloak object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeycloakItem {
    /// Where it lives.
    pub path: KeycloakPath,
    /// What it belongs to (a battery id), as `battery/app` for resources.
    pub app: String,
    /// The representation sent to Keycloak, secrets included when they
    /// were read from the store.
    pub body: Value,
    /// JSON pointers of the secret values in `body`.
    pub secret_fields: Vec<String>,
    /// The hash of the body with its secrets as placeholders: equal hash,
    /// no write; and nothing secret in what history keeps.
    pub hash: ContentHash,
}

impl KeycloakItem {
    /// An item whose secrets sit at `secret_fields` (JSON pointers).
    pub fn new(path: KeycloakPath, app: &str, body: Value, secret_fields: &[&str]) -> Self {
        let secret_fields: Vec<String> = secret_fields.iter().map(|p| (*p).to_owned()).collect();
        let mut item = Self {
            path,
            app: app.to_owned(),
            body,
            secret_fields,
            hash: ContentHash::of(&Value::Null),
        };
        item.hash = ContentHash::of(&item.redacted());
        item
    }

    /// The body with every secret replaced by the placeholder: what is
    /// shown, diffed and recorded.
    pub fn redacted(&self) -> Value {
        let mut body = self.body.clone();
        for pointer in &self.secret_fields {
            if let Some(value) = body.pointer_mut(pointer) {
                *value = Value::String(SECRET_PLACEHOLDER.to_owned());
            }
        }
        body
    }
}
