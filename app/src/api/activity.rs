//! Server functions for the dashboard: the recent audit trail.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// How many changes the dashboard shows.
pub const RECENT_CHANGES: usize = 10;

/// One stored desired-state version, from the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRow {
    /// The version number.
    pub version: i32,
    /// Who made it.
    pub author: String,
    /// What changed, in words.
    pub summary: String,
    /// When, readable.
    pub created_at: String,
}

/// The newest changes of the audit trail, newest first.
#[server(prefix = "/api", endpoint = "activity/recent")]
pub async fn recent_changes() -> Result<Vec<ChangeRow>, AppError> {
    let db = crate::api::database()?;
    Ok(bi_control::desired_state::history(&db)
        .await?
        .into_iter()
        .take(RECENT_CHANGES)
        .map(|entry| ChangeRow {
            version: entry.version,
            author: entry.author,
            summary: entry.summary,
            created_at: crate::api::readable_time(entry.created_at),
        })
        .collect())
}
