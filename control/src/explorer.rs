//! The Kubernetes explorer, read from the cluster cache: the kinds people
//! look at (namespaces, nodes, pods, workloads, services, jobs, claims) and
//! every kind bi generates (its operators' custom resources included), a
//! kind's objects with filters, and one object with its YAML, conditions,
//! owners, children, events and what bi knows of it.
//!
//! Reads the cache and the database, never the API server; writes nothing.
//! A Secret's values never leave: its YAML shows `<redacted>` for each.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bi_model::generate::{APP_LABEL, HASH_ANNOTATION, MANAGED_LABEL, ResourcePath};
use bi_model::{FieldError, Rule};
use kube::api::DynamicObject;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use crate::cache::{Cache, CachedKind, Listed, WatchState};
use crate::db::Database;
use crate::entities::snapshot_resource;
use crate::error::{Error, Result, db_error};

pub use bi_api::explorer::{
    Condition, ExplorerQuery, KindRow, Managed, ObjectDetail, ObjectList, ObjectRow,
};
pub use bi_api::services::ServiceEvent;

/// The kinds shown whatever is installed, in this order.
const BUILT_IN: [(&str, &str); 14] = [
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "ReplicaSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
];

/// How many Events an object's page shows.
const EVENTS_SHOWN: usize = 30;

/// What replaces each value of a Secret.
const REDACTED: &str = "<redacted>";

/// The explorer's kinds: the built-in ones, then every other kind bi
/// generates, with how many objects each has.
pub async fn kinds(db: &Database, cache: &Cache) -> Result<Vec<KindRow>> {
    let generated = cache.generated(db).await?;
    let managed: BTreeSet<CachedKind> = generated
        .resources
        .iter()
        .filter(|r| !bi_model::keycloak::is_keycloak(&r.path))
        .map(|r| CachedKind::of(&r.path))
        .collect();
    let mut kinds: Vec<CachedKind> = BUILT_IN
        .iter()
        .map(|(api_version, kind)| CachedKind::new(api_version, kind))
        .collect();
    kinds.extend(
        managed
            .iter()
            .filter(|k| !kinds.contains(k))
            .cloned()
            .collect::<Vec<_>>(),
    );
    // NB: every watch starts at once; each first list is then awaited.
    let listed = futures::future::join_all(kinds.iter().map(|kind| cache.read(kind))).await;
    Ok(kinds
        .into_iter()
        .zip(listed)
        .map(|(kind, listed)| KindRow {
            id: kind.to_string(),
            managed: managed.contains(&kind),
            kind: kind.kind,
            api_version: kind.api_version,
            objects: listed.objects.len(),
            state: state_words(&listed.state),
        })
        .collect())
}

fn state_words(state: &WatchState) -> String {
    match state {
        WatchState::Listing => "listing".to_owned(),
        WatchState::Synced => "synced".to_owned(),
        WatchState::Absent => "absent".to_owned(),
        WatchState::Failed(why) => format!("failed: {why}"),
    }
}

/// `apps/v1/Deployment` as a kind; refused naming `kind`.
pub fn parse_kind(text: &str) -> Result<CachedKind> {
    let (api_version, kind) = text.rsplit_once('/').filter(|(a, k)| !a.is_empty() && !k.is_empty()).ok_or_else(|| {
        Error::Invalid(FieldError::new(
            "kind",
            Rule::Format,
            format!("\"{text}\" is not a kind: write it as apiVersion/Kind, e.g. apps/v1/Deployment or v1/Pod"),
        ))
    })?;
    Ok(CachedKind::new(api_version, kind))
}

/// `apps/v1/Deployment/ns/name` (or `v1/Namespace/name`) as a path;
/// refused naming `path`.
pub fn parse_path(text: &str) -> Result<ResourcePath> {
    crate::engine::parse_path(text).map_err(|_| {
        Error::Invalid(FieldError::new(
            "path",
            Rule::Format,
            format!("\"{text}\" is not an object's path: write apiVersion/Kind/namespace/name or apiVersion/Kind/name"),
        ))
    })
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    Differs(String, String),
    Exists(String),
    Missing(String),
}

impl Requirement {
    fn holds(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Self::Equals(key, value) => labels.get(key) == Some(value),
            Self::Differs(key, value) => labels.get(key) != Some(value),
            Self::Exists(key) => labels.contains_key(key),
            Self::Missing(key) => !labels.contains_key(key),
        }
    }
}

