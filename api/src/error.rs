//! The one error every way in answers with: server functions (as JSON, by
//! `server_fn`), the `/api/v1` routes (as JSON with an HTTP status) and the
//! CLI (which reads it back). Its wire form is [`ErrorBody`] on all three.

use bi_model::{FieldError, Problems};
use serde::{Deserialize, Serialize};

/// What went wrong, as a client is told: typed, and safe to show (no
/// secrets, no driver internals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
pub enum ApiError {
    /// The input broke one rule; nothing was stored (422). Shown next to
    /// the field.
    #[error(transparent)]
    Invalid(FieldError),
    /// The change was refused with every problem found; nothing was stored
    /// (422). Each problem is shown under the field it names.
    #[error("the change was refused: {0}")]
    Rejected(Problems),
    /// What was asked for does not exist: a battery, project, snapshot (404).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// Nobody is signed in, or the credential is wrong, expired or revoked
    /// (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The signed-in user's role may not do this, or the request came from
    /// another site (403). Nothing was changed.
    #[error("{0}")]
    Forbidden(String),
    /// It clashes with what exists: a name taken, the last admin (409).
    #[error("{0}")]
    Conflict(String),
    /// What the writer read changed before its write arrived: another
    /// change came first, so nothing was stored (409, code `conflict`, like
    /// [`ApiError::Conflict`]). The message names the versions and authors
    /// since; each problem names a field that changed and how.
    #[error("{message}")]
    ChangedMeanwhile {
        /// One paragraph: what changed meanwhile, by whom, and what to do.
        message: String,
        /// One problem per changed field (rule `changed_meanwhile`); never
        /// empty, which is how the wire form tells it from a plain conflict.
        changes: Problems,
    },
    /// Too many attempts: sign-in is locked for a while (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// Something bi depends on does not answer now (Keycloak starting,
    /// unreachable); the message says what and what to do (503).
    #[error("{0}")]
    Unavailable(String),
    /// The server failed (database down, …) (500). The details are in the
    /// server's log; the client gets a sentence that leaks nothing.
    #[error("{0}")]
    Internal(String),
    /// The request never reached the server, or its answer was unreadable.
    /// Made by clients; a server never sends it.
    #[error("could not reach the control server: {0}")]
    Transport(String),
}

/// The JSON body of every error: `{"error": {"code", "message", "problems"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, with every validation problem of a refused change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Which kind of failure.
    #[serde(default)]
    pub code: ErrorCode,
    /// One sentence.
    pub message: String,
    /// The problems of a refused change (`invalid` and `rejected`), or the
    /// fields that changed meanwhile (`conflict`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<FieldError>,
}

/// The kind of an [`ApiError`], as its wire form names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// [`ApiError::Invalid`].
    Invalid,
    /// [`ApiError::Rejected`].
    Rejected,
    /// [`ApiError::NotFound`].
    NotFound,
    /// [`ApiError::BadRequest`].
    BadRequest,
    /// [`ApiError::Unauthenticated`].
    Unauthenticated,
    /// [`ApiError::Forbidden`].
    Forbidden,
    /// [`ApiError::Conflict`] and [`ApiError::ChangedMeanwhile`].
    Conflict,
    /// [`ApiError::TooManyRequests`].
    TooManyRequests,
    /// [`ApiError::Unavailable`].
    Unavailable,
    /// [`ApiError::Internal`]; also what a body without a code means.
    #[default]
    Internal,
    /// [`ApiError::Transport`].
    Transport,
}

impl ApiError {
    /// The sentence a client shows when the server failed: the details are
    /// in the server's log only (they may name hosts, paths or SQL).
    pub const INTERNAL: &'static str =
        "the control server could not complete this; the details are in its log";

    /// The problems to show under fields: one for [`ApiError::Invalid`],
    /// all of them for [`ApiError::Rejected`], the changed fields for
    /// [`ApiError::ChangedMeanwhile`], none otherwise.
    pub fn problems(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(err) => vec![err.clone()],
            Self::Rejected(problems)
            | Self::ChangedMeanwhile {
                changes: problems, ..
            } => problems.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Which kind of failure this is.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::Invalid,
            Self::Rejected(_) => ErrorCode::Rejected,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Conflict(_) | Self::ChangedMeanwhile { .. } => ErrorCode::Conflict,
            Self::TooManyRequests(_) => ErrorCode::TooManyRequests,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
            Self::Transport(_) => ErrorCode::Transport,
        }
    }

    /// The HTTP status the JSON API answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) | Self::Rejected(_) => 422,
            Self::NotFound(_) => 404,
            Self::BadRequest(_) => 400,
            Self::Unauthenticated(_) => 401,
            Self::Forbidden(_) => 403,
            Self::Conflict(_) | Self::ChangedMeanwhile { .. } => 409,
            Self::TooManyRequests(_) => 429,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
            Self::Transport(_) => 502,
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        Self::Invalid(err)
    }
}

impl From<Problems> for ApiError {
    fn from(problems: Problems) -> Self {
        Self::Rejected(problems)
    }
}

