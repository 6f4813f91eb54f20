//! Server function for the dashboard: every card's facts in one call.
//!
//! The dashboard is the page people keep open (and reload), so it is
//! rendered from one resource instead of one per card: the server reads
//! the parts at once and the page has one suspense boundary and one value
//! to serialize. Each part keeps its own result, so a card whose read
//! failed shows its error and the others still show.

pub use bi_api::audit::AuditEntry;
pub use bi_api::batteries::InstalledBattery;
pub use bi_api::health::HealthSummary;
pub use bi_api::reach::ReachView;
pub use bi_api::snapshots::SnapshotSummary;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ApiError;

/// How many changes of the audit trail the dashboard shows.
pub const RECENT_CHANGES: u64 = 10;

/// How many snapshots the dashboard shows.
pub const RECENT_SNAPSHOTS: u64 = 5;

/// The dashboard's cards, each with its own result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardCards {
    /// The installed batteries, each linking to its page.
    pub batteries: Result<Vec<InstalledBattery>, ApiError>,
    /// The newest snapshots, newest first.
    pub snapshots: Result<Vec<SnapshotSummary>, ApiError>,
    /// Where to open each battery UI and exposed service.
    pub reach: Result<ReachView, ApiError>,
    /// Capacity, readiness counts and the apps that need attention.
    pub health: Result<HealthSummary, ApiError>,
    /// The newest changes of the audit trail.
    pub activity: Result<Vec<AuditEntry>, ApiError>,
}

/// Reads every card of the dashboard, the parts at once.
#[server(prefix = "/api", endpoint = "dashboard/view", client = crate::csrf::Client)]
pub async fn dashboard_view() -> Result<DashboardCards, ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    let cache = reconciler.engine().cache();
    let (batteries, snapshots, reach, health, activity) = futures::future::join5(
        bi_control::operations::batteries::list_installed(&db),
        bi_control::engine::history::list(&db, RECENT_SNAPSHOTS),
        bi_control::reach::read(&db, cache),
        crate::api::health::read(),
        bi_control::desired_state::recent_history(&db, RECENT_CHANGES),
    )
    .await;
    Ok(DashboardCards {
        batteries: batteries.map_err(ApiError::from),
        snapshots: snapshots.map_err(ApiError::from),
        reach: reach.map_err(ApiError::from),
        health: health.map(HealthSummary::from),
        activity: activity.map_err(ApiError::from),
    })
}
