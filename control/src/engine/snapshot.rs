//! The engine itself: one snapshot at a time, prepare → generate → plan →
//! apply → record.

use std::fmt;

use std::collections::BTreeSet;
use std::sync::Arc;

use bi_model::events::{Event, OutcomeCounts, PlannedResource};
use bi_model::generate::{PlanItem, ResourcePath, plan};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::apply::{Outcome, Progress, apply};
use super::kinds::Kinds;
use super::prepare::prepare;
use super::record;
use super::retention::{self, PruneReport, Retention};
use super::throttle::{Concurrency, EngineSettings, Pacer, Pause, observing};
use crate::cache::Cache;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::events::EventBus;
use bi_api::snapshots::{OrphansPruned, ResourceOutcomeRow};
use bi_model::{Problems, Rule};

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
    /// How many writes went at once.
    pub concurrency: Concurrency,
    /// The orphans it was asked to delete and found (see [`Engine::prune_orphans`]).
    pub pruned_orphans: Vec<ResourcePath>,
}

impl SnapshotReport {
    /// What it did to the orphans it was asked to delete.
    pub fn orphans_pruned(&self) -> OrphansPruned {
        let mut pruned = OrphansPruned {
            snapshot: self.id,
            status: self.status,
            deleted: Vec::new(),
            refused: Vec::new(),
        };
        for (path, outcome) in &self.outcomes {
            if !self.pruned_orphans.contains(path) {
                continue;
            }
            if *outcome == Outcome::Deleted {
                pruned.deleted.push(path.to_string());
            } else {
                pruned.refused.push(ResourceOutcomeRow {
                    path: path.to_string(),
                    action: "delete".to_owned(),
                    hash: None,
                    outcome: outcome.as_str().to_owned(),
                    message: outcome.message().map(str::to_owned),
                });
            }
        }
        pruned
    }
}

/// The trigger of a snapshot that prunes orphans.
pub const ORPHANS_TRIGGER: &str = "prune-orphans";

/// Which orphans a snapshot deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Orphans {
    /// None: they are reported, never deleted (every ordinary snapshot).
    Keep,
    /// Every orphan the plan finds.
    All,
    /// These, where the plan finds them orphaned.
    Only(BTreeSet<ResourcePath>),
}

impl Orphans {
    /// The orphans `paths` name (as listed: `apps/v1/Deployment/ns/name`),
    /// or every one when None; a path that is not one is refused, naming it.
    pub fn chosen(paths: Option<&[String]>) -> Result<Orphans> {
        let Some(paths) = paths else {
            return Ok(Self::All);
        };
        let mut problems = Problems::new();
        let mut chosen = BTreeSet::new();
        for (index, text) in paths.iter().enumerate() {
            match record::parse_path(text) {
                Ok(path) => {
                    chosen.insert(path);
                }
                Err(_) => problems.push(
                    format!("paths[{index}]"),
                    Rule::Format,
                    format!("{text:?} is not apiVersion/kind[/namespace]/name"),
                ),
            }
        }
        if chosen.is_empty() && problems.is_empty() {
            problems.push(
                "paths",
                Rule::Required,
                "name at least one orphan, or leave paths out for all",
            );
        }
        problems.into_result().map_err(Error::Rejected)?;
        Ok(Self::Only(chosen))
    }

