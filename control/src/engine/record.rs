//! Record: the snapshot's rows. A `running` row is inserted before anything
//! is applied, with a `planned` row per object it is about to write (so
//! what it writes is in the inventory even if the process dies before the
//! end), and finished with its status, counts, one `snapshot_resource` row
//! per object it wrote, deleted or could not (in place of those), and two
//! references to content-addressed sets: what it left applied (unchanged
//! objects are found there, not in rows) and what bi owns after it (the
//! next plan's inventory). A snapshot that changes nothing adds one row.
//! Applied bodies go to the content-addressed `resource_body` once per hash.

use std::collections::{BTreeMap, BTreeSet};

use bi_model::generate::SECRET_PLACEHOLDER;
use bi_model::generate::{Action, ContentHash, PlanItem, Resource, ResourcePath};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;

use super::apply::Outcome;
use super::snapshot::SnapshotStatus;
use crate::db::Database;
use crate::entities::{inventory_entry, inventory_set, resource_body, snapshot, snapshot_resource};
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

/// The paths bi may have applied and not pruned since: the owned set of
/// the newest finished snapshot, and what every snapshot after it (cut
/// short) was about to write.
// NB: trusting only the last succeeded snapshot leaked every object that a
// later, unfinished snapshot created and a change then removed: on a real
// cluster, where webhooks keep snapshots waiting, that was most of them. A
// path listed here that is no longer in the cluster costs nothing: the plan
// deletes only what it finds.
pub(crate) async fn inventory(db: &Database) -> Result<BTreeSet<ResourcePath>> {
    let latest: Option<(i64, Option<String>)> = snapshot::Entity::find()
        .select_only()
        .columns([snapshot::Column::Id, snapshot::Column::OwnedSet])
        .filter(snapshot::Column::OwnedSet.is_not_null())
        .order_by_desc(snapshot::Column::Id)
        .into_tuple()
        .one(db.connection())
        .await
        .map_err(db_error("finding the newest inventory"))?;
    let Some((after, Some(owned))) = latest else {
        return inventory_of_rows(db).await;
    };
    let mut paths: BTreeSet<String> = set_entries(db.connection(), &owned)
        .await?
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    paths.extend(applied_rows_after(db, after + 1).await?);
    paths.iter().map(|path| parse_path(path)).collect()
}

/// The inventory of a history recorded before sets existed: what the last
/// succeeded snapshot applied and what every snapshot after it applied.
async fn inventory_of_rows(db: &Database) -> Result<BTreeSet<ResourcePath>> {
    let last: Option<i64> = snapshot::Entity::find()
        .select_only()
        .column(snapshot::Column::Id)
        .filter(snapshot::Column::Status.eq(SnapshotStatus::Succeeded.as_str()))
        .order_by_desc(snapshot::Column::Id)
        .into_tuple()
        .one(db.connection())
        .await
        .map_err(db_error("finding the last succeeded snapshot"))?;
    let paths = applied_rows_after(db, last.unwrap_or(0)).await?;
    paths.iter().map(|path| parse_path(path)).collect()
}

/// The paths rows of snapshot `first` and later say were (or were about
/// to be) applied.
async fn applied_rows_after(db: &Database, first: i64) -> Result<Vec<String>> {
    let applied = [
        Outcome::Created.as_str(),
        Outcome::Updated.as_str(),
        Outcome::Unchanged.as_str(),
        PLANNED,
    ];
    snapshot_resource::Entity::find()
        .select_only()
        .column(snapshot_resource::Column::Path)
        .distinct()
        .filter(snapshot_resource::Column::SnapshotId.gte(first))
        .filter(snapshot_resource::Column::Outcome.is_in(applied))
        .into_tuple()
        .all(db.connection())
        .await
        .map_err(db_error("reading the last inventory"))
}

/// The entries of set `hash`: paths with their content hashes.
pub(crate) async fn set_entries(
    conn: &impl ConnectionTrait,
    hash: &str,
) -> Result<Vec<(String, Option<String>)>> {
    inventory_entry::Entity::find()
        .select_only()
        .columns([inventory_entry::Column::Path, inventory_entry::Column::Hash])
        .filter(inventory_entry::Column::SetHash.eq(hash))
        .order_by_asc(inventory_entry::Column::Path)
        .into_tuple()
        .all(conn)
        .await
        .map_err(db_error("reading an inventory set"))
}

