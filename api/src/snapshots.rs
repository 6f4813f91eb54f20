//! The engine's history as clients see it: snapshots, one snapshot's
//! outcomes, the diff between two, plans, snapshot requests and rollbacks.

use bi_model::events::OutcomeCounts;
use bi_model::generate::{FieldChange, Plan};
use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// Where a snapshot stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotStatus {
    /// Applying now.
    Running,
    /// Every object is as desired.
    Succeeded,
    /// Some objects were refused (the rest was applied).
    Failed,
    /// Nothing was refused, but some objects wait for an admission webhook
    /// that cannot answer yet; the reconciler retries soon.
    Waiting,
    /// The process stopped while it was running.
    Interrupted,
}

impl SnapshotStatus {
    /// The name stored in `snapshot.status` and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Waiting => "waiting",
            Self::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One snapshot as listed: what ran, why, how it ended and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSummary {
    /// The `snapshot` row.
    pub id: i64,
    /// The desired-state version applied.
    pub desired_version: i32,
    /// What started it (`startup`, `desired_state`, `rollback`, …).
    pub trigger: String,
    /// How it ended (or that it is still running).
    pub status: SnapshotStatus,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished; None while running or if interrupted.
    pub finished_at: Option<Timestamp>,
    /// Outcomes by kind.
    pub counts: OutcomeCounts,
}

/// One planned object of a snapshot and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceOutcomeRow {
    /// The object's path as displayed (`apps/v1/Deployment/ns/name`).
    pub path: String,
    /// The planned action: `create`, `update`, `unchanged` or `delete`.
    pub action: String,
    /// The desired content hash; None for deletions.
    pub hash: Option<String>,
    /// `created`, `updated`, `unchanged`, `deleted`, `failed` or `waiting`.
    pub outcome: String,
    /// The API server's message when it failed.
    pub message: Option<String>,
}

/// One snapshot with its plan and outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotDetail {
    /// The snapshot itself.
    pub summary: SnapshotSummary,
    /// Every planned object, in apply order.
    pub resources: Vec<ResourceOutcomeRow>,
}

/// An object both snapshots applied, with different bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedResource {
    /// The object's path as displayed.
    pub path: String,
    /// Every field that differs, in key order.
    pub fields: Vec<FieldChange>,
}

/// What changed in the cluster from one snapshot to another.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotDiff {
    /// Paths only the second snapshot applied.
    pub added: Vec<String>,
    /// Paths only the first snapshot applied.
    pub removed: Vec<String>,
    /// Paths both applied with different bodies.
    pub changed: Vec<ChangedResource>,
}

/// What a snapshot would do now, without doing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanPreview {
    /// The desired-state version planned.
    pub desired_version: i32,
    /// The plan against the cluster as it is now.
    pub plan: Plan,
}

/// A queued snapshot request: follow it on `/api/v1/events` until a
/// `snapshot_started` lists this number and its snapshot finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    /// The request's number.
    pub request: u64,
}

/// The query of the snapshot list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// At most this many, newest first.
    pub limit: Option<u64>,
}

/// The query of a diff: from snapshot `a` to snapshot `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffQuery {
    /// The earlier snapshot.
    pub a: i64,
    /// The later snapshot.
    pub b: i64,
}

/// The body of a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    /// The snapshot whose desired state is restored.
    pub snapshot: i64,
}

/// What a rollback did: the snapshot that applied the restored state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackDone {
    /// The snapshot that applied it.
    pub snapshot: i64,
    /// The new desired-state version (a copy of the restored one).
    pub desired_version: i32,
    /// How that snapshot ended.
    pub status: SnapshotStatus,
    /// Outcomes by kind.
    pub counts: OutcomeCounts,
}

/// The body of a history prune: how much history to keep, or the server's
/// retention settings where a field is left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneRequest {
    /// Keep at least the newest this many snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_snapshots: Option<u64>,
    /// Keep at least every snapshot younger than this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_days: Option<u32>,
    /// Only say what would go.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a history prune removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Snapshots removed.
    pub snapshots: u64,
    /// Their per-object rows.
    pub rows: u64,
    /// Inventory sets no snapshot refers to any more (not counted in a dry run).
    pub sets: u64,
    /// Resource bodies no snapshot refers to any more (not counted in a dry run).
    pub bodies: u64,
    /// Snapshots kept.
    pub kept: u64,
    /// Nothing was removed: this is what would go.
    pub dry_run: bool,
}

/// The body of an orphan prune: which orphans to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanPrune {
    /// Their paths (`apps/v1/Deployment/ns/name`, as listed); none: every
    /// orphan there is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
}

/// What an orphan prune did: the snapshot that deleted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphansPruned {
    /// The snapshot that ran.
    pub snapshot: i64,
    /// How it ended.
    pub status: SnapshotStatus,
    /// The orphans it deleted.
    pub deleted: Vec<String>,
    /// Orphans the cluster refused to delete, with its message.
    pub refused: Vec<ResourceOutcomeRow>,
}
