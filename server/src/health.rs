//! Health endpoints for supervisors and load balancers.
//!
//! `/healthz` answers while the process runs; `/readyz` only when the
//! database answers, every migration is applied and the reconciler runs
//! (not while it waits to start again after a panic). `/readyz` also says
//! how often the reconciler was started again, and when it last panicked
//! (what it said is in the log, not here: `/readyz` is public).

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
    let health = state.reconciler.health();
    let reconciler = json!({
        "running": health.running,
        "restarts": health.restarts,
        "last_panic_at": health.last_panic_at,
    });
    let unready = |reason: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unready",
                "database": backend,
                "reconciler": reconciler,
                "reason": reason,
            })),
        )
    };
    if !health.running {
        return unready(if health.restarts > 0 {
            "the reconciler panicked and starts again shortly (see the log)".to_owned()
        } else {
            "the reconciler is not running".to_owned()
        });
    }
    if let Err(err) = state.db.ping().await {
        tracing::warn!(error = %err, "readiness check: database unreachable");
        return unready("database unreachable".to_owned());
    }
    match state.db.pending_migrations().await {
        Ok(0) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": backend, "reconciler": reconciler })),
        ),
        Ok(pending) => unready(format!("{pending} migration(s) not applied")),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: cannot read migrations");
            unready("cannot read the migration table".to_owned())
        }
    }
}
