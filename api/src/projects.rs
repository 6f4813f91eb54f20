//! Projects and the objects in them, as clients see them, and the bodies
//! and queries of the project routes.

use std::fmt;

use bi_model::objects::{ObjectKind, Project};
use bi_model::units::Storage;
use serde::{Deserialize, Serialize};

/// A user object by kind and name, with its project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Which kind of object.
    pub kind: ObjectKind,
    /// Its name (unique among objects of its kind).
    pub name: String,
    /// The project it belongs to, if any.
    pub project: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.label(), self.name)
    }
}

/// A project and how many objects it holds, for lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    /// The project.
    pub project: Project,
    /// How many objects belong to it.
    pub object_count: usize,
}

/// A project and every object in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDetail {
    /// The project.
    pub project: Project,
    /// Its objects, in the order the desired state lists them.
    pub objects: Vec<ProjectMember>,
}

/// One object of a project, with what its page shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMember {
    /// Which kind of object.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// Its storage, for the objects whose storage the page resizes
    /// (PostgreSQL clusters).
    pub storage: Option<Storage>,
    /// The services whose environment reads this object's connection
    /// Secret (they break when it goes), sorted.
    pub readers: Vec<String>,
}

/// The body of a rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    /// The project's new name.
    pub new_name: String,
}

/// The query of a project deletion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteQuery {
    /// Remove the objects in the project too.
    #[serde(default)]
    pub cascade: bool,
}

/// The query of the object list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectsQuery {
    /// Only objects of this kind (`postgres_cluster`, `redis_instance`, …).
    pub kind: Option<String>,
}

/// The body of a scale: `replicas` for traditional services, the instance
/// range for Knative services.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    /// Replicas of a traditional service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Fewest instances of a Knative service (0 scales to zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_scale: Option<u32>,
    /// Most instances of a Knative service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_scale: Option<u32>,
}