/// What the newest snapshot before `before` that finished applying left of
/// `paths`: when it started, and the body it applied to each path its
/// applied set holds (Secret values redacted), by path.
pub(crate) struct LastApplied {
    /// When it started: each object was there from then on.
    pub(crate) started_at: chrono::DateTime<Utc>,
    /// The bodies, by path as displayed.
    pub(crate) bodies: BTreeMap<String, Value>,
}

/// See [`LastApplied`]; None when no snapshot before `before` finished.
pub(crate) async fn last_applied(
    db: &Database,
    before: i64,
    paths: &BTreeSet<String>,
) -> Result<Option<LastApplied>> {
    let newest: Option<(i64, chrono::DateTime<Utc>, Option<String>)> = snapshot::Entity::find()
        .select_only()
        .columns([
            snapshot::Column::Id,
            snapshot::Column::StartedAt,
            snapshot::Column::AppliedSet,
        ])
        .filter(snapshot::Column::Id.lt(before))
        .filter(snapshot::Column::AppliedSet.is_not_null())
        .order_by_desc(snapshot::Column::Id)
        .into_tuple()
        .one(db.connection())
        .await
        .map_err(db_error("finding the last applied set"))?;
    let Some((_, started_at, Some(set))) = newest else {
        return Ok(None);
    };
    let hashes: BTreeMap<String, String> = set_entries(db.connection(), &set)
        .await?
        .into_iter()
        .filter(|(path, _)| paths.contains(path))
        .filter_map(|(path, hash)| Some((path, hash?)))
        .collect();
    let wanted: BTreeSet<&String> = hashes.values().collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let stored: BTreeMap<String, String> = resource_body::Entity::find()
        .filter(resource_body::Column::Hash.is_in(wanted.into_iter().cloned()))
        .all(db.connection())
        .await
        .map_err(db_error("reading stored resource bodies"))?
        .into_iter()
        .map(|row| (row.hash, row.body))
        .collect();
    let mut bodies = BTreeMap::new();
    for (path, hash) in hashes {
        let Some(body) = stored.get(&hash) else {
            continue;
        };
        let body = serde_json::from_str(body).map_err(|err| Error::Corrupt {
            what: "stored resource body",
            reason: err.to_string(),
        })?;
        bodies.insert(path, body);
    }
    Ok(Some(LastApplied { started_at, bodies }))
}

