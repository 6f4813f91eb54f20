//! Passwords: argon2id hashes (the crate's defaults: 19 MiB, 2 passes,
//! OWASP's recommendation), computed off the async runtime.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

use crate::error::{Error, Result};

/// Hashes `password` into a PHC string (`$argon2id$v=19$…`).
pub(crate) async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|err| Error::Internal(format!("hashing a password stopped: {err}")))?
}

fn hash_now(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|err| Error::Internal(format!("cannot encode a salt: {err}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| Error::Internal(format!("cannot hash a password: {err}")))
}

/// Whether `password` matches `stored`. With no stored hash (an unknown
/// user) it checks against a dummy one, so the answer takes as long.
pub(crate) async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.as_deref().unwrap_or_else(|| dummy());
        let matches = PasswordHash::new(stored).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        known && matches
    })
    .await
    .unwrap_or(false)
}

/// A hash nobody's password matches, for unknown users.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("no account has this password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into())
            .await
            .unwrap_or_default();
        assert!(stored.starts_with("$argon2id$v=19$"), "{stored}");
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse batterY".into(), Some(stored)).await);
        assert!(!verify("no account has this password".into(), None).await);
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let one = hash("same password!".into()).await.unwrap_or_default();
        let two = hash("same password!".into()).await.unwrap_or_default();
        assert_ne!(one, two);
    }
}
