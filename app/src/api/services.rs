//! Server functions about services: Knative and traditional services in
//! every project, and scaling them.

pub use bi_api::services::{ApplyOutcome, ServiceDetail, ServiceEvent, ServiceRow, ServiceScale};
use leptos::prelude::*;

use crate::ApiError;

/// Every Knative and traditional service.
#[server(prefix = "/api", endpoint = "services/list", client = crate::csrf::Client)]
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
        let read = projects::object(&db, object.kind, &object.name).await?;
        match read.object {
            ProjectObject::KnativeService(owned) => rows.push(ServiceRow {
                name: owned.object.name,
                project: owned.project,
                image: owned.object.image.to_string(),
                scale: ServiceScale::Knative {
                    min: owned.object.min_scale,
                    max: owned.object.max_scale,
                },
                version: read.version,
            }),
            ProjectObject::TraditionalService(owned) => rows.push(ServiceRow {
                name: owned.object.name,
                project: owned.project,
                image: owned.object.image.to_string(),
                scale: ServiceScale::Traditional {
                    replicas: owned.object.replicas,
                },
                version: read.version,
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
/// Refused when the service changed after `expected_version`, the version
/// the list showed.
#[server(prefix = "/api", endpoint = "services/scale-knative", client = crate::csrf::Client)]
pub async fn scale_knative(
    name: String,
    min: String,
    max: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
    let (min, max) = (count("min_scale", &min)?, count("max_scale", &max)?);
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::scale_knative_service(
        &db,
        &crate::api::author()?,
        &name,
        min,
        max,
        expected_version,
    )
    .await?)
}

/// Sets the replicas of a traditional service; returns the new version.
/// Refused when the service changed after `expected_version`, the version
/// the list showed.
#[server(prefix = "/api", endpoint = "services/scale", client = crate::csrf::Client)]
pub async fn scale_traditional(
    name: String,
    replicas: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
    let replicas = count("replicas", &replicas)?;
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::scale_service(
        &db,
        &crate::api::author()?,
        &name,
        replicas,
        expected_version,
    )
    .await?)
}

/// The service `name` with its settings and status.
#[server(prefix = "/api", endpoint = "services/show", client = crate::csrf::Client)]
pub async fn get_service(name: String) -> Result<ServiceDetail, ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::service_status::detail(&db, reconciler.engine().cache(), &name).await?)
}

/// Saves the service `name`'s settings from its form (`form`: the JSON of
/// a [`bi_model::input::service_form::ServiceForm`]); returns the new
/// version. Refused (409, naming the fields) when the service changed after
/// `expected_version`, the version the form was filled in from.
#[server(prefix = "/api", endpoint = "services/update", client = crate::csrf::Client)]
pub async fn update_service(
    name: String,
    form: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
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
    let current = bi_control::service_status::find_service(&db, &name).await?;
    // NB: the form is applied to the newest object; `expected_version` makes
    // the write refuse when that is not the object the form was filled from.
    let object = form.apply(&current.object).map_err(ApiError::Rejected)?;
    Ok(bi_control::operations::projects::update_object(
        &db,
        &crate::api::author()?,
        object,
        expected_version,
    )
    .await?)
}
