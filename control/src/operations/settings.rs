//! The system-wide settings: how often the reconciler re-checks the cluster
//! and sweeps for drift. Set from the Settings page or `bi settings`, kept in
//! the database, and handed to the running reconciler at once.

pub use bi_model::IntervalSettings;
use bi_model::ReconcileIntervals;

use crate::Database;
use crate::error::Result;
use crate::installation::{self, StoredIntervals};
use crate::reconciler::Reconciler;

/// The intervals in force, over the server's `defaults`.
pub async fn show(db: &Database, defaults: ReconcileIntervals) -> Result<IntervalSettings> {
    let stored = installation::intervals(db).await?;
    Ok(IntervalSettings {
        intervals: stored.or(defaults),
        recheck_set_here: stored.recheck_every.is_some(),
        drift_set_here: stored.drift_every.is_some(),
        defaults,
    })
}

/// Sets the intervals (validated by [`ReconcileIntervals::parse`]); a value
/// equal to the server's option is not kept, so the option applies again.
/// The reconciler uses them at once.
pub async fn save(
    db: &Database,
    reconciler: &Reconciler,
    defaults: ReconcileIntervals,
    wanted: ReconcileIntervals,
) -> Result<IntervalSettings> {
    let stored = StoredIntervals {
        recheck_every: (wanted.recheck_every != defaults.recheck_every)
            .then_some(wanted.recheck_every),
        drift_every: (wanted.drift_every != defaults.drift_every).then_some(wanted.drift_every),
    };
    put(db, reconciler, defaults, stored).await
}

/// Goes back to the server's options for both intervals.
pub async fn reset(
    db: &Database,
    reconciler: &Reconciler,
    defaults: ReconcileIntervals,
) -> Result<IntervalSettings> {
    put(db, reconciler, defaults, StoredIntervals::default()).await
}

async fn put(
    db: &Database,
    reconciler: &Reconciler,
    defaults: ReconcileIntervals,
    stored: StoredIntervals,
) -> Result<IntervalSettings> {
    installation::set_intervals(db, stored).await?;
    let settings = show(db, defaults).await?;
    reconciler.set_settings(settings.intervals.into());
    Ok(settings)
}
