//! Projects and the user objects in them: databases, services, notebooks
//! and models, for the web UI and the `bi` CLI alike.
//!
//! Every change goes through [`desired_state::change`], which validates the
//! whole state and stores an audited version; the checks here come first so
//! that refusals name fields of what the caller sent (`object.storage`,
//! `project`, `name`) rather than positions in the stored lists.
//!
//! Writes to an object or a project take the `expected_version` their
//! caller read it at (see [`crate::staleness`]): refused when that object
//! (or that project with its objects) changed since, whatever else did.

use bi_model::catalog::BatteryKind;
use bi_model::generate::{CONNECTION_SUFFIX, DesiredState, Owned};
use bi_model::objects::{EnvValue, EnvVar, Named, Project};
pub use bi_model::objects::{ObjectKind, ProjectObject, UnknownObjectKind};
use bi_model::{Problems, Rule};
use serde_json::Value;

use crate::Database;
use crate::desired_state;
use crate::error::{Error, Result};
use crate::staleness::ReadAt;

/// Runs `$body` once for each list of user objects in `$state`, with the
/// list bound mutably to `$list` (each list has its own element type).
macro_rules! for_each_list {
    ($state:expr, $list:ident => $body:block) => {{
        {
            let $list = &mut $state.postgres_clusters;
            $body
        }
        {
            let $list = &mut $state.redis_instances;
            $body
        }
        {
            let $list = &mut $state.ferret_services;
            $body
        }
        {
            let $list = &mut $state.knative_services;
            $body
        }
        {
            let $list = &mut $state.traditional_services;
            $body
        }
        {
            let $list = &mut $state.notebooks;
            $body
        }
        {
            let $list = &mut $state.model_instances;
            $body
        }
    }};
}
pub use bi_api::projects::{ObjectRead, ObjectRef, ProjectDetail, ProjectMember, ProjectSummary};

/// Every project, in the order they were created.
pub async fn list(db: &Database) -> Result<Vec<ProjectSummary>> {
    let (_, state) = desired_state::current(db).await?;
    let objects = every_object(&state);
    Ok(state
        .projects
        .iter()
        .map(|project| ProjectSummary {
            project: project.clone(),
            object_count: objects
                .iter()
                .filter(|o| o.project.as_deref() == Some(project.name.as_str()))
                .count(),
        })
        .collect())
}

/// The project `name` and every object in it; refused when there is none.
pub async fn show(db: &Database, name: &str) -> Result<ProjectDetail> {
    let (version, state) = desired_state::current(db).await?;
    let project = find_project(&state, name).map_err(Error::Rejected)?.clone();
    let objects = objects_in(&state, name)
        .into_iter()
        .map(|object| ProjectMember {
            storage: match (object.kind, get(&state, object.kind, &object.name)) {
                (ObjectKind::PostgresCluster, Some(ProjectObject::PostgresCluster(cluster))) => {
                    Some(cluster.object.storage)
                }
                _ => None,
            },
            readers: readers(&state, object.kind, &object.name),
            kind: object.kind,
            name: object.name,
        })
        .collect();
    Ok(ProjectDetail {
        project,
        objects,
        version,
    })
}

/// Every user object, in or outside projects.
pub async fn objects(db: &Database) -> Result<Vec<ObjectRef>> {
    let (_, state) = desired_state::current(db).await?;
    Ok(every_object(&state))
}

/// The object `name` of `kind`, whole, with the version it was read at;
/// refused when there is none.
pub async fn object(db: &Database, kind: ObjectKind, name: &str) -> Result<ObjectRead> {
    let (version, state) = desired_state::current(db).await?;
    let object = get(&state, kind, name)
        .ok_or_else(|| Error::Rejected(no_such_object(kind, name, "name")))?;
    Ok(ObjectRead { object, version })
}

