//! `bi-control`: the control plane of bi.
//!
//! It owns the database (SQLite or PostgreSQL, migrations, the versioned
//! desired state), the snapshot-and-apply engine and its history, the
//! reconciler that decides when the engine runs, the event bus it publishes
//! on, the cluster connection, and the sandbox cluster (an in-process
//! stand-in for a Kubernetes API server).

pub mod cluster;
pub mod db;
pub mod desired_state;
pub mod engine;
pub mod entities;
pub mod error;
pub mod events;
pub mod health;
pub mod installation;
pub mod operations;
pub mod reconciler;
pub mod sandbox;
pub mod service_status;

pub use db::{Database, DatabaseBackend};
pub use error::{Error, Result};
