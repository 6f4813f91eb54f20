//! What the browser needs to preview a change before it is saved: the
//! desired state now, the state the last succeeded snapshot applied, and the
//! cluster's capacity. The browser generates both states with `bi-model`
//! (secrets read as placeholders; no secret value is sent) and plans one
//! against the other.

use bi_model::capacity::ClusterCapacity;
use bi_model::generate::DesiredState;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ApiError;

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

/// The base for previewing a change: current and last-applied desired
/// states and the cluster's capacity.
#[server(prefix = "/api", endpoint = "installation/preview-base")]
pub async fn load_preview_base() -> Result<PreviewBase, ApiError> {
    use bi_control::desired_state;
    use bi_control::engine::history;

    let db = crate::api::database()?;
    let (version, current) = desired_state::current(&db).await?;
    let last = history::last_succeeded(&db).await?;
    let applied = match &last {
        Some(snapshot) => desired_state::at_version(&db, snapshot.desired_version)
            .await?
            .ok_or_else(|| {
                ApiError::Internal(format!(
                    "desired-state version {} of snapshot {} is not stored",
                    snapshot.desired_version, snapshot.id
                ))
            })?,
        // NB: before any snapshot the cluster holds nothing bi made.
        None => DesiredState {
            installation: current.installation.clone(),
            provider: current.provider,
            ..DesiredState::default()
        },
    };
    let reconciler = crate::api::reconciler()?;
    let (capacity, capacity_error) =
        match bi_control::health::capacity(&db, reconciler.engine().client()).await {
            Ok(capacity) => (Some(capacity), None),
            Err(err) => (None, Some(err.to_string())),
        };
    Ok(PreviewBase {
        current,
        version,
        snapshot: last.as_ref().map(|snapshot| snapshot.id),
        applied_version: last.as_ref().map(|snapshot| snapshot.desired_version),
        applied,
        capacity,
        capacity_error,
    })
}
