//! History: what the engine did, read back from the database.
//!
//! [`list`] gives the snapshots newest first, [`show`] one snapshot with every
//! planned object and its outcome, and [`diff`] compares what two snapshots
//! left in the cluster resource by resource, down to the fields of the stored
//! bodies (Secret values in those bodies are placeholders).

use std::collections::{BTreeMap, BTreeSet};

pub use bi_api::snapshots::{
    ChangedResource, ResourceOutcomeRow, SnapshotDetail, SnapshotDiff, SnapshotSummary,
};
pub use bi_model::generate::FieldChange;
use bi_model::generate::{field_changes, stage_of};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use super::apply::Outcome;
use super::record;
use super::snapshot::SnapshotStatus;
use crate::db::Database;
use crate::entities::{resource_body, snapshot, snapshot_resource};
use crate::error::{Error, Result, db_error};
use bi_model::events::OutcomeCounts;

/// At most `limit` snapshots, newest first.
pub async fn list(db: &Database, limit: u64) -> Result<Vec<SnapshotSummary>> {
    db.shared(&format!("snapshots/{limit}"), move |db| async move {
        list_now(&db, limit).await
    })
    .await
}

async fn list_now(db: &Database, limit: u64) -> Result<Vec<SnapshotSummary>> {
    let rows = snapshot::Entity::find()
        .order_by_desc(snapshot::Column::Id)
        .limit(limit)
        .all(db.connection())
        .await
        .map_err(db_error("listing snapshots"))?;
    rows.into_iter().map(summary).collect()
}

/// The newest snapshot that succeeded (what the cluster was last brought
/// to), if any.
pub async fn last_succeeded(db: &Database) -> Result<Option<SnapshotSummary>> {
    snapshot::Entity::find()
        .filter(snapshot::Column::Status.eq(SnapshotStatus::Succeeded.as_str()))
        .order_by_desc(snapshot::Column::Id)
        .one(db.connection())
        .await
        .map_err(db_error("finding the last succeeded snapshot"))?
        .map(summary)
        .transpose()
}

/// Snapshot `id` with every planned object and its outcome, if it exists.
pub async fn show(db: &Database, id: i64) -> Result<Option<SnapshotDetail>> {
    let Some(row) = snapshot::Entity::find_by_id(id)
        .one(db.connection())
        .await
        .map_err(db_error("reading a snapshot"))?
    else {
        return Ok(None);
    };
    let mut resources: Vec<ResourceOutcomeRow> = snapshot_resource::Entity::find()
        .filter(snapshot_resource::Column::SnapshotId.eq(id))
        .order_by_asc(snapshot_resource::Column::Id)
        .all(db.connection())
        .await
        .map_err(db_error("reading a snapshot's outcomes"))?
        .into_iter()
        .map(|row| ResourceOutcomeRow {
            path: row.path,
            action: row.action,
            hash: row.hash,
            outcome: row.outcome,
            message: row.message,
        })
        .collect();
    // NB: what it left unchanged has no row: it is in the applied set, and
    // goes back into apply order (stage, then path; deletions last).
    if let Some(set) = &row.applied_set {
        let listed: BTreeSet<String> = resources.iter().map(|r| r.path.clone()).collect();
        for (path, hash) in record::set_entries(db.connection(), set).await? {
            if !listed.contains(&path) {
                resources.push(ResourceOutcomeRow {
                    path,
                    action: UNCHANGED.to_owned(),
                    hash,
                    outcome: UNCHANGED.to_owned(),
                    message: None,
                });
            }
        }
        let (deletions, applied): (Vec<_>, Vec<_>) =
            resources.into_iter().partition(|r| r.action == "delete");
        let mut keyed = Vec::with_capacity(applied.len());
        for row in applied {
            let path = record::parse_path(&row.path)?;
            keyed.push(((stage_of(&path), path), row));
        }
        keyed.sort_by(|(a, _), (b, _)| a.cmp(b));
        resources = keyed
            .into_iter()
            .map(|(_, row)| row)
            .chain(deletions)
            .collect();
    }
    Ok(Some(SnapshotDetail {
        summary: summary(row)?,
        resources,
    }))
}

