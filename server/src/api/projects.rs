//! `/api/v1/projects…` and `/api/v1/objects…`: projects and the user
//! objects in them, through `bi_control::operations::projects`.

use axum::Json;
use axum::extract::{Path, Query, State};
pub use bi_api::audit::ExpectedVersion;
pub use bi_api::projects::{DeleteQuery, ObjectRead, ObjectUpdate, ObjectsQuery, Rename, Scale};
use bi_control::Database;
use bi_control::operations::{
    ObjectKind, ObjectRef, ProjectDetail, ProjectObject, ProjectSummary, projects,
};
use bi_model::objects::Project;

use super::{ApiError, Changed};
use crate::auth::Caller;
use crate::state::AppState;

/// 404 unless the project exists.
async fn existing_project(db: &Database, name: &str) -> Result<(), ApiError> {
    let known = projects::list(db).await?;
    if known.iter().any(|summary| summary.project.name == name) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "there is no project \"{name}\""
        )))
    }
}

fn object_kind(id: &str) -> Result<ObjectKind, ApiError> {
    id.parse::<ObjectKind>()
        .map_err(|err| ApiError::NotFound(err.to_string()))
}

/// Every project.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ProjectSummary>>, ApiError> {
    Ok(Json(projects::list(&state.db).await?))
}

/// Creates a project.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(project): Json<Project>,
) -> Result<Json<Changed>, ApiError> {
    let version = projects::create(&state.db, &caller.author(), project.clone()).await?;
    Ok(Json(Changed { version }))
}

/// One project with its objects.
pub async fn show(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ProjectDetail>, ApiError> {
    existing_project(&state.db, &name).await?;
    Ok(Json(projects::show(&state.db, &name).await?))
}

/// Renames a project.
pub async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<Rename>,
) -> Result<Json<Changed>, ApiError> {
    existing_project(&state.db, &name).await?;
    let version = projects::rename(
        &state.db,
        &caller.author(),
        &name,
        &body.new_name,
        body.expected_version,
    )
    .await?;
    Ok(Json(Changed { version }))
}

/// Deletes a project (with its objects when `cascade`).
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<DeleteQuery>,
) -> Result<Json<Changed>, ApiError> {
    existing_project(&state.db, &name).await?;
    let version = projects::delete(
        &state.db,
        &caller.author(),
        &name,
        query.cascade,
        query.expected_version,
    )
    .await?;
    Ok(Json(Changed { version }))
}

/// Every user object, or those of one kind.
pub async fn objects(
    State(state): State<AppState>,
    Query(query): Query<ObjectsQuery>,
) -> Result<Json<Vec<ObjectRef>>, ApiError> {
    let kind = query.kind.as_deref().map(object_kind).transpose()?;
    let all = projects::objects(&state.db).await?;
    Ok(Json(
        all.into_iter()
            .filter(|object| kind.is_none_or(|kind| object.kind == kind))
            .collect(),
    ))
}

/// One object, whole, with the `version` it was read at.
pub async fn object(
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
) -> Result<Json<ObjectRead>, ApiError> {
    let kind = object_kind(&kind)?;
    let all = projects::objects(&state.db).await?;
    if !all.iter().any(|o| o.kind == kind && o.name == name) {
        return Err(ApiError::NotFound(format!(
            "there is no {} named \"{name}\"",
            kind.label()
        )));
    }
    Ok(Json(projects::object(&state.db, kind, &name).await?))
}

/// Adds an object.
pub async fn add_object(
    State(state): State<AppState>,
    caller: Caller,
    Json(object): Json<ProjectObject>,
) -> Result<Json<Changed>, ApiError> {
    let version = projects::add_object(&state.db, &caller.author(), object.clone()).await?;
    Ok(Json(Changed { version }))
}

/// Replaces an object with the one sent (same kind and name); refused with
/// 409 when it changed after the body's `expected_version`.
pub async fn update_object(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, name)): Path<(String, String)>,
    Json(body): Json<ObjectUpdate>,
) -> Result<Json<Changed>, ApiError> {
    let ObjectUpdate {
        object,
        expected_version,
    } = body;
    let kind = object_kind(&kind)?;
    if object.kind() != kind || object.name() != name {
        return Err(ApiError::BadRequest(format!(
            "the body is {} {}, the route {} {name}",
            object.kind().id(),
            object.name(),
            kind.id()
        )));
    }
    let version =
        projects::update_object(&state.db, &caller.author(), object, expected_version).await?;
    Ok(Json(Changed { version }))
}

/// Removes an object (`?expected_version=N`: refused with 409 when it
/// changed after version N).
pub async fn remove_object(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, name)): Path<(String, String)>,
    Query(query): Query<ExpectedVersion>,
) -> Result<Json<Changed>, ApiError> {
    let kind = object_kind(&kind)?;
    let version = projects::remove_object(
        &state.db,
        &caller.author(),
        kind,
        &name,
        query.expected_version,
    )
    .await?;
    Ok(Json(Changed { version }))
}

/// Scales a traditional or Knative service.
pub async fn scale(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, name)): Path<(String, String)>,
    Json(body): Json<Scale>,
) -> Result<Json<Changed>, ApiError> {
    let expected_version = body.expected_version;
    let version = match (object_kind(&kind)?, body) {
        (
            ObjectKind::TraditionalService,
            Scale {
                replicas: Some(replicas),
                min_scale: None,
                max_scale: None,
                ..
            },
        ) => {
            projects::scale_service(
                &state.db,
                &caller.author(),
                &name,
                replicas,
                expected_version,
            )
            .await?
        }
        (
            ObjectKind::KnativeService,
            Scale {
                replicas: None,
                min_scale: Some(min_scale),
                max_scale: Some(max_scale),
                ..
            },
        ) => {
            projects::scale_knative_service(
                &state.db,
                &caller.author(),
                &name,
                min_scale,
                max_scale,
                expected_version,
            )
            .await?
        }
        (ObjectKind::TraditionalService, _) => {
            return Err(ApiError::BadRequest(
                "scale a traditional service with {\"replicas\": N}".to_owned(),
            ));
        }
        (ObjectKind::KnativeService, _) => {
            return Err(ApiError::BadRequest(
                "scale a knative service with {\"min_scale\": N, \"max_scale\": M}".to_owned(),
            ));
        }
        (other, _) => {
            return Err(ApiError::BadRequest(format!(
                "{} objects do not scale this way; update them instead",
                other.id()
            )));
        }
    };
    Ok(Json(Changed { version }))
}
