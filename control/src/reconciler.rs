//! The reconciler: decides when the engine runs.
//!
//! Snapshots are single-flight: one task owns the engine's runs. Requests
//! (a user's explicit apply, a stored desired-state change, the periodic
//! re-check, a drift sweep that found something) go into a queue; whatever
//! queues up while a snapshot runs is served by one follow-up snapshot, so a
//! burst of ten changes costs at most two runs. Every request gets a number,
//! published with `snapshot_queued`, and the `snapshot_started` event lists
//! the numbers it serves, so a client that asked knows which run is its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bi_model::events::Event;
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::engine::{Engine, SnapshotReport, SnapshotStatus};
use crate::events::EventBus;

/// When snapshots and drift sweeps run on their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcilerSettings {
    /// The periodic re-check, counted from the last snapshot; a snapshot
    /// runs at start unless a request already made one.
    pub recheck_every: Duration,
    /// The drift sweep; the first runs one period after start.
    pub drift_every: Duration,
}

impl Default for ReconcilerSettings {
    fn default() -> Self {
        Self {
            recheck_every: Duration::from_secs(5 * 60),
            drift_every: Duration::from_secs(60 * 60),
        }
    }
}

impl From<bi_model::ReconcileIntervals> for ReconcilerSettings {
    fn from(intervals: bi_model::ReconcileIntervals) -> Self {
        Self {
            recheck_every: intervals.recheck_every.to_std(),
            drift_every: intervals.drift_every.to_std(),
        }
    }
}

/// Asks for snapshots. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Reconciler {
    shared: Arc<Shared>,
    engine: Arc<Engine>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Vec<Request>>,
    wake: Notify,
    next_request: AtomicU64,
    settings: watch::Sender<ReconcilerSettings>,
}

#[derive(Debug)]
struct Request {
    id: u64,
    trigger: String,
    done: Option<oneshot::Sender<Result<SnapshotReport, String>>>,
}

/// A queued request: its number, and its snapshot's report when it ends.
#[derive(Debug)]
pub struct Ticket {
    /// The request's number (in `snapshot_queued` and `snapshot_started`).
    pub request: u64,
    done: oneshot::Receiver<Result<SnapshotReport, String>>,
}

impl Ticket {
    /// Waits for the snapshot that serves this request; `Err` carries the
    /// message of a snapshot that could not run or be recorded.
    pub async fn finished(self) -> Result<SnapshotReport, String> {
        self.done.await.unwrap_or_else(|_| {
            Err("the control server stopped before the snapshot ran".to_owned())
        })
    }
}

impl Reconciler {
    /// Starts the reconciler's task over `engine`: it snapshots at once,
    /// then on every request, desired-state change and period.
    pub fn start(engine: Arc<Engine>, settings: ReconcilerSettings) -> (Self, JoinHandle<()>) {
        let reconciler = Self::idle(engine);
        reconciler.shared.settings.send_replace(settings);
        let task = tokio::spawn(reconciler.clone().run());
        (reconciler, task)
    }

    /// When snapshots and drift sweeps run on their own, now.
    pub fn settings(&self) -> ReconcilerSettings {
        self.shared.settings.borrow().clone()
    }

    /// Changes when snapshots and drift sweeps run: both periods restart
    /// from now (no snapshot is made for the change itself).
    pub fn set_settings(&self, settings: ReconcilerSettings) {
        self.shared.settings.send_replace(settings);
    }

    /// A reconciler with no task: requests queue and are never served.
    /// For a process that must not touch the cluster (the CLI offline).
    pub fn idle(engine: Arc<Engine>) -> Self {
        Self {
            shared: Arc::new(Shared {
                queue: Mutex::new(Vec::new()),
                wake: Notify::new(),
                next_request: AtomicU64::new(1),
                settings: watch::Sender::new(ReconcilerSettings::default()),
            }),
            engine,
        }
    }

    /// Queues a snapshot for `trigger`; returns at once.
    pub fn request(&self, trigger: &str) -> Ticket {
        let (done, receiver) = oneshot::channel();
        let id = self.enqueue(trigger, Some(done));
        Ticket {
            request: id,
            done: receiver,
        }
    }

    /// The engine it drives (for plans, drift sweeps and the bus).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The bus the engine publishes on.
    pub fn events(&self) -> &EventBus {
        self.engine.events()
    }

    fn enqueue(
        &self,
        trigger: &str,
        done: Option<oneshot::Sender<Result<SnapshotReport, String>>>,
    ) -> u64 {
        let id = self.shared.next_request.fetch_add(1, Ordering::Relaxed);
        self.queue().push(Request {
            id,
            trigger: trigger.to_owned(),
            done,
        });
        self.events().publish(Event::SnapshotQueued {
            request: id,
            trigger: trigger.to_owned(),
        });
        // NB: `notify_one` keeps a permit when the task is busy, so a request
        // made during a run is seen right after it.
        self.shared.wake.notify_one();
        id
    }

