//! Server functions of the Settings page: the reconcile intervals (the
//! periodic re-check and the drift sweep), which the page changes at run
//! time and the database keeps across restarts, and the server's own
//! options shown read-only.

use bi_model::{IntervalSettings, ReconcileIntervals};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// What the server was started with that the Settings page shows; the
/// server provides it to every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// The data directory (the SQLite file, the log, the sandbox's state).
    pub data_dir: String,
    /// The intervals of the server's options (`--recheck-every`, `--drift-every`).
    pub defaults: ReconcileIntervals,
}

/// The system-wide settings as the page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemSettings {
    /// The reconcile intervals in force and where each comes from.
    pub reconcile: IntervalSettings,
    /// The server's data directory.
    pub data_dir: String,
}

#[cfg(feature = "ssr")]
fn facts() -> Result<ServerFacts, AppError> {
    use_context::<ServerFacts>().ok_or_else(|| {
        AppError::Internal("the server's settings are not available to this request".into())
    })
}

#[cfg(feature = "ssr")]
fn view(reconcile: IntervalSettings, facts: ServerFacts) -> SystemSettings {
    SystemSettings {
        reconcile,
        data_dir: facts.data_dir,
    }
}

/// The system-wide settings.
#[server(prefix = "/api", endpoint = "settings/show")]
pub async fn get_system_settings() -> Result<SystemSettings, AppError> {
    let facts = facts()?;
    let settings =
        bi_control::operations::settings::show(&crate::api::database()?, facts.defaults).await?;
    Ok(view(settings, facts))
}

/// Sets the re-check and drift-sweep intervals (typed: `5m`, `1h`); they
/// take effect at once and outlive restarts. A value equal to the server's
/// option is not stored (the option applies again).
#[server(prefix = "/api", endpoint = "settings/save")]
pub async fn save_system_settings(
    recheck_every: String,
    drift_every: String,
) -> Result<SystemSettings, AppError> {
    let wanted =
        ReconcileIntervals::parse(&recheck_every, &drift_every).map_err(AppError::Rejected)?;
    let facts = facts()?;
    let settings = bi_control::operations::settings::save(
        &crate::api::database()?,
        &crate::api::reconciler()?,
        facts.defaults,
        wanted,
    )
    .await?;
    Ok(view(settings, facts))
}

/// Goes back to the server's options for both intervals.
#[server(prefix = "/api", endpoint = "settings/reset")]
pub async fn reset_system_settings() -> Result<SystemSettings, AppError> {
    let facts = facts()?;
    let settings = bi_control::operations::settings::reset(
        &crate::api::database()?,
        &crate::api::reconciler()?,
        facts.defaults,
    )
    .await?;
    Ok(view(settings, facts))
}
