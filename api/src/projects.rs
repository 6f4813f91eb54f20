//! Projects and the objects in them, as clients see them, and the bodies
//! and queries of the project routes.

use std::fmt;

use bi_model::objects::{ObjectKind, Project, ProjectObject};
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
    /// The desired-state version this was read at: what the project page's
    /// changes send back as `expected_version`.
    pub version: i32,
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
    /// The desired-state version the caller read the project at: refused
    /// with 409 when the project or its objects changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i32>,
}

/// The query of a project deletion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteQuery {
    /// Remove the objects in the project too.
    #[serde(default)]
    pub cascade: bool,
    /// The desired-state version the caller read the project at: refused
    /// with 409 when the project or its objects changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i32>,
}

/// One object as read, with the desired-state version it was read at:
/// `{"kind","project","object","version"}` (an object's JSON plus
/// `version`, so readers of the object alone still read it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectRead {
    /// The object.
    #[serde(flatten)]
    pub object: ProjectObject,
    /// The desired-state version it was read at.
    pub version: i32,
}

/// The body of an object's update: `{"kind","project","object"}` plus the
/// optional `expected_version` it was read at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectUpdate {
    /// The object as it should be.
    #[serde(flatten)]
    pub object: ProjectObject,
    /// The desired-state version the caller read the object at: refused
    /// with 409 when it changed since. None: last writer wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i32>,
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
    /// The desired-state version the caller read the service at: refused
    /// with 409 when it changed since. None: last writer wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i32>,
}
