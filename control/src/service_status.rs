//! What the services page shows about one Knative or traditional service
//! besides its settings: its workloads' readiness (or Knative's own Ready
//! condition and URL), the Kubernetes Events about its objects, bi's recent
//! apply outcomes for them, and the connection Secrets it can reference in
//! its environment (names and keys, never values).
//!
//! Reads the desired state, the cluster cache (Events in the service's
//! namespace, the service's live objects) and the last outcomes; writes
//! nothing.

use bi_model::capacity::replicas;
use bi_model::generate::{Resource, connection_secrets};
use bi_model::objects::ObjectKind;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use serde_json::Value;

use crate::cache::{Cache, CachedKind};
use crate::db::Database;
use crate::desired_state;
use crate::entities::snapshot_resource;
use crate::error::{Error, Result, db_error};
use crate::health::{self, Readiness, WorkloadHealth};
use crate::operations::projects::{self, ObjectRead};

/// How many Events and outcomes are shown, newest first.
pub const SHOWN: usize = 20;

pub use bi_api::services::{ApplyOutcome, ServiceDetail, ServiceEvent, ServiceStatus};

/// The service `name` (Knative or traditional, in any project) with its
/// settings and its status. A cluster that cannot be read leaves the status
/// out and says so (the details go to the log); refused when there is no
/// such service.
pub async fn detail(db: &Database, cache: &Cache, name: &str) -> Result<ServiceDetail> {
    let ObjectRead { object, version } = find_service(db, name).await?;
    let kind = object.kind();
    let (status, cluster_error) = match read(db, cache, kind, name).await {
        Ok(status) => (Some(status), None),
        Err(err @ (Error::Cluster { .. } | Error::Unavailable(_))) => {
            tracing::warn!(error = %err, "service status: the cluster could not be read");
            (
                None,
                Some("the cluster could not be read; see the server log".to_owned()),
            )
        }
        Err(err) => return Err(err),
    };
    Ok(ServiceDetail {
        name: name.to_owned(),
        object,
        status,
        cluster_error,
        version,
    })
}

/// The service `name` (Knative or traditional) of any project, with the
/// desired-state version it was read at; refused when there is none.
pub async fn find_service(db: &Database, name: &str) -> Result<ObjectRead> {
    let (version, state) = desired_state::current(db).await?;
    [ObjectKind::KnativeService, ObjectKind::TraditionalService]
        .into_iter()
        .find_map(|kind| projects::get(&state, kind, name))
        .map(|object| ObjectRead { object, version })
        .ok_or_else(|| Error::NotFound(format!("there is no service named \"{name}\"")))
}

/// The `battery/app` of a service's objects.
pub fn app_of(kind: ObjectKind, name: &str) -> Option<String> {
    match kind {
        ObjectKind::KnativeService | ObjectKind::TraditionalService => Some(kind.app(name)),
        _ => None,
    }
}

/// Reads the status of the service `name` of `kind` from the desired state
/// and the cluster cache.
pub async fn read(
    db: &Database,
    cache: &Cache,
    kind: ObjectKind,
    name: &str,
) -> Result<ServiceStatus> {
    let app = app_of(kind, name).ok_or_else(|| {
        Error::Invalid(bi_model::FieldError::new(
            "kind",
            bi_model::Rule::Consistency,
            format!("{kind} is not a service: only Knative and traditional services have a status"),
        ))
    })?;
    // NB: connection Secrets are listed by name and key: placeholders suffice.
    let generated = cache.generated(db).await?;
    let generated = &generated.resources;
    let mine: Vec<&Resource> = generated.iter().filter(|r| r.app == app).collect();
    let namespace = mine.iter().find_map(|r| r.path.namespace.clone());

    let mut workloads = Vec::new();
    let mut condition = None;
    let mut url = None;
    let mut knative_missing = false;
    let mut knative_found = false;
    let mut knative_ready = None;
    for resource in &mine {
        let kind = resource.path.kind.as_str();
        let knative = kind == "Service"
            && resource
                .path
                .api_version
                .starts_with("serving.knative.dev/");
        // NB: only workloads and Knative's Service say how the service is
        // doing; its Secrets, ConfigMaps and Services are not read.
        if !(knative || kind == "Deployment" || kind == "StatefulSet") {
            continue;
        }
        let live = cache.get(&resource.path).await?.map(|o| o.data.clone());
        if knative {
            knative_missing = live.is_none();
            knative_found = live.is_some();
            if let Some(live) = &live {
                url = live
                    .pointer("/status/url")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some((ready, text)) = ready_condition(live) {
                    knative_ready = Some(ready);
                    condition = Some(text);
                }
            }
        } else {
            workloads.push(WorkloadHealth {
                path: resource.path.clone(),
                desired: replicas(kind, &resource.body, 1),
                ready: live.as_ref().map(|live| health::ready_replicas(kind, live)),
            });
        }
    }
    let readiness = if knative_missing {
        Readiness::Missing
    } else if let Some(ready) = knative_ready {
        if ready {
            Readiness::Ready
        } else {
            Readiness::Progressing
        }
    } else if knative_found {
        // NB: Knative's controller has not reported on it yet (on a real
        // cluster, until its pods run): it is on its way, not "configured".
        Readiness::Progressing
    } else {
        health::readiness(&workloads)
    };
    let events = match &namespace {
        Some(namespace) => events(cache, namespace, name).await?,
        None => Vec::new(),
    };
    let paths: Vec<String> = mine.iter().map(|r| r.path.to_string()).collect();
    Ok(ServiceStatus {
        namespace,
        readiness,
        workloads,
        condition,
        url,
        events,
        outcomes: outcomes(db, &paths).await?,
        connection_secrets: connection_secrets(generated),
        pods: crate::pods::of_app(db, cache, &app).await?,
    })
}

