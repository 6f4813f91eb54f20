//! `GET /api/v1/status`: what `bi status` shows.

use axum::Json;
use axum::extract::State;
pub use bi_api::status::Status;
use bi_control::engine::history;

use super::ApiError;
use crate::state::AppState;

/// Reads the installation, its batteries, the last snapshot and drift.
pub async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let mut installation = bi_control::installation::overview(&state.db).await?;
    installation.cluster = Some(state.cluster.clone());
    let (desired_version, desired) = bi_control::desired_state::current(&state.db).await?;
    let last_snapshot = history::list(&state.db, 1).await?.into_iter().next();
    let drifted = state
        .reconciler
        .engine()
        .drifted_paths()
        .iter()
        .map(ToString::to_string)
        .collect();
    // NB: the status must answer even when the cluster does not.
    let (health, health_error) =
        match bi_control::health::read(&state.db, state.reconciler.engine().client()).await {
            Ok(health) => (Some(health), None),
            Err(err) => (None, Some(err.to_string())),
        };
    let reach = bi_control::reach::read(&state.db, state.reconciler.engine().client()).await?;
    Ok(Json(Status {
        reach,
        installation,
        batteries: desired.batteries.keys().copied().collect(),
        desired_version,
        last_snapshot,
        drifted,
        health,
        health_error,
    }))
}
