//! The error every server function returns: typed, serializable, and safe to
//! show in the browser (no secrets, no driver internals).

use bi_model::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong in a server function, as the browser sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The input broke a rule; nothing was stored. Shown next to the field.
    #[error(transparent)]
    Invalid(FieldError),
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
