//! `bi-control`: the control plane of bi.
//!
//! Today it owns the database: connecting (SQLite or PostgreSQL), running the
//! migrations, and the installation queries, and the sandbox cluster (an
//! in-process stand-in for a Kubernetes API server). The snapshot/apply engine
//! and the cluster client will live here too.

pub mod db;
pub mod desired_state;
pub mod engine;
pub mod entities;
pub mod error;
pub mod installation;
pub mod sandbox;

pub use db::{Database, DatabaseBackend};
pub use error::{Error, Result};
