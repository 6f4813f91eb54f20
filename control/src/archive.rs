//! The archive of deleted objects, and undelete.
//!
//! Every object bi manages that is deleted leaves its last body here, with
//! who deleted it:
//! - bi: before a snapshot deletes an object (its battery or user object
//!   was removed), the engine reads it afresh and archives it
//!   ([`Archive::before_delete`], [`Archive::deleted`]);
//! - anyone else: the timeline's recorder follows the managed kinds in the
//!   cluster cache and archives a managed object whose deletion bi did not
//!   make ([`Archive::seen_deleted`]).
//!
//! The deleted object's uid is unique in the table, so bi's deletion and
//! the watch that sees it make one row.
//!
//! Undelete ([`undelete`]) restores an archived object: one bi still wants
//! is created by a snapshot, as bi generates it now; one bi no longer wants
//! is created from its last body without bi's labels (so no snapshot ever
//! deletes it again) and marked `battery/undeleted`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use bi_model::generate::{APP_LABEL, HASH_ANNOTATION, MANAGED_LABEL, ResourcePath};
use chrono::{DateTime, Utc};
use kube::api::{Api, DynamicObject, PostParams};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::Value;

use crate::cache::{Cache, CachedKind};
use crate::db::Database;
use crate::entities::deleted_object::{self, Entity as Deleted};
use crate::error::{Error, Result, db_error};
use crate::reconciler::Reconciler;

pub use bi_api::timeline::{DeletedDetail, DeletedList, DeletedObject, Undeleted};

/// How many archived objects the list shows, newest first.
pub const SHOWN: u64 = 500;

/// The label an undeleted object carries: bi restored it and no longer
/// manages it.
pub const UNDELETED_LABEL: &str = "battery/undeleted";

/// `deleted_by` of an object a snapshot deleted.
pub const BY_BI: &str = "bi";
/// `deleted_by` of an object deleted by anyone but bi.
pub const OUTSIDE_BI: &str = "outside bi";
/// `deleted_by` of an object deleted by anyone but bi while no watch saw
/// it go (bi was stopped, or its watch was listing again): a snapshot
/// found it missing.
pub const UNSEEN: &str = "outside bi, found missing";

/// The archive: the database, and the deletions bi has under way (by uid,
/// with their snapshot), so that the watch seeing one knows it was bi's.
#[derive(Debug, Clone)]
pub struct Archive {
    db: Database,
    pending: Arc<Mutex<HashMap<String, i64>>>,
}

impl Archive {
    /// The archive in `db`.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            pending: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Snapshot `snapshot` is about to delete `object` (as just read):
    /// a watch that sees it go counts it as bi's.
    pub fn before_delete(&self, object: &DynamicObject, snapshot: i64) {
        if let Some(uid) = &object.metadata.uid {
            self.pending().insert(uid.clone(), snapshot);
        }
    }

    /// Snapshot `snapshot` deleted `object` (its body as read before the
    /// delete): archived unless the watch did it first.
    pub async fn deleted(&self, path: &ResourcePath, object: &DynamicObject, snapshot: i64) {
        if let Err(err) = record(&self.db, path, object, Some(snapshot), Utc::now()).await {
            tracing::warn!(%path, error = %err, "could not archive a deleted object");
        }
        // NB: archived under its uid: a watch that sees it go later finds
        // the row and adds nothing.
        self.delete_failed(object);
    }

    /// A snapshot's delete of `object` failed (or it is archived already):
    /// a watch seeing it go later is not told it was bi's.
    pub fn delete_failed(&self, object: &DynamicObject) {
        if let Some(uid) = &object.metadata.uid {
            self.pending().remove(uid);
        }
    }

