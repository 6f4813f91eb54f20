//! Server functions of the Single Sign-On page (admins only, by
//! [`super::ACCESS`]): Keycloak's users and clients, and changes to users.

pub use bi_api::auth::Role;
pub use bi_api::sso::{NewSsoUser, SsoClient, SsoUser, SsoUserChange, SsoView};
use leptos::prelude::*;

use crate::ApiError;

/// The realm's users and clients, read from Keycloak now.
#[server(prefix = "/api", endpoint = "sso/view", client = crate::csrf::Client)]
pub async fn read_sso() -> Result<SsoView, ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    let access = reconciler.engine().settings().keycloak.clone();
    Ok(bi_control::sso::view(&db, &access).await?)
}

/// Adds a user to the realm with a temporary password and a bi role.
#[server(prefix = "/api", endpoint = "sso/create-user", client = crate::csrf::Client)]
pub async fn sso_create_user(user: NewSsoUser) -> Result<(), ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    let by = crate::api::author()?;
    let access = reconciler.engine().settings().keycloak.clone();
    let username = user.username.clone();
    bi_control::sso::create_user(&db, &access, user).await?;
    tracing::info!(%by, %username, "single sign-on user added");
    Ok(())
}

/// Enables, disables, resets the password of, or sets the role of a user.
#[server(prefix = "/api", endpoint = "sso/change-user", client = crate::csrf::Client)]
pub async fn sso_change_user(username: String, change: SsoUserChange) -> Result<(), ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    let by = crate::api::author()?;
    let access = reconciler.engine().settings().keycloak.clone();
    bi_control::sso::change_user(&db, &access, &username, change).await?;
    tracing::info!(%by, %username, "single sign-on user changed");
    Ok(())
}
