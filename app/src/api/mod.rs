//! Server functions: the browser's typed calls into the control server.
//!
//! Each body is the same four steps: authorize (none yet: bi listens on
//! loopback only) → validate with `bi-model` → call `bi-control` → map to a
//! response type.

pub mod activity;
pub mod batteries;
pub mod deploys;
pub mod health;
pub mod installation;
pub mod preview;
pub mod projects;
pub mod services;
pub mod settings;

/// The database handle that the server provides to every request.
#[cfg(feature = "ssr")]
pub(crate) fn database() -> Result<bi_control::Database, crate::ApiError> {
    leptos::prelude::use_context::<bi_control::Database>().ok_or_else(|| {
        crate::ApiError::Internal("the database is not available to this request".into())
    })
}

/// The reconciler (and through it the engine) of this server.
#[cfg(feature = "ssr")]
pub(crate) fn reconciler() -> Result<bi_control::reconciler::Reconciler, crate::ApiError> {
    leptos::prelude::use_context::<bi_control::reconciler::Reconciler>().ok_or_else(|| {
        crate::ApiError::Internal("the engine is not available to this request".into())
    })
}
