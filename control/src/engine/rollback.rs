//! Rollback: puts the cluster and the desired state back to what a past
//! snapshot applied.
//!
//! The desired-state version that produced the snapshot is stored again as
//! a new, audited version, and an ordinary snapshot applies it. Generation is
//! deterministic (same state, same stored secrets → same bodies and hashes),
//! so applying the restored state equals re-applying the bodies that snapshot
//! stored, and the next ordinary snapshot finds nothing to change.
//!
//! NB: the stored bodies are never applied directly: their Secret values are
//! placeholders, and applying them would overwrite every real password.

use bi_model::Problems;
use bi_model::Rule;

use super::history;
use super::snapshot::{Engine, SnapshotReport};
use crate::db::Database;
use crate::desired_state;
use crate::error::{Error, Result};

/// Restores the desired state snapshot `snapshot_id` applied as a new
/// version by `author`, then applies it with a snapshot triggered by
/// `rollback`; refused ([`Error::Rejected`]) when there is no such snapshot.
pub async fn rollback(
    engine: &Engine,
    db: &Database,
    snapshot_id: i64,
    author: &str,
) -> Result<SnapshotReport> {
    let Some(version) = history::desired_version(db, snapshot_id).await? else {
        let mut problems = Problems::new();
        problems.push(
            "snapshot",
            Rule::Consistency,
            format!("there is no snapshot {snapshot_id}"),
        );
        return Err(Error::Rejected(problems));
    };
    let restored = desired_state::restore(db, version, author).await?;
    tracing::info!(
        snapshot_id,
        version,
        restored,
        author,
        "rolling back to a snapshot"
    );
    engine.snapshot("rollback").await
}
