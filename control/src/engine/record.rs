//! Record: the snapshot's rows. A `running` row is inserted before anything
//! is applied, with a `planned` row per object it is about to write (so
//! what it writes is in the inventory even if the process dies before the
//! end), and finished with its status, counts and one `snapshot_resource`
//! row per planned object in place of those; applied bodies go to the
//! content-addressed `resource_body` once per hash.

use std::collections::{BTreeMap, BTreeSet};

use bi_model::generate::SECRET_PLACEHOLDER;
use bi_model::generate::{Action, PlanItem, Resource, ResourcePath};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;

use super::apply::Outcome;
use super::snapshot::SnapshotStatus;
use crate::db::Database;
use crate::entities::{resource_body, snapshot, snapshot_resource};
use crate::error::{Error, Result, db_error};
use bi_model::events::OutcomeCounts;

/// Rows per multi-row insert (well under SQLite's bound-parameter limit).
const INSERT_CHUNK: usize = 200;

/// Marks every snapshot left `running` by a previous process as `interrupted`;
/// returns how many there were.
pub(crate) async fn mark_interrupted(db: &Database) -> Result<u64> {
    let result = snapshot::Entity::update_many()
        .col_expr(
            snapshot::Column::Status,
            SnapshotStatus::Interrupted.as_str().into(),
        )
        .filter(snapshot::Column::Status.eq(SnapshotStatus::Running.as_str()))
        .exec(db.connection())
        .await
        .map_err(db_error("marking interrupted snapshots"))?;
    Ok(result.rows_affected)
}

/// The paths bi may have applied and not pruned since: what the last
/// succeeded snapshot created, updated or found unchanged, and what every
/// snapshot after it (failed, or waiting for a webhook) applied.
// NB: trusting only the last succeeded snapshot leaked every object that a
// later, unfinished snapshot created and a change then removed: on a real
// cluster, where webhooks keep snapshots waiting, that was most of them. A
// path listed here that is no longer in the cluster costs nothing: the plan
// deletes only what it finds.
pub(crate) async fn inventory(db: &Database) -> Result<BTreeSet<ResourcePath>> {
    let last: Option<i64> = snapshot::Entity::find()
        .select_only()
        .column(snapshot::Column::Id)
        .filter(snapshot::Column::Status.eq(SnapshotStatus::Succeeded.as_str()))
        .order_by_desc(snapshot::Column::Id)
        .into_tuple()
        .one(db.connection())
        .await
        .map_err(db_error("finding the last succeeded snapshot"))?;
    let applied = [
        Outcome::Created.as_str(),
        Outcome::Updated.as_str(),
        Outcome::Unchanged.as_str(),
        PLANNED,
    ];
    let paths: Vec<String> = snapshot_resource::Entity::find()
        .select_only()
        .column(snapshot_resource::Column::Path)
        .distinct()
        .filter(snapshot_resource::Column::SnapshotId.gte(last.unwrap_or(0)))
        .filter(snapshot_resource::Column::Outcome.is_in(applied))
        .into_tuple()
        .all(db.connection())
        .await
        .map_err(db_error("reading the last inventory"))?;
    paths.iter().map(|path| parse_path(path)).collect()
}

/// Inserts a `running` snapshot of desired-state `version`; returns its id.
pub(crate) async fn start(
    db: &Database,
    version: i32,
    trigger: &str,
    plan: &[PlanItem],
) -> Result<i64> {
    let txn = db.begin_write().await?;
    let row = snapshot::ActiveModel {
        desired_version: Set(version),
        trigger: Set(trigger.to_owned()),
        status: Set(SnapshotStatus::Running.as_str().to_owned()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        created: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        deleted: Set(0),
        failed: Set(0),
        skipped: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(db_error("starting a snapshot"))?;
    // NB: written before anything is applied: a process killed while it
    // applies leaves these, and the inventory counts them, so what it may
    // have created is pruned once it is no longer desired.
    let rows: Vec<snapshot_resource::ActiveModel> = plan
        .iter()
        .filter(|item| matches!(item.action, Action::Create | Action::Update))
        .map(|item| outcome_row(row.id, item, PLANNED, None))
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        snapshot_resource::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(db_error("recording what a snapshot is about to write"))?;
    }
    txn.commit()
        .await
        .map_err(db_error("starting a snapshot"))?;
    Ok(row.id)
}

/// The outcome of an object a snapshot was about to write when its process
/// ended: it may or may not be in the cluster.
pub(crate) const PLANNED: &str = "planned";

/// Writes every outcome and the bodies applied, and finishes snapshot `id`
/// with `status` and `counts`, in one transaction.
pub(crate) async fn finish(
    db: &Database,
    id: i64,
    status: SnapshotStatus,
    counts: &OutcomeCounts,
    outcomes: &[(PlanItem, Outcome)],
    desired: &[Resource],
) -> Result<()> {
    let txn = db.begin_write().await?;
    store_bodies(&txn, desired).await?;
    snapshot_resource::Entity::delete_many()
        .filter(snapshot_resource::Column::SnapshotId.eq(id))
        .filter(snapshot_resource::Column::Outcome.eq(PLANNED))
        .exec(&txn)
        .await
        .map_err(db_error(
            "replacing what a snapshot planned with its outcomes",
        ))?;

    let rows: Vec<snapshot_resource::ActiveModel> = outcomes
        .iter()
        .map(|(item, outcome)| outcome_row(id, item, outcome.as_str(), outcome.message()))
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        snapshot_resource::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(db_error("recording snapshot outcomes"))?;
    }

    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    snapshot::ActiveModel {
        id: Set(id),
        status: Set(status.as_str().to_owned()),
        finished_at: Set(Some(Utc::now())),
        created: Set(count(counts.created)),
        updated: Set(count(counts.updated)),
        unchanged: Set(count(counts.unchanged)),
        deleted: Set(count(counts.deleted)),
        failed: Set(count(counts.failed)),
        // NB: the column predates webhooks: it counted writes not attempted
        // after a failure, which no longer happens.
        skipped: Set(count(counts.waiting)),
        ..Default::default()
    }
    .update(&txn)
    .await
    .map_err(db_error("finishing a snapshot"))?;
    txn.commit()
        .await
        .map_err(db_error("committing a snapshot"))
}

