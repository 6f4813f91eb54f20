//! Server functions about services: Knative and traditional services in
//! every project, and scaling them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

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
pub async fn list_services() -> Result<Vec<ServiceRow>, AppError> {
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
pub fn count(field: &str, text: &str) -> Result<u32, AppError> {
    text.trim().parse::<u32>().map_err(|_| {
        AppError::Invalid(bi_model::FieldError::new(
            field,
            bi_model::Rule::Format,
            format!("must be a whole number, e.g. 2; \"{}\" is not", text.trim()),
        ))
    })
}

/// Sets the instance range of a Knative service; returns the new version.
#[server(prefix = "/api", endpoint = "services/scale-knative")]
pub async fn scale_knative(name: String, min: String, max: String) -> Result<i32, AppError> {
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
pub async fn scale_traditional(name: String, replicas: String) -> Result<i32, AppError> {
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
