//! `bi-api`: the contract between bi's control server and its clients.
//!
//! What crosses the wire is defined here once, for every way in: the web
//! UI's server functions (`bi-app`, built for the server and for wasm32),
//! the `/api/v1` JSON routes (`bi-server`'s `api/`) and the CLI that calls
//! them (`bi-server`'s `client/`). `bi-control` returns these types; nobody
//! copies them.
//!
//! - [`ApiError`]: the one wire error, with every field problem of a
//!   refused change.
//! - [`Timestamp`]: a moment as RFC 3339 text, readable without a date
//!   library in the browser.
//! - [`auth`]: roles, the signed-in user, accounts and API tokens.
//! - [`audit`]: the audit trail, and [`audit::Changed`], what every stored
//!   change answers with.
//! - [`batteries`]: the catalog, one battery, install previews and outcomes.
//! - [`drift`]: objects changed behind bi's back, and the drift mode.
//! - [`explorer`]: the Kubernetes explorer's kinds, lists and objects.
//! - [`health`]: each app's readiness and the cluster's capacity.
//! - [`preview`]: the base a form's change is previewed on.
//! - [`projects`]: projects, their objects, and the project routes' bodies.
//! - [`reach`]: the addresses people open, with their routes' and
//!   certificates' status.
//! - [`services`]: one service with its settings and its status.
//! - [`snapshots`]: the engine's history, one snapshot, diffs, plans and
//!   rollbacks.
//! - [`sso`]: Single Sign-On's Keycloak: its users and clients.
//! - [`status`]: the installation at a glance (`bi status`).
//! - [`timeline`]: what happened in the cluster and in bi, and the
//!   archive of deleted objects with their undelete.
//! - [`server`]: facts about the server the UI and the CLI show.
//!
//! It builds for wasm32: nothing here may depend on tokio, the database or
//! the kube client. The optional features add the server-side glue only.

pub mod audit;
pub mod auth;
pub mod batteries;
pub mod drift;
mod error;
pub mod explorer;
pub mod health;
pub mod preview;
pub mod projects;
pub mod reach;
pub mod server;
pub mod services;
pub mod snapshots;
pub mod sso;
pub mod status;
mod time;
pub mod timeline;

pub use error::{ApiError, ErrorBody, ErrorCode, ErrorDetail};
pub use time::Timestamp;