/// What changed from snapshot `a` to snapshot `b`, comparing the objects
/// each left applied (created, updated or unchanged); None when either
/// snapshot does not exist.
pub async fn diff(db: &Database, a: i64, b: i64) -> Result<Option<SnapshotDiff>> {
    let (Some(before), Some(after)) = (applied(db, a).await?, applied(db, b).await?) else {
        return Ok(None);
    };
    let mut result = SnapshotDiff {
        added: after
            .keys()
            .filter(|path| !before.contains_key(*path))
            .cloned()
            .collect(),
        removed: before
            .keys()
            .filter(|path| !after.contains_key(*path))
            .cloned()
            .collect(),
        changed: Vec::new(),
    };
    let differing: Vec<(&String, &String, &String)> = before
        .iter()
        .filter_map(|(path, old)| {
            after
                .get(path)
                .filter(|new| *new != old)
                .map(|new| (path, old, new))
        })
        .collect();
    let hashes: BTreeSet<String> = differing
        .iter()
        .flat_map(|(_, old, new)| [(*old).clone(), (*new).clone()])
        .collect();
    let bodies = bodies(db, hashes).await?;
    for (path, old, new) in differing {
        let body = |hash: &String| {
            bodies.get(hash).ok_or_else(|| Error::Corrupt {
                what: "resource body",
                reason: format!("{path} refers to hash {hash}, which is not stored"),
            })
        };
        let fields = field_changes(body(old)?, body(new)?);
        // NB: bodies that differ only in their hash annotation are not a change.
        if !fields.is_empty() {
            result.changed.push(ChangedResource {
                path: path.clone(),
                fields,
            });
        }
    }
    Ok(Some(result))
}

/// The action and outcome of an object a snapshot found as desired.
const UNCHANGED: &str = "unchanged";

/// The desired-state version snapshot `id` applied, if it exists.
pub(crate) async fn desired_version(db: &Database, id: i64) -> Result<Option<i32>> {
    snapshot::Entity::find_by_id(id)
        .select_only()
        .column(snapshot::Column::DesiredVersion)
        .into_tuple()
        .one(db.connection())
        .await
        .map_err(db_error("reading a snapshot's desired-state version"))
}

/// The hash of every object snapshot `id` left applied, by path; None when
/// the snapshot does not exist.
async fn applied(db: &Database, id: i64) -> Result<Option<BTreeMap<String, String>>> {
    let Some(row) = snapshot::Entity::find_by_id(id)
        .one(db.connection())
        .await
        .map_err(db_error("reading a snapshot"))?
    else {
        return Ok(None);
    };
    let rows: Vec<(String, Option<String>)> = match &row.applied_set {
        Some(set) => record::set_entries(db.connection(), set).await?,
        // NB: recorded before sets existed: a row per object.
        None => applied_rows(db, id).await?,
    };
    rows.into_iter()
        .map(|(path, hash)| match hash {
            Some(hash) => Ok((path, hash)),
            None => Err(Error::Corrupt {
                what: "snapshot resource",
                reason: format!("{path} in snapshot {id} was applied without a hash"),
            }),
        })
        .collect::<Result<_>>()
        .map(Some)
}

/// The applied objects' rows of snapshot `id`, recorded before sets existed.
async fn applied_rows(db: &Database, id: i64) -> Result<Vec<(String, Option<String>)>> {
    let applied = [Outcome::Created, Outcome::Updated, Outcome::Unchanged].map(|o| o.as_str());
    snapshot_resource::Entity::find()
        .select_only()
        .columns([
            snapshot_resource::Column::Path,
            snapshot_resource::Column::Hash,
        ])
        .filter(snapshot_resource::Column::SnapshotId.eq(id))
        .filter(snapshot_resource::Column::Outcome.is_in(applied))
        .into_tuple()
        .all(db.connection())
        .await
        .map_err(db_error("reading a snapshot's applied objects"))
}

/// The stored bodies of `hashes`, parsed, by hash.
async fn bodies(db: &Database, hashes: BTreeSet<String>) -> Result<BTreeMap<String, Value>> {
    if hashes.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = resource_body::Entity::find()
        .filter(resource_body::Column::Hash.is_in(hashes))
        .all(db.connection())
        .await
        .map_err(db_error("reading stored resource bodies"))?;
    rows.into_iter()
        .map(|row| {
            let body = serde_json::from_str(&row.body).map_err(|err| Error::Corrupt {
                what: "resource body",
                reason: format!("hash {}: {err}", row.hash),
            })?;
            Ok((row.hash, body))
        })
        .collect()
}

/// A `snapshot` row as a summary.
fn summary(row: snapshot::Model) -> Result<SnapshotSummary> {
    let status = match row.status.as_str() {
        "running" => SnapshotStatus::Running,
        "succeeded" => SnapshotStatus::Succeeded,
        "failed" => SnapshotStatus::Failed,
        "waiting" => SnapshotStatus::Waiting,
        "interrupted" => SnapshotStatus::Interrupted,
        other => {
            return Err(Error::Corrupt {
                what: "snapshot status",
                reason: format!("snapshot {}: {other:?} is not a status", row.id),
            });
        }
    };
    let count = |n: i32| usize::try_from(n).unwrap_or(0);
    Ok(SnapshotSummary {
        id: row.id,
        desired_version: row.desired_version,
        trigger: row.trigger,
        status,
        started_at: row.started_at.into(),
        finished_at: row.finished_at.map(Into::into),
        counts: OutcomeCounts {
            created: count(row.created),
            updated: count(row.updated),
            unchanged: count(row.unchanged),
            deleted: count(row.deleted),
            failed: count(row.failed),
            waiting: count(row.skipped),
            held_back: count(row.held_back),
        },
    })
}
