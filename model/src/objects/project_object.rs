//! A user object of any kind with its project, as the UI, the CLI and the
//! control server pass it around: `{"kind": "postgres_cluster", "project":
//! "shop", "object": {…}}`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{
    FerretService, KnativeService, ModelInstance, Notebook, PostgresCluster, RedisInstance,
    TraditionalService,
};
use crate::Problems;
use crate::catalog::BatteryKind;
use crate::generate::{DesiredState, Owned};

/// A user object's name, whatever its kind.
pub trait Named {
    /// Its name.
    fn name(&self) -> &str;
}

macro_rules! named {
    ($($ty:ty),*) => {
        $(impl Named for $ty {
            fn name(&self) -> &str {
                &self.name
            }
        })*
    };
}

named!(
    PostgresCluster,
    RedisInstance,
    FerretService,
    KnativeService,
    TraditionalService,
    Notebook,
    ModelInstance
);

/// The seven kinds of user object a project can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A PostgreSQL cluster (CloudNativePG).
    PostgresCluster,
    /// A Redis deployment.
    RedisInstance,
    /// A FerretDB service.
    FerretService,
    /// A Knative service.
    KnativeService,
    /// A traditional service (Deployment or StatefulSet).
    TraditionalService,
    /// A Jupyter notebook.
    Notebook,
    /// An Ollama model instance.
    ModelInstance,
}

impl ObjectKind {
    /// Every kind, in the order the desired state lists them.
    pub const ALL: [ObjectKind; 7] = [
        Self::PostgresCluster,
        Self::RedisInstance,
        Self::FerretService,
        Self::KnativeService,
        Self::TraditionalService,
        Self::Notebook,
        Self::ModelInstance,
    ];

    /// The identifier in JSON and on the command line (`postgres_cluster`).
    pub fn id(self) -> &'static str {
        match self {
            Self::PostgresCluster => "postgres_cluster",
            Self::RedisInstance => "redis_instance",
            Self::FerretService => "ferret_service",
            Self::KnativeService => "knative_service",
            Self::TraditionalService => "traditional_service",
            Self::Notebook => "notebook",
            Self::ModelInstance => "model_instance",
        }
    }

    /// What people call one of them (`postgres cluster`).
    pub fn label(self) -> &'static str {
        match self {
            Self::PostgresCluster => "postgres cluster",
            Self::RedisInstance => "redis instance",
            Self::FerretService => "ferret service",
            Self::KnativeService => "knative service",
            Self::TraditionalService => "traditional service",
            Self::Notebook => "notebook",
            Self::ModelInstance => "model instance",
        }
    }

    /// What people call several of them (`postgres clusters`).
    pub fn plural(self) -> String {
        format!("{}s", self.label())
    }

    /// The battery that runs objects of this kind.
    pub fn battery(self) -> BatteryKind {
        match self {
            Self::PostgresCluster => BatteryKind::CloudnativePg,
            Self::RedisInstance => BatteryKind::Redis,
            Self::FerretService => BatteryKind::Ferretdb,
            Self::KnativeService => BatteryKind::Knative,
            Self::TraditionalService => BatteryKind::TraditionalServices,
            Self::Notebook => BatteryKind::Notebooks,
            Self::ModelInstance => BatteryKind::Ollama,
        }
    }

    /// The `battery/app` of this kind's object `name` (`redis-cache`): every
    /// object it generates carries it.
    pub fn app(self, name: &str) -> String {
        format!("{}{name}", self.app_prefix())
    }

    /// What starts the `battery/app` of this kind's objects (`redis-`).
    pub fn app_prefix(self) -> &'static str {
        match self {
            Self::PostgresCluster => "postgres-",
            Self::RedisInstance => "redis-",
            Self::FerretService => "ferret-",
            Self::KnativeService => "knative-",
            Self::TraditionalService => "service-",
            Self::Notebook => "notebook-",
            Self::ModelInstance => "model-",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A name that is not one of the [`ObjectKind`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown object kind {0:?}; the kinds are {list}", list = ObjectKind::ALL.map(ObjectKind::id).join(", "))]
pub struct UnknownObjectKind(pub String);

impl FromStr for ObjectKind {
    type Err = UnknownObjectKind;

    /// Reads `postgres_cluster` or `postgres-cluster`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace('-', "_");
        ObjectKind::ALL
            .into_iter()
            .find(|kind| kind.id() == wanted)
            .ok_or_else(|| UnknownObjectKind(s.to_owned()))
    }
}

/// One user object with its project, as the UI and the CLI send it:
/// `{"kind": "postgres_cluster", "project": "shop", "object": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProjectObject {
    /// A PostgreSQL cluster.
    PostgresCluster(Owned<PostgresCluster>),
    /// A Redis deployment.
    RedisInstance(Owned<RedisInstance>),
    /// A FerretDB service.
    FerretService(Owned<FerretService>),
    /// A Knative service.
    KnativeService(Owned<KnativeService>),
    /// A traditional service.
    TraditionalService(Owned<TraditionalService>),
    /// A Jupyter notebook.
    Notebook(Owned<Notebook>),
    /// An Ollama model instance.
    ModelInstance(Owned<ModelInstance>),
}

