//! The operations on batteries, projects and system settings that the web UI's server
//! functions and the `bi` CLI's JSON API both call: all the logic lives
//! here, callers only authorize, call and map the result.
//!
//! Every change is one [`crate::desired_state::change`]: validated as a
//! whole by `bi-model` and stored as an audited version, or refused with
//! [`crate::Error::Rejected`] and nothing stored.

pub mod batteries;
pub mod projects;
pub mod settings;

pub use batteries::{
    BatteryDetail, BatteryStatus, InstallOutcome, InstallPreview, IntegrationNote,
    IntegrationStatus, UninstallOutcome,
};
pub use projects::{
    ObjectKind, ObjectRef, ProjectDetail, ProjectObject, ProjectSummary, UnknownObjectKind,
};
