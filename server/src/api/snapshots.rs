//! `/api/v1/plan`, `/api/v1/snapshots…` and `/api/v1/rollback`: what the
//! engine would do, asking it to run, its history, and rollback.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use bi_api::snapshots::{
    DiffQuery, ListQuery, OrphanPrune, OrphansPruned, PlanPreview, PruneReport, PruneRequest,
    Requested, RollbackDone, RollbackRequest, SnapshotDetail, SnapshotDiff, SnapshotSummary,
};
use bi_control::engine::{Orphans, history};

use super::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// How many snapshots a list shows unless asked otherwise.
const DEFAULT_LIMIT: u64 = 20;

/// What a snapshot would do now.
pub async fn plan(State(state): State<AppState>) -> Result<Json<PlanPreview>, ApiError> {
    Ok(Json(state.reconciler.engine().plan().await?))
}

/// Queues a snapshot; 202 with the request number.
pub async fn request(State(state): State<AppState>) -> (StatusCode, Json<Requested>) {
    let ticket = state.reconciler.request("manual");
    (
        StatusCode::ACCEPTED,
        Json(Requested {
            request: ticket.request,
        }),
    )
}

/// The newest snapshots.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<SnapshotSummary>>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    Ok(Json(history::list(&state.db, limit).await?))
}

/// One snapshot with every planned object and its outcome.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<SnapshotDetail>, ApiError> {
    history::show(&state.db, id)
        .await?
        .map(Json)
        .ok_or_else(|| no_snapshot(id))
}

/// What changed in the cluster from snapshot `a` to `b`.
pub async fn diff(
    State(state): State<AppState>,
    Query(query): Query<DiffQuery>,
) -> Result<Json<SnapshotDiff>, ApiError> {
    for id in [query.a, query.b] {
        if history::show(&state.db, id).await?.is_none() {
            return Err(no_snapshot(id));
        }
    }
    history::diff(&state.db, query.a, query.b)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no diff between snapshots {} and {}",
                query.a, query.b
            ))
        })
}

/// Restores the desired state a snapshot applied and applies it.
pub async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RollbackRequest>,
) -> Result<Json<RollbackDone>, ApiError> {
    if history::show(&state.db, body.snapshot).await?.is_none() {
        return Err(no_snapshot(body.snapshot));
    }
    let report = bi_control::engine::rollback(
        state.reconciler.engine(),
        &state.db,
        body.snapshot,
        &caller.author(),
    )
    .await?;
    Ok(Json(RollbackDone {
        snapshot: report.id,
        desired_version: report.desired_version,
        status: report.status,
        counts: report.counts,
    }))
}

/// The orphans: managed objects in the cluster that no inventory knows.
pub async fn orphans(State(state): State<AppState>) -> Result<Json<Vec<String>>, ApiError> {
    let preview = state.reconciler.engine().plan().await?;
    Ok(Json(
        preview
            .plan
            .orphans
            .iter()
            .map(ToString::to_string)
            .collect(),
    ))
}

/// Deletes the orphans named (all of them when none are), with a snapshot
/// of their own (trigger `prune-orphans`).
pub async fn prune_orphans(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<OrphanPrune>,
) -> Result<Json<OrphansPruned>, ApiError> {
    let chosen = Orphans::chosen(body.paths.as_deref())?;
    let report = state.reconciler.engine().prune_orphans(&chosen).await?;
    let pruned = report.orphans_pruned();
    tracing::info!(author = %caller.author(), snapshot = pruned.snapshot, deleted = ?pruned.deleted, "pruned orphans");
    Ok(Json(pruned))
}

/// Prunes the snapshot history to the server's retention, or to the
/// limits in the body; a dry run only counts.
pub async fn prune_history(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PruneRequest>,
) -> Result<Json<PruneReport>, ApiError> {
    let engine = state.reconciler.engine();
    let retention = engine.settings().retention.overridden_by(&body);
    let report = engine.prune_history(retention, body.dry_run).await?;
    tracing::info!(author = %caller.author(), ?report, "history prune asked for");
    Ok(Json(report))
}

fn no_snapshot(id: i64) -> ApiError {
    ApiError::NotFound(format!(
        "there is no snapshot {id}; `bi deploys list` shows them"
    ))
}
