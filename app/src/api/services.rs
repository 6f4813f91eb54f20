//! Server functions about services: Knative and traditional services in
//! every project, and scaling them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ApiError;

/// How a service scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceScale {
    /// A Knative service: between `min` and `max` instances.
    Knative {
        /// The fewest instances (0 scales to zero).
        min: u32,
        /// The most instances.
        max: u32,
    },
    /// A traditional service: a fixed number of replicas.
    Traditional {
        /// Replicas (0 stops it).
        replicas: u32,
    },
}

/// One service as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    /// Its name.
    pub name: String,
    /// Its project, if any.
    pub project: Option<String>,
    /// Its image.
    pub image: String,
    /// How it scales now.
    pub scale: ServiceScale,
}

/// Every Knative and traditional service.
#[server(prefix = "/api", endpoint = "services/list")]
pub async fn list_services() -> Result<Vec<ServiceRow>, ApiError> {
    use bi_control::operations::{ObjectKind, ProjectObject, projects};

    let db = crate::api::database()?;
    let mut rows = Vec::new();
    for object in projects::objects(&db).await? {
        if !matches!(
            object.kind,
            ObjectKind::KnativeService | ObjectKind::TraditionalService
        ) {
            continue;
        }
        match projects::object(&db, object.kind, &object.name).await? {
            ProjectObject::KnativeService(owned) => rows.push(ServiceRow {
                name: owned.object.name,
                project: owned.project,
                image: owned.object.image.to_string(),
                scale: ServiceScale::Knative {
                    min: owned.object.min_scale,
                    max: owned.object.max_scale,
                },
            }),
            ProjectObject::TraditionalService(owned) => rows.push(ServiceRow {
                name: owned.object.name,
                project: owned.project,
                image: owned.object.image.to_string(),
                scale: ServiceScale::Traditional {
                    replicas: owned.object.replicas,
                },
            }),
            _ => {}
        }
    }
    Ok(rows)
}

/// Reads a count typed in a form (in the browser and on the server).
pub fn count(field: &str, text: &str) -> Result<u32, ApiError> {
    text.trim().parse::<u32>().map_err(|_| {
        ApiError::Invalid(bi_model::FieldError::new(
            field,
            bi_model::Rule::Format,
            format!("must be a whole number, e.g. 2; \"{}\" is not", text.trim()),
        ))
    })
}

/// Sets the instance range of a Knative service; returns the new version.
#[server(prefix = "/api", endpoint = "services/scale-knative")]
pub async fn scale_knative(name: String, min: String, max: String) -> Result<i32, ApiError> {
    let (min, max) = (count("min_scale", &min)?, count("max_scale", &max)?);
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::scale_knative_service(
        &db,
        crate::api::batteries::AUTHOR,
        &name,
        min,
        max,
    )
    .await?)
}

/// Sets the replicas of a traditional service; returns the new version.
#[server(prefix = "/api", endpoint = "services/scale")]
pub async fn scale_traditional(name: String, replicas: String) -> Result<i32, ApiError> {
    let replicas = count("replicas", &replicas)?;
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::scale_service(
        &db,
        crate::api::batteries::AUTHOR,
        &name,
        replicas,
    )
    .await?)
}

/// One workload of a service and its replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadRow {
    /// `Deployment web`.
    pub what: String,
    /// Replicas ready; None when it is not in the cluster yet.
    pub ready: Option<u32>,
    /// Replicas wanted.
    pub desired: u32,
}

/// A Kubernetes Event about one of the service's objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// `Normal` or `Warning`.
    pub kind: String,
    /// Its reason.
    pub reason: String,
    /// Its message.
    pub message: String,
    /// The object it is about.
    pub object: String,
    /// How many times.
    pub count: u32,
    /// When it last happened.
    pub last_seen: String,
}

/// One of bi's recent writes of the service's objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    /// The snapshot.
    pub snapshot: i64,
    /// The object.
    pub path: String,
    /// `created`, `updated`, `failed`, …
    pub outcome: String,
    /// The API server's message when it failed.
    pub message: Option<String>,
}

