//! Server functions of the Settings page: the reconcile intervals (the
//! periodic re-check and the drift sweep), which the page changes at run
//! time and the database keeps across restarts, and the server's own
//! options shown read-only.

pub use bi_api::server::{ServerFacts, SystemSettings};

use leptos::prelude::*;

use crate::ApiError;

#[cfg(feature = "ssr")]
fn facts() -> Result<ServerFacts, ApiError> {
    use_context::<ServerFacts>().ok_or_else(|| {
        ApiError::Internal("the server's settings are not available to this request".into())
    })
}

#[cfg(feature = "ssr")]
fn view(reconcile: bi_model::IntervalSettings, facts: ServerFacts) -> SystemSettings {
    SystemSettings {
        reconcile,
        data_dir: facts.data_dir,
    }
}

/// The system-wide settings.
#[server(prefix = "/api", endpoint = "settings/show", client = crate::csrf::Client)]
pub async fn get_system_settings() -> Result<SystemSettings, ApiError> {
    let facts = facts()?;
    let settings =
        bi_control::operations::settings::show(&crate::api::database()?, facts.defaults).await?;
    Ok(view(settings, facts))
}

/// Sets the re-check and drift-sweep intervals (typed: `5m`, `1h`); they
/// take effect at once and outlive restarts. A value equal to the server's
/// option is not stored (the option applies again).
#[server(prefix = "/api", endpoint = "settings/save", client = crate::csrf::Client)]
pub async fn save_system_settings(
    recheck_every: String,
    drift_every: String,
) -> Result<SystemSettings, ApiError> {
    let wanted = bi_model::ReconcileIntervals::parse(&recheck_every, &drift_every)
        .map_err(ApiError::Rejected)?;
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
#[server(prefix = "/api", endpoint = "settings/reset", client = crate::csrf::Client)]
pub async fn reset_system_settings() -> Result<SystemSettings, ApiError> {
    let facts = facts()?;
    let settings = bi_control::operations::settings::reset(
        &crate::api::database()?,
        &crate::api::reconciler()?,
        facts.defaults,
    )
    .await?;
    Ok(view(settings, facts))
}