/// `key=value,key!=value,key,!key`; refused naming `labels`.
fn parse_selector(text: &str) -> Result<Vec<Requirement>> {
    let refuse = |part: &str| {
        Error::Invalid(FieldError::new(
            "labels",
            Rule::Format,
            format!(
                "\"{part}\" is not a label requirement: write key=value, key!=value, key or !key"
            ),
        ))
    };
    let valid = |key: &str| {
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    };
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let requirement = if let Some((key, value)) = part.split_once("!=") {
                Requirement::Differs(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some((key, value)) = part.split_once('=') {
                let value = value.strip_prefix('=').unwrap_or(value);
                Requirement::Equals(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some(key) = part.strip_prefix('!') {
                Requirement::Missing(key.trim().to_owned())
            } else {
                Requirement::Exists(part.to_owned())
            };
            let key = match &requirement {
                Requirement::Equals(key, _)
                | Requirement::Differs(key, _)
                | Requirement::Exists(key)
                | Requirement::Missing(key) => key,
            };
            if valid(key) {
                Ok(requirement)
            } else {
                Err(refuse(part))
            }
        })
        .collect()
}

/// The objects of `query.kind` that match its filters, by namespace and name.
pub async fn list(db: &Database, cache: &Cache, query: &ExplorerQuery) -> Result<ObjectList> {
    let kind = parse_kind(&query.kind)?;
    let selector = parse_selector(query.labels.as_deref().unwrap_or_default())?;
    let Listed { state, objects } = cache.read(&kind).await;
    let namespaces: BTreeSet<String> = objects
        .iter()
        .filter_map(|o| o.metadata.namespace.clone())
        .collect();
    let namespace = query.namespace.as_deref().filter(|ns| !ns.is_empty());
    let app = query.app.as_deref().filter(|app| !app.is_empty());
    // NB: a project's objects are those whose app is one of its user
    // objects, as the newest desired state holds them.
    let project = match query
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(project) => {
            let generated = cache.generated(db).await?;
            let owners = crate::timeline::Owners::of(&generated.state);
            Some((project.to_owned(), owners))
        }
        None => None,
    };
    let in_project = |labels: &BTreeMap<String, String>| match &project {
        None => true,
        Some((project, owners)) => labels
            .get(APP_LABEL)
            .is_some_and(|app| owners.resolve(app).1.as_deref() == Some(project.as_str())),
    };
    let empty = BTreeMap::new();
    let mut rows: Vec<ObjectRow> = objects
        .iter()
        .filter(|o| namespace.is_none_or(|ns| o.metadata.namespace.as_deref() == Some(ns)))
        .filter(|o| {
            let labels = o.metadata.labels.as_ref().unwrap_or(&empty);
            app.is_none_or(|app| labels.get(APP_LABEL).map(String::as_str) == Some(app))
                && in_project(labels)
                && selector.iter().all(|r| r.holds(labels))
        })
        .map(|o| row(&kind, o))
        .collect();
    rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(ObjectList {
        kind: kind.to_string(),
        state: state_words(&state),
        total: objects.len(),
        objects: rows,
        namespaces: namespaces.into_iter().collect(),
    })
}

fn path_of(kind: &CachedKind, object: &DynamicObject) -> ResourcePath {
    ResourcePath::new(
        &kind.api_version,
        &kind.kind,
        object.metadata.namespace.as_deref(),
        object.metadata.name.as_deref().unwrap_or_default(),
    )
}

fn row(kind: &CachedKind, object: &DynamicObject) -> ObjectRow {
    let labels = object.metadata.labels.clone().unwrap_or_default();
    ObjectRow {
        path: path_of(kind, object).to_string(),
        namespace: object.metadata.namespace.clone(),
        name: object.metadata.name.clone().unwrap_or_default(),
        status: status(&kind.kind, &object.data),
        app: labels.get(APP_LABEL).cloned(),
        managed: labels.get(MANAGED_LABEL).map(String::as_str) == Some("true"),
        created: object
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| bi_api::Timestamp::from_rfc3339(&t.0.to_string())),
    }
}