    fn queue(&self) -> MutexGuard<'_, Vec<Request>> {
        // NB: a Vec is consistent after every statement.
        self.shared
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn run(self) {
        let mut versions = self.engine.database().watch_desired_versions();
        let mut changes = self.shared.settings.subscribe();
        let settings = changes.borrow_and_update().clone();
        let mut recheck = tokio::time::interval(settings.recheck_every);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut drift = periodic(settings.drift_every);
        let mut first = true;
        // NB: objects waiting for an admission webhook are retried soon, not
        // at the next re-check: first after `webhook_retry`, then twice as
        // long each time they still wait, up to the re-check period.
        let mut retry: Option<(Instant, Duration)> = None;
        loop {
            let retry_at = retry.map(|(at, _)| at);
            tokio::select! {
                () = self.shared.wake.notified() => {}
                () = sleep_until_some(retry_at), if retry_at.is_some() => {
                    self.enqueue("webhook_retry", None);
                }
                Ok(()) = changes.changed() => {
                    let settings = changes.borrow_and_update().clone();
                    tracing::info!(
                        recheck_every = ?settings.recheck_every,
                        drift_every = ?settings.drift_every,
                        "reconcile intervals changed"
                    );
                    recheck = periodic(settings.recheck_every);
                    drift = periodic(settings.drift_every);
                    first = false;
                }
                _ = recheck.tick() => {
                    self.enqueue(if first { "startup" } else { "periodic" }, None);
                    first = false;
                }
                Ok(()) = versions.changed() => {
                    let version = *versions.borrow_and_update();
                    self.events().publish(Event::DesiredStateChanged { version });
                    self.enqueue("desired_state", None);
                }
                _ = drift.tick() => self.sweep().await,
            }
            if let Some(waiting) = self.drain().await {
                // NB: the re-check counts from the last snapshot: one that
                // just ran (a request, a change) makes the next tick's
                // work redundant, and `bi start`'s own first snapshot
                // replaces the start-up one.
                recheck.reset();
                first = false;
                retry = waiting.then(|| {
                    let ceiling = self.settings().recheck_every;
                    let delay = match retry {
                        Some((_, previous)) => (previous * 2).min(ceiling),
                        None => self.engine.settings().webhook_retry.min(ceiling),
                    };
                    tracing::info!(
                        ?delay,
                        "objects wait for an admission webhook: retrying soon"
                    );
                    (Instant::now() + delay, delay)
                });
            }
        }
    }

    /// Runs snapshots until no request waits; None when none ran, else
    /// whether the last one left objects waiting for a webhook.
    async fn drain(&self) -> Option<bool> {
        let mut waiting = None;
        loop {
            let batch = std::mem::take(&mut *self.queue());
            let Some(first) = batch.first() else {
                return waiting;
            };
            let ids: Vec<u64> = batch.iter().map(|request| request.id).collect();
            let result = self.engine.snapshot_for(&first.trigger, &ids).await;
            waiting = Some(
                result
                    .as_ref()
                    .is_ok_and(|report| report.status == SnapshotStatus::Waiting),
            );
            match &result {
                Ok(report) => tracing::info!(
                    snapshot = report.id,
                    status = report.status.as_str(),
                    requests = ?ids,
                    created = report.counts.created,
                    updated = report.counts.updated,
                    deleted = report.counts.deleted,
                    failed = report.counts.failed,
                    "snapshot finished"
                ),
                Err(err) => tracing::error!(error = %err, requests = ?ids, "snapshot failed"),
            }
            let result = result.map_err(|err| err.to_string());
            for request in batch {
                if let Some(done) = request.done {
                    // NB: the asker may have gone away; that is fine.
                    let _ = done.send(result.clone());
                }
            }
        }
    }

    /// Sweeps for drift; queues a snapshot when something drifted.
    async fn sweep(&self) {
        match self.engine.sweep_drift().await {
            Ok(report) => {
                tracing::info!(
                    checked = report.checked,
                    drifted = report.drifted.len(),
                    errors = report.errors.len(),
                    "drift sweep finished"
                );
                if !report.drifted.is_empty() {
                    self.enqueue("drift", None);
                }
            }
            Err(err) => tracing::error!(error = %err, "drift sweep failed"),
        }
    }
}

/// Sleeps until `at`; never wakes when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A timer ticking every `period`, first one period from now.
fn periodic(period: Duration) -> tokio::time::Interval {
    let mut timer = tokio::time::interval_at(Instant::now() + period, period);
    timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    timer
}
