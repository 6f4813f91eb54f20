//! Server functions about projects and the objects in them (the add forms'
//! typed builders are in [`bi_model::input::object_form`]).

#[cfg(feature = "ssr")]
use bi_model::Problems;
#[cfg(feature = "ssr")]
use bi_model::units::Storage;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// A project as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// How many objects are in it.
    pub object_count: usize,
}

/// One object of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRow {
    /// `postgres_cluster`, `knative_service`, …
    pub kind: String,
    /// `postgres cluster`, `knative service`, …
    pub label: String,
    /// Its name.
    pub name: String,
    /// Its storage, for objects that have one (`1Gi`).
    pub storage: Option<String>,
    /// The services whose environment reads this object's connection
    /// Secret (they break when it goes).
    pub readers: Vec<String>,
}

/// A project and everything in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its objects.
    pub objects: Vec<ObjectRow>,
}

#[cfg(feature = "ssr")]
fn rejected(problems: Problems) -> AppError {
    AppError::Rejected(problems)
}

/// Every project.
#[server(prefix = "/api", endpoint = "projects/list")]
pub async fn list_projects() -> Result<Vec<ProjectRow>, AppError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::list(&db)
        .await?
        .into_iter()
        .map(|summary| ProjectRow {
            name: summary.project.name,
            description: summary.project.description,
            object_count: summary.object_count,
        })
        .collect())
}