impl From<ApiError> for ErrorBody {
    fn from(err: ApiError) -> Self {
        // NB: a message is the sentence a client shows, except a transport
        // failure's, which is the cause alone (the sentence adds a prefix).
        let message = match &err {
            ApiError::Transport(cause) => cause.clone(),
            other => other.to_string(),
        };
        Self {
            error: ErrorDetail {
                code: err.code(),
                message,
                problems: err.problems(),
            },
        }
    }
}

impl From<ErrorBody> for ApiError {
    fn from(body: ErrorBody) -> Self {
        let ErrorDetail {
            code,
            message,
            problems,
        } = body.error;
        match code {
            ErrorCode::Invalid if problems.len() == 1 => {
                Self::Invalid(problems.into_iter().next().unwrap_or_else(|| {
                    FieldError::new("", bi_model::Rule::Format, message.clone())
                }))
            }
            ErrorCode::Invalid | ErrorCode::Rejected => {
                let mut all = Problems::new();
                for problem in problems {
                    all.push(problem.field, problem.rule, problem.message);
                }
                if all.is_empty() {
                    all.push("", bi_model::Rule::Format, message);
                }
                Self::Rejected(all)
            }
            ErrorCode::NotFound => Self::NotFound(message),
            ErrorCode::BadRequest => Self::BadRequest(message),
            ErrorCode::Unauthenticated => Self::Unauthenticated(message),
            ErrorCode::Forbidden => Self::Forbidden(message),
            // NB: a conflict with problems is the only way the wire tells
            // "changed meanwhile" from a plain conflict; it always has some.
            ErrorCode::Conflict if !problems.is_empty() => {
                let mut changes = Problems::new();
                for problem in problems {
                    changes.push(problem.field, problem.rule, problem.message);
                }
                Self::ChangedMeanwhile { message, changes }
            }
            ErrorCode::Conflict => Self::Conflict(message),
            ErrorCode::TooManyRequests => Self::TooManyRequests(message),
            ErrorCode::Unavailable => Self::Unavailable(message),
            ErrorCode::Internal => Self::Internal(message),
            ErrorCode::Transport => Self::Transport(message),
        }
    }
}

#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for ApiError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(ErrorBody::from(self))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use bi_model::Rule;

    use super::*;

    fn round_trip(err: ApiError) -> ApiError {
        let json = serde_json::to_string(&err).unwrap_or_default();
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn every_kind_survives_the_wire() {
        let mut problems = Problems::new();
        problems.push("grafana.storage", Rule::Unit, "\"500\" has no unit");
        problems.push("grafana.replicas", Rule::Format, "must be a number");
        for err in [
            ApiError::Invalid(FieldError::new("name", Rule::Required, "say a name")),
            ApiError::Rejected(problems),
            ApiError::NotFound("there is no snapshot 9".into()),
            ApiError::BadRequest("not JSON".into()),
            ApiError::Unauthenticated("sign in first".into()),
            ApiError::Forbidden("a viewer may not change anything".into()),
            ApiError::Conflict("the last admin".into()),
            ApiError::ChangedMeanwhile {
                message: "redis changed since version 3".into(),
                changes: {
                    let mut changes = Problems::new();
                    changes.push("redis.memory", Rule::ChangedMeanwhile, "is 1 GiB now");
                    changes
                },
            },
            ApiError::TooManyRequests("locked".into()),
            ApiError::Unavailable("Keycloak is starting".into()),
            ApiError::Internal(ApiError::INTERNAL.into()),
            ApiError::Transport("connection refused".into()),
        ] {
            assert_eq!(round_trip(err.clone()), err);
        }
    }

    #[test]
    fn a_refusal_is_one_shape_with_every_problem() {
        let mut problems = Problems::new();
        problems.push("grafana.storage", Rule::Unit, "\"500\" has no unit");
        let err = ApiError::Rejected(problems);
        assert_eq!(err.status(), 422);
        let json = serde_json::to_value(&err).unwrap_or_default();
        assert_eq!(json["error"]["code"], "rejected");
        assert_eq!(
            json["error"]["message"],
            "the change was refused: grafana.storage: \"500\" has no unit"
        );
        assert_eq!(json["error"]["problems"][0]["field"], "grafana.storage");
    }

    #[test]
    fn a_change_made_meanwhile_is_a_conflict_that_names_the_fields() {
        let mut changes = Problems::new();
        changes.push(
            "redis.memory",
            Rule::ChangedMeanwhile,
            "was 512 MiB, is 1 GiB now",
        );
        let err = ApiError::ChangedMeanwhile {
            message: "redis changed since version 3".into(),
            changes,
        };
        assert_eq!(err.status(), 409);
        let json = serde_json::to_value(&err).unwrap_or_default();
        assert_eq!(json["error"]["code"], "conflict");
        assert_eq!(json["error"]["problems"][0]["field"], "redis.memory");
        assert_eq!(json["error"]["problems"][0]["rule"], "changed_meanwhile");
    }

    #[test]
    fn a_body_without_a_code_reads_as_internal() {
        let err: ApiError = serde_json::from_str(r#"{"error":{"message":"boom"}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(err, ApiError::Internal("boom".into()));
    }
}
