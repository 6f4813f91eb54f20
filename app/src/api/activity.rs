//! Server functions for the dashboard: the recent audit trail.

pub use bi_api::audit::AuditEntry;
use leptos::prelude::*;

use crate::ApiError;

/// How many changes the dashboard shows.
pub const RECENT_CHANGES: usize = 10;

/// The newest changes of the audit trail, newest first.
#[server(prefix = "/api", endpoint = "activity/recent", client = crate::csrf::Client)]
pub async fn recent_changes() -> Result<Vec<AuditEntry>, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::desired_state::recent_history(&db, RECENT_CHANGES as u64).await?)
}