/// The project `name` with its objects.
#[server(prefix = "/api", endpoint = "projects/show")]
pub async fn get_project(name: String) -> Result<ProjectView, AppError> {
    use bi_control::operations::{ObjectKind, ProjectObject, projects};

    let db = crate::api::database()?;
    let detail = projects::show(&db, &name).await?;
    let (_, state) = bi_control::desired_state::current(&db).await?;
    let mut objects = Vec::new();
    for object in detail.objects {
        let storage = match object.kind {
            ObjectKind::PostgresCluster => {
                match projects::object(&db, object.kind, &object.name).await? {
                    ProjectObject::PostgresCluster(cluster) => {
                        Some(cluster.object.storage.to_string())
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        objects.push(ObjectRow {
            kind: object.kind.id().to_owned(),
            label: object.kind.label().to_owned(),
            readers: readers(&state, object.kind, &object.name),
            name: object.name,
            storage,
        });
    }
    Ok(ProjectView {
        name: detail.project.name,
        description: detail.project.description,
        objects,
    })
}

/// The services whose environment reads a connection Secret of the data
/// object `name` of `kind` (`postgres-<name>-<user>-connection`,
/// `redis-<name>-connection`, `ferret-<name>-connection`).
#[cfg(feature = "ssr")]
fn readers(
    state: &bi_model::generate::DesiredState,
    kind: bi_model::objects::ObjectKind,
    name: &str,
) -> Vec<String> {
    use bi_model::objects::{EnvValue, EnvVar, ObjectKind};

    let prefix = match kind {
        ObjectKind::PostgresCluster => format!("postgres-{name}-"),
        ObjectKind::RedisInstance => format!("redis-{name}-"),
        ObjectKind::FerretService => format!("ferret-{name}-"),
        _ => return Vec::new(),
    };
    let reads = |env: &[EnvVar]| {
        env.iter().any(|var| {
            matches!(&var.value, EnvValue::SecretRef { secret, .. }
                if secret.starts_with(&prefix)
                    && secret.ends_with(bi_model::generate::CONNECTION_SUFFIX))
        })
    };
    let knative = state
        .knative_services
        .iter()
        .filter(|s| reads(&s.object.env))
        .map(|s| s.object.name.clone());
    let traditional = state
        .traditional_services
        .iter()
        .filter(|s| reads(&s.object.env))
        .map(|s| s.object.name.clone());
    let mut found: Vec<String> = knative.chain(traditional).collect();
    found.sort();
    found
}

/// Removes the object `name` of `kind` (`postgres_cluster`, …) from its
/// project; returns the new desired-state version. Refused, naming them,
/// while FerretDB services store their data in a cluster.
#[server(prefix = "/api", endpoint = "projects/remove-object")]
pub async fn remove_object(kind: String, name: String) -> Result<i32, AppError> {
    use bi_control::operations::{ObjectKind, projects};

    let kind = kind
        .parse::<ObjectKind>()
        .map_err(|err| AppError::NotFound(err.to_string()))?;
    let db = crate::api::database()?;
    Ok(projects::remove_object(&db, crate::api::batteries::AUTHOR, kind, &name).await?)
}

/// Creates a project; returns the new desired-state version.
#[server(prefix = "/api", endpoint = "projects/create")]
pub async fn create_project(name: String, description: String) -> Result<i32, AppError> {
    let project = bi_model::objects::Project {
        name: name.trim().to_owned(),
        description,
    };
    project.validate().map_err(rejected)?;
    let db = crate::api::database()?;
    Ok(
        bi_control::operations::projects::create(&db, crate::api::batteries::AUTHOR, project)
            .await?,
    )
}

/// Renames a project with its objects; returns the new desired-state version.
#[server(prefix = "/api", endpoint = "projects/rename")]
pub async fn rename_project(old: String, new: String) -> Result<i32, AppError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::projects::rename(
        &db,
        crate::api::batteries::AUTHOR,
        &old,
        new.trim(),
    )
    .await?)
}

/// Deletes an empty project; refused, naming them, while objects are in it.
#[server(prefix = "/api", endpoint = "projects/delete")]
pub async fn delete_project(name: String) -> Result<i32, AppError> {
    let db = crate::api::database()?;
    Ok(
        bi_control::operations::projects::delete(&db, crate::api::batteries::AUTHOR, &name, false)
            .await?,
    )
}

/// Adds the object of `kind` (`postgres_cluster`, `redis_instance`, …)
/// that the project page's form describes (`values`: the JSON object of its
/// texts by key) to `project`; returns the new desired-state version.
#[server(prefix = "/api", endpoint = "projects/add-object")]
pub async fn add_object(project: String, kind: String, values: String) -> Result<i32, AppError> {
    use bi_control::operations::{ObjectKind, projects};

    let kind = kind
        .parse::<ObjectKind>()
        .map_err(|err| AppError::NotFound(err.to_string()))?;
    let values: std::collections::BTreeMap<String, String> = serde_json::from_str(&values)
        .map_err(|err| {
            let mut problems = bi_model::Problems::new();
            problems.push(
                "values",
                bi_model::Rule::Format,
                format!("not a JSON object of texts: {err}"),
            );
            AppError::Rejected(problems)
        })?;
    let object =
        bi_model::input::object_form::new_object(kind, &project, &values).map_err(rejected)?;
    let db = crate::api::database()?;
    Ok(projects::add_object(&db, crate::api::batteries::AUTHOR, object).await?)
}

/// Changes the storage of the PostgreSQL cluster `name`; returns the new version.
#[server(prefix = "/api", endpoint = "projects/resize-postgres")]
pub async fn resize_postgres_cluster(name: String, storage: String) -> Result<i32, AppError> {
    use bi_control::operations::{ObjectKind, ProjectObject, projects};

    let storage = Storage::parse(&storage).map_err(|err| AppError::Invalid(err.at("storage")))?;
    let db = crate::api::database()?;
    let ProjectObject::PostgresCluster(mut cluster) =
        projects::object(&db, ObjectKind::PostgresCluster, &name).await?
    else {
        return Err(AppError::NotFound(format!(
            "there is no postgres cluster {name}"
        )));
    };
    cluster.object.storage = storage;
    let object = ProjectObject::PostgresCluster(cluster);
    Ok(projects::update_object(&db, crate::api::batteries::AUTHOR, object).await?)
}
