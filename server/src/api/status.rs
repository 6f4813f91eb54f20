//! `GET /api/v1/status`: what `bi status` shows.

use axum::Json;
use axum::extract::State;
use bi_control::engine::history::{self, SnapshotSummary};
use bi_control::health::Health;
use bi_model::InstallationOverview;
use bi_model::catalog::BatteryKind;
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::state::AppState;

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
}

/// Reads the installation, its batteries, the last snapshot and drift.
pub async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let mut installation = bi_control::installation::overview(&state.db).await?;
    installation.cluster = Some(state.cluster.clone());
    let (desired_version, desired) = bi_control::desired_state::current(&state.db).await?;
    let last_snapshot = history::list(&state.db, 1).await?.into_iter().next();
    let drifted = state
        .reconciler
        .engine()
        .drifted_paths()
        .iter()
        .map(ToString::to_string)
        .collect();
    // NB: the status must answer even when the cluster does not.
    let (health, health_error) =
        match bi_control::health::read(&state.db, state.reconciler.engine().client()).await {
            Ok(health) => (Some(health), None),
            Err(err) => (None, Some(err.to_string())),
        };
    Ok(Json(Status {
        installation,
        batteries: desired.batteries.keys().copied().collect(),
        desired_version,
        last_snapshot,
        drifted,
        health,
        health_error,
    }))
}
