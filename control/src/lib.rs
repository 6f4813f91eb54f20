//! `bi-control`: the control plane of bi.
//!
//! It owns the database (SQLite or PostgreSQL, migrations, the versioned
//! desired state), the snapshot-and-apply engine and its history, the
//! reconciler that decides when the engine runs, the event bus it publishes
//! on, and the cluster connection. The sandbox cluster it is tested against
//! is a crate of its own, `bi-sandbox`.

pub mod archive;
pub mod auth;
pub mod cache;
pub mod cluster;
pub mod coalesce;
pub mod db;
pub mod desired_state;
pub mod drift;
pub mod engine;
pub mod entities;
pub mod error;
pub mod events;
pub mod explorer;
pub mod health;
pub mod installation;
pub mod keycloak;
pub mod lease;
pub mod operations;
pub mod pods;
pub mod reach;
pub mod reconciler;
pub mod service_status;
pub mod sso;
pub mod staleness;
pub mod timeline;

pub use db::{Database, DatabaseBackend};
pub use error::{Error, Result};