/// The `snapshot_resource` row of `item` in snapshot `id`.
fn outcome_row(
    id: i64,
    item: &PlanItem,
    outcome: &str,
    message: Option<&str>,
) -> snapshot_resource::ActiveModel {
    snapshot_resource::ActiveModel {
        snapshot_id: Set(id),
        path: Set(item.path.to_string()),
        action: Set(action_name(item.action).to_owned()),
        hash: Set(item.hash.as_ref().map(ToString::to_string)),
        outcome: Set(outcome.to_owned()),
        message: Set(message.map(str::to_owned)),
        ..Default::default()
    }
}

/// Inserts the bodies whose hash is not stored yet.
async fn store_bodies(conn: &impl ConnectionTrait, desired: &[Resource]) -> Result<()> {
    let mut wanted: BTreeMap<String, &Resource> = BTreeMap::new();
    for resource in desired {
        wanted.entry(resource.hash.to_string()).or_insert(resource);
    }
    let mut stored = BTreeSet::new();
    let hashes: Vec<String> = wanted.keys().cloned().collect();
    for chunk in hashes.chunks(INSERT_CHUNK) {
        let found: Vec<String> = resource_body::Entity::find()
            .select_only()
            .column(resource_body::Column::Hash)
            .filter(resource_body::Column::Hash.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(conn)
            .await
            .map_err(db_error("reading stored resource bodies"))?;
        stored.extend(found);
    }
    let mut rows = Vec::new();
    for (hash, resource) in wanted
        .into_iter()
        .filter(|(hash, _)| !stored.contains(hash))
    {
        let body =
            serde_json::to_string(&redacted(&resource.body)).map_err(|source| Error::Encode {
                what: "resource body",
                source,
            })?;
        rows.push(resource_body::ActiveModel {
            hash: Set(hash),
            body: Set(body),
        });
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        resource_body::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await
            .map_err(db_error("storing resource bodies"))?;
    }
    Ok(())
}

/// `body` with a Secret's values replaced by the placeholder.
// NB: the values already live in `stored_secret`; a second copy in every
// snapshot's history would only widen what a database dump leaks.
fn redacted(body: &Value) -> Value {
    let mut body = body.clone();
    if body.get("kind").and_then(Value::as_str) == Some("Secret") {
        for field in ["data", "stringData"] {
            if let Some(values) = body.get_mut(field).and_then(Value::as_object_mut) {
                for value in values.values_mut() {
                    *value = Value::String(SECRET_PLACEHOLDER.to_owned());
                }
            }
        }
    }
    body
}

/// The name stored in `snapshot_resource.action`.
fn action_name(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::Delete => "delete",
    }
}

/// Reads a `ResourcePath` back from its display form,
/// `apiVersion/kind[/namespace]/name`, where `apiVersion` is `v1` or
/// `group/version`.
fn parse_path(text: &str) -> Result<ResourcePath> {
    let corrupt = || Error::Corrupt {
        what: "snapshot resource path",
        reason: format!("{text:?} is not apiVersion/kind[/namespace]/name"),
    };
    let parts: Vec<&str> = text.split('/').collect();
    // NB: kinds start upper-case and versions lower-case, which tells a core
    // `v1/Kind/…` from a grouped `group/v1/Kind/…`.
    let kind_at = match parts.get(1) {
        Some(part) if part.starts_with(|c: char| c.is_ascii_uppercase()) => 1,
        Some(_) => 2,
        None => return Err(corrupt()),
    };
    let api_version = parts[..kind_at].join("/");
    match &parts[kind_at..] {
        [kind, name] => Ok(ResourcePath::new(&api_version, kind, None, name)),
        [kind, namespace, name] => Ok(ResourcePath::new(&api_version, kind, Some(namespace), name)),
        _ => Err(corrupt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displayed_paths_parse_back() {
        for path in [
            ResourcePath::new("v1", "Namespace", None, "battery-base"),
            ResourcePath::new("v1", "ConfigMap", Some("battery-base"), "settings"),
            ResourcePath::new(
                "apps/v1",
                "Deployment",
                Some("battery-base"),
                "redis-operator",
            ),
            ResourcePath::new("rbac.authorization.k8s.io/v1", "ClusterRole", None, "redis"),
        ] {
            assert_eq!(parse_path(&path.to_string()).ok(), Some(path));
        }
        assert!(parse_path("v1").is_err());
        assert!(parse_path("apps/v1/Deployment/a/b/c").is_err());
    }

    #[test]
    fn secret_values_are_redacted() {
        let body = serde_json::json!({ "kind": "Secret", "data": { "password": "c2VjcmV0" } });
        assert_eq!(redacted(&body)["data"]["password"], SECRET_PLACEHOLDER);
        let map = serde_json::json!({ "kind": "ConfigMap", "data": { "a": "1" } });
        assert_eq!(redacted(&map), map);
    }
}
