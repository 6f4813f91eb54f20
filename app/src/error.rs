//! The error every server function returns: typed, serializable, and safe to
//! show in the browser (no secrets, no driver internals).

use bi_model::{FieldError, Problems};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong in a server function, as the browser sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The input broke a rule; nothing was stored. Shown next to the field.
    #[error(transparent)]
    Invalid(FieldError),
    /// The change was refused with every problem found; nothing was stored.
    /// Each problem is shown under the field it names.
    #[error("the change was refused: {}", describe(.0))]
    Rejected(Problems),
    /// What was asked for does not exist (a snapshot, a project).
    #[error("{0}")]
    NotFound(String),
    /// The server failed (database down, …). The details are in the server
    /// log; the browser gets a sentence that leaks nothing.
    #[error("{0}")]
    Internal(String),
    /// The request never reached the function, or its answer was unreadable.
    #[error("could not reach the control server: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<bi_control::Error> for AppError {
    fn from(err: bi_control::Error) -> Self {
        match err {
            bi_control::Error::Invalid(field) => Self::Invalid(field),
            bi_control::Error::Rejected(problems) => Self::Rejected(problems),
            other => {
                // NB: the full error (which may name hosts or paths) goes to the log only.
                tracing::error!(error = %other, "server function failed");
                Self::Internal(
                    "the control server could not complete this; the details are in its log"
                        .to_owned(),
                )
            }
        }
    }
}

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        Self::Invalid(err)
    }
}

impl AppError {
    /// The problems to show under fields: one for [`AppError::Invalid`],
    /// all of them for [`AppError::Rejected`], none otherwise.
    pub fn problems(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(err) => vec![err.clone()],
            Self::Rejected(problems) => problems.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

/// `a: first; b: second`, for one-line displays of every problem.
fn describe(problems: &Problems) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