impl ProjectObject {
    /// Which kind of object this is.
    pub fn kind(&self) -> ObjectKind {
        match self {
            Self::PostgresCluster(_) => ObjectKind::PostgresCluster,
            Self::RedisInstance(_) => ObjectKind::RedisInstance,
            Self::FerretService(_) => ObjectKind::FerretService,
            Self::KnativeService(_) => ObjectKind::KnativeService,
            Self::TraditionalService(_) => ObjectKind::TraditionalService,
            Self::Notebook(_) => ObjectKind::Notebook,
            Self::ModelInstance(_) => ObjectKind::ModelInstance,
        }
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        match self {
            Self::PostgresCluster(o) => o.object.name(),
            Self::RedisInstance(o) => o.object.name(),
            Self::FerretService(o) => o.object.name(),
            Self::KnativeService(o) => o.object.name(),
            Self::TraditionalService(o) => o.object.name(),
            Self::Notebook(o) => o.object.name(),
            Self::ModelInstance(o) => o.object.name(),
        }
    }

    /// The project it belongs to, if any.
    pub fn project(&self) -> Option<&str> {
        match self {
            Self::PostgresCluster(o) => o.project.as_deref(),
            Self::RedisInstance(o) => o.project.as_deref(),
            Self::FerretService(o) => o.project.as_deref(),
            Self::KnativeService(o) => o.project.as_deref(),
            Self::TraditionalService(o) => o.project.as_deref(),
            Self::Notebook(o) => o.project.as_deref(),
            Self::ModelInstance(o) => o.project.as_deref(),
        }
    }

    /// Every problem with the object on its own, under `object.`.
    pub fn validate(&self) -> Result<(), Problems> {
        let result = match self {
            Self::PostgresCluster(o) => o.object.validate(),
            Self::RedisInstance(o) => o.object.validate(),
            Self::FerretService(o) => o.object.validate(),
            Self::KnativeService(o) => o.object.validate(),
            Self::TraditionalService(o) => o.object.validate(),
            Self::Notebook(o) => o.object.validate(),
            Self::ModelInstance(o) => o.object.validate(),
        };
        let mut problems = Problems::new();
        problems.merge("object", result);
        problems.into_result()
    }

    /// A short description for the audit trail: `postgres cluster main`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind().label(), self.name())
    }

    /// Puts the object in `state` in place of the one of its kind and name,
    /// keeping its position so generation order and history diffs stay
    /// stable (added when there is none): what saving an edit does.
    pub fn replace_in(self, state: &mut DesiredState) {
        fn put<T: Named>(list: &mut Vec<Owned<T>>, owned: Owned<T>) {
            match list
                .iter()
                .position(|o| o.object.name() == owned.object.name())
            {
                Some(at) => list[at] = owned,
                None => list.push(owned),
            }
        }
        match self {
            Self::PostgresCluster(o) => put(&mut state.postgres_clusters, o),
            Self::RedisInstance(o) => put(&mut state.redis_instances, o),
            Self::FerretService(o) => put(&mut state.ferret_services, o),
            Self::KnativeService(o) => put(&mut state.knative_services, o),
            Self::TraditionalService(o) => put(&mut state.traditional_services, o),
            Self::Notebook(o) => put(&mut state.notebooks, o),
            Self::ModelInstance(o) => put(&mut state.model_instances, o),
        }
    }

    /// Adds the object to `state`'s list of its kind (unchecked: the
    /// control server checks names and placement first).
    pub fn insert_into(self, state: &mut DesiredState) {
        match self {
            Self::PostgresCluster(o) => state.postgres_clusters.push(o),
            Self::RedisInstance(o) => state.redis_instances.push(o),
            Self::FerretService(o) => state.ferret_services.push(o),
            Self::KnativeService(o) => state.knative_services.push(o),
            Self::TraditionalService(o) => state.traditional_services.push(o),
            Self::Notebook(o) => state.notebooks.push(o),
            Self::ModelInstance(o) => state.model_instances.push(o),
        }
    }
}
