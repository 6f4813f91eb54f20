//! What the browser needs to preview a change before it is saved: the
//! desired state now, the state the last succeeded snapshot applied, and the
//! cluster's capacity. The browser generates both states with `bi-model`
//! (secrets read as placeholders; no secret value is sent) and plans one
//! against the other.

pub use bi_api::preview::PreviewBase;
use leptos::prelude::*;

use crate::ApiError;

/// The base for previewing a change: current and last-applied desired
/// states and the cluster's capacity.
#[server(prefix = "/api", endpoint = "installation/preview-base", client = crate::csrf::Client)]
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
        None => bi_model::generate::DesiredState {
            installation: current.installation.clone(),
            provider: current.provider,
            ..bi_model::generate::DesiredState::default()
        },
    };
    let reconciler = crate::api::reconciler()?;
    let (capacity, capacity_error) =
        match bi_control::health::capacity(&db, reconciler.engine().cache()).await {
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