/// Whether a Knative object's Ready condition is True, and the condition
/// in words (`Ready: <status>, <message>`).
fn ready_condition(live: &Value) -> Option<(bool, String)> {
    let conditions = live.pointer("/status/conditions")?.as_array()?;
    let ready = conditions
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))?;
    let status = ready
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let text = match ready.get("message").and_then(Value::as_str) {
        Some(message) => format!("Ready: {status}, {message}"),
        None => format!("Ready: {status}"),
    };
    Some((status == "True", text))
}

/// Events in `namespace` about the object `name` or its children (`name-…`:
/// ReplicaSets, Pods, Revisions), newest first.
async fn events(cache: &Cache, namespace: &str, name: &str) -> Result<Vec<ServiceEvent>> {
    let list = cache.list(&CachedKind::new("v1", "Event")).await?;
    let prefix = format!("{name}-");
    let text = |event: &Value, pointer: &str| {
        event
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut found: Vec<ServiceEvent> = list
        .iter()
        .filter(|event| event.metadata.namespace.as_deref() == Some(namespace))
        .filter(|event| {
            text(&event.data, "/involvedObject/name")
                .is_some_and(|object| object == name || object.starts_with(&prefix))
        })
        .map(|event| event_row(event))
        .collect();
    // NB: RFC 3339 in UTC sorts as text.
    found.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
    found.truncate(SHOWN);
    Ok(found)
}

/// A Kubernetes Event as the pages show it.
pub(crate) fn event_row(event: &kube::api::DynamicObject) -> ServiceEvent {
    let data = &event.data;
    let text = |pointer: &str| {
        data.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ServiceEvent {
        kind: text("/type").unwrap_or_else(|| "Normal".to_owned()),
        reason: text("/reason").unwrap_or_default(),
        message: text("/message").unwrap_or_default(),
        object: format!(
            "{} {}",
            text("/involvedObject/kind").unwrap_or_default(),
            text("/involvedObject/name").unwrap_or_default()
        ),
        count: data
            .get("count")
            .and_then(Value::as_u64)
            .and_then(|count| u32::try_from(count).ok())
            .unwrap_or(1),
        last_seen: text("/lastTimestamp")
            .or_else(|| text("/eventTime"))
            .or_else(|| {
                event
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
            }),
    }
}

/// bi's last writes of `paths`, newest first, without the no-ops.
async fn outcomes(db: &Database, paths: &[String]) -> Result<Vec<ApplyOutcome>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let rows = snapshot_resource::Entity::find()
        .filter(snapshot_resource::Column::Path.is_in(paths.iter().cloned()))
        .filter(snapshot_resource::Column::Outcome.ne("unchanged"))
        .order_by_desc(snapshot_resource::Column::Id)
        .limit(SHOWN as u64)
        .all(db.connection())
        .await
        .map_err(db_error("reading a service's apply outcomes"))?;
    Ok(rows
        .into_iter()
        .map(|row| ApplyOutcome {
            snapshot: row.snapshot_id,
            path: row.path,
            outcome: row.outcome,
            message: row.message,
        })
        .collect())
}
