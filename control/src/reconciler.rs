//! The reconciler: decides when the engine runs.
//!
//! Snapshots are single-flight: one task owns the engine's runs. Requests
//! (a user's explicit apply, a stored desired-state change, the periodic
//! re-check, a drift sweep that found something) go into a queue; whatever
//! queues up while a snapshot runs is served by one follow-up snapshot, so a
//! burst of ten changes costs at most two runs. Every request gets a number,
//! published with `snapshot_queued`, and the `snapshot_started` event lists
//! the numbers it serves, so a client that asked knows which run is its own.
//!
//! The task is supervised: a panic is logged, counted in [`TaskHealth`]
//! (which `/readyz` reports) and the task starts again, after a pause that
//! doubles up to a minute, with a snapshot of its own.

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
    health: watch::Sender<TaskHealth>,
}

/// How a supervised task fares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskHealth {
    /// Whether it runs now (false while it waits to start again).
    pub running: bool,
    /// How many times it panicked and was started again.
    pub restarts: u32,
    /// What its last panic said.
    pub last_panic: Option<String>,
    /// When it last panicked.
    pub last_panic_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The longest pause before a task that panicked starts again.
const MAX_RESTART_PAUSE: Duration = Duration::from_secs(60);

/// A task that ran this long before it panicked starts again at once.
const HEALTHY_RUN: Duration = Duration::from_secs(300);

/// Runs `task` until it returns, starting it again whenever it panics:
/// after 1 s, then twice as long each time up to a minute (at once again
/// when it had run for five minutes). Each panic is logged and recorded in
/// `health`. Cancelling this future cancels the task.
pub async fn supervise<F, Fut>(name: &str, health: &watch::Sender<TaskHealth>, mut task: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    /// Aborts the task when the supervisor is dropped (cancelled).
    struct AbortOnDrop(JoinHandle<()>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let first_pause = Duration::from_secs(1);
    let mut pause = first_pause;
    loop {
        health.send_modify(|health| health.running = true);
        let started = Instant::now();
        let mut running = AbortOnDrop(tokio::spawn(task()));
        let result = (&mut running.0).await;
        health.send_modify(|health| health.running = false);
        let panic = match result {
            Ok(()) => return,
            Err(err) if err.is_panic() => err.into_panic(),
            Err(_) => return,
        };
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        if started.elapsed() >= HEALTHY_RUN {
            pause = first_pause;
        }
        tracing::error!(task = name, panic = %message, restart_in = ?pause, "a task panicked: starting it again");
        health.send_modify(|health| {
            health.restarts += 1;
            health.last_panic = Some(message);
            health.last_panic_at = Some(chrono::Utc::now());
        });
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_RESTART_PAUSE);
    }
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
        // NB: running from here, so a readiness check made at once agrees.
        reconciler
            .shared
            .health
            .send_modify(|health| health.running = true);
        let supervised = reconciler.clone();
        // NB: subscribed here, before the first snapshot can publish.
        let recorder = crate::timeline::Recorder::new(Arc::clone(&reconciler.engine));
        let task = tokio::spawn(async move {
            // NB: the recorder stops with the reconciler's task.
            let _recorder = AbortOnDrop(tokio::spawn(recorder.run()));
            supervise("reconciler", &supervised.shared.health, || {
                supervised.clone().run()
            })
            .await;
        });
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
                health: watch::Sender::new(TaskHealth::default()),
            }),
            engine,
        }
    }

    /// How the reconciler's task fares (not running: it panicked and waits
    /// to start again, or it was never started).
    pub fn health(&self) -> TaskHealth {
        self.shared.health.borrow().clone()
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

    /// Snapshot requests waiting to be served.
    pub fn queued(&self) -> usize {
        self.queue().len()
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
        if let Err(err) = self.sweep_drift().await {
            tracing::error!(error = %err, "drift sweep failed");
        }
    }

    /// Sweeps for drift now, as the periodic sweep does: records what it
    /// finds and, unless drift is only reported, queues the snapshot that
    /// repairs it.
    pub async fn sweep_drift(&self) -> crate::Result<crate::engine::DriftReport> {
        let report = self.engine.sweep_drift().await?;
        tracing::info!(
            checked = report.checked,
            drifted = report.drifted.len(),
            errors = report.errors.len(),
            "drift sweep finished"
        );
        if !report.drifted.is_empty() && !report.report_only {
            self.enqueue("drift", None);
        }
        Ok(report)
    }

    /// Queues a snapshot that re-applies every object of an open drift
    /// finding (drift found when sweeps only report, or not yet repaired).
    pub async fn repair_drift(&self) -> crate::Result<Ticket> {
        self.engine.repair_drift().await?;
        Ok(self.request("drift repair"))
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

/// Aborts its task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::AtomicU32;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_starts_again_and_its_health_says_so() {
        let health = watch::Sender::new(TaskHealth::default());
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let began = Instant::now();
        supervise("test", &health, move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 3 {
                    panic!("run {run} broke");
                }
            }
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        let health = health.borrow().clone();
        assert_eq!(health.restarts, 3);
        assert_eq!(health.last_panic.as_deref(), Some("run 2 broke"));
        assert!(health.last_panic_at.is_some());
        assert!(!health.running);
        // 1 s, 2 s, 4 s between the runs.
        assert_eq!(began.elapsed().as_secs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_the_supervisor_stops_the_task() {
        let health = watch::Sender::new(TaskHealth::default());
        let alive = Arc::new(AtomicU32::new(0));
        let counted = alive.clone();
        let supervisor = tokio::spawn(async move {
            supervise("test", &health, move || {
                let counted = counted.clone();
                async move {
                    loop {
                        counted.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            })
            .await;
        });
        tokio::time::sleep(Duration::from_millis(2500)).await;
        supervisor.abort();
        let _ = supervisor.await;
        let seen = alive.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(
            alive.load(Ordering::SeqCst),
            seen,
            "the task outlived its supervisor"
        );
    }
}