/// Creates `project`; returns the new desired-state version.
///
/// Refused when the name is taken or the project is invalid.
pub async fn create(db: &Database, author: &str, project: Project) -> Result<i32> {
    let summary = format!("create project {}", project.name);
    desired_state::change(db, author, &summary, |state| {
        let mut problems = Problems::new();
        problems.merge("", project.validate());
        if state.projects.iter().any(|p| p.name == project.name) {
            problems.push(
                "name",
                Rule::Unique,
                format!("a project named \"{}\" already exists", project.name),
            );
        }
        problems.into_result()?;
        state.projects.push(project);
        Ok(())
    })
    .await
}

/// Renames the project `old` to `new`, moving its objects with it; returns
/// the new desired-state version. Refused when the project or its objects
/// changed after `expected_version` (if given).
pub async fn rename(
    db: &Database,
    author: &str,
    old: &str,
    new: &str,
    expected_version: Option<i32>,
) -> Result<i32> {
    let summary = format!("rename project {old} to {new}");
    let read_at = project_read_at(expected_version, old);
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        find_project(state, old)?;
        let mut problems = Problems::new();
        let renamed = Project {
            name: new.to_owned(),
            description: String::new(),
        };
        if let Err(nested) = renamed.validate() {
            for error in nested {
                if error.field == "name" {
                    problems.push("new_name", error.rule, error.message);
                }
            }
        }
        if new == old {
            problems.push(
                "new_name",
                Rule::Consistency,
                format!("the project is already called \"{old}\""),
            );
        } else if state.projects.iter().any(|p| p.name == new) {
            problems.push(
                "new_name",
                Rule::Unique,
                format!("a project named \"{new}\" already exists"),
            );
        }
        problems.into_result()?;
        for project in state.projects.iter_mut().filter(|p| p.name == old) {
            new.clone_into(&mut project.name);
        }
        for_each_list!(state, list => {
            for owned in list.iter_mut() {
                if owned.project.as_deref() == Some(old) {
                    owned.project = Some(new.to_owned());
                }
            }
        });
        Ok(())
    })
    .await
}

/// Deletes the project `name`; returns the new desired-state version.
///
/// Refused while objects are in it, naming them, unless `cascade`, which
/// removes them too; and when the project or its objects changed after
/// `expected_version` (if given).
pub async fn delete(
    db: &Database,
    author: &str,
    name: &str,
    cascade: bool,
    expected_version: Option<i32>,
) -> Result<i32> {
    let (_, before) = desired_state::current(db).await?;
    let inside = objects_in(&before, name);
    let summary = if cascade && !inside.is_empty() {
        format!("delete project {name} with {}", join(&inside))
    } else {
        format!("delete project {name}")
    };
    let read_at = project_read_at(expected_version, name);
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        find_project(state, name)?;
        let now_inside = objects_in(state, name);
        let mut problems = Problems::new();
        if !cascade && !now_inside.is_empty() {
            problems.push(
                "project",
                Rule::Dependency,
                format!(
                    "project {name} still holds {}; remove them first or delete with cascade",
                    join(&now_inside)
                ),
            );
        } else if cascade && now_inside != inside {
            problems.push("project", Rule::Consistency, CHANGED_MEANWHILE);
        }
        problems.into_result()?;
        state.projects.retain(|p| p.name != name);
        for_each_list!(state, list => {
            list.retain(|owned| owned.project.as_deref() != Some(name));
        });
        check_clusters_in_use(state, "project")
    })
    .await
}

/// Adds `object`; returns the new desired-state version.
///
/// Refused when an object of its kind has its name, its project does not
/// exist, its battery is not installed, or it is invalid.
pub async fn add_object(db: &Database, author: &str, object: ProjectObject) -> Result<i32> {
    let summary = match object.project() {
        Some(project) => format!("add {} to project {project}", object.describe()),
        None => format!("add {}", object.describe()),
    };
    desired_state::change(db, author, &summary, |state| {
        let mut problems = Problems::new();
        let (kind, name) = (object.kind(), object.name());
        if get(state, kind, name).is_some() {
            problems.push(
                "object.name",
                Rule::Unique,
                format!("a {} named \"{name}\" already exists", kind.label()),
            );
        }
        check_placement(state, &object, &mut problems);
        problems.into_result()?;
        object.insert_into(state);
        Ok(())
    })
    .await
}