/// Stores the set of `entries` unless it is stored already; returns its hash.
async fn store_set(
    conn: &impl ConnectionTrait,
    entries: &BTreeMap<String, Option<String>>,
) -> Result<String> {
    // NB: named as resource bodies are: the hash of its canonical JSON.
    let listed = serde_json::to_value(entries).map_err(|source| Error::Encode {
        what: "inventory set",
        source,
    })?;
    let hash = ContentHash::of(&listed).to_string();
    let stored = inventory_set::Entity::find_by_id(hash.clone())
        .one(conn)
        .await
        .map_err(db_error("reading an inventory set"))?
        .is_some();
    if stored {
        return Ok(hash);
    }
    inventory_set::ActiveModel {
        hash: Set(hash.clone()),
        entries: Set(i32::try_from(entries.len()).unwrap_or(i32::MAX)),
    }
    .insert(conn)
    .await
    .map_err(db_error("storing an inventory set"))?;
    let rows: Vec<inventory_entry::ActiveModel> = entries
        .iter()
        .map(|(path, content)| inventory_entry::ActiveModel {
            set_hash: Set(hash.clone()),
            path: Set(path.clone()),
            hash: Set(content.clone()),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        inventory_entry::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await
            .map_err(db_error("storing an inventory set"))?;
    }
    Ok(hash)
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
        held_back: Set(0),
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

/// What a snapshot did, as [`finish`] records it.
pub(crate) struct Finished<'a> {
    /// How it ended.
    pub(crate) status: SnapshotStatus,
    /// Objects per outcome.
    pub(crate) counts: &'a OutcomeCounts,
    /// Every planned object and its outcome.
    pub(crate) outcomes: &'a [(PlanItem, Outcome)],
    /// The resources it generated.
    pub(crate) desired: &'a [Resource],
    /// The inventory its plan pruned from.
    pub(crate) inventory: &'a BTreeSet<ResourcePath>,
}

/// Writes the outcomes of what snapshot `id` wrote (or could not), its
/// applied and owned sets, and the bodies applied, and finishes it, in one
/// transaction.
pub(crate) async fn finish(db: &Database, id: i64, finished: Finished<'_>) -> Result<()> {
    let Finished {
        status,
        counts,
        outcomes,
        desired,
        inventory,
    } = finished;
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

    // NB: an object left unchanged gets no row: it is in the applied set,
    // which a snapshot that changes nothing shares with the one before.
    let rows: Vec<snapshot_resource::ActiveModel> = outcomes
        .iter()
        .filter(|(item, _)| item.action != Action::Unchanged)
        .map(|(item, outcome)| outcome_row(id, item, outcome.as_str(), outcome.message()))
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        snapshot_resource::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(db_error("recording snapshot outcomes"))?;
    }

    let applied = store_set(&txn, &applied_entries(outcomes)).await?;
    let owned = store_set(&txn, &owned_entries(status, outcomes, inventory)).await?;

    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    snapshot::ActiveModel {
        id: Set(id),
        status: Set(status.as_str().to_owned()),
        applied_set: Set(Some(applied)),
        owned_set: Set(Some(owned)),
        finished_at: Set(Some(Utc::now())),
        created: Set(count(counts.created)),
        updated: Set(count(counts.updated)),
        unchanged: Set(count(counts.unchanged)),
        deleted: Set(count(counts.deleted)),
        failed: Set(count(counts.failed)),
        // NB: the column predates webhooks: it counted writes not attempted
        // after a failure, which no longer happens.
        skipped: Set(count(counts.waiting)),
        held_back: Set(count(counts.held_back)),
        ..Default::default()
    }
    .update(&txn)
    .await
    .map_err(db_error("finishing a snapshot"))?;
    txn.commit()
        .await
        .map_err(db_error("committing a snapshot"))
}

/// What `outcomes` left applied, with the hashes applied.
fn applied_entries(outcomes: &[(PlanItem, Outcome)]) -> BTreeMap<String, Option<String>> {
    outcomes
        .iter()
        .filter(|(_, outcome)| outcome.is_applied())
        .map(|(item, _)| {
            (
                item.path.to_string(),
                item.hash.as_ref().map(ToString::to_string),
            )
        })
        .collect()
}

/// What bi may have in the cluster after a snapshot that planned from
/// `inventory` and ended with `outcomes`: what it applied when it
/// succeeded (everything else undesired is gone); otherwise also the
/// inventory it started from and every object it tried to update (it was
/// there before), less what it deleted.
fn owned_entries(
    status: SnapshotStatus,
    outcomes: &[(PlanItem, Outcome)],
    inventory: &BTreeSet<ResourcePath>,
) -> BTreeMap<String, Option<String>> {
    let mut owned: BTreeSet<String> = outcomes
        .iter()
        .filter(|(item, outcome)| outcome.is_applied() || item.action == Action::Update)
        .map(|(item, _)| item.path.to_string())
        .collect();
    if status != SnapshotStatus::Succeeded {
        owned.extend(inventory.iter().map(ToString::to_string));
        for (item, outcome) in outcomes {
            if *outcome == Outcome::Deleted {
                owned.remove(&item.path.to_string());
            }
        }
    }
    owned.into_iter().map(|path| (path, None)).collect()
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
        let body = serde_json::to_string(&redacted_resource(resource)).map_err(|source| {
            Error::Encode {
                what: "resource body",
                source,
            }
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

/// `resource`'s body with its secrets replaced by the placeholder: a
/// Secret's values, a Keycloak client's secret.
fn redacted_resource(resource: &Resource) -> Value {
    match bi_model::keycloak::KeycloakPath::of(&resource.path) {
        Some(path) => bi_model::keycloak::redacted(path.kind, &resource.body),
        None => redacted(&resource.body),
    }
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
pub(crate) fn parse_path(text: &str) -> Result<ResourcePath> {
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