    /// A watch saw the managed `object` of `kind` deleted: archived as bi's
    /// when a snapshot was deleting it, else as someone else's. The new
    /// row, or None when it was archived already.
    pub async fn seen_deleted(
        &self,
        kind: &CachedKind,
        object: &DynamicObject,
    ) -> Result<Option<deleted_object::Model>> {
        let Some(uid) = object.metadata.uid.clone() else {
            return Ok(None);
        };
        let snapshot = self.pending().remove(&uid);
        let Some(name) = object.metadata.name.as_deref() else {
            return Ok(None);
        };
        let path = ResourcePath::new(
            &kind.api_version,
            &kind.kind,
            object.metadata.namespace.as_deref(),
            name,
        );
        record(&self.db, &path, object, snapshot, Utc::now()).await
    }
}

/// Snapshot `snapshot`, which began to look at the cluster at `found`,
/// created again objects bi had applied (`bodies`: the body it last applied
/// to each, by path, in a snapshot that started at `since`): someone
/// deleted them while no watch saw it. Archives each whose deletion is not
/// archived since, as deleted outside bi (at `found`, the one time known)
/// and restored by `snapshot`; the new rows.
pub async fn unseen(
    db: &Database,
    snapshot: i64,
    found: DateTime<Utc>,
    since: DateTime<Utc>,
    bodies: std::collections::BTreeMap<String, Value>,
) -> Result<Vec<deleted_object::Model>> {
    let mut rows = Vec::new();
    for (path, body) in bodies {
        let archived = Deleted::find()
            .filter(deleted_object::Column::Path.eq(path.as_str()))
            .filter(deleted_object::Column::DeletedAt.gte(since))
            .one(db.connection())
            .await
            .map_err(db_error("reading the archive"))?;
        if archived.is_some() {
            continue;
        }
        let app = body
            .pointer("/metadata/labels")
            .and_then(|labels| labels.get(APP_LABEL))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let row = deleted_object::ActiveModel {
            // NB: the object's uid went with it; one row per snapshot and path.
            uid: Set(format!("missing/{snapshot}/{path}")),
            path: Set(path.clone()),
            app: Set(app),
            body: Set(body.to_string()),
            deleted_at: Set(found),
            deleted_by: Set(UNSEEN.to_owned()),
            snapshot_id: Set(None),
            undeleted_at: Set(Some(Utc::now())),
            undeleted_by: Set(Some(BY_BI.to_owned())),
            restored: Set(Some(format!("snapshot {snapshot}"))),
            ..Default::default()
        };
        if !insert_once(db, row).await? {
            continue;
        }
        if let Some(row) = newest_of(db, &path).await? {
            rows.push(row);
        }
    }
    if !rows.is_empty() {
        db.wrote_timeline();
    }
    Ok(rows)
}

/// Inserts `row` unless its uid is archived already; whether it did.
async fn insert_once(db: &Database, row: deleted_object::ActiveModel) -> Result<bool> {
    let inserted = Deleted::insert(row)
        .on_conflict(
            OnConflict::column(deleted_object::Column::Uid)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db.connection())
        .await
        .map_err(db_error("archiving a deleted object"))?;
    Ok(inserted > 0)
}

/// Whether `object` carries bi's managed label.
pub fn is_managed(object: &DynamicObject) -> bool {
    object
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(MANAGED_LABEL))
        .is_some_and(|value| value == "true")
}

