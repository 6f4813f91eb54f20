//! The engine itself: one snapshot at a time, prepare → generate → plan →
//! apply → record.

use std::fmt;

use std::collections::BTreeSet;

use bi_model::events::{Event, OutcomeCounts, PlannedResource};
use bi_model::generate::{PlanItem, ResourcePath, plan};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::apply::{Outcome, Progress, apply};
use super::kinds::Kinds;
use super::prepare::prepare;
use super::record;
use super::throttle::EngineSettings;
use crate::db::Database;
use crate::error::Result;
use crate::events::EventBus;

pub use bi_api::snapshots::{PlanPreview, SnapshotStatus};

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
    bus: EventBus,
    /// Objects the last drift sweep found changed behind bi's back: the next
    /// snapshot re-applies them even though their hash annotation matches.
    drifted: std::sync::Mutex<BTreeSet<ResourcePath>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("db", &self.db)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `db` and the cluster behind `client`, publishing on a
    /// bus of its own; snapshots a previous process left `running` are
    /// marked `interrupted`.
    pub async fn new(db: Database, client: kube::Client) -> Result<Engine> {
        Self::with_settings(db, client, EngineSettings::default(), EventBus::new()).await
    }

    /// Like [`Engine::new`], with writes paced by `settings`, publishing on `bus`.
    pub async fn with_settings(
        db: Database,
        client: kube::Client,
        settings: EngineSettings,
        bus: EventBus,
    ) -> Result<Engine> {
        let interrupted = record::mark_interrupted(&db).await?;
        if interrupted > 0 {
            tracing::warn!(interrupted, "marked snapshots left running as interrupted");
        }
        Ok(Self::detached(db, client, settings, bus))
    }

    /// An engine that leaves the snapshot history as it is (no snapshot is
    /// marked interrupted): for reading and changing the desired state from
    /// a second process while a server may be running elsewhere.
    pub fn detached(
        db: Database,
        client: kube::Client,
        settings: EngineSettings,
        bus: EventBus,
    ) -> Engine {
        Engine {
            db,
            client,
            running: Mutex::new(()),
            settings,
            bus,
            drifted: std::sync::Mutex::new(BTreeSet::new()),
        }
    }

    /// The bus this engine publishes on.
    pub fn events(&self) -> &EventBus {
        &self.bus
    }

    /// The database this engine records in.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The cluster client.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// How this engine paces its writes.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Applies the current desired state; waits for a snapshot in flight.
    ///
    /// An `Err` means nothing could be planned or recorded; objects the
    /// cluster refused are `failed` outcomes in an `Ok` report.
    pub async fn snapshot(&self, trigger: &str) -> Result<SnapshotReport> {
        self.snapshot_for(trigger, &[]).await
    }

    /// Like [`Engine::snapshot`], serving the queued `requests` (their
    /// numbers go out with the `snapshot_started` event).
    pub async fn snapshot_for(&self, trigger: &str, requests: &[u64]) -> Result<SnapshotReport> {
        let _flight = self.running.lock().await;
        let result = self.run(trigger, requests).await;
        if let Err(err) = &result {
            self.bus.publish(Event::SnapshotError {
                requests: requests.to_vec(),
                message: err.to_string(),
            });
        }
        result
    }

    /// What a snapshot would do now; writes nothing, records nothing.
    pub async fn plan(&self) -> Result<PlanPreview> {
        let mut kinds = Kinds::new(self.client.clone());
        let prepared = prepare(&self.db, &mut kinds, &self.drifted_paths()).await?;
        Ok(PlanPreview {
            desired_version: prepared.version,
            plan: plan(&prepared.desired, &prepared.observed, &prepared.inventory),
        })
    }

    async fn run(&self, trigger: &str, requests: &[u64]) -> Result<SnapshotReport> {
        let began = Instant::now();
        let mut kinds = Kinds::new(self.client.clone());
        let drifted = self.drifted_paths();
        let prepared = prepare(&self.db, &mut kinds, &drifted).await?;
        let plan = plan(&prepared.desired, &prepared.observed, &prepared.inventory);
        let id = record::start(&self.db, prepared.version, trigger, &plan.items).await?;
        tracing::info!(id, version = prepared.version, trigger, planned = ?plan.counts(), "snapshot started");
        self.bus.publish(Event::SnapshotStarted {
            snapshot: id,
            desired_version: prepared.version,
            trigger: trigger.to_owned(),
            requests: requests.to_vec(),
        });
        self.bus.publish(Event::PlanReady {
            snapshot: id,
            items: plan
                .items
                .iter()
                .map(|item| PlannedResource {
                    path: item.path.clone(),
                    action: item.action,
                    stage: item.stage,
                    app: item.app.clone(),
                })
                .collect(),
            counts: plan.counts(),
            orphans: plan.orphans.clone(),
        });

        let progress = Progress {
            bus: self.bus.clone(),
            snapshot: id,
        };
        let existing: BTreeSet<ResourcePath> = prepared
            .observed
            .iter()
            .map(|object| object.path.clone())
            .collect();
        let outcomes = apply(
            &plan,
            &prepared.desired,
            &existing,
            &mut kinds,
            &self.settings,
            &progress,
        )
        .await;
        let counts = OutcomeCounts::of(outcomes.iter().map(|(_, outcome)| outcome.state()));
        let status = if counts.failed > 0 {
            SnapshotStatus::Failed
        } else if counts.waiting > 0 {
            SnapshotStatus::Waiting
        } else {
            SnapshotStatus::Succeeded
        };
        record::finish(&self.db, id, status, &counts, &outcomes, &prepared.desired).await?;
        self.forget_drift(&drifted, &outcomes);
        tracing::info!(id, %status, ?counts, "snapshot finished");
        self.bus.publish(Event::SnapshotFinished {
            snapshot: id,
            status: status.as_str().to_owned(),
            counts,
            elapsed_ms: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
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

    /// Marks `paths` as drifted: the next snapshot re-applies them.
    pub(crate) fn mark_drifted(&self, paths: impl IntoIterator<Item = ResourcePath>) {
        self.drifted_lock().extend(paths);
    }

    /// The objects waiting to be re-applied because they drifted.
    pub fn drifted_paths(&self) -> BTreeSet<ResourcePath> {
        self.drifted_lock().clone()
    }

    /// Forgets the drift of the objects this snapshot re-applied.
    fn forget_drift(&self, drifted: &BTreeSet<ResourcePath>, outcomes: &[(PlanItem, Outcome)]) {
        if drifted.is_empty() {
            return;
        }
        let mut set = self.drifted_lock();
        for (item, outcome) in outcomes {
            if drifted.contains(&item.path) && outcome.is_applied() {
                set.remove(&item.path);
            }
        }
    }

    fn drifted_lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<ResourcePath>> {
        // NB: a set of paths is consistent after every statement.
        self.drifted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
