//! The snapshot-and-apply engine: makes the cluster match the desired state.
//!
//! A snapshot prepares (reads the desired state, its secrets and the managed
//! objects the cluster holds), generates every resource, plans the diff
//! against the cluster and the last succeeded snapshot's inventory, applies
//! the plan stage by stage with server-side apply, and records every outcome
//! in the database.

mod apply;
mod drift;
pub mod history;
mod keycloak;
mod kinds;
mod prepare;
mod record;
mod retention;
mod rollback;
mod snapshot;
mod throttle;
mod webhooks;

pub use apply::Outcome;
pub use bi_model::events::OutcomeCounts;
pub use drift::DriftReport;
pub(crate) use kinds::is_not_served;
pub(crate) use record::{inventory, parse_path};
pub use retention::{PruneReport, PruneRequest, Retention};
pub use rollback::rollback;
pub use snapshot::{Engine, ORPHANS_TRIGGER, Orphans, PlanPreview, SnapshotReport, SnapshotStatus};
pub use throttle::{Concurrency, EngineSettings};
