//! Server functions of the dashboard's drift card (roles in
//! [`super::ACCESS`]): drift found now and lately, a sweep on demand, a
//! repair, and whether bi repairs drift on its own.

pub use bi_api::drift::{DriftFinding, DriftView};

use leptos::prelude::*;

use crate::ApiError;

/// Open drift findings, the latest closed ones, the last sweep and the mode.
#[server(prefix = "/api", endpoint = "drift/view", client = crate::csrf::Client)]
pub async fn read_drift() -> Result<DriftView, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::drift::view(&crate::api::database()?, reconciler.engine().last_sweep()).await?)
}

/// Sweeps now (a dry run per managed object) and answers with what it
/// recorded; unless drift is only reported, bi repairs what it found.
#[server(prefix = "/api", endpoint = "drift/sweep", client = crate::csrf::Client)]
pub async fn sweep_for_drift() -> Result<DriftView, ApiError> {
    let reconciler = crate::api::reconciler()?;
    reconciler.sweep_drift().await?;
    Ok(bi_control::drift::view(&crate::api::database()?, reconciler.engine().last_sweep()).await?)
}

/// Re-applies every open finding's object and answers when that snapshot
/// has run, with the findings after it.
#[server(prefix = "/api", endpoint = "drift/repair", client = crate::csrf::Client)]
pub async fn repair_drift_now() -> Result<DriftView, ApiError> {
    let reconciler = crate::api::reconciler()?;
    reconciler
        .repair_drift()
        .await?
        .finished()
        .await
        .map_err(ApiError::Internal)?;
    Ok(bi_control::drift::view(&crate::api::database()?, reconciler.engine().last_sweep()).await?)
}

/// Sets whether sweeps only report (`report_only`) or lead to repairs.
#[server(prefix = "/api", endpoint = "drift/mode", client = crate::csrf::Client)]
pub async fn set_drift_mode(report_only: bool) -> Result<DriftView, ApiError> {
    let db = crate::api::database()?;
    bi_control::drift::set_report_only(&db, report_only).await?;
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::drift::view(&db, reconciler.engine().last_sweep()).await?)
}
