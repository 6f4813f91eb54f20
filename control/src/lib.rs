//! `bi-control`: the control plane of bi.
//!
//! Today it owns the database: connecting (SQLite or PostgreSQL), running the
//! migrations, and the installation queries. The snapshot/apply engine, the
//! cluster client and the sandbox cluster will live here too.

pub mod db;
pub mod entities;
pub mod error;
pub mod installation;

pub use db::{Database, DatabaseBackend};
pub use error::{Error, Result};
