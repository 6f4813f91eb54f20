//! What can stop generation.

use super::ResourcePath;

/// Why generation failed. Generation is pure: these are problems in the
/// desired state (or a bug in a generator), never in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// A secret the desired state should hold is missing.
    #[error(
        "the desired state has no secret {0:?}; the control plane creates secrets before generating"
    )]
    MissingSecret(String),
    /// Two generators produced the same resource path.
    #[error("{path} is generated twice (by {first} and by {second})")]
    Duplicate {
        /// The clashing path (boxed: it keeps every `Result` small).
        path: Box<ResourcePath>,
        /// The app of the first one.
        first: String,
        /// The app of the second one.
        second: String,
    },
    /// A generated object lacks what every Kubernetes object has.
    #[error("a generated object is malformed: {0}")]
    Malformed(String),
}