/// Replaces the object of the same kind and name with `object` (its
/// project may change); returns the new desired-state version. Refused
/// when that object changed after `expected_version` (if given).
pub async fn update_object(
    db: &Database,
    author: &str,
    object: ProjectObject,
    expected_version: Option<i32>,
) -> Result<i32> {
    let summary = format!("update {}", object.describe());
    let read_at = object_read_at(expected_version, object.kind(), object.name());
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        let (kind, name) = (object.kind(), object.name());
        let Some(before) = get(state, kind, name) else {
            return Err(no_such_object(kind, name, "object.name"));
        };
        let mut problems = Problems::new();
        check_placement(state, &object, &mut problems);
        if let (ProjectObject::PostgresCluster(after), ProjectObject::PostgresCluster(before)) =
            (&object, &before)
        {
            problems.merge("object", after.object.validate_change(&before.object));
        }
        problems.into_result()?;
        object.replace_in(state);
        check_clusters_in_use(state, "object.name")
    })
    .await
}

/// Removes the object `name` of `kind`; returns the new desired-state version.
///
/// Refused when there is none, (for a postgres cluster) while a FerretDB
/// service stores its data there, and when it changed after
/// `expected_version` (if given).
pub async fn remove_object(
    db: &Database,
    author: &str,
    kind: ObjectKind,
    name: &str,
    expected_version: Option<i32>,
) -> Result<i32> {
    let summary = format!("remove {} {name}", kind.label());
    let read_at = object_read_at(expected_version, kind, name);
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        if !remove(state, kind, name) {
            return Err(no_such_object(kind, name, "name"));
        }
        check_clusters_in_use(state, "name")
    })
    .await
}

/// Sets the replicas of the traditional service `name` (0 stops it but
/// keeps it); returns the new desired-state version. Refused when the
/// service changed after `expected_version` (if given).
pub async fn scale_service(
    db: &Database,
    author: &str,
    name: &str,
    replicas: u32,
    expected_version: Option<i32>,
) -> Result<i32> {
    let summary = format!("scale traditional service {name} to {replicas} replicas");
    let read_at = object_read_at(expected_version, ObjectKind::TraditionalService, name);
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        let Some(owned) = state
            .traditional_services
            .iter_mut()
            .find(|o| o.object.name == name)
        else {
            return Err(no_such_object(ObjectKind::TraditionalService, name, "name"));
        };
        owned.object.replicas = replicas;
        let mut problems = Problems::new();
        problems.merge("", owned.object.validate());
        problems.into_result()
    })
    .await
}

/// Sets the instance range of the Knative service `name`; returns the new
/// desired-state version. A minimum of 0 lets it scale to zero when idle.
/// Refused when the service changed after `expected_version` (if given).
pub async fn scale_knative_service(
    db: &Database,
    author: &str,
    name: &str,
    min_scale: u32,
    max_scale: u32,
    expected_version: Option<i32>,
) -> Result<i32> {
    let summary = format!("scale knative service {name} to {min_scale}–{max_scale} instances");
    let read_at = object_read_at(expected_version, ObjectKind::KnativeService, name);
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        let Some(owned) = state
            .knative_services
            .iter_mut()
            .find(|o| o.object.name == name)
        else {
            return Err(no_such_object(ObjectKind::KnativeService, name, "name"));
        };
        owned.object.min_scale = min_scale;
        owned.object.max_scale = max_scale;
        // NB: the model requires scale-to-zero exactly when the minimum is 0,
        // so the minimum decides it rather than making callers say it twice.
        owned.object.scale_to_zero = min_scale == 0;
        let mut problems = Problems::new();
        problems.merge("", owned.object.validate());
        problems.into_result()
    })
    .await
}

