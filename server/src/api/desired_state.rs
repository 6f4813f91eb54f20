//! `/api/v1/export` and `/api/v1/audit`: the current desired state as
//! plain Kubernetes YAML, and who changed it when.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use bi_api::audit::AuditEntry;
use bi_model::generate::{Secrets, generate, to_yaml_stream};

use super::ApiError;
use crate::state::AppState;

/// The current desired resources as one YAML stream in apply order; every
/// secret value is a placeholder.
pub async fn export(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let (_, desired) = bi_control::desired_state::current(&state.db).await?;
    // NB: Secrets::Preview, never the stored secrets: this leaves the server.
    let resources = generate(&desired, Secrets::Preview)
        .map_err(|err| ApiError::Internal(format!("cannot generate the resources: {err}")))?;
    let yaml = to_yaml_stream(&resources)
        .map_err(|err| ApiError::Internal(format!("cannot render the resources: {err}")))?;
    Ok(([(header::CONTENT_TYPE, "application/yaml")], yaml))
}

/// Every desired-state change, newest first.
pub async fn audit(State(state): State<AppState>) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    Ok(Json(bi_control::desired_state::history(&state.db).await?))
}
