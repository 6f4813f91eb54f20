//! Health endpoints for supervisors and load balancers.
//!
//! `/healthz` answers while the process runs; `/readyz` only when the
//! database answers and every migration is applied.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when the database is reachable and migrated, else 503
/// with the reason.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.db.backend().to_string();
    let unready = |reason: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unready", "database": backend, "reason": reason })),
        )
    };
    if let Err(err) = state.db.ping().await {
        tracing::warn!(error = %err, "readiness check: database unreachable");
        return unready("database unreachable".to_owned());
    }
    match state.db.pending_migrations().await {
        Ok(0) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": backend })),
        ),
        Ok(pending) => unready(format!("{pending} migration(s) not applied")),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: cannot read migrations");
            unready("cannot read the migration table".to_owned())
        }
    }
}
