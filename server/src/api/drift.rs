//! `/api/v1/drift`: objects changed behind bi's back, as the dashboard and
//! `bi drift` show them; a sweep on demand; a repair; the drift mode.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use bi_api::drift::{DriftMode, DriftView};
use bi_api::snapshots::Requested;

use super::ApiError;
use crate::state::AppState;

/// Open findings, the latest closed ones, the last sweep and the mode.
pub async fn view(State(state): State<AppState>) -> Result<Json<DriftView>, ApiError> {
    let engine = state.reconciler.engine();
    Ok(Json(
        bi_control::drift::view(&state.db, engine.last_sweep()).await?,
    ))
}

/// Sweeps now; answers when the sweep is over, with what it recorded.
pub async fn sweep(State(state): State<AppState>) -> Result<Json<DriftView>, ApiError> {
    state.reconciler.sweep_drift().await?;
    view(State(state)).await
}

/// Queues the snapshot that re-applies every open finding's object.
pub async fn repair(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Requested>), ApiError> {
    let ticket = state.reconciler.repair_drift().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Requested {
            request: ticket.request,
        }),
    ))
}

/// Sets whether sweeps only report (`{"report_only": true}`) or lead to
/// repairs on their own.
pub async fn mode(
    State(state): State<AppState>,
    Json(body): Json<DriftMode>,
) -> Result<Json<DriftView>, ApiError> {
    bi_control::drift::set_report_only(&state.db, body.report_only).await?;
    view(State(state)).await
}
