//! Retention: a history that stays bounded.
//!
//! A snapshot is removed once it is neither among the newest
//! `keep_snapshots` nor younger than `keep_days` (either keeps it), unless
//! the engine still needs it: the newest snapshot with an inventory and
//! every snapshot after it (what they were about to write counts in the
//! next plan's inventory), and the newest succeeded snapshot of each
//! desired-state version, so every state the history shows as applied can
//! still be rolled back to. Its rows go with it; inventory sets and
//! resource bodies no remaining snapshot refers to are reaped.
//!
//! The engine prunes on its own after a snapshot, at most once per
//! `prune_every`; `bi deploys prune` and `POST /api/v1/snapshots/prune` prune now.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub use bi_api::snapshots::{PruneReport, PruneRequest};

use super::snapshot::SnapshotStatus;
use crate::db::Database;
use crate::entities::{snapshot, snapshot_resource};
use crate::error::{Result, db_error};

/// How much history the engine keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep at least the newest this many snapshots.
    pub keep_snapshots: u64,
    /// Keep at least every snapshot younger than this many days.
    pub keep_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_snapshots: 500,
            keep_days: 30,
        }
    }
}

impl Retention {
    /// This retention with the limits `request` sets.
    pub fn overridden_by(self, request: &PruneRequest) -> Retention {
        Retention {
            keep_snapshots: request.keep_snapshots.unwrap_or(self.keep_snapshots),
            keep_days: request.keep_days.unwrap_or(self.keep_days),
        }
    }
}

/// Ids per `IN (…)` list (well under SQLite's bound-parameter limit).
const ID_CHUNK: usize = 500;

/// A snapshot's columns retention reads: id, version, status, start, owned set.
type Columns = (i64, i32, String, DateTime<Utc>, Option<String>);

/// One snapshot as retention sees it.
struct Listed {
    id: i64,
    version: i32,
    status: String,
    started_at: DateTime<Utc>,
    owned_set: Option<String>,
}

/// The snapshots `retention` lets go at `now`, oldest first, and how many stay.
async fn doomed(
    db: &Database,
    retention: Retention,
    now: DateTime<Utc>,
) -> Result<(Vec<i64>, u64)> {
    let rows: Vec<Columns> = snapshot::Entity::find()
        .select_only()
        .columns([
            snapshot::Column::Id,
            snapshot::Column::DesiredVersion,
            snapshot::Column::Status,
            snapshot::Column::StartedAt,
            snapshot::Column::OwnedSet,
        ])
        .order_by_desc(snapshot::Column::Id)
        .into_tuple()
        .all(db.connection())
        .await
        .map_err(db_error("listing snapshots to prune"))?;
    let listed: Vec<Listed> = rows
        .into_iter()
        .map(|(id, version, status, started_at, owned_set)| Listed {
            id,
            version,
            status,
            started_at,
            owned_set,
        })
        .collect();
    let cutoff = now - chrono::Duration::days(i64::from(retention.keep_days));
    let succeeded = SnapshotStatus::Succeeded.as_str();
    // NB: the inventory starts at the newest owned set; a history recorded
    // before sets existed starts it at the last succeeded snapshot, and one
    // with neither reads every snapshot.
    let anchor = listed
        .iter()
        .find(|s| s.owned_set.is_some())
        .or_else(|| listed.iter().find(|s| s.status == succeeded))
        .map_or(i64::MIN, |s| s.id);
    let mut versions = BTreeSet::new();
    let mut keep = BTreeSet::new();
    for (position, s) in listed.iter().enumerate() {
        let newest = u64::try_from(position).unwrap_or(u64::MAX) < retention.keep_snapshots;
        let rollback_target = s.status == succeeded && versions.insert(s.version);
        if newest || s.started_at >= cutoff || s.id >= anchor || rollback_target {
            keep.insert(s.id);
        }
    }
    let mut doomed: Vec<i64> = listed
        .iter()
        .map(|s| s.id)
        .filter(|id| !keep.contains(id))
        .collect();
    doomed.reverse();
    Ok((doomed, keep.len() as u64))
}

/// Removes the snapshots `retention` lets go at `now` (only counts them
/// when `dry_run`), then reaps unreferenced sets and bodies.
pub(crate) async fn prune(
    db: &Database,
    retention: Retention,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PruneReport> {
    let (doomed, kept) = doomed(db, retention, now).await?;
    let mut report = PruneReport {
        snapshots: doomed.len() as u64,
        kept,
        dry_run,
        ..PruneReport::default()
    };
    if dry_run {
        for chunk in doomed.chunks(ID_CHUNK) {
            report.rows += snapshot_resource::Entity::find()
                .filter(snapshot_resource::Column::SnapshotId.is_in(chunk.iter().copied()))
                .count(db.connection())
                .await
                .map_err(db_error("counting the rows of snapshots to prune"))?;
        }
        return Ok(report);
    }
    let txn = db.begin_write().await?;
    for chunk in doomed.chunks(ID_CHUNK) {
        report.rows += snapshot_resource::Entity::delete_many()
            .filter(snapshot_resource::Column::SnapshotId.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await
            .map_err(db_error("pruning snapshot rows"))?
            .rows_affected;
        snapshot::Entity::delete_many()
            .filter(snapshot::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await
            .map_err(db_error("pruning snapshots"))?;
    }
    // NB: a set's entries go with it (ON DELETE CASCADE).
    report.sets = txn
        .execute_unprepared(
            "DELETE FROM inventory_set \
             WHERE hash NOT IN (SELECT applied_set FROM snapshot WHERE applied_set IS NOT NULL) \
             AND hash NOT IN (SELECT owned_set FROM snapshot WHERE owned_set IS NOT NULL)",
        )
        .await
        .map_err(db_error("reaping inventory sets"))?
        .rows_affected();
    report.bodies = txn
        .execute_unprepared(
            "DELETE FROM resource_body \
             WHERE hash NOT IN (SELECT hash FROM snapshot_resource WHERE hash IS NOT NULL) \
             AND hash NOT IN (SELECT hash FROM inventory_entry WHERE hash IS NOT NULL)",
        )
        .await
        .map_err(db_error("reaping resource bodies"))?
        .rows_affected();
    txn.commit()
        .await
        .map_err(db_error("committing a history prune"))?;
    if report.snapshots + report.sets + report.bodies > 0 {
        tracing::info!(
            snapshots = report.snapshots,
            rows = report.rows,
            sets = report.sets,
            bodies = report.bodies,
            kept = report.kept,
            "pruned the snapshot history"
        );
    }
    Ok(report)
}
