//! The `bi` CLI's client side: commands that talk to a running control
//! server over its JSON API ([`crate::api`]), and how they print.

pub mod api;
pub mod apply;
pub mod auth;
pub mod batteries;
pub mod debug;
pub mod deploys;
pub mod drift;
pub mod local;
pub mod logs;
pub mod objects;
pub mod output;
pub mod projects;
pub mod reach;
pub mod settings;
pub mod sso;
pub mod status;
pub mod timeline;

pub use api::{ApiClient, ClientError};

/// Where client commands look for the control server unless told.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:3000";
