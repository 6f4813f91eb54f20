//! Validation errors that name the field and the rule they broke.
//!
//! The UI shows `message` next to the input whose path is `field`; the server
//! returns the same error from a refused change, so both sides speak alike.

use serde::{Deserialize, Serialize};

/// A value refused by validation: which field, and the rule in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `installation.name`.
    pub field: String,
    /// Human sentence saying what rule was broken and, where possible, how to fix it.
    pub message: String,
}

impl FieldError {
    /// An error for `field` with a human `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
