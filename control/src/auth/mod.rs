//! Who may use bi: local accounts with argon2id passwords and a role,
//! browser sessions, and API tokens for the CLI and scripts.
//!
//! - [`accounts`]: create, list, change and remove accounts; the first
//!   admin; sign-in with lock-out after repeated failures.
//! - [`sessions`]: a browser's sign-in, behind an HttpOnly cookie.
//! - [`tokens`]: `Authorization: Bearer` tokens, shown once.
//!
//! Every secret (a session's cookie, a token) is 256 random bits from the
//! OS; only its SHA-256 is stored, so a copy of the database signs nobody
//! in. Passwords are stored as argon2id PHC strings. None of them is ever
//! logged: [`Secret`]'s and the hash's `Debug` print `<redacted>`.

pub mod accounts;
mod password;
pub mod remembered;
pub mod scrape;
pub mod sessions;
pub mod tokens;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use bi_api::auth::{Credential, Me, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// An authenticated caller: an account (none for the local operator) and
/// what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account's key; none for [`Principal::local`].
    pub account_id: Option<i64>,
    /// Who it is, as clients see it.
    pub me: Me,
}

impl Principal {
    /// Whoever runs the CLI on the data directory without a server: they
    /// can read and write the database file, so they own the installation.
    /// The audit trail names them `local (<OS user>)`.
    pub fn local(os_user: &str) -> Self {
        Self {
            account_id: None,
            me: Me {
                username: format!("local ({os_user})"),
                role: Role::Admin,
                credential: Credential::Local,
            },
        }
    }

    /// Who the audit trail names for a change made by this caller.
    pub fn author(&self) -> String {
        self.me.author()
    }

    /// Refused with [`Error::Forbidden`] unless the role allows `needed`.
    pub fn require(&self, needed: Role) -> Result<()> {
        if self.me.may(needed) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} is a {}: this needs the {needed} role",
                self.me.username, self.me.role
            )))
        }
    }
}

/// The session cookie a request came with (the guard puts it in the
/// request's extensions, so nothing after it parses the cookies again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie(pub Secret);

/// A secret bi hands out once (a session cookie, an API token). Its `Debug`
/// never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A new secret: `prefix` and 256 random bits, base64url.
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A secret a client sent.
    pub fn from_client(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The secret itself, to hand to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored instead: the SHA-256 in hex.
    fn digest(&self) -> String {
        digest(&self.0)
    }

    /// The cross-site request forgery token of the browser holding this
    /// secret in a cookie: what bi's pages echo back with every change
    /// ([`bi_api::auth::CSRF_HEADER`] or the form field
    /// [`bi_api::auth::CSRF_FIELD`]). Derived, so nothing more is stored;
    /// another site can neither read nor compute it, and it tells nothing
    /// about the secret or its stored digest.
    pub fn csrf_token(&self) -> String {
        digest(&format!("bi-csrf:{}", self.0))
    }

    /// Whether `offered` is [`Secret::csrf_token`], compared in constant time.
    pub fn csrf_matches(&self, offered: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.csrf_token()
            .as_bytes()
            .ct_eq(offered.as_bytes())
            .into()
    }

    /// A new random secret for a browser that has no session yet: the
    /// sign-in and set-up forms' cookie, so they carry a token too.
    pub fn for_form() -> Self {
        Self::generate("")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The SHA-256 of `text`, in hex.
fn digest(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The one-time token that lets whoever holds it create the first admin,
/// while no account exists. `bi start` prints a link with it.
#[derive(Clone, PartialEq, Eq)]
pub struct SetupToken(Secret);

impl SetupToken {
    /// A new random setup token. It starts with `setup_`: a bare random
    /// one can start with `-`, which `bi setup --token <token>` would
    /// take for an option.
    pub fn generate() -> Self {
        Self(Secret::generate("setup_"))
    }

    /// A token the operator chose (`BI_SETUP_TOKEN`, or a Kubernetes Secret
    /// in the cluster); refused when shorter than 16 characters.
    pub fn chosen(text: &str) -> Result<Self> {
        if text.chars().count() < 16 {
            let mut problems = bi_model::Problems::new();
            problems.push(
                "setup_token",
                bi_model::Rule::Range,
                "a setup token needs at least 16 characters",
            );
            return Err(Error::Rejected(problems));
        }
        Ok(Self(Secret::from_client(text)))
    }

    /// The token, to print once.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Whether `offered` is this token, compared in constant time.
    pub fn matches(&self, offered: &str) -> bool {
        use subtle::ConstantTimeEq;
        let ours = digest(self.0.expose());
        let theirs = digest(offered);
        ours.as_bytes().ct_eq(theirs.as_bytes()).into()
    }
}

impl fmt::Debug for SetupToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetupToken(<redacted>)")
    }
}

/// A moment, as the auth functions take it.
pub type Now = chrono::DateTime<chrono::Utc>;

/// Now, for callers that do not depend on chrono themselves.
pub fn now() -> Now {
    chrono::Utc::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_setup_token_never_reads_as_a_command_line_option() {
        for _ in 0..500 {
            let token = SetupToken::generate();
            assert!(
                token.expose().starts_with("setup_"),
                "{} would be taken for an option by `bi setup --token`",
                token.expose()
            );
            assert!(token.expose().len() > 16);
        }
    }
}
