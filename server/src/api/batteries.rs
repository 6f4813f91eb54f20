//! `/api/v1/batteries…`: list, show, preview, install, configure and
//! uninstall batteries through `bi_control::operations::batteries`.

use axum::Json;
use axum::extract::{Path, Query, State};
use bi_api::audit::ExpectedVersion;
pub use bi_api::batteries::Settings;
use bi_control::operations::{
    self, BatteryDetail, BatteryStatus, InstallOutcome, InstallPreview, UninstallOutcome,
};
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::input;

use super::{ApiError, Changed};
use crate::auth::Caller;
use crate::state::AppState;

/// The battery an id names; 404 when none does.
fn battery(id: &str) -> Result<BatteryKind, ApiError> {
    id.parse::<BatteryKind>()
        .map_err(|err| ApiError::NotFound(err.to_string()))
}

/// Every catalog battery, with whether it is installed.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<BatteryStatus>>, ApiError> {
    Ok(Json(operations::batteries::list(&state.db).await?))
}

/// One battery in detail.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BatteryDetail>, ApiError> {
    let kind = battery(&id)?;
    Ok(Json(operations::batteries::show(&state.db, kind).await?))
}

/// What installing the battery would do.
pub async fn preview_install(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<InstallPreview>, ApiError> {
    let kind = battery(&id)?;
    Ok(Json(
        operations::batteries::preview_install(&state.db, kind).await?,
    ))
}

/// Installs the battery (and its dependencies) with the settings.
// NB: `expected_version` is not checked: an install is refused anyway when
// the battery is installed, which is the only way it could be stale.
pub async fn install(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Settings>,
) -> Result<Json<InstallOutcome>, ApiError> {
    let kind = battery(&id)?;
    let settings = input::parse_settings(&body.settings)?;
    let config = input::apply_settings(&BatteryConfig::default_for(kind), &settings)?;
    Ok(Json(
        operations::batteries::install(&state.db, &caller.author(), config).await?,
    ))
}

/// Applies the settings to the installed battery.
pub async fn configure(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Settings>,
) -> Result<Json<Changed>, ApiError> {
    let kind = battery(&id)?;
    let settings = input::parse_settings(&body.settings)?;
    let version = operations::batteries::configure(
        &state.db,
        &caller.author(),
        kind,
        &settings,
        body.expected_version,
    )
    .await?;
    Ok(Json(Changed { version }))
}

/// Uninstalls the battery (`?expected_version=N`: refused with 409 when its
/// config changed after version N).
pub async fn uninstall(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ExpectedVersion>,
) -> Result<Json<UninstallOutcome>, ApiError> {
    let kind = battery(&id)?;
    Ok(Json(
        operations::batteries::uninstall(&state.db, &caller.author(), kind, query.expected_version)
            .await?,
    ))
}
