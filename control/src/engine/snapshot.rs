//! The engine itself: one snapshot at a time, prepare → generate → plan →
//! apply → record.

use std::fmt;

use bi_model::generate::{ResourcePath, plan};
use tokio::sync::Mutex;

use super::apply::{Outcome, apply};
use super::kinds::Kinds;
use super::prepare::prepare;
use super::record;
use super::throttle::EngineSettings;
use crate::db::Database;
use crate::error::Result;

/// Where a snapshot stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStatus {
    /// Applying now.
    Running,
    /// Every object is as desired.
    Succeeded,
    /// Some objects failed (and later stages were skipped).
    Failed,
    /// The process stopped while it was running.
    Interrupted,
}

impl SnapshotStatus {
    /// The name stored in `snapshot.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many objects ended with each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    /// Created.
    pub created: usize,
    /// Updated.
    pub updated: usize,
    /// Already as desired.
    pub unchanged: usize,
    /// Deleted.
    pub deleted: usize,
    /// Refused by the cluster.
    pub failed: usize,
    /// Not attempted after an earlier stage failed.
    pub skipped: usize,
}

impl OutcomeCounts {
    /// Counts `outcomes`.
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Self {
        let mut counts = Self::default();
        for outcome in outcomes {
            match outcome {
                Outcome::Created => counts.created += 1,
                Outcome::Updated => counts.updated += 1,
                Outcome::Unchanged => counts.unchanged += 1,
                Outcome::Deleted => counts.deleted += 1,
                Outcome::Failed(_) => counts.failed += 1,
                Outcome::Skipped => counts.skipped += 1,
            }
        }
        counts
    }

    /// Objects written: created, updated and deleted.
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }
}

/// What one snapshot did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotReport {
    /// The `snapshot` row.
    pub id: i64,
    /// The desired-state version applied.
    pub desired_version: i32,
    /// Succeeded or failed.
    pub status: SnapshotStatus,
    /// Outcomes by kind.
    pub counts: OutcomeCounts,
    /// Every planned object and its outcome, in apply order (deletions last).
    pub outcomes: Vec<(ResourcePath, Outcome)>,
    /// Managed objects no inventory knows: reported, never deleted.
    pub orphans: Vec<ResourcePath>,
}

/// Makes the cluster match the desired state, one snapshot at a time.
pub struct Engine {
    db: Database,
    client: kube::Client,
    // NB: single flight: two snapshots applying at once would race on the
    // same objects and record overlapping inventories.
    running: Mutex<()>,
    settings: EngineSettings,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `db` and the cluster behind `client`; snapshots a
    /// previous process left `running` are marked `interrupted`.
    pub async fn new(db: Database, client: kube::Client) -> Result<Engine> {
        let interrupted = record::mark_interrupted(&db).await?;
        if interrupted > 0 {
            tracing::warn!(interrupted, "marked snapshots left running as interrupted");
        }
        Ok(Engine {
            db,
            client,
            running: Mutex::new(()),
            settings: EngineSettings::default(),
        })
    }

    /// Applies the current desired state; waits for a snapshot in flight.
    ///
    /// An `Err` means nothing could be planned or recorded; objects the
    /// cluster refused are `failed` outcomes in an `Ok` report.
    pub async fn snapshot(&self, trigger: &str) -> Result<SnapshotReport> {
        let _flight = self.running.lock().await;
        let mut kinds = Kinds::new(self.client.clone());
        let prepared = prepare(&self.db, &mut kinds).await?;
        let plan = plan(&prepared.desired, &prepared.observed, &prepared.inventory);
        let id = record::start(&self.db, prepared.version, trigger).await?;
        tracing::info!(id, version = prepared.version, trigger, planned = ?plan.counts(), "snapshot started");

        let outcomes = apply(&plan, &prepared.desired, &mut kinds, &self.settings).await;
        let counts = OutcomeCounts::of(outcomes.iter().map(|(_, outcome)| outcome));
        let status = if counts.failed == 0 {
            SnapshotStatus::Succeeded
        } else {
            SnapshotStatus::Failed
        };
        record::finish(&self.db, id, status, &counts, &outcomes, &prepared.desired).await?;
        tracing::info!(id, %status, ?counts, "snapshot finished");
        Ok(SnapshotReport {
            id,
            desired_version: prepared.version,
            status,
            counts,
            outcomes: outcomes
                .into_iter()
                .map(|(item, outcome)| (item.path, outcome))
                .collect(),
            orphans: plan.orphans,
        })
    }

    /// Like [`Engine::new`], with writes paced by `settings`.
    pub async fn with_settings(
        db: Database,
        client: kube::Client,
        settings: EngineSettings,
    ) -> Result<Engine> {
        let mut engine = Self::new(db, client).await?;
        engine.settings = settings;
        Ok(engine)
    }
}
