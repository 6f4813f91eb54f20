//! What the browser needs to preview a change before it is saved: the
//! desired state now, the state the last succeeded snapshot applied, and the
//! cluster's capacity.

use bi_model::capacity::ClusterCapacity;
use bi_model::generate::DesiredState;
use serde::{Deserialize, Serialize};

/// The base a form's change is previewed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewBase {
    /// The desired state now: what the form's change is made to.
    pub current: DesiredState,
    /// Its version.
    pub version: i32,
    /// The snapshot the plan is made against: the last that succeeded;
    /// None before any did (the plan is then against an empty cluster).
    pub snapshot: Option<i64>,
    /// The desired-state version that snapshot applied.
    pub applied_version: Option<i32>,
    /// The desired state that snapshot applied (empty before any did).
    pub applied: DesiredState,
    /// What the nodes offer and what the current state requests; None when
    /// the cluster cannot be read (`capacity_error` says why).
    pub capacity: Option<ClusterCapacity>,
    /// Why the capacity is unknown.
    pub capacity_error: Option<String>,
}

impl PreviewBase {
    /// Whether changes saved since the base's snapshot are not applied yet.
    pub fn pending(&self) -> bool {
        self.applied_version != Some(self.version)
    }
}
