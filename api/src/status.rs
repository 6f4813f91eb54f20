//! The installation at a glance, as `bi status` shows it.

use bi_model::InstallationOverview;
use bi_model::catalog::BatteryKind;
use serde::{Deserialize, Serialize};

use crate::health::Health;
use crate::reach::ReachView;
use crate::snapshots::SnapshotSummary;

/// The installation at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Name, version, database, creation time and cluster.
    pub installation: InstallationOverview,
    /// The installed batteries, in catalog order.
    pub batteries: Vec<BatteryKind>,
    /// The current desired-state version.
    pub desired_version: i32,
    /// The newest snapshot, if any ran.
    pub last_snapshot: Option<SnapshotSummary>,
    /// Objects changed outside bi, waiting to be re-applied.
    pub drifted: Vec<String>,
    /// Each app's readiness and the cluster's capacity; None when the
    /// cluster could not be read (see `health_error`).
    pub health: Option<Health>,
    /// Why health could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_error: Option<String>,
    /// The addresses people open, with their status.
    #[serde(default)]
    pub reach: ReachView,
}
