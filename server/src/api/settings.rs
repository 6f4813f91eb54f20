//! `/api/v1/settings`: the reconcile intervals, as `bi settings` and the
//! Settings page change them.

use axum::Json;
use axum::extract::State;
pub use bi_api::server::Intervals;
use bi_control::operations::settings::{self, IntervalSettings};
use bi_model::ReconcileIntervals;

use super::ApiError;
use crate::state::AppState;

/// The intervals in force and where each comes from.
pub async fn show(State(state): State<AppState>) -> Result<Json<IntervalSettings>, ApiError> {
    Ok(Json(settings::show(&state.db, state.facts.defaults).await?))
}

/// Sets both intervals; 422 naming the field when one is refused.
pub async fn save(
    State(state): State<AppState>,
    Json(body): Json<Intervals>,
) -> Result<Json<IntervalSettings>, ApiError> {
    let wanted = ReconcileIntervals::parse(&body.recheck_every, &body.drift_every)?;
    Ok(Json(
        settings::save(&state.db, &state.reconciler, state.facts.defaults, wanted).await?,
    ))
}

/// Goes back to the server's options.
pub async fn reset(State(state): State<AppState>) -> Result<Json<IntervalSettings>, ApiError> {
    Ok(Json(
        settings::reset(&state.db, &state.reconciler, state.facts.defaults).await?,
    ))
}