/// How an object is doing, in a few words.
pub fn status(kind: &str, data: &Value) -> String {
    let number = |pointer: &str| data.pointer(pointer).and_then(Value::as_u64);
    let text = |pointer: &str| data.pointer(pointer).and_then(Value::as_str);
    match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" => format!(
            "{}/{} ready",
            number("/status/readyReplicas").unwrap_or(0),
            number("/spec/replicas").unwrap_or(1)
        ),
        "DaemonSet" => format!(
            "{}/{} ready",
            number("/status/numberReady").unwrap_or(0),
            number("/status/desiredNumberScheduled").unwrap_or(0)
        ),
        "Pod" => {
            let phase = text("/status/phase").unwrap_or("Pending");
            let restarts: u64 = data
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .map(|statuses| {
                    statuses
                        .iter()
                        .filter_map(|s| s.get("restartCount").and_then(Value::as_u64))
                        .sum()
                })
                .unwrap_or(0);
            match restarts {
                0 => phase.to_owned(),
                1 => format!("{phase}, 1 restart"),
                n => format!("{phase}, {n} restarts"),
            }
        }
        "Job" => format!(
            "{}/{} succeeded",
            number("/status/succeeded").unwrap_or(0),
            number("/spec/completions").unwrap_or(1)
        ),
        "PersistentVolumeClaim" | "Namespace" => text("/status/phase").unwrap_or("").to_owned(),
        "Service" => {
            let kind = text("/spec/type").unwrap_or("ClusterIP");
            match text("/spec/clusterIP") {
                Some(ip) => format!("{kind} {ip}"),
                None => kind.to_owned(),
            }
        }
        _ => conditions(data)
            .into_iter()
            .find(|c| c.kind == "Ready")
            .map(|c| {
                if c.status == "True" {
                    "Ready".to_owned()
                } else {
                    format!("not ready: {}", c.reason.or(c.message).unwrap_or(c.status))
                }
            })
            .unwrap_or_default(),
    }
}