/// What a write to the object `name` of `kind` was based on, when its
/// caller says: the object as `{"kind","project","object"}` (`Null` when
/// there is none), changed fields named `object.replicas`, `project`.
fn object_read_at(
    expected_version: Option<i32>,
    kind: ObjectKind,
    name: &str,
) -> Option<ReadAt<'static>> {
    let name = name.to_owned();
    expected_version.map(|version| ReadAt {
        version,
        what: format!("{} {name}", kind.label()),
        field: "object".to_owned(),
        prefix: String::new(),
        part: Box::new(move |state: &DesiredState| to_json(&get(state, kind, &name))),
    })
}

/// What a write to the project `name` was based on, when its caller says:
/// the project and every object in it (`Null` when there is none), so a
/// rename or delete never carries along an object someone changed meanwhile.
fn project_read_at(expected_version: Option<i32>, name: &str) -> Option<ReadAt<'static>> {
    let name = name.to_owned();
    expected_version.map(|version| ReadAt {
        version,
        what: format!("project {name}"),
        field: "project".to_owned(),
        prefix: String::new(),
        part: Box::new(move |state: &DesiredState| {
            let Some(project) = state.projects.iter().find(|p| p.name == name) else {
                return Ok(Value::Null);
            };
            let objects: Vec<Option<ProjectObject>> = objects_in(state, &name)
                .into_iter()
                .map(|o| get(state, o.kind, &o.name))
                .collect();
            // NB: not `json!`, which unwraps what serialization returns.
            let mut part = serde_json::Map::new();
            part.insert("project".to_owned(), to_json(project)?);
            part.insert("objects".to_owned(), to_json(&objects)?);
            Ok(Value::Object(part))
        }),
    })
}

/// `value` as JSON, for comparing the parts of two states.
fn to_json(value: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|source| Error::Encode {
        what: "part of the desired state",
        source,
    })
}

/// The user objects that `battery` runs, for refusing its uninstall.
pub(crate) fn objects_run_by(state: &DesiredState, battery: BatteryKind) -> Vec<ObjectRef> {
    every_object(state)
        .into_iter()
        .filter(|o| o.kind.battery() == battery)
        .collect()
}

/// "postgres cluster a, redis instance b", for messages and summaries.
pub(crate) fn join(objects: &[ObjectRef]) -> String {
    objects
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message when the state changed between planning and storing.
pub(crate) const CHANGED_MEANWHILE: &str =
    "the installation changed while this change was prepared; look again and retry";

fn refs<T: Named>(kind: ObjectKind, list: &[Owned<T>]) -> impl Iterator<Item = ObjectRef> + '_ {
    list.iter().map(move |owned| ObjectRef {
        kind,
        name: owned.object.name().to_owned(),
        project: owned.project.clone(),
    })
}

/// Every user object in `state`, in the order the desired state lists them.
pub(crate) fn every_object(state: &DesiredState) -> Vec<ObjectRef> {
    let mut all = Vec::new();
    all.extend(refs(ObjectKind::PostgresCluster, &state.postgres_clusters));
    all.extend(refs(ObjectKind::RedisInstance, &state.redis_instances));
    all.extend(refs(ObjectKind::FerretService, &state.ferret_services));
    all.extend(refs(ObjectKind::KnativeService, &state.knative_services));
    all.extend(refs(
        ObjectKind::TraditionalService,
        &state.traditional_services,
    ));
    all.extend(refs(ObjectKind::Notebook, &state.notebooks));
    all.extend(refs(ObjectKind::ModelInstance, &state.model_instances));
    all
}

fn objects_in(state: &DesiredState, project: &str) -> Vec<ObjectRef> {
    every_object(state)
        .into_iter()
        .filter(|o| o.project.as_deref() == Some(project))
        .collect()
}

