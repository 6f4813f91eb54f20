//! `GET /api/v1/status`: what `bi status` shows.

use axum::Json;
use axum::extract::State;
pub use bi_api::status::Status;
use bi_control::engine::history;

use super::ApiError;
use crate::state::AppState;

/// Reads the installation, its batteries, the last snapshot and drift.
// NB: shared by the requests that arrive while one is read (never older
// than the request): monitoring polls this.
pub async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let reader = state.clone();
    let status = state
        .db
        .shared("status", |_| async move { read(&reader).await })
        .await?;
    Ok(Json(status))
}

async fn read(state: &AppState) -> bi_control::Result<Status> {
    let mut installation = bi_control::installation::overview(&state.db).await?;
    installation.cluster = Some(state.cluster.clone());
    // NB: the cache's memo of the newest desired state: parsed once per
    // version, not at every request.
    let generated = state
        .reconciler
        .engine()
        .cache()
        .generated(&state.db)
        .await?;
    let last_snapshot = history::list(&state.db, 1).await?.into_iter().next();
    let drifted = bi_control::drift::open_path_names(&state.db).await?;
    // NB: the status must answer even when the cluster does not.
    let (health, health_error) =
        match bi_control::health::read(&state.db, state.reconciler.engine().cache()).await {
            Ok(health) => (Some(health), None),
            Err(err) => (None, Some(err.to_string())),
        };
    let reach = bi_control::reach::read(&state.db, state.reconciler.engine().cache()).await?;
    Ok(Status {
        reach,
        installation,
        batteries: generated.state.batteries.keys().copied().collect(),
        desired_version: generated.version,
        last_snapshot,
        drifted,
        health,
        health_error,
    })
}