/// One service: its settings as a form, its status in the cluster, and the
/// connection Secrets it can reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    /// Its name.
    pub name: String,
    /// Its project, if any.
    pub project: Option<String>,
    /// `knative_service` or `traditional_service`.
    pub kind: String,
    /// The service itself (its settings; the browser builds the form from it).
    pub object: bi_model::objects::ProjectObject,
    /// Its namespace in the cluster.
    pub namespace: Option<String>,
    /// `ready`, `progressing`, `missing` or `configured`.
    pub readiness: String,
    /// Its workloads.
    pub workloads: Vec<WorkloadRow>,
    /// Knative's Ready condition, when reported.
    pub condition: Option<String>,
    /// Knative's URL, when reported.
    pub url: Option<String>,
    /// Events, newest first.
    pub events: Vec<EventRow>,
    /// bi's recent writes, newest first.
    pub outcomes: Vec<OutcomeRow>,
    /// Connection Secrets (names and keys only).
    pub connection_secrets: Vec<bi_model::generate::ConnectionSecret>,
    /// Why the cluster could not be read, when it could not.
    pub cluster_error: Option<String>,
}

/// The service `name` (Knative or traditional) of any project.
#[cfg(feature = "ssr")]
async fn find_service(
    db: &bi_control::Database,
    name: &str,
) -> Result<bi_model::objects::ProjectObject, ApiError> {
    use bi_control::operations::{ObjectKind, projects};

    for object in projects::objects(db).await? {
        if object.name == name
            && matches!(
                object.kind,
                ObjectKind::KnativeService | ObjectKind::TraditionalService
            )
        {
            return Ok(projects::object(db, object.kind, name).await?);
        }
    }
    Err(ApiError::NotFound(format!(
        "there is no service named \"{name}\""
    )))
}

/// The service `name` with its settings and status.
#[server(prefix = "/api", endpoint = "services/show")]
pub async fn get_service(name: String) -> Result<ServiceDetail, ApiError> {
    let db = crate::api::database()?;
    let object = find_service(&db, &name).await?;
    let kind = object.kind();
    let reconciler = crate::api::reconciler()?;
    let client = reconciler.engine().client();
    let mut detail = ServiceDetail {
        name: name.clone(),
        project: object.project().map(str::to_owned),
        kind: kind.id().to_owned(),
        object,
        namespace: None,
        readiness: "unknown".to_owned(),
        workloads: Vec::new(),
        condition: None,
        url: None,
        events: Vec::new(),
        outcomes: Vec::new(),
        connection_secrets: Vec::new(),
        cluster_error: None,
    };
    match bi_control::service_status::read(&db, client, kind, &name).await {
        Ok(status) => {
            detail.namespace = status.namespace;
            detail.readiness = status.readiness.as_str().to_owned();
            detail.workloads = status
                .workloads
                .into_iter()
                .map(|w| WorkloadRow {
                    what: format!("{} {}", w.path.kind, w.path.name),
                    ready: w.ready,
                    desired: w.desired,
                })
                .collect();
            detail.condition = status.condition;
            detail.url = status.url;
            detail.events = status
                .events
                .into_iter()
                .map(|e| EventRow {
                    kind: e.kind,
                    reason: e.reason,
                    message: e.message,
                    object: e.object,
                    count: e.count,
                    last_seen: e.last_seen.unwrap_or_default(),
                })
                .collect();
            detail.outcomes = status
                .outcomes
                .into_iter()
                .map(|o| OutcomeRow {
                    snapshot: o.snapshot,
                    path: o.path,
                    outcome: o.outcome,
                    message: o.message,
                })
                .collect();
            detail.connection_secrets = status.connection_secrets;
        }
        Err(err @ bi_control::Error::Cluster { .. }) => {
            tracing::warn!(error = %err, "service status: the cluster could not be read");
            detail.cluster_error = Some("the cluster could not be read; see the server log".into());
        }
        Err(err) => return Err(err.into()),
    }
    Ok(detail)
}

/// Saves the service `name`'s settings from its form (`form`: the JSON of
/// a [`bi_model::input::service_form::ServiceForm`]); returns the new version.
#[server(prefix = "/api", endpoint = "services/update")]
pub async fn update_service(name: String, form: String) -> Result<i32, ApiError> {
    let form: bi_model::input::service_form::ServiceForm =
        serde_json::from_str(&form).map_err(|err| {
            let mut problems = bi_model::Problems::new();
            problems.push(
                "form",
                bi_model::Rule::Format,
                format!("not a service form: {err}"),
            );
            ApiError::Rejected(problems)
        })?;
    let db = crate::api::database()?;
    let current = find_service(&db, &name).await?;
    let object = form.apply(&current).map_err(ApiError::Rejected)?;
    Ok(
        bi_control::operations::projects::update_object(&db, crate::api::batteries::AUTHOR, object)
            .await?,
    )
}
