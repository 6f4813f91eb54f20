//! The control plane's error type: each variant says what failed and with what.

use bi_model::generate::GenerateError;
use bi_model::{FieldError, Problems};
use sea_orm::DbErr;

/// Everything that can go wrong in `bi-control`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed an operation.
    #[error("database error while {action}: {source}")]
    Database {
        /// What bi was doing, e.g. "reading the installation".
        action: &'static str,
        /// The driver's error.
        #[source]
        source: DbErr,
    },
    /// The database URL names a backend bi does not support.
    #[error("unsupported database URL scheme {scheme:?}: use sqlite://… or postgres://…")]
    UnsupportedDatabase {
        /// The scheme found in the URL.
        scheme: String,
    },
    /// What was asked for does not exist (a service, a snapshot).
    #[error("{0}")]
    NotFound(String),
    /// A change was refused by validation; nothing was stored.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The credential is wrong, expired or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// It clashes with what exists (the last admin, set up twice).
    #[error("{0}")]
    Conflict(String),
    /// What a write was based on changed after its caller read it; nothing
    /// was stored (see [`crate::staleness`]).
    #[error("{message}")]
    ChangedMeanwhile {
        /// What changed, in which versions, by whom, and what to do.
        message: String,
        /// One problem per changed field, never empty.
        changes: Problems,
    },
    /// Sign-in is locked after too many failures.
    #[error("{0}")]
    Locked(String),
    /// Something bi depends on does not answer now (Keycloak); what and
    /// what to do.
    #[error("{0}")]
    Unavailable(String),
    /// Something bi relies on failed (a blocking task, a hasher); the
    /// message is for the log.
    #[error("{0}")]
    Internal(String),
    /// A change was refused by validation, with every problem found; nothing was stored.
    #[error("the change was refused: {0}")]
    Rejected(Problems),
    /// Listing the secrets a new desired state needs failed (a generator bug).
    #[error("cannot list the secrets the desired state needs: {source}")]
    Generate {
        /// Generation's error.
        #[source]
        source: GenerateError,
    },
    /// A value could not be encoded for storage.
    #[error("cannot encode the {what}: {source}")]
    Encode {
        /// What was being encoded, e.g. "desired state".
        what: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// A row in the database breaks a rule bi relies on (edited by hand?).
    #[error("the database holds an invalid {what}: {reason}")]
    Corrupt {
        /// Which value is broken.
        what: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// The cluster refused or failed a request the engine cannot do without.
    #[error("cluster error while {action}: {source}")]
    Cluster {
        /// What bi was doing, e.g. "listing apps/v1/Deployment".
        action: String,
        /// kube's error.
        #[source]
        source: kube::Error,
    },
    /// The cluster's connection settings cannot be loaded.
    #[error("cannot load the cluster connection from {source_description}: {reason}")]
    ClusterConfig {
        /// Where bi looked, e.g. "kubeconfig ~/.kube/config, context prod".
        source_description: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Generating the resources of a stored desired state failed.
    #[error("cannot generate the resources of desired-state version {version}: {source}")]
    Generation {
        /// The desired-state version being generated.
        version: i32,
        /// Generation's error.
        #[source]
        source: GenerateError,
    },
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps a [`DbErr`] with what bi was doing when it happened.
pub(crate) fn db_error(action: &'static str) -> impl FnOnce(DbErr) -> Error {
    move |source| Error::Database { action, source }
}

impl From<Error> for bi_api::ApiError {
    /// What a client is told: validation problems as they are; anything else
    /// as a sentence that leaks nothing, the full error going to the log only
    /// (it may name hosts, paths or SQL).
    fn from(err: Error) -> Self {
        match err {
            Error::Invalid(field) => Self::Invalid(field),
            Error::Rejected(problems) => Self::Rejected(problems),
            Error::NotFound(what) => Self::NotFound(what),
            Error::Unauthenticated(why) => Self::Unauthenticated(why),
            Error::Forbidden(why) => Self::Forbidden(why),
            Error::Conflict(why) => Self::Conflict(why),
            Error::ChangedMeanwhile { message, changes } => {
                Self::ChangedMeanwhile { message, changes }
            }
            Error::Locked(why) => Self::TooManyRequests(why),
            Error::Unavailable(why) => Self::Unavailable(why),
            other => {
                tracing::error!(error = %other, "request failed");
                Self::Internal(Self::INTERNAL.to_owned())
            }
        }
    }
}