    /// Whether the orphan `path` is to be deleted.
    fn chooses(&self, path: &ResourcePath) -> bool {
        match self {
            Self::Keep => false,
            Self::All => true,
            Self::Only(paths) => paths.contains(path),
        }
    }
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
    /// Until when the API server asked (`Retry-After`) to be left alone.
    pause: Arc<Pause>,
    /// When this engine last pruned its history.
    pruned_at: std::sync::Mutex<Option<Instant>>,
    /// What the pages read of the cluster, kept by watches.
    cache: Cache,
    /// The last drift sweep's figures.
    last_sweep: std::sync::Mutex<Option<crate::drift::SweepSummary>>,
    /// Where deleted objects are kept.
    archive: crate::archive::Archive,
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
        let engine = Self::detached(db, client, settings, bus);
        // NB: drift found before a restart is still to repair.
        if !crate::drift::report_only(&engine.db).await? {
            engine.mark_drifted(crate::drift::open_paths(&engine.db).await?);
        }
        Ok(engine)
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
        let pause = Arc::new(Pause::default());
        let client = observing(client, Arc::clone(&pause));
        Engine {
            archive: crate::archive::Archive::new(db.clone()),
            db,
            cache: Cache::new(client.clone()),
            last_sweep: std::sync::Mutex::new(None),
            client,
            running: Mutex::new(()),
            settings,
            bus,
            drifted: std::sync::Mutex::new(BTreeSet::new()),
            pause,
            pruned_at: std::sync::Mutex::new(None),
        }
    }

    /// The API server's `Retry-After` hold, shared by every request.
    pub(crate) fn pause(&self) -> Arc<Pause> {
        Arc::clone(&self.pause)
    }

    /// The bus this engine publishes on.
    pub fn events(&self) -> &EventBus {
        &self.bus
    }

    /// The database this engine records in.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// What the pages read of the cluster, kept current by watches.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Where deleted objects are kept.
    pub fn archive(&self) -> &crate::archive::Archive {
        &self.archive
    }

    /// The cluster client (every request observes `Retry-After`).
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
        self.snapshot_adopting(trigger, requests, &Orphans::Keep)
            .await
    }

    /// A snapshot that also deletes the orphans `orphans` chooses (managed
    /// objects no inventory knows, which a snapshot otherwise only reports):
    /// what the one-click and `bi deploys orphans --prune` run. A chosen path
    /// that is not an orphan when the snapshot plans is left alone.
    pub async fn prune_orphans(&self, orphans: &Orphans) -> Result<SnapshotReport> {
        self.snapshot_adopting(ORPHANS_TRIGGER, &[], orphans).await
    }

    async fn snapshot_adopting(
        &self,
        trigger: &str,
        requests: &[u64],
        orphans: &Orphans,
    ) -> Result<SnapshotReport> {
        let _flight = self.running.lock().await;
        let result = self.run(trigger, requests, orphans).await;
        if let Err(err) = &result {
            self.bus.publish(Event::SnapshotError {
                requests: requests.to_vec(),
                message: err.to_string(),
            });
        }
        if self.prune_due() {
            // NB: a history that cannot be pruned now is pruned next time;
            // the snapshot itself went as reported.
            if let Err(err) =
                retention::prune(&self.db, self.settings.retention, chrono::Utc::now(), false).await
            {
                tracing::warn!(%err, "could not prune the snapshot history");
            }
        }
        result
    }

    /// Prunes the history to `retention` now (between snapshots); only
    /// counts what would go when `dry_run`.
    pub async fn prune_history(&self, retention: Retention, dry_run: bool) -> Result<PruneReport> {
        let _flight = self.running.lock().await;
        retention::prune(&self.db, retention, chrono::Utc::now(), dry_run).await
    }

    /// Whether the history is due for pruning after a snapshot (and notes
    /// that it is done now).
    fn prune_due(&self) -> bool {
        let mut pruned_at = self
            .pruned_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = pruned_at.is_none_or(|at| at.elapsed() >= self.settings.prune_every);
        if due {
            *pruned_at = Some(Instant::now());
        }
        due
    }

    /// What a snapshot would do now; writes nothing, records nothing.
    pub async fn plan(&self) -> Result<PlanPreview> {
        let mut kinds = Kinds::new(self.client.clone());
        let prepared = prepare(
            &self.db,
            &mut kinds,
            &self.settings.keycloak,
            &self.drifted_paths(),
        )
        .await?;
        Ok(PlanPreview {
            desired_version: prepared.version,
            plan: plan(&prepared.desired, &prepared.observed, &prepared.inventory),
        })
    }

    async fn run(
        &self,
        trigger: &str,
        requests: &[u64],
        orphans: &Orphans,
    ) -> Result<SnapshotReport> {
        let began = Instant::now();
        let looked = chrono::Utc::now();
        let mut kinds = Kinds::new(self.client.clone());
        let drifted = self.drifted_paths();
        let mut prepared = prepare(&self.db, &mut kinds, &self.settings.keycloak, &drifted).await?;
        let mut plan = plan(&prepared.desired, &prepared.observed, &prepared.inventory);
        let pruned_orphans: Vec<ResourcePath> = plan
            .orphans
            .iter()
            .filter(|path| orphans.chooses(path))
            .cloned()
            .collect();
        if !pruned_orphans.is_empty() {
            // NB: an orphan taken into the inventory is an object bi applied
            // and no longer wants: the plan deletes it like any other.
            tracing::info!(orphans = ?pruned_orphans.iter().map(ToString::to_string).collect::<Vec<_>>(), "pruning orphans");
            prepared.inventory.extend(pruned_orphans.iter().cloned());
            plan = bi_model::generate::plan(
                &prepared.desired,
                &prepared.observed,
                &prepared.inventory,
            );
        }
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
                .filter(|item| item.action.writes())
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
            archive: self.archive.clone(),
        };
        let existing: BTreeSet<ResourcePath> = prepared
            .observed
            .iter()
            .map(|object| object.path.clone())
            .collect();
        let pacer = Pacer::new(&self.settings, self.pause());
        let outcomes = apply(
            &plan,
            &prepared.desired,
            &existing,
            &mut kinds,
            prepared.keycloak.as_ref(),
            &self.settings,
            &pacer,
            &progress,
        )
        .await;
        let concurrency = pacer.limiter.report();
        let counts = OutcomeCounts::of(outcomes.iter().map(|(_, outcome)| outcome.state()));
        let status = if counts.failed > 0 {
            SnapshotStatus::Failed
        } else if counts.waiting > 0 {
            SnapshotStatus::Waiting
        } else {
            SnapshotStatus::Succeeded
        };
        record::finish(
            &self.db,
            id,
            record::Finished {
                status,
                counts: &counts,
                outcomes: &outcomes,
                desired: &prepared.desired,
                inventory: &prepared.inventory,
            },
        )
        .await?;
        self.forget_drift(&drifted, &outcomes);
        self.archive_missing(id, looked, &prepared, &outcomes).await;
        let written: Vec<ResourcePath> = outcomes
            .iter()
            .filter(|(_, outcome)| matches!(outcome, Outcome::Created | Outcome::Updated))
            .map(|(item, _)| item.path.clone())
            .collect();
        let desired: BTreeSet<ResourcePath> =
            prepared.desired.iter().map(|r| r.path.clone()).collect();
        crate::drift::settle(&self.db, id, &written, &desired, chrono::Utc::now()).await?;
        tracing::info!(id, %status, ?counts, ?concurrency, "snapshot finished");
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
            concurrency,
            pruned_orphans,
        })
    }

    /// Objects snapshot `id` created though bi had applied them before (in
    /// the inventory, of a type the cluster listed): someone deleted them
    /// while no watch saw it go (bi was stopped, or its watch was listing
    /// again). Archived with the body bi last applied, and noted on the
    /// timeline; a failure is logged (the snapshot did its work). `looked`:
    /// when the snapshot began to look at the cluster.
    async fn archive_missing(
        &self,
        id: i64,
        looked: chrono::DateTime<chrono::Utc>,
        prepared: &super::prepare::Prepared,
        outcomes: &[(PlanItem, Outcome)],
    ) {
        let missing: BTreeSet<String> = outcomes
            .iter()
            .filter(|(item, outcome)| {
                matches!(outcome, Outcome::Created)
                    && prepared.inventory.contains(&item.path)
                    && !bi_model::keycloak::is_keycloak(&item.path)
                    && !prepared
                        .unlisted
                        .contains(&(item.path.api_version.clone(), item.path.kind.clone()))
            })
            .map(|(item, _)| item.path.to_string())
            .collect();
        if missing.is_empty() {
            return;
        }
        let archived = async {
            let Some(last) = record::last_applied(&self.db, id, &missing).await? else {
                return Ok(Vec::new());
            };
            crate::archive::unseen(&self.db, id, looked, last.started_at, last.bodies).await
        }
        .await;
        let rows = match archived {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(snapshot = id, error = %err, "cannot archive objects found missing");
                return;
            }
        };
        for row in rows {
            let Ok(path) = record::parse_path(&row.path) else {
                continue;
            };
            tracing::info!(snapshot = id, %path, "an object bi applied was deleted while no watch saw it: archived, created again");
            let entry = crate::timeline::Entry::about(&path, &row.app, "deletion", "deleted")
                .message(format!(
                    "deleted outside bi while bi was not watching; snapshot {id} created it again, and the body bi last applied is in the archive"
                ))
                .warning();
            crate::timeline::note(&self.db, &self.cache, entry).await;
        }
    }

    /// Marks `paths` as drifted: the next snapshot re-applies them.
    pub(crate) fn mark_drifted(&self, paths: impl IntoIterator<Item = ResourcePath>) {
        self.drifted_lock().extend(paths);
    }

    /// Marks every object of an open drift finding: the next snapshot
    /// re-applies them (how drift is repaired when sweeps only report).
    /// Returns how many.
    pub async fn repair_drift(&self) -> Result<usize> {
        let open = crate::drift::open_paths(&self.db).await?;
        let count = open.len();
        self.mark_drifted(open);
        Ok(count)
    }

    /// The last drift sweep's figures, if one ran since the engine started.
    pub fn last_sweep(&self) -> Option<crate::drift::SweepSummary> {
        self.last_sweep
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_last_sweep(&self, summary: crate::drift::SweepSummary) {
        *self
            .last_sweep
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(summary);
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