/// The services whose environment reads a connection Secret of the data
/// object `name` of `kind` (`postgres-<name>-<user>-connection`,
/// `redis-<name>-connection`, `ferret-<name>-connection`), sorted.
fn readers(state: &DesiredState, kind: ObjectKind, name: &str) -> Vec<String> {
    let prefix = match kind {
        ObjectKind::PostgresCluster => format!("postgres-{name}-"),
        ObjectKind::RedisInstance => format!("redis-{name}-"),
        ObjectKind::FerretService => format!("ferret-{name}-"),
        _ => return Vec::new(),
    };
    let reads = |env: &[EnvVar]| {
        env.iter().any(|var| {
            matches!(&var.value, EnvValue::SecretRef { secret, .. }
                if secret.starts_with(&prefix) && secret.ends_with(CONNECTION_SUFFIX))
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

fn find_project<'a>(state: &'a DesiredState, name: &str) -> Result<&'a Project, Problems> {
    state
        .projects
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            let mut problems = Problems::new();
            problems.push(
                "project",
                Rule::Consistency,
                format!("there is no project \"{name}\""),
            );
            problems
        })
}

fn no_such_object(kind: ObjectKind, name: &str, field: &str) -> Problems {
    let mut problems = Problems::new();
    problems.push(
        field,
        Rule::Consistency,
        format!("there is no {} named \"{name}\"", kind.label()),
    );
    problems
}

fn find<T: Named>(list: &[Owned<T>], name: &str) -> Option<usize> {
    list.iter().position(|owned| owned.object.name() == name)
}

/// A copy of the object `name` of `kind`, if there is one.
pub(crate) fn get(state: &DesiredState, kind: ObjectKind, name: &str) -> Option<ProjectObject> {
    fn copy<T: Named + Clone>(list: &[Owned<T>], name: &str) -> Option<Owned<T>> {
        find(list, name).and_then(|i| list.get(i).cloned())
    }
    match kind {
        ObjectKind::PostgresCluster => {
            copy(&state.postgres_clusters, name).map(ProjectObject::PostgresCluster)
        }
        ObjectKind::RedisInstance => {
            copy(&state.redis_instances, name).map(ProjectObject::RedisInstance)
        }
        ObjectKind::FerretService => {
            copy(&state.ferret_services, name).map(ProjectObject::FerretService)
        }
        ObjectKind::KnativeService => {
            copy(&state.knative_services, name).map(ProjectObject::KnativeService)
        }
        ObjectKind::TraditionalService => {
            copy(&state.traditional_services, name).map(ProjectObject::TraditionalService)
        }
        ObjectKind::Notebook => copy(&state.notebooks, name).map(ProjectObject::Notebook),
        ObjectKind::ModelInstance => {
            copy(&state.model_instances, name).map(ProjectObject::ModelInstance)
        }
    }
}

/// Removes the object `name` of `kind`; false when there was none.
fn remove(state: &mut DesiredState, kind: ObjectKind, name: &str) -> bool {
    fn take<T: Named>(list: &mut Vec<Owned<T>>, name: &str) -> bool {
        let before = list.len();
        list.retain(|owned| owned.object.name() != name);
        list.len() != before
    }
    match kind {
        ObjectKind::PostgresCluster => take(&mut state.postgres_clusters, name),
        ObjectKind::RedisInstance => take(&mut state.redis_instances, name),
        ObjectKind::FerretService => take(&mut state.ferret_services, name),
        ObjectKind::KnativeService => take(&mut state.knative_services, name),
        ObjectKind::TraditionalService => take(&mut state.traditional_services, name),
        ObjectKind::Notebook => take(&mut state.notebooks, name),
        ObjectKind::ModelInstance => take(&mut state.model_instances, name),
    }
}

