//! `GET /api/v1/reach` and `GET /api/v1/ca.crt`: the addresses people open
//! and the certificate a laptop imports to trust them.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
pub use bi_api::reach::ReachView;

use super::ApiError;
use crate::state::AppState;

/// Every address with its route's and certificate's status.
pub async fn reach(State(state): State<AppState>) -> Result<Json<ReachView>, ApiError> {
    let view = bi_control::reach::read(&state.db, state.reconciler.engine().cache()).await?;
    Ok(Json(view))
}

/// The Battery CA's certificate as `application/x-pem-file` (a download
/// named `bi-ca.crt`); 404 while there is none.
pub async fn ca_certificate(State(state): State<AppState>) -> Result<Response, ApiError> {
    let pem =
        bi_control::reach::ca_certificate(&state.db, state.reconciler.engine().client()).await?;
    let Some(pem) = pem else {
        return Err(ApiError::NotFound(
            "there is no CA certificate yet: install the Battery CA and let cert-manager issue it"
                .to_owned(),
        ));
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-pem-file"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"bi-ca.crt\"",
            ),
        ],
        pem,
    )
        .into_response())
}