/// Archives `object` at `path`, deleted by `snapshot` (None: outside bi);
/// the new row, or None when its uid is archived already.
pub async fn record(
    db: &Database,
    path: &ResourcePath,
    object: &DynamicObject,
    snapshot: Option<i64>,
    at: DateTime<Utc>,
) -> Result<Option<deleted_object::Model>> {
    let Some(uid) = object.metadata.uid.clone() else {
        return Ok(None);
    };
    if found_missing(db, path, object).await? {
        return Ok(None);
    }
    let mut kept = object.clone();
    kept.metadata.managed_fields = None;
    let mut body = serde_json::to_value(&kept).map_err(|source| Error::Encode {
        what: "a deleted object",
        source,
    })?;
    if let Some(map) = body.as_object_mut() {
        map.insert(
            "apiVersion".to_owned(),
            Value::String(path.api_version.clone()),
        );
        map.insert("kind".to_owned(), Value::String(path.kind.clone()));
    }
    let app = object
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(APP_LABEL))
        .cloned()
        .unwrap_or_default();
    let row = deleted_object::ActiveModel {
        uid: Set(uid.clone()),
        path: Set(path.to_string()),
        app: Set(app),
        body: Set(body.to_string()),
        deleted_at: Set(at),
        deleted_by: Set(if snapshot.is_some() {
            BY_BI
        } else {
            OUTSIDE_BI
        }
        .to_owned()),
        snapshot_id: Set(snapshot),
        undeleted_at: Set(None),
        undeleted_by: Set(None),
        restored: Set(None),
        ..Default::default()
    };
    if !insert_once(db, row).await? {
        return Ok(None);
    }
    db.wrote_timeline();
    Deleted::find()
        .filter(deleted_object::Column::Uid.eq(uid))
        .one(db.connection())
        .await
        .map_err(db_error("reading an archived object"))
}

/// Whether a snapshot archived `object`'s deletion already, having found
/// it missing before the watch told (see [`unseen`]): a row found missing
/// after `object` was created. NB: creation times are whole seconds, and
/// the object that snapshot created again is newer than the row.
async fn found_missing(db: &Database, path: &ResourcePath, object: &DynamicObject) -> Result<bool> {
    let Some(created) = &object.metadata.creation_timestamp else {
        return Ok(false);
    };
    let Ok(created) = DateTime::parse_from_rfc3339(&created.0.to_string()) else {
        return Ok(false);
    };
    let after = created.with_timezone(&Utc) + chrono::Duration::seconds(1);
    let found = Deleted::find()
        .filter(deleted_object::Column::Path.eq(path.to_string()))
        .filter(deleted_object::Column::DeletedBy.eq(UNSEEN))
        .filter(deleted_object::Column::DeletedAt.gte(after))
        .one(db.connection())
        .await
        .map_err(db_error("reading the archive"))?;
    Ok(found.is_some())
}

/// Deletes archived objects deleted longer than `retention` ago (the
/// timeline's retention: the archive is kept as long as the deletions'
/// entries); how many.
pub async fn prune(db: &Database, retention: bi_model::units::Duration) -> Result<u64> {
    let millis = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let cutoff = Utc::now() - chrono::Duration::milliseconds(millis);
    let deleted = Deleted::delete_many()
        .filter(deleted_object::Column::DeletedAt.lt(cutoff))
        .exec(db.connection())
        .await
        .map_err(db_error("pruning the archive"))?;
    if deleted.rows_affected > 0 {
        db.wrote_timeline();
    }
    Ok(deleted.rows_affected)
}

/// The newest archived row of `path`.
pub async fn newest_of(db: &Database, path: &str) -> Result<Option<deleted_object::Model>> {
    Deleted::find()
        .filter(deleted_object::Column::Path.eq(path))
        .order_by_desc(deleted_object::Column::Id)
        .one(db.connection())
        .await
        .map_err(db_error("reading the archive"))
}

/// The archive, newest deletion first; `desired` tells which paths bi's
/// newest desired state still wants.
pub async fn list(db: &Database, cache: &Cache) -> Result<DeletedList> {
    let generated = cache.generated(db).await?;
    let rows = Deleted::find()
        .order_by_desc(deleted_object::Column::Id)
        .limit(SHOWN)
        .all(db.connection())
        .await
        .map_err(db_error("reading the archive"))?;
    // NB: the desired paths once, not a scan of every resource per row.
    let desired: HashSet<String> = generated
        .resources
        .iter()
        .map(|resource| resource.path.to_string())
        .collect();
    let objects = rows
        .iter()
        .map(|row| view(row, desired.contains(&row.path)))
        .collect();
    Ok(DeletedList { objects })
}