/// The checks of an object about to be stored: itself, its project, its
/// battery and (for FerretDB) its PostgreSQL cluster.
fn check_placement(state: &DesiredState, object: &ProjectObject, problems: &mut Problems) {
    problems.merge("", object.validate());
    if let Some(project) = object.project()
        && !state.projects.iter().any(|p| p.name == project)
    {
        problems.push(
            "project",
            Rule::Consistency,
            format!("there is no project \"{project}\"; create it first"),
        );
    }
    let battery = object.kind().battery();
    if !state.batteries.contains_key(&battery) {
        problems.push(
            "battery",
            Rule::Dependency,
            format!(
                "{} need the {battery} battery; install it first",
                object.kind().plural()
            ),
        );
    }
    if let ProjectObject::FerretService(ferret) = object {
        let cluster = &ferret.object.postgres_cluster;
        if !cluster.is_empty() && find(&state.postgres_clusters, cluster).is_none() {
            problems.push(
                "object.postgres_cluster",
                Rule::Consistency,
                format!("there is no postgres cluster named \"{cluster}\""),
            );
        }
    }
}

/// Refuses a state where a FerretDB service stores its data in a
/// PostgreSQL cluster that is gone; the problem is reported on `field`.
// NB: bi-model checks this only when generating, which would make the
// next snapshot fail long after the change that caused it was stored.
fn check_clusters_in_use(state: &DesiredState, field: &str) -> Result<(), Problems> {
    let mut problems = Problems::new();
    for ferret in &state.ferret_services {
        let cluster = &ferret.object.postgres_cluster;
        if find(&state.postgres_clusters, cluster).is_none() {
            problems.push(
                field,
                Rule::Dependency,
                format!(
                    "ferret service {} stores its data in postgres cluster {cluster}; \
                     remove the ferret service first",
                    ferret.object.name
                ),
            );
        }
    }
    problems.into_result()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use bi_model::objects::{PostgresCluster, RedisInstance};

    use super::*;

    #[test]
    fn object_kinds_read_with_dashes_or_underscores() {
        assert_eq!(
            "postgres-cluster".parse::<ObjectKind>(),
            Ok(ObjectKind::PostgresCluster)
        );
        assert_eq!(
            "model_instance".parse::<ObjectKind>(),
            Ok(ObjectKind::ModelInstance)
        );
        let err = "database".parse::<ObjectKind>().unwrap_err();
        assert!(err.to_string().contains("postgres_cluster"), "{err}");
    }

    #[test]
    fn a_project_object_travels_as_tagged_json() {
        let object = ProjectObject::RedisInstance(Owned {
            project: Some("shop".into()),
            object: RedisInstance {
                name: "cache".into(),
                ..RedisInstance::default()
            },
        });
        let json = serde_json::to_value(&object).unwrap();
        assert_eq!(json["kind"], "redis_instance");
        assert_eq!(json["project"], "shop");
        assert_eq!(json["object"]["name"], "cache");
        assert_eq!(
            serde_json::from_value::<ProjectObject>(json).unwrap(),
            object
        );
        assert_eq!(object.kind().id(), "redis_instance");
        assert_eq!(object.name(), "cache");
        assert_eq!(object.project(), Some("shop"));
    }

    #[test]
    fn a_traditional_services_own_kind_field_does_not_clash_with_the_tag() {
        let json = serde_json::json!({
            "kind": "traditional_service",
            "object": {
                "name": "web",
                "image": "nginx:1.27",
                "replicas": 1,
                "resources": serde_json::to_value(bi_model::objects::Resources::default()).unwrap(),
                "kind": "stateful_set"
            }
        });
        let object: ProjectObject = serde_json::from_value(json).unwrap();
        assert_eq!(object.kind(), ObjectKind::TraditionalService);
        assert_eq!(object.project(), None);
    }

    #[test]
    fn object_problems_are_under_object() {
        let object = ProjectObject::PostgresCluster(Owned::unowned(PostgresCluster::default()));
        let problems = object.validate().unwrap_err();
        assert_eq!(
            problems.for_field("object.name").map(|e| e.rule),
            Some(Rule::Required)
        );
    }

    #[test]
    fn every_object_kind_is_run_by_a_battery() {
        let batteries: Vec<_> = ObjectKind::ALL.map(ObjectKind::battery).to_vec();
        assert!(batteries.contains(&BatteryKind::CloudnativePg));
        assert_eq!(ObjectKind::PostgresCluster.plural(), "postgres clusters");
    }
}
