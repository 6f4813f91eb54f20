//! `bi sso …`.

use anyhow::Context;

use super::api::ApiClient;
use crate::api::sso::InitialPassword;

/// `bi sso initial-password`: prints the password (alone on standard
/// output, for scripts) and, on standard error, who it is for.
pub async fn initial_password(api: &ApiClient) -> anyhow::Result<()> {
    let found: InitialPassword = api
        .get("/api/v1/sso/initial-password")
        .await
        .context("while reading the initial password")?;
    eprintln!(
        "the initial password of {} in the realm {} (Keycloak asks for a new one at the first sign-in):",
        found.username, found.realm
    );
    println!("{}", found.password);
    Ok(())
}