/// One archived object with its last body (a Secret's values redacted).
pub async fn detail(db: &Database, cache: &Cache, id: i64) -> Result<DeletedDetail> {
    let row = find(db, id).await?;
    let generated = cache.generated(db).await?;
    let object = parse_body(&row)?;
    let path = crate::engine::parse_path(&row.path)?;
    let yaml = crate::explorer::yaml(&CachedKind::of(&path), &object)?;
    Ok(DeletedDetail {
        object: view(&row, is_desired(&generated, &row.path)),
        yaml,
    })
}

fn is_desired(generated: &crate::cache::Generated, path: &str) -> bool {
    generated
        .resources
        .iter()
        .any(|resource| resource.path.to_string() == path)
}

fn view(row: &deleted_object::Model, desired: bool) -> DeletedObject {
    DeletedObject {
        id: row.id,
        path: row.path.clone(),
        app: row.app.clone(),
        deleted_at: row.deleted_at.into(),
        deleted_by: row.deleted_by.clone(),
        snapshot: row.snapshot_id,
        desired,
        undeleted_at: row.undeleted_at.map(Into::into),
        undeleted_by: row.undeleted_by.clone(),
        restored: row.restored.clone(),
    }
}

async fn find(db: &Database, id: i64) -> Result<deleted_object::Model> {
    Deleted::find_by_id(id)
        .one(db.connection())
        .await
        .map_err(db_error("reading the archive"))?
        .ok_or_else(|| Error::NotFound(format!("no deleted object numbered {id}")))
}

fn parse_body(row: &deleted_object::Model) -> Result<DynamicObject> {
    serde_json::from_str(&row.body).map_err(|err| Error::Corrupt {
        what: "archived object",
        reason: err.to_string(),
    })
}

/// Restores archived object `id` for `who`. One bi still wants is created
/// by a snapshot (waited for); one it no longer wants is created from its
/// last body without bi's labels. Refused while the object exists, or when
/// it was restored already.
pub async fn undelete(reconciler: &Reconciler, id: i64, who: &str) -> Result<Undeleted> {
    let engine = reconciler.engine();
    let db = engine.database();
    let cache = engine.cache();
    let row = find(db, id).await?;
    if let Some(by) = &row.undeleted_by {
        return Err(Error::Conflict(format!(
            "{} was restored already, by {by}",
            row.path
        )));
    }
    let path = crate::engine::parse_path(&row.path)?;
    let kind = CachedKind::of(&path);
    let (resource, _) = kube::discovery::pinned_kind(engine.client(), &kind.gvk())
        .await
        .map_err(|err| {
            Error::Conflict(format!(
                "the cluster does not serve {} {} any more: {err}",
                path.api_version, path.kind
            ))
        })?;
    let api: Api<DynamicObject> = match &path.namespace {
        Some(namespace) => Api::namespaced_with(engine.client().clone(), namespace, &resource),
        None => Api::all_with(engine.client().clone(), &resource),
    };
    let read = || async {
        api.get_opt(&path.name)
            .await
            .map_err(|source| Error::Cluster {
                action: format!("reading {path}"),
                source,
            })
    };
    if read().await?.is_some() {
        return Err(Error::Conflict(format!(
            "{path} exists in the cluster again: there is nothing to undelete"
        )));
    }
    let generated = cache.generated(db).await?;
    let (restored, message) = if is_desired(&generated, &row.path) {
        let report = reconciler
            .request("undelete")
            .finished()
            .await
            .map_err(Error::Unavailable)?;
        if read().await?.is_none() {
            return Err(Error::Unavailable(format!(
                "snapshot {} ({}) did not create {path} again; see its page",
                report.id, report.status
            )));
        }
        (
            format!("snapshot {}", report.id),
            format!(
                "{path} created again by snapshot {} (bi still wants it)",
                report.id
            ),
        )
    } else {
        let body = unmanaged(&parse_body(&row)?, id);
        api.create(&PostParams::default(), &body)
            .await
            .map_err(|source| match source {
                kube::Error::Api(status) if status.code == 404 => Error::Conflict(format!(
                    "{path} cannot be created: {} (create its namespace first)",
                    status.message
                )),
                kube::Error::Api(status) if status.code == 409 => Error::Conflict(format!(
                    "{path} exists in the cluster again: there is nothing to undelete"
                )),
                kube::Error::Api(status) if status.code == 422 || status.code == 400 => {
                    Error::Conflict(format!(
                        "the API server refused {path}'s last body: {}",
                        status.message
                    ))
                }
                source => Error::Cluster {
                    action: format!("creating {path}"),
                    source,
                },
            })?;
        (
            "as an unmanaged object".to_owned(),
            format!(
                "{path} created from its last body; bi does not manage it (label {UNDELETED_LABEL}=true)"
            ),
        )
    };
    let now = Utc::now();
    let mut active: deleted_object::ActiveModel = row.clone().into();
    active.undeleted_at = Set(Some(now));
    active.undeleted_by = Set(Some(who.to_owned()));
    active.restored = Set(Some(restored));
    let updated = sea_orm::ActiveModelTrait::update(active, db.connection())
        .await
        .map_err(db_error("marking an object restored"))?;
    db.wrote_timeline();
    crate::timeline::note(
        db,
        cache,
        crate::timeline::Entry::about(&path, &updated.app, "undelete", "undeleted")
            .message(format!("{who}: {message}")),
    )
    .await;
    Ok(Undeleted {
        object: view(&updated, is_desired(&generated, &row.path)),
        message,
    })
}

