//! Resource generation: a pure function from the installation's desired
//! state to every Kubernetes resource it needs.
//!
//! Each battery's generator lives with its catalog module
//! (`catalog/<battery>.rs`, `fn generate`); this module holds what they share:
//! the [`Resource`] type with its path and content hash, the desired state,
//! the generation context, labels, apply order, and the YAML export.

pub mod build;
mod canonical;
mod connections;
mod context;
mod error;
mod export;
mod fields;
mod labels;
mod network_policy;
mod order;
mod pipeline;
mod plan;
mod preview;
mod resource;
pub mod schema;
mod state;
mod upstream;

pub use canonical::canonical_json;
pub use connections::{CONNECTION_SUFFIX, ConnectionSecret, connection_secrets, is_connection};
pub use context::{Context, SECRET_PLACEHOLDER, Secrets};
pub use error::GenerateError;
pub use export::to_yaml_stream;
pub use fields::{FieldChange, changed_fields, field_changes, value_text};
pub use labels::{APP_LABEL, HASH_ANNOTATION, MANAGED_BY_LABEL, MANAGED_LABEL};
pub use order::{Stage, stage_of};
pub use pipeline::{generate, required_secrets};
pub use plan::{Action, Observed, Plan, PlanCounts, PlanItem, plan};
pub use preview::{Preview, PreviewItem, preview};
pub use resource::{ContentHash, Resource, ResourcePath};
pub use state::{DesiredState, Owned, Seed};
pub use upstream::{UPSTREAM_ANNOTATION, UPSTREAM_SHA256_ANNOTATION, UpstreamCrd};
