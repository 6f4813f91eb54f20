//! Who is asking, and what they may do: roles, the signed-in user, accounts
//! and API tokens as the UI, the `/api/v1` routes and the CLI see them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The browser session's cookie.
pub const SESSION_COOKIE: &str = "bi_session";

/// The header bi's pages send their cross-site request forgery token in
/// with every change a script makes (server functions).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The form field bi's HTML forms carry their cross-site request forgery
/// token in.
pub const CSRF_FIELD: &str = "csrf_token";

/// The `<meta>` name under which a page carries its token for the
/// browser's scripts.
pub const CSRF_META: &str = "csrf-token";

/// What an account may do. Each role may do everything the one below it
/// may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything but secrets; changes nothing.
    Viewer,
    /// Changes batteries, projects, services; deploys and rolls back.
    Editor,
    /// Everything, including users, every user's tokens and the server's
    /// settings.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    /// `viewer`, `editor` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not a role: use viewer, editor or admin"))
    }
}

/// Who a route needs: nobody (public), or a signed-in user with at least
/// a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Anyone, signed in or not: health checks, the sign-in page and its form.
    Public,
    /// A signed-in user with at least this role.
    Role(Role),
    /// A viewer, or a scraper with the installation's metrics token
    /// (`/metrics`: what VictoriaMetrics in the cluster sends).
    Scrape,
}

/// How the current request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Credential {
    /// A browser session (cookie).
    Session,
    /// An API token (`Authorization: Bearer`), by its name.
    Token {
        /// The token's name.
        name: String,
    },
    /// The CLI working on the data directory without a server: whoever
    /// may read the data directory owns the installation.
    Local,
}

/// The signed-in user: `GET /api/v1/me`, and what the UI shows and hides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The account's name.
    pub username: String,
    /// What it may do.
    pub role: Role,
    /// How this request proved it.
    pub credential: Credential,
}

impl Me {
    /// Who the audit trail names for a change made by this request:
    /// `alice`, `alice (token ci)` or `local (root)`.
    pub fn author(&self) -> String {
        match &self.credential {
            Credential::Session => self.username.clone(),
            Credential::Token { name } => format!("{} (token {name})", self.username),
            Credential::Local => self.username.clone(),
        }
    }

    /// Whether this user may do what `needed` may.
    pub fn may(&self, needed: Role) -> bool {
        self.role.allows(needed)
    }
}

/// An account as admins see it: never its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The name it signs in with.
    pub username: String,
    /// What it may do.
    pub role: Role,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Until when sign-in is locked after failed attempts.
    pub locked_until: Option<Timestamp>,
    /// When it last signed in.
    pub last_sign_in_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
}

impl AccountView {
    /// `enabled`, `disabled` or `locked until …`, as lists show it.
    pub fn state(&self) -> String {
        match (&self.disabled, &self.locked_until) {
            (true, _) => "disabled".to_owned(),
            (false, Some(until)) => format!("locked until {}", until.readable()),
            (false, None) => "enabled".to_owned(),
        }
    }
}

/// When something was last done, or `never`, as lists show it.
pub fn last(at: Option<&Timestamp>) -> String {
    at.map_or_else(|| "never".to_owned(), Timestamp::readable)
}

/// The body of `POST /api/v1/users`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    /// The name to sign in with: lower-case letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    /// What it may do.
    pub role: Role,
}

/// The body of `PATCH /api/v1/users/{name}`: what to change, each optional.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChange {
    /// A new role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Disable (true) or enable (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// A new password (ends every session of the account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Lift a sign-in lock-out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlock: bool,
}

/// A signed-in user's change of their own password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    /// The password they have now.
    pub current_password: String,
    /// The one they want (12 to 1024 characters).
    pub new_password: String,
}

/// An API token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    /// What `bi tokens revoke` names.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whose it is.
    pub owner: String,
    /// Its first characters (`bi_AbC1…`).
    pub prefix: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl TokenView {
    /// `active`, `expires …` or `revoked …`, as lists show it.
    pub fn state(&self) -> String {
        match (&self.revoked_at, &self.expires_at) {
            (Some(at), _) => format!("revoked {}", at.readable()),
            (None, Some(at)) => format!("expires {}", at.readable()),
            (None, None) => "active".to_owned(),
        }
    }
}

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    /// A name unique among the owner's tokens (1–64 characters).
    pub name: String,
    /// Days until it expires (1–3650); none means it never does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
    /// An admin may create a token for another account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A token just created: the only time its secret is shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// The token: send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// How it is listed from now on.
    pub view: TokenView,
}

/// The body of `POST /api/v1/login`: a password exchanged for a token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// The account's name.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The new token's name (e.g. `cli@laptop`); one of that name is replaced.
    pub token_name: String,
}

/// The body of `POST /api/v1/setup`: the first admin, with the one-time
/// setup token `bi start` printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// The one-time setup token.
    pub setup_token: String,
    /// The first admin's name.
    pub username: String,
    /// Its password (at least 12 characters).
    pub password: String,
}

// NB: by hand, so that a password or token never reaches a log.
impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

// NB: by hand, so that a password or token never reaches a log.
impl fmt::Debug for AccountChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountChange")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("unlock", &self.unlock)
            .finish_non_exhaustive()
    }
}

// NB: by hand, so that a password or token never reaches a log.
impl fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedToken")
            .field("view", &self.view)
            .finish_non_exhaustive()
    }
}

// NB: by hand, so that a password or token never reaches a log.
impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("token_name", &self.token_name)
            .finish_non_exhaustive()
    }
}

// NB: by hand, so that a password or token never reaches a log.
impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

// NB: by hand, so that a password or token never reaches a log.
impl fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password_or_a_token() {
        let secret = "hunter2-hunter2-hunter2";
        let shown = [
            format!(
                "{:?}",
                NewAccount {
                    username: "ann".into(),
                    password: secret.into(),
                    role: Role::Viewer,
                }
            ),
            format!(
                "{:?}",
                AccountChange {
                    password: Some(secret.into()),
                    ..AccountChange::default()
                }
            ),
            format!(
                "{:?}",
                Login {
                    username: "ann".into(),
                    password: secret.into(),
                    token_name: "cli".into(),
                }
            ),
            format!(
                "{:?}",
                Setup {
                    setup_token: secret.into(),
                    username: "ann".into(),
                    password: secret.into(),
                }
            ),
            format!(
                "{:?}",
                PasswordChange {
                    current_password: secret.into(),
                    new_password: secret.into(),
                }
            ),
        ];
        for text in shown {
            assert!(!text.contains(secret), "{text}");
            assert!(text.ends_with(".. }"), "{text}");
        }
    }
}