fn conditions(data: &Value) -> Vec<Condition> {
    let text = |c: &Value, key: &str| c.get(key).and_then(Value::as_str).map(str::to_owned);
    data.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|conditions| {
            conditions
                .iter()
                .map(|c| Condition {
                    kind: text(c, "type").unwrap_or_default(),
                    status: text(c, "status").unwrap_or_default(),
                    reason: text(c, "reason"),
                    message: text(c, "message"),
                    last_transition: text(c, "lastTransitionTime"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The object at `path`, in full; refused ([`Error::NotFound`]) when the
/// cluster does not have it.
pub async fn object(db: &Database, cache: &Cache, path: &ResourcePath) -> Result<ObjectDetail> {
    let kind = CachedKind::of(path);
    let Some(object) = cache.get(path).await? else {
        return Err(Error::NotFound(format!("the cluster has no {path}")));
    };
    let uid = object.metadata.uid.clone().unwrap_or_default();
    let owners: Vec<String> = object
        .metadata
        .owner_references
        .iter()
        .flatten()
        .map(|owner| {
            ResourcePath::new(
                &owner.api_version,
                &owner.kind,
                object.metadata.namespace.as_deref(),
                &owner.name,
            )
            .to_string()
        })
        .collect();
    let mut children = Vec::new();
    for (watched, _, _) in cache.watches() {
        for candidate in cache.list(&watched).await.unwrap_or_default() {
            let owned = candidate
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|owner| !uid.is_empty() && owner.uid == uid);
            if owned {
                children.push(path_of(&watched, &candidate).to_string());
            }
        }
    }
    children.sort();
    let events = events_about(cache, &object, &uid).await?;
    let labels = object.metadata.labels.clone().unwrap_or_default();
    let managed = if labels.get(MANAGED_LABEL).map(String::as_str) == Some("true") {
        Some(managed(db, cache, path, &object, &labels).await?)
    } else {
        None
    };
    Ok(ObjectDetail {
        path: path.to_string(),
        yaml: yaml(&kind, &object)?,
        conditions: conditions(&object.data),
        owners,
        children,
        events,
        managed,
    })
}

/// The object as YAML: `apiVersion` and `kind` first, a Secret's values
/// redacted.
pub(crate) fn yaml(kind: &CachedKind, object: &DynamicObject) -> Result<String> {
    let mut shown = object.clone();
    shown.metadata.managed_fields = None;
    if kind.kind == "Secret" && kind.api_version == "v1" {
        for field in ["data", "stringData"] {
            if let Some(values) = shown.data.get_mut(field).and_then(Value::as_object_mut) {
                for value in values.values_mut() {
                    *value = Value::String(REDACTED.to_owned());
                }
            }
        }
    }
    let mut value = serde_json::to_value(&shown).map_err(|source| Error::Encode {
        what: "an object for the explorer",
        source,
    })?;
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "apiVersion".to_owned(),
            Value::String(kind.api_version.clone()),
        );
        map.insert("kind".to_owned(), Value::String(kind.kind.clone()));
    }
    serde_yaml_ng::to_string(&value)
        .map_err(|err| Error::Internal(format!("writing an object as YAML: {err}")))
}

/// Events about `object`, newest first.
async fn events_about(
    cache: &Cache,
    object: &DynamicObject,
    uid: &str,
) -> Result<Vec<ServiceEvent>> {
    let events = cache.list(&CachedKind::new("v1", "Event")).await?;
    let name = object.metadata.name.as_deref().unwrap_or_default();
    let text = |event: &Value, pointer: &str| {
        event
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut found: Vec<ServiceEvent> = events
        .iter()
        .filter(|event| {
            let about = &event.data;
            match text(about, "/involvedObject/uid") {
                Some(theirs) if !uid.is_empty() => theirs == uid,
                _ => {
                    text(about, "/involvedObject/name").as_deref() == Some(name)
                        && event.metadata.namespace == object.metadata.namespace
                }
            }
        })
        .map(|event| crate::service_status::event_row(event))
        .collect();
    // NB: RFC 3339 in UTC sorts as text.
    found.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
    found.truncate(EVENTS_SHOWN);
    Ok(found)
}

/// What bi knows of a managed object: its app, whether it is still
/// desired, the hash it was applied with, bi's last write, open drift.
async fn managed(
    db: &Database,
    cache: &Cache,
    path: &ResourcePath,
    object: &Arc<DynamicObject>,
    labels: &BTreeMap<String, String>,
) -> Result<Managed> {
    let generated = cache.generated(db).await?;
    let shown = path.to_string();
    let last_write = snapshot_resource::Entity::find()
        .filter(snapshot_resource::Column::Path.eq(shown.clone()))
        .filter(snapshot_resource::Column::Outcome.ne("unchanged"))
        .order_by_desc(snapshot_resource::Column::Id)
        .one(db.connection())
        .await
        .map_err(db_error("reading an object's last write"))?
        .map(|row| (row.snapshot_id, row.outcome));
    let drifted = crate::drift::view(db, None)
        .await?
        .open
        .into_iter()
        .find(|finding| finding.path == shown)
        .map(|finding| finding.fields)
        .unwrap_or_default();
    Ok(Managed {
        app: labels.get(APP_LABEL).cloned().unwrap_or_default(),
        desired: generated.resources.iter().any(|r| &r.path == path),
        applied_hash: object
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(HASH_ANNOTATION))
            .cloned(),
        last_write,
        drifted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selector_is_read_once_with_each_problem_named() {
        let labels: BTreeMap<String, String> = [
            ("app".to_owned(), "web".to_owned()),
            ("tier".to_owned(), "front".to_owned()),
        ]
        .into();
        let holds = |text: &str| {
            parse_selector(text)
                .unwrap()
                .iter()
                .all(|r| r.holds(&labels))
        };
        assert!(holds("app=web"));
        assert!(holds("app==web, tier"));
        assert!(holds("app!=db,!missing"));
        assert!(!holds("app=db"));
        assert!(!holds("tier,!app"));
        assert!(holds(""));
        let Err(Error::Invalid(problem)) = parse_selector("app=web,=x") else {
            panic!("an empty key is refused");
        };
        assert_eq!(problem.field, "labels");
        assert!(problem.message.contains("\"=x\""), "{}", problem.message);
    }

    #[test]
    fn kinds_and_paths_are_read_with_their_field_named() {
        assert_eq!(
            parse_kind("apps/v1/Deployment").unwrap(),
            CachedKind::new("apps/v1", "Deployment")
        );
        assert_eq!(parse_kind("v1/Pod").unwrap(), CachedKind::new("v1", "Pod"));
        let Err(Error::Invalid(problem)) = parse_kind("Pod") else {
            panic!("a kind without its apiVersion is refused");
        };
        assert_eq!(problem.field, "kind");
        let Err(Error::Invalid(problem)) = parse_path("nonsense") else {
            panic!("not a path");
        };
        assert_eq!(problem.field, "path");
    }

    #[test]
    fn status_words_say_how_an_object_is_doing() {
        let deployment =
            serde_json::json!({ "spec": { "replicas": 3 }, "status": { "readyReplicas": 2 } });
        assert_eq!(status("Deployment", &deployment), "2/3 ready");
        let pod = serde_json::json!({ "status": { "phase": "Running", "containerStatuses": [{ "restartCount": 2 }] } });
        assert_eq!(status("Pod", &pod), "Running, 2 restarts");
        let certificate = serde_json::json!({ "status": { "conditions": [{ "type": "Ready", "status": "False", "reason": "Issuing" }] } });
        assert_eq!(status("Certificate", &certificate), "not ready: Issuing");
    }
}
