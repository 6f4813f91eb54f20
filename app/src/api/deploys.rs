//! Server functions about deploys (snapshots): history, one snapshot, the
//! diff between two, rollback, and the orphans with their prune.

pub use bi_api::snapshots::{
    OrphansPruned, RollbackDone, SnapshotDetail, SnapshotDiff, SnapshotStatus, SnapshotSummary,
};
use leptos::prelude::*;

use crate::ApiError;

/// How many snapshots the history page lists.
pub const HISTORY_LIMIT: u64 = 50;

/// The latest snapshots, newest first.
#[server(prefix = "/api", endpoint = "deploys/list", client = crate::csrf::Client)]
pub async fn list_snapshots() -> Result<Vec<SnapshotSummary>, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::engine::history::list(&db, HISTORY_LIMIT).await?)
}

/// Snapshot `id` with its plan and outcomes.
#[server(prefix = "/api", endpoint = "deploys/show", client = crate::csrf::Client)]
pub async fn get_snapshot(id: i64) -> Result<SnapshotDetail, ApiError> {
    let db = crate::api::database()?;
    bi_control::engine::history::show(&db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no snapshot {id}")))
}

/// What changed from snapshot `from` to snapshot `to`.
#[server(prefix = "/api", endpoint = "deploys/diff", client = crate::csrf::Client)]
pub async fn diff_snapshots(from: i64, to: i64) -> Result<SnapshotDiff, ApiError> {
    let db = crate::api::database()?;
    bi_control::engine::history::diff(&db, from, to)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("snapshot {from} or snapshot {to} does not exist"))
        })
}

/// Restores the desired state snapshot `id` applied and applies it.
#[server(prefix = "/api", endpoint = "deploys/rollback", client = crate::csrf::Client)]
pub async fn rollback_to(id: i64) -> Result<RollbackDone, ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    let report =
        bi_control::engine::rollback(reconciler.engine(), &db, id, &crate::api::author()?).await?;
    Ok(RollbackDone {
        snapshot: report.id,
        desired_version: report.desired_version,
        status: report.status,
        counts: report.counts,
    })
}

/// The orphans: managed objects in the cluster that no inventory knows
/// (left by another bi or a lost database), by path.
#[server(prefix = "/api", endpoint = "deploys/orphans", client = crate::csrf::Client)]
pub async fn list_orphans() -> Result<Vec<String>, ApiError> {
    let reconciler = crate::api::reconciler()?;
    let preview = reconciler.engine().plan().await?;
    Ok(preview
        .plan
        .orphans
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// Deletes the orphans `paths` names (every orphan when None) with a
/// snapshot of their own.
#[server(prefix = "/api", endpoint = "deploys/prune-orphans", client = crate::csrf::Client)]
pub async fn prune_orphans(paths: Option<Vec<String>>) -> Result<OrphansPruned, ApiError> {
    let reconciler = crate::api::reconciler()?;
    let chosen = bi_control::engine::Orphans::chosen(paths.as_deref())?;
    let report = reconciler.engine().prune_orphans(&chosen).await?;
    let pruned = report.orphans_pruned();
    tracing::info!(
        author = %crate::api::author()?,
        snapshot = pruned.snapshot,
        deleted = ?pruned.deleted,
        "pruned orphans"
    );
    Ok(pruned)
}
