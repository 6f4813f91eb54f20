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
    let mut entries = bi_control::desired_state::history(&db).await?;
    entries.truncate(RECENT_CHANGES);
    Ok(entries)
}
