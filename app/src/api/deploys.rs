//! Server functions about deploys (snapshots): history, one snapshot, the
//! diff between two, and rollback.

use bi_model::events::OutcomeCounts;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// How many snapshots the history page lists.
pub const HISTORY_LIMIT: u64 = 50;

/// One snapshot as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRow {
    /// Its id.
    pub id: i64,
    /// The desired-state version it applied.
    pub desired_version: i32,
    /// What started it (`startup`, `desired_state`, `rollback`, …).
    pub trigger: String,
    /// `running`, `succeeded`, `failed` or `interrupted`.
    pub status: String,
    /// When it started, readable.
    pub started_at: String,
    /// Outcomes by kind.
    pub counts: OutcomeCounts,
}

/// One planned object of a snapshot and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    /// `apps/v1/Deployment/ns/name`.
    pub path: String,
    /// The planned action.
    pub action: String,
    /// The outcome.
    pub outcome: String,
    /// The API server's message when it failed.
    pub message: Option<String>,
}

/// One snapshot with its outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotView {
    /// The snapshot.
    pub summary: SnapshotRow,
    /// Every planned object.
    pub resources: Vec<OutcomeRow>,
}

/// One field that differs between two snapshots' bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChangeView {
    /// JSON pointer into the body.
    pub pointer: String,
    /// The value before, as JSON text; None when absent.
    pub before: Option<String>,
    /// The value after, as JSON text; None when absent.
    pub after: Option<String>,
}

/// One object changed between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedView {
    /// The object's path.
    pub path: String,
    /// What differs.
    pub fields: Vec<FieldChangeView>,
}

/// What changed from snapshot `from` to snapshot `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffView {
    /// The older side.
    pub from: i64,
    /// The newer side.
    pub to: i64,
    /// Objects only `to` applied.
    pub added: Vec<String>,
    /// Objects only `from` applied.
    pub removed: Vec<String>,
    /// Objects in both with different bodies.
    pub changed: Vec<ChangedView>,
}

/// What a rollback did: the snapshot that applied the restored state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackView {
    /// The snapshot that applied it.
    pub snapshot: i64,
    /// The new desired-state version (the restored one).
    pub desired_version: i32,
}

#[cfg(feature = "ssr")]
fn row(summary: bi_control::engine::history::SnapshotSummary) -> SnapshotRow {
    SnapshotRow {
        id: summary.id,
        desired_version: summary.desired_version,
        trigger: summary.trigger,
        status: summary.status.to_string(),
        started_at: crate::api::readable_time(summary.started_at),
        counts: summary.counts,
    }
}

#[cfg(feature = "ssr")]
fn json_text(value: Option<serde_json::Value>) -> Option<String> {
    value.map(|value| match value {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    })
}

/// The latest snapshots, newest first.
#[server(prefix = "/api", endpoint = "deploys/list")]
pub async fn list_snapshots() -> Result<Vec<SnapshotRow>, AppError> {
    let db = crate::api::database()?;
    Ok(bi_control::engine::history::list(&db, HISTORY_LIMIT)
        .await?
        .into_iter()
        .map(row)
        .collect())
}

/// Snapshot `id` with its plan and outcomes.
#[server(prefix = "/api", endpoint = "deploys/show")]
pub async fn get_snapshot(id: i64) -> Result<SnapshotView, AppError> {
    let db = crate::api::database()?;
    let detail = bi_control::engine::history::show(&db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no snapshot {id}")))?;
    Ok(SnapshotView {
        summary: row(detail.summary),
        resources: detail
            .resources
            .into_iter()
            .map(|resource| OutcomeRow {
                path: resource.path,
                action: resource.action,
                outcome: resource.outcome,
                message: resource.message,
            })
            .collect(),
    })
}

/// What changed from snapshot `from` to snapshot `to`.
#[server(prefix = "/api", endpoint = "deploys/diff")]
pub async fn diff_snapshots(from: i64, to: i64) -> Result<DiffView, AppError> {
    let db = crate::api::database()?;
    let diff = bi_control::engine::history::diff(&db, from, to)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("snapshot {from} or snapshot {to} does not exist"))
        })?;
    Ok(DiffView {
        from,
        to,
        added: diff.added,
        removed: diff.removed,
        changed: diff
            .changed
            .into_iter()
            .map(|changed| ChangedView {
                path: changed.path,
                fields: changed
                    .fields
                    .into_iter()
                    .map(|field| FieldChangeView {
                        pointer: field.pointer,
                        before: json_text(field.before),
                        after: json_text(field.after),
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// Restores the desired state snapshot `id` applied and applies it.
#[server(prefix = "/api", endpoint = "deploys/rollback")]
pub async fn rollback_to(id: i64) -> Result<RollbackView, AppError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    let report =
        bi_control::engine::rollback(reconciler.engine(), &db, id, crate::api::batteries::AUTHOR)
            .await?;
    Ok(RollbackView {
        snapshot: report.id,
        desired_version: report.desired_version,
    })
}
