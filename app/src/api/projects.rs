//! Server functions about projects and the objects in them, and the typed
//! builders the browser and the server share to check what a form sent.

use bi_model::image::ImageRef;
use bi_model::objects::{
    KnativeService, PortProtocol, PostgresCluster, Resources, ServicePort, TraditionalService,
};
use bi_model::units::{Cpu, Memory, Storage};
use bi_model::{Problems, Rule};
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

/// A PostgreSQL cluster from the add form, checked by `bi-model`; the
/// problems name `name`, `instances` and `storage`.
pub fn postgres_cluster(
    name: &str,
    instances: &str,
    storage: &str,
) -> Result<PostgresCluster, Problems> {
    let mut problems = Problems::new();
    let instances = instances.trim().parse::<u32>().unwrap_or_else(|_| {
        problems.push("instances", Rule::Format, "must be a whole number, e.g. 1");
        1
    });
    let storage = Storage::parse(storage).unwrap_or_else(|err| {
        problems.add(err.at("storage"));
        Storage::mebibytes(512)
    });
    let cluster = PostgresCluster {
        name: name.trim().to_owned(),
        instances,
        storage,
        ..PostgresCluster::default()
    };
    if problems.is_empty() {
        problems.merge("", cluster.validate());
    }
    problems.into_result().map(|()| cluster)
}

/// A Knative service from the add form, checked by `bi-model`; the
/// problems name `name` and `image`.
pub fn knative_service(name: &str, image: &str) -> Result<KnativeService, Problems> {
    let image = ImageRef::parse(image).map_err(|err| {
        let mut problems = Problems::new();
        problems.add(err.under("image"));
        problems
    })?;
    let service = KnativeService::new(name.trim(), image);
    service.validate().map(|()| service)
}

/// A traditional service from the add form, checked by `bi-model`; the
/// problems name `name`, `image`, `replicas`, `port`, `memory` and `cpu`.
pub fn traditional_service(
    name: &str,
    image: &str,
    replicas: &str,
    port: &str,
    memory: &str,
    cpu: &str,
) -> Result<TraditionalService, Problems> {
    let mut problems = Problems::new();
    let image = ImageRef::parse(image)
        .map_err(|err| problems.add(err.under("image")))
        .ok();
    let replicas = replicas.trim().parse::<u32>().unwrap_or_else(|_| {
        problems.push("replicas", Rule::Format, "must be a whole number, e.g. 2");
        1
    });
    let port = match port.trim() {
        "" => None,
        text => text.parse::<u16>().map(Some).unwrap_or_else(|_| {
            problems.push("port", Rule::Range, "must be a port number from 1 to 65535");
            None
        }),
    };
    let memory = Memory::parse(memory)
        .map_err(|err| problems.add(err.at("memory")))
        .ok();
    let cpu = Cpu::parse(cpu)
        .map_err(|err| problems.add(err.at("cpu")))
        .ok();
    let (Some(image), Some(memory), Some(cpu)) = (image, memory, cpu) else {
        return Err(problems);
    };
    let mut service = TraditionalService::new(name.trim(), image);
    service.replicas = replicas;
    service.ports = port
        .map(|number| ServicePort {
            name: "http".to_owned(),
            number,
            protocol: PortProtocol::default(),
        })
        .into_iter()
        .collect();
    service.resources = Resources {
        cpu_request: cpu,
        cpu_limit: None,
        memory_request: memory,
        memory_limit: Some(memory),
    };
    if let Err(found) = service.validate() {
        // NB: the form's fields are flat; the model's are nested.
        for mut problem in found.iter().cloned() {
            problem.field = match problem.field.as_str() {
                "resources.memory_request" | "resources.memory_limit" => "memory".to_owned(),
                "resources.cpu_request" => "cpu".to_owned(),
                field if field.starts_with("ports") => "port".to_owned(),
                field => field.to_owned(),
            };
            problems.add(problem);
        }
    }
    problems.into_result().map(|()| service)
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

/// Adds a PostgreSQL cluster to `project`; returns the new version.
#[server(prefix = "/api", endpoint = "projects/add-postgres")]
pub async fn add_postgres_cluster(
    project: String,
    name: String,
    instances: String,
    storage: String,
) -> Result<i32, AppError> {
    use bi_control::operations::{ProjectObject, projects};
    use bi_model::generate::Owned;

    let cluster = postgres_cluster(&name, &instances, &storage).map_err(rejected)?;
    let db = crate::api::database()?;
    let object = ProjectObject::PostgresCluster(Owned {
        project: Some(project),
        object: cluster,
    });
    Ok(projects::add_object(&db, crate::api::batteries::AUTHOR, object).await?)
}

/// Adds a Knative service to `project`; returns the new version.
#[server(prefix = "/api", endpoint = "projects/add-knative")]
pub async fn add_knative_service(
    project: String,
    name: String,
    image: String,
) -> Result<i32, AppError> {
    use bi_control::operations::{ProjectObject, projects};
    use bi_model::generate::Owned;

    let service = knative_service(&name, &image).map_err(rejected)?;
    let db = crate::api::database()?;
    let object = ProjectObject::KnativeService(Owned {
        project: Some(project),
        object: service,
    });
    Ok(projects::add_object(&db, crate::api::batteries::AUTHOR, object).await?)
}

/// Adds a traditional service to `project`; returns the new version.
#[server(prefix = "/api", endpoint = "projects/add-traditional")]
pub async fn add_traditional_service(
    project: String,
    name: String,
    image: String,
    replicas: String,
    port: String,
    memory: String,
    cpu: String,
) -> Result<i32, AppError> {
    use bi_control::operations::{ProjectObject, projects};
    use bi_model::generate::Owned;

    let service =
        traditional_service(&name, &image, &replicas, &port, &memory, &cpu).map_err(rejected)?;
    let db = crate::api::database()?;
    let object = ProjectObject::TraditionalService(Owned {
        project: Some(project),
        object: service,
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traditional_service_form_names_each_bad_field() {
        let problems =
            traditional_service("web", "nginx:1.27", "many", "http", "500", "2 cores").unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["replicas", "port", "memory"], "{problems:?}");
        let memory = problems.for_field("memory").map(|p| p.message.clone());
        assert!(memory.is_some_and(|m| m.contains("no unit")));
    }

    #[test]
    fn a_valid_traditional_service_form_builds_the_typed_service() {
        let service =
            traditional_service("web", "nginx:1.27", "3", "8080", "512Mi", "250m").unwrap();
        assert_eq!(service.replicas, 3);
        assert_eq!(service.ports[0].number, 8080);
        assert_eq!(service.resources.memory_request, Memory::mebibytes(512));
        assert_eq!(service.resources.cpu_request, Cpu::millicores(250));
    }
}
