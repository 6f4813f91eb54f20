//! `GET /api/v1/sso/initial-password`: the password bi gave Single
//! Sign-On's first administrator in Keycloak, to be changed at their first
//! sign-in. For the CLI only (`bi sso initial-password`): a secret never goes
//! to a browser, so a browser session is refused.

use axum::Json;
use axum::extract::State;
use bi_api::auth::Credential;
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
