//! Single Sign-On's Keycloak as the SSO page and `bi sso …` show it: the
//! realm's users (with the bi role their groups give) and its clients, read
//! live from Keycloak's Admin REST API; and the changes an admin makes to
//! users there.

use serde::{Deserialize, Serialize};

use crate::auth::Role;

/// The realm as Keycloak holds it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoView {
    /// The realm (`batterycore`).
    pub realm: String,
    /// Where a browser opens Keycloak (its account and admin console), if
    /// anywhere.
    pub browser_url: Option<String>,
    /// Why Keycloak could not be read, when it could not (not installed,
    /// starting, unreachable); users and clients are then empty.
    pub problem: Option<String>,
    /// Its users, by username.
    pub users: Vec<SsoUser>,
    /// Its OIDC clients, by client id.
    pub clients: Vec<SsoClient>,
}

/// One user of the realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoUser {
    /// Their username.
    pub username: String,
    /// Their email, if any.
    pub email: Option<String>,
    /// Whether they may sign in.
    pub enabled: bool,
    /// The role bi gives them: their highest of bi's groups; None outside them.
    pub role: Option<Role>,
    /// Every group they are in.
    pub groups: Vec<String>,
    /// What Keycloak asks of them at their next sign-in (`UPDATE_PASSWORD`, …).
    pub required_actions: Vec<String>,
    /// bi created them (the first administrator).
    pub managed: bool,
}

/// One OIDC client of the realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoClient {
    /// Its client id (`bi-grafana`).
    pub client_id: String,
    /// Its display name.
    pub name: Option<String>,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Where it may send people back to.
    pub redirect_uris: Vec<String>,
    /// bi keeps it (its `bi.managed` marker).
    pub managed: bool,
}

/// A user an admin adds: `POST /api/v1/sso/users`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSsoUser {
    /// Their username: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
    pub username: String,
    /// Their email, if any.
    #[serde(default)]
    pub email: Option<String>,
    /// The bi role (its group), or None for a user of the other UIs only.
    #[serde(default)]
    pub role: Option<Role>,
    /// A temporary password (at least 12 characters): Keycloak asks for a
    /// new one at their first sign-in.
    pub password: String,
}

impl std::fmt::Debug for NewSsoUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSsoUser")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A change to one user: `POST /api/v1/sso/users/{username}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum SsoUserChange {
    /// Let them sign in again.
    Enable,
    /// Stop them signing in (everywhere SSO protects).
    Disable,
    /// A new temporary password, to be changed at their next sign-in.
    ResetPassword {
        /// At least 12 characters.
        password: String,
    },
    /// Their bi role: into that group of bi's and out of the others; None
    /// takes them out of all three.
    SetRole {
        /// The role.
        role: Option<Role>,
    },
}

impl std::fmt::Debug for SsoUserChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Enable => f.write_str("Enable"),
            Self::Disable => f.write_str("Disable"),
            Self::ResetPassword { .. } => f.write_str("ResetPassword(<redacted>)"),
            Self::SetRole { role } => f.debug_struct("SetRole").field("role", role).finish(),
        }
    }
}