/// `object` as it is created again outside bi's management: its name,
/// namespace, labels and annotations (bi's own taken off, the undeleted
/// label put on) and its content; no status, owners or server fields.
fn unmanaged(object: &DynamicObject, id: i64) -> DynamicObject {
    let mut labels = object.metadata.labels.clone().unwrap_or_default();
    labels.remove(MANAGED_LABEL);
    labels.insert(UNDELETED_LABEL.to_owned(), "true".to_owned());
    let mut annotations = object.metadata.annotations.clone().unwrap_or_default();
    annotations.remove(HASH_ANNOTATION);
    annotations.remove(crate::cache::LAST_APPLIED);
    annotations.insert(
        "battery/undeleted-from".to_owned(),
        format!("archive entry {id}"),
    );
    let mut data = object.data.clone();
    if let Some(map) = data.as_object_mut() {
        map.remove("status");
    }
    DynamicObject {
        types: object.types.clone(),
        metadata: kube::api::ObjectMeta {
            name: object.metadata.name.clone(),
            namespace: object.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undeleted_body_leaves_bis_management_and_the_servers_fields() {
        let object: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "settings",
                "namespace": "battery-core",
                "uid": "1234",
                "resourceVersion": "77",
                "creationTimestamp": "2026-12-05T10:00:00Z",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "9"}],
                "labels": {"battery/managed": "true", "battery/app": "timeline", "team": "a"},
                "annotations": {"battery/hash": "abc", "note": "kept"},
            },
            "data": {"retention": "720h"},
            "status": {"phase": "x"},
        }))
        .unwrap();
        let body = unmanaged(&object, 7);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["metadata"]["name"], "settings");
        assert_eq!(json["metadata"]["namespace"], "battery-core");
        assert_eq!(json["metadata"]["labels"]["battery/app"], "timeline");
        assert_eq!(json["metadata"]["labels"]["team"], "a");
        assert_eq!(json["metadata"]["labels"][UNDELETED_LABEL], "true");
        assert!(json["metadata"]["labels"].get(MANAGED_LABEL).is_none());
        assert!(
            json["metadata"]["annotations"]
                .get(HASH_ANNOTATION)
                .is_none()
        );
        assert_eq!(json["metadata"]["annotations"]["note"], "kept");
        for gone in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "ownerReferences",
        ] {
            assert!(json["metadata"].get(gone).is_none(), "{gone}: {json}");
        }
        assert!(json.get("status").is_none());
        assert_eq!(json["data"]["retention"], "720h");
        assert_eq!(json["kind"], "ConfigMap");
    }
}
