//! The API's one error type and its JSON shape.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bi_model::{FieldError, Problems};
use serde::{Deserialize, Serialize};

/// Why a request failed, as the client is told.
#[derive(Debug)]
pub enum ApiError {
    /// Validation refused the change; nothing was stored (422).
    Rejected(Problems),
    /// No such battery, project or snapshot (404).
    NotFound(String),
    /// The request itself is malformed (400).
    BadRequest(String),
    /// Anything else (500); the message never holds a secret.
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, with every validation problem of a refused change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// One sentence.
    pub message: String,
    /// The problems of a refused change (422 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<FieldError>,
}

impl From<bi_control::Error> for ApiError {
    fn from(err: bi_control::Error) -> Self {
        match err {
            bi_control::Error::Rejected(problems) => Self::Rejected(problems),
            bi_control::Error::Invalid(problem) => Self::Rejected(problem.into()),
            other => {
                tracing::error!(error = %other, "API request failed");
                Self::Internal(other.to_string())
            }
        }
    }
}

impl From<Problems> for ApiError {
    fn from(problems: Problems) -> Self {
        Self::Rejected(problems)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, problems) = match self {
            Self::Rejected(problems) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the change was refused: {problems}"),
                problems.into_iter().collect(),
            ),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, message, Vec::new()),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message, Vec::new()),
            Self::Internal(message) => (StatusCode::INTERNAL_SERVER_ERROR, message, Vec::new()),
        };
        let body = ErrorBody {
            error: ErrorDetail { message, problems },
        };
        (status, Json(body)).into_response()
    }
}
