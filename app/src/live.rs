//! The live plan viewer's state: what the events of the websocket say about
//! the snapshot being watched. Pure (no Leptos, no browser), so every
//! browser that receives the same events shows the same thing.

use bi_model::events::{Event, EventEnvelope, OutcomeCounts, PlannedResource, ResourceState};
use bi_model::generate::Action;

/// One object of the watched plan and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveItem {
    /// The planned object.
    pub planned: PlannedResource,
    /// Its state now.
    pub state: ResourceState,
    /// The API server's message when it failed.
    pub message: Option<String>,
}

/// How the watched snapshot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOutcome {
    /// `succeeded` or `failed`.
    pub status: String,
    /// Objects per outcome.
    pub counts: OutcomeCounts,
    /// Start to finish.
    pub elapsed_ms: u64,
}

/// The snapshot being watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSnapshot {
    /// Its id.
    pub id: i64,
    /// The desired-state version it applies.
    pub desired_version: i32,
    /// Why it runs.
    pub trigger: String,
    /// When it started (Unix ms, the server's clock).
    pub started_at_ms: i64,
    /// What its plan changes, in apply order; empty until the plan is ready.
    pub items: Vec<LiveItem>,
    /// Objects its plan leaves as they are (counted, not listed).
    pub unchanged: usize,
    /// Set once the plan is known.
    pub planned: bool,
    /// Set when it finished.
    pub outcome: Option<LiveOutcome>,
}

impl LiveSnapshot {
    /// How many objects reached their outcome.
    pub fn done(&self) -> usize {
        self.items
            .iter()
            .filter(|item| item.state.is_final())
            .count()
    }

    /// Progress in percent (100 once finished).
    pub fn percent(&self) -> usize {
        if self.outcome.is_some() {
            100
        } else if self.items.is_empty() {
            0
        } else {
            self.done() * 100 / self.items.len()
        }
    }
}

/// What the viewer knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveState {
    /// Only snapshots of this desired-state version or later are shown
    /// (the change the user just saved).
    pub min_version: Option<i32>,
    /// The last event seen, to resume after a dropped connection.
    pub last_seq: Option<u64>,
    /// The snapshot shown.
    pub snapshot: Option<LiveSnapshot>,
    /// The last snapshot error the engine reported.
    pub error: Option<String>,
}

/// What the viewer must do after an event, besides redrawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Nothing.
    Continue,
    /// Events were dropped: reload the page.
    Reload,
}

impl LiveState {
    /// A viewer waiting for a snapshot of `min_version` or later.
    pub fn new(min_version: Option<i32>) -> Self {
        Self {
            min_version,
            ..Self::default()
        }
    }

    /// Takes one event into account.
    pub fn apply(&mut self, envelope: EventEnvelope) -> Follow {
        self.last_seq = Some(envelope.seq);
        match envelope.event {
            Event::SnapshotStarted {
                snapshot,
                desired_version,
                trigger,
                ..
            } => {
                if self.min_version.is_none_or(|min| desired_version >= min) {
                    self.error = None;
                    self.snapshot = Some(LiveSnapshot {
                        id: snapshot,
                        desired_version,
                        trigger,
                        started_at_ms: envelope.at_ms,
                        items: Vec::new(),
                        unchanged: 0,
                        planned: false,
                        outcome: None,
                    });
                }
            }
            Event::PlanReady {
                snapshot,
                items,
                counts,
                ..
            } => {
                if let Some(watched) = self.watched(snapshot) {
                    // NB: the engine lists only what it changes; an unchanged
                    // object (an older server listed them) is done from the start.
                    watched.items = items
                        .into_iter()
                        .map(|planned| LiveItem {
                            state: if planned.action == Action::Unchanged {
                                ResourceState::Unchanged
                            } else {
                                ResourceState::Pending
                            },
                            planned,
                            message: None,
                        })
                        .collect();
                    watched.unchanged = counts.unchanged;
                    watched.planned = true;
                }
            }
            Event::StageStarted {
                snapshot,
                stage,
                deletions,
            } => {
                if let Some(watched) = self.watched(snapshot) {
                    for item in watched.items.iter_mut().filter(|item| {
                        item.planned.stage == stage
                            && (item.planned.action == Action::Delete) == deletions
                            && item.state == ResourceState::Pending
                    }) {
                        item.state = ResourceState::Applying;
                    }
                }
            }
            Event::ResourceApplied {
                snapshot,
                path,
                outcome,
                message,
            } => {
                if let Some(watched) = self.watched(snapshot)
                    && let Some(item) = watched
                        .items
                        .iter_mut()
                        .find(|item| item.planned.path == path)
                {
                    item.state = outcome;
                    item.message = message;
                }
            }
            Event::SnapshotFinished {
                snapshot,
                status,
                counts,
                elapsed_ms,
            } => {
                if let Some(watched) = self.watched(snapshot) {
                    watched.outcome = Some(LiveOutcome {
                        status,
                        counts,
                        elapsed_ms,
                    });
                }
            }
            Event::SnapshotError { message, .. } => self.error = Some(message),
            Event::Resync { .. } => return Follow::Reload,
            Event::SnapshotQueued { .. }
            | Event::DesiredStateChanged { .. }
            | Event::DriftChecked { .. } => {}
        }
        Follow::Continue
    }

