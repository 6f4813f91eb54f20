//! Server functions about projects and the objects in them (the add forms'
//! typed builders are in [`bi_model::input::object_form`]).

pub use bi_api::projects::{ProjectDetail, ProjectMember, ProjectSummary};
#[cfg(feature = "ssr")]
use bi_model::units::Storage;
use leptos::prelude::*;

use crate::ApiError;

/// Every project.
#[server(prefix = "/api", endpoint = "projects/list", client = crate::csrf::Client)]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::list(&db).await?)
}

/// The project `name` with its objects.
#[server(prefix = "/api", endpoint = "projects/show", client = crate::csrf::Client)]
pub async fn get_project(name: String) -> Result<ProjectDetail, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::show(&db, &name).await?)
}

/// Removes the object `name` of `kind` (`postgres_cluster`, …) from its
/// project; returns the new desired-state version. Refused, naming them,
/// while FerretDB services store their data in a cluster, and when the
/// object changed after `expected_version`, the version the page showed.
#[server(prefix = "/api", endpoint = "projects/remove-object", client = crate::csrf::Client)]
pub async fn remove_object(
    kind: String,
    name: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
    use bi_control::operations::{ObjectKind, projects};

    let kind = kind
        .parse::<ObjectKind>()
        .map_err(|err| ApiError::NotFound(err.to_string()))?;
    let db = crate::api::database()?;
    Ok(projects::remove_object(&db, &crate::api::author()?, kind, &name, expected_version).await?)
}

/// Creates a project; returns the new desired-state version.
#[server(prefix = "/api", endpoint = "projects/create", client = crate::csrf::Client)]
pub async fn create_project(name: String, description: String) -> Result<i32, ApiError> {
    let project = bi_model::objects::Project {
        name: name.trim().to_owned(),
        description,
    };
    project.validate().map_err(ApiError::Rejected)?;
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::create(&db, &crate::api::author()?, project).await?)
}

/// Renames a project with its objects; returns the new desired-state
/// version. Refused when the project or its objects changed after
/// `expected_version`, the version the page showed.
#[server(prefix = "/api", endpoint = "projects/rename", client = crate::csrf::Client)]
pub async fn rename_project(
    old: String,
    new: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::rename(
        &db,
        &crate::api::author()?,
        &old,
        new.trim(),
        expected_version,
    )
    .await?)
}

/// Deletes an empty project; refused, naming them, while objects are in
/// it, and when it changed after `expected_version`.
#[server(prefix = "/api", endpoint = "projects/delete", client = crate::csrf::Client)]
pub async fn delete_project(name: String, expected_version: Option<i32>) -> Result<i32, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::delete(
        &db,
        &crate::api::author()?,
        &name,
        false,
        expected_version,
    )
    .await?)
}

/// Adds the object of `kind` (`postgres_cluster`, `redis_instance`, …)
/// that the project page's form describes (`values`: the JSON object of its
/// texts by key) to `project`; returns the new desired-state version.
#[server(prefix = "/api", endpoint = "projects/add-object", client = crate::csrf::Client)]
pub async fn add_object(project: String, kind: String, values: String) -> Result<i32, ApiError> {
    use bi_control::operations::{ObjectKind, projects};

    let kind = kind
        .parse::<ObjectKind>()
        .map_err(|err| ApiError::NotFound(err.to_string()))?;
    let values: std::collections::BTreeMap<String, String> = serde_json::from_str(&values)
        .map_err(|err| {
            let mut problems = bi_model::Problems::new();
            problems.push(
                "values",
                bi_model::Rule::Format,
                format!("not a JSON object of texts: {err}"),
            );
            ApiError::Rejected(problems)
        })?;
    let object = bi_model::input::object_form::new_object(kind, &project, &values)
        .map_err(ApiError::Rejected)?;
    let db = crate::api::database()?;
    Ok(projects::add_object(&db, &crate::api::author()?, object).await?)
}

/// Changes the storage of the PostgreSQL cluster `name`; returns the new
/// version. Refused when the cluster changed after `expected_version`, the
/// version the page showed.
#[server(prefix = "/api", endpoint = "projects/resize-postgres", client = crate::csrf::Client)]
pub async fn resize_postgres_cluster(
    name: String,
    storage: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
    use bi_control::operations::{ObjectKind, ProjectObject, projects};

    let storage = Storage::parse(&storage).map_err(|err| ApiError::Invalid(err.at("storage")))?;
    let db = crate::api::database()?;
    let ProjectObject::PostgresCluster(mut cluster) =
        projects::object(&db, ObjectKind::PostgresCluster, &name)
            .await?
            .object
    else {
        return Err(ApiError::NotFound(format!(
            "there is no postgres cluster {name}"
        )));
    };
    cluster.object.storage = storage;
    let object = ProjectObject::PostgresCluster(cluster);
    Ok(projects::update_object(&db, &crate::api::author()?, object, expected_version).await?)
}
