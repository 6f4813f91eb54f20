//! Single Sign-On's Keycloak: `GET /api/v1/sso` (its users and clients),
//! `POST /api/v1/sso/users` and `POST /api/v1/sso/users/{username}` (an
//! admin's changes to users there), and
//! `GET /api/v1/sso/initial-password`: the password bi gave the first
//! administrator, to be changed at their first sign-in, for the CLI only
//! (`bi sso initial-password`): a secret never goes to a browser, so a
//! browser session is refused.

use axum::Json;
use axum::extract::{Path, State};
use bi_api::auth::Credential;
pub use bi_api::sso::{NewSsoUser, SsoUserChange, SsoView};
use bi_model::catalog::{BatteryConfig, BatteryKind};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// The first administrator's initial credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialPassword {
    /// Their username in Keycloak.
    pub username: String,
    /// The password bi set; Keycloak asks for a new one at the first sign-in.
    pub password: String,
    /// The realm they sign in to.
    pub realm: String,
}

/// The initial password of the first administrator.
pub async fn initial_password(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<InitialPassword>, ApiError> {
    if caller.0.me.credential == Credential::Session {
        return Err(ApiError::Forbidden(
            "secrets are not shown in a browser: run `bi sso initial-password`".to_owned(),
        ));
    }
    let (_, desired) = bi_control::desired_state::current(&state.db).await?;
    let Some(BatteryConfig::Sso(sso)) = desired.batteries.get(&BatteryKind::Sso) else {
        return Err(ApiError::NotFound(
            "Single Sign-On is not installed: `bi batteries install sso`".to_owned(),
        ));
    };
    let username = sso.admin_username.as_str().to_owned();
    let secrets = bi_control::desired_state::secrets(&state.db).await?;
    let Some(password) = secrets.get(&bi_model::keycloak::initial_password_key(&username)) else {
        return Err(ApiError::NotFound(
            "the initial password is not stored yet: wait for the next snapshot".to_owned(),
        ));
    };
    tracing::info!(author = %caller.author(), username, "handed out SSO's initial password");
    Ok(Json(InitialPassword {
        username,
        password: password.to_owned(),
        realm: bi_model::catalog::sso::REALM.to_owned(),
    }))
}

/// The realm's users and clients as Keycloak holds them now.
pub async fn view(State(state): State<AppState>) -> Result<Json<SsoView>, ApiError> {
    let access = state.reconciler.engine().settings().keycloak.clone();
    Ok(Json(bi_control::sso::view(&state.db, &access).await?))
}

/// Adds a user with a temporary password and a bi role.
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(user): Json<NewSsoUser>,
) -> Result<Json<SsoView>, ApiError> {
    let access = state.reconciler.engine().settings().keycloak.clone();
    let username = user.username.clone();
    bi_control::sso::create_user(&state.db, &access, user).await?;
    tracing::info!(author = %caller.author(), %username, "single sign-on user added");
    Ok(Json(bi_control::sso::view(&state.db, &access).await?))
}

/// Enables, disables, resets the password of, or sets the role of a user.
pub async fn change_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    Json(change): Json<SsoUserChange>,
) -> Result<Json<SsoView>, ApiError> {
    let access = state.reconciler.engine().settings().keycloak.clone();
    bi_control::sso::change_user(&state.db, &access, &username, change).await?;
    tracing::info!(author = %caller.author(), %username, "single sign-on user changed");
    Ok(Json(bi_control::sso::view(&state.db, &access).await?))
}