    fn watched(&mut self, id: i64) -> Option<&mut LiveSnapshot> {
        self.snapshot.as_mut().filter(|snapshot| snapshot.id == id)
    }
}

/// `1.2 s`, `850 ms`, `2 min 5 s`.
pub fn readable_duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use bi_model::generate::{PlanCounts, ResourcePath, Stage};

    use super::*;

    fn envelope(seq: u64, event: Event) -> EventEnvelope {
        EventEnvelope {
            seq,
            at_ms: 1_000 * seq as i64,
            event,
        }
    }

    fn path() -> ResourcePath {
        ResourcePath::new("v1", "ConfigMap", Some("battery-core"), "settings")
    }

    fn started(seq: u64, snapshot: i64, version: i32) -> EventEnvelope {
        envelope(
            seq,
            Event::SnapshotStarted {
                snapshot,
                desired_version: version,
                trigger: "desired_state".into(),
                requests: vec![1],
            },
        )
    }

    #[test]
    fn a_resource_goes_from_pending_to_applying_to_its_outcome() {
        let mut live = LiveState::new(None);
        live.apply(started(1, 7, 3));
        live.apply(envelope(
            2,
            Event::PlanReady {
                snapshot: 7,
                items: vec![PlannedResource {
                    path: path(),
                    action: Action::Create,
                    stage: Stage::Config,
                    app: None,
                }],
                counts: Default::default(),
                orphans: Vec::new(),
            },
        ));
        let state = |live: &LiveState| live.snapshot.as_ref().unwrap().items[0].state;
        assert_eq!(state(&live), ResourceState::Pending);
        live.apply(envelope(
            3,
            Event::StageStarted {
                snapshot: 7,
                stage: Stage::Config,
                deletions: false,
            },
        ));
        assert_eq!(state(&live), ResourceState::Applying);
        live.apply(envelope(
            4,
            Event::ResourceApplied {
                snapshot: 7,
                path: path(),
                outcome: ResourceState::Created,
                message: None,
            },
        ));
        assert_eq!(state(&live), ResourceState::Created);
        assert_eq!(live.snapshot.as_ref().unwrap().percent(), 100);
        assert_eq!(live.last_seq, Some(4));
    }

    #[test]
    fn unchanged_objects_are_done_once_the_plan_is_known() {
        let mut live = LiveState::new(None);
        live.apply(started(1, 7, 3));
        live.apply(envelope(
            2,
            Event::PlanReady {
                snapshot: 7,
                items: vec![PlannedResource {
                    path: path(),
                    action: Action::Unchanged,
                    stage: Stage::Config,
                    app: None,
                }],
                counts: PlanCounts {
                    unchanged: 995,
                    ..PlanCounts::default()
                },
                orphans: Vec::new(),
            },
        ));
        let snapshot = live.snapshot.as_ref().unwrap();
        assert_eq!(snapshot.items[0].state, ResourceState::Unchanged);
        assert_eq!(snapshot.done(), 1);
        assert_eq!(snapshot.unchanged, 995, "counted, not listed");
    }

    #[test]
    fn snapshots_of_older_versions_are_not_shown() {
        let mut live = LiveState::new(Some(5));
        live.apply(started(1, 7, 4));
        assert!(live.snapshot.is_none());
        live.apply(started(2, 8, 5));
        assert_eq!(live.snapshot.as_ref().unwrap().id, 8);
    }

    #[test]
    fn resync_asks_for_a_reload() {
        let mut live = LiveState::new(None);
        let follow = live.apply(envelope(
            1,
            Event::Resync {
                reason: "dropped".into(),
            },
        ));
        assert_eq!(follow, Follow::Reload);
    }
}
