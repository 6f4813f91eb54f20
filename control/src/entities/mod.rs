//! SeaORM entities: one module per table.

pub mod account;
pub mod api_token;
pub mod deleted_object;
pub mod desired_state_version;
pub mod drift_finding;
pub mod installation;
pub mod inventory_entry;
pub mod inventory_set;
pub mod resource_body;
pub mod session;
pub mod snapshot;
pub mod snapshot_resource;
pub mod stored_secret;
pub mod timeline_event;
