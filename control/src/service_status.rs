//! What the services page shows about one Knative or traditional service
//! besides its settings: its workloads' readiness (or Knative's own Ready
//! condition and URL), the Kubernetes Events about its objects, bi's recent
//! apply outcomes for them, and the connection Secrets it can reference in
//! its environment (names and keys, never values).
//!
//! Reads the desired state, one list of Events in the service's namespace,
//! the service's live objects and the last outcomes; writes nothing.

use bi_model::capacity::replicas;
use bi_model::generate::{Resource, ResourcePath, Secrets, connection_secrets, generate};
use bi_model::objects::ObjectKind;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use serde_json::Value;

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
pub async fn detail(db: &Database, client: &kube::Client, name: &str) -> Result<ServiceDetail> {
    let ObjectRead { object, version } = find_service(db, name).await?;
    let kind = object.kind();
    let (status, cluster_error) = match read(db, client, kind, name).await {
        Ok(status) => (Some(status), None),
        Err(err @ Error::Cluster { .. }) => {
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
        ObjectKind::KnativeService => Some(format!("knative-{name}")),
        ObjectKind::TraditionalService => Some(format!("service-{name}")),
        _ => None,
    }
}

/// Reads the status of the service `name` of `kind` from the desired state
/// and the cluster behind `client`.
pub async fn read(
    db: &Database,
    client: &kube::Client,
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
    let (version, state) = desired_state::current(db).await?;
    // NB: connection Secrets are listed by name and key: placeholders suffice.
    let generated = generate(&state, Secrets::Preview)
        .map_err(|source| Error::Generation { version, source })?;
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
        let live = live_object(client, &resource.path).await?;
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
        Some(namespace) => events(client, namespace, name).await?,
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
        connection_secrets: connection_secrets(&generated),
    })
}

/// The object at `path` in the cluster, if it is there.
async fn live_object(client: &kube::Client, path: &ResourcePath) -> Result<Option<Value>> {
    let (group, version) = match path.api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", path.api_version.as_str()),
    };
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &path.kind));
    let api: Api<DynamicObject> = match &path.namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    match api.get_opt(&path.name).await {
        Ok(object) => Ok(object.map(|object| object.data)),
        // NB: a CRD not installed yet (Knative before its first apply) is "not there".
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(source) => Err(Error::Cluster {
            action: format!("reading {path}"),
            source,
        }),
    }
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
async fn events(client: &kube::Client, namespace: &str, name: &str) -> Result<Vec<ServiceEvent>> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "Event"));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|source| Error::Cluster {
            action: format!("listing Events in {namespace}"),
            source,
        })?;
    let prefix = format!("{name}-");
    let text = |event: &Value, pointer: &str| {
        event
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut found: Vec<ServiceEvent> = list
        .items
        .into_iter()
        .map(|event| event.data)
        .filter(|event| {
            text(event, "/involvedObject/name")
                .is_some_and(|object| object == name || object.starts_with(&prefix))
        })
        .map(|event| ServiceEvent {
            kind: text(&event, "/type").unwrap_or_else(|| "Normal".to_owned()),
            reason: text(&event, "/reason").unwrap_or_default(),
            message: text(&event, "/message").unwrap_or_default(),
            object: format!(
                "{} {}",
                text(&event, "/involvedObject/kind").unwrap_or_default(),
                text(&event, "/involvedObject/name").unwrap_or_default()
            ),
            count: event
                .get("count")
                .and_then(Value::as_u64)
                .and_then(|count| u32::try_from(count).ok())
                .unwrap_or(1),
            last_seen: text(&event, "/lastTimestamp")
                .or_else(|| text(&event, "/eventTime"))
                .or_else(|| text(&event, "/metadata/creationTimestamp")),
        })
        .collect();
    // NB: RFC 3339 in UTC sorts as text.
    found.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
    found.truncate(SHOWN);
    Ok(found)
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
