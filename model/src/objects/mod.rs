//! The objects people create in projects: databases, services, notebooks,
//! models and IP pools. Each is a serde struct with a `validate()` that
//! returns every problem at once, with field paths relative to the object.

pub mod env;
pub mod ferret;
pub mod ip_address_pool;
pub mod knative;
pub mod model_instance;
pub mod notebook;
pub mod postgres;
pub mod project;
pub mod project_object;
pub mod redis;
pub mod resources;
pub mod traditional;

pub use env::{EnvValue, EnvVar, validate_env};
pub use ferret::FerretService;
pub use ip_address_pool::{IpAddressPool, IpRange, validate_pools};
pub use knative::KnativeService;
pub use model_instance::{ModelInstance, NodeType, OllamaModel};
pub use notebook::Notebook;
pub use postgres::{PostgresBackup, PostgresCluster, PostgresDatabase, PostgresRole, PostgresUser};
pub use project::Project;
pub use project_object::{Named, ObjectKind, ProjectObject, UnknownObjectKind};
pub use redis::{RedisInstance, RedisMode};
pub use resources::{ResourceFloor, Resources, SizePreset};
pub use traditional::{PortProtocol, ServicePort, TraditionalService, WorkloadKind};
