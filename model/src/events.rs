//! The engine's live events, as they travel to browsers and the CLI.
//!
//! The control server publishes them on its in-process bus and sends each as
//! one JSON text message over the websocket route `/api/v1/events`; the
//! types live here so that the browser (WASM) and the CLI decode exactly
//! what the server encodes. A message is an [`EventEnvelope`]: a sequence
//! number (strictly increasing within one server process, so a client that
//! reconnects asks for everything after the last one it saw), the time in
//! Unix milliseconds, and the [`Event`] itself, tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::generate::{Action, PlanCounts, ResourcePath, Stage};

/// One message of the event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Position in the stream; strictly increasing.
    pub seq: u64,
    /// When it was published, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// What happened.
    pub event: Event,
}

/// Something the engine did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A snapshot was asked for; it runs when the one in flight ends.
    SnapshotQueued {
        /// The request's number; the snapshot that serves it lists it.
        request: u64,
        /// Why: `periodic`, `desired_state`, `manual`, `rollback`, `drift`, `startup`.
        trigger: String,
    },
    /// A snapshot started preparing.
    SnapshotStarted {
        /// The snapshot's id (its row in the history).
        snapshot: i64,
        /// The desired-state version it applies.
        desired_version: i32,
        /// Why it runs (the first request's trigger).
        trigger: String,
        /// Every request it serves (requests that arrived meanwhile coalesce).
        requests: Vec<u64>,
    },
    /// The plan is known: what will be done with each object it changes.
    PlanReady {
        /// The snapshot.
        snapshot: i64,
        /// Every object it creates, updates or deletes, in apply order
        /// (deletions last). Objects already as desired are only counted
        /// (`counts.unchanged`), so the event grows with the change, not
        /// with the installation.
        items: Vec<PlannedResource>,
        /// How many objects per action.
        counts: PlanCounts,
        /// Managed objects that no inventory knows: reported, never deleted.
        orphans: Vec<ResourcePath>,
    },
    /// A stage's writes started (its items are now being applied).
    StageStarted {
        /// The snapshot.
        snapshot: i64,
        /// The stage.
        stage: Stage,
        /// True for the deletions phase (stages in reverse order).
        deletions: bool,
    },
    /// One object reached its outcome.
    ResourceApplied {
        /// The snapshot.
        snapshot: i64,
        /// The object.
        path: ResourcePath,
        /// What happened to it.
        outcome: ResourceState,
        /// The API server's message when it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The snapshot ended and its rows are recorded.
    SnapshotFinished {
        /// The snapshot.
        snapshot: i64,
        /// `succeeded` or `failed`.
        status: String,
        /// Objects per outcome.
        counts: OutcomeCounts,
        /// Wall-clock time from start to finish.
        elapsed_ms: u64,
    },
    /// A snapshot could not be planned or recorded (nothing was applied, or
    /// its outcome could not be stored); the message says why.
    SnapshotError {
        /// The requests it was to serve.
        requests: Vec<u64>,
        /// What went wrong.
        message: String,
    },
    /// A user stored a new desired-state version.
    DesiredStateChanged {
        /// The new version.
        version: i32,
    },
    /// Sent by the stream itself, never published: events this client
    /// needed were dropped, so it must reload what it shows and reconnect
    /// with `since=now`.
    Resync {
        /// Why.
        reason: String,
    },
    /// A drift sweep compared the managed objects with what bi applied.
    DriftChecked {
        /// Objects checked.
        checked: usize,
        /// Objects someone changed behind bi's back, with the fields.
        drifted: Vec<Drift>,
    },
}

/// One object of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedResource {
    /// The object.
    pub path: ResourcePath,
    /// What the plan does with it.
    pub action: Action,
    /// Its apply stage.
    pub stage: Stage,
    /// The battery or user object it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// Where one object of a running snapshot stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceState {
    /// Planned, its stage has not started.
    Pending,
    /// Its stage is being applied.
    Applying,
    /// It was absent and was applied.
    Created,
    /// It differed and was applied.
    Updated,
    /// It was already as desired.
    Unchanged,
    /// It was pruned.
    Deleted,
    /// The cluster refused it.
    Failed,
    /// Not applied yet: an admission webhook that intercepts it cannot
    /// answer; retried soon.
    Waiting,
    /// Not attempted: an object it depends on was refused.
    HeldBack,
}

impl ResourceState {
    /// Whether the object reached its outcome.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Applying)
    }
}

/// How many objects of a snapshot ended with each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Waiting for an admission webhook to answer.
    // NB: older servers sent `skipped` (objects not attempted after a failure).
    #[serde(default, alias = "skipped")]
    pub waiting: usize,
    /// Not attempted because an object they depend on was refused.
    #[serde(default)]
    pub held_back: usize,
}

impl OutcomeCounts {
    /// Counts `states`; states that are not final count nowhere.
    pub fn of(states: impl IntoIterator<Item = ResourceState>) -> Self {
        let mut counts = Self::default();
        for state in states {
            match state {
                ResourceState::Created => counts.created += 1,
                ResourceState::Updated => counts.updated += 1,
                ResourceState::Unchanged => counts.unchanged += 1,
                ResourceState::Deleted => counts.deleted += 1,
                ResourceState::Failed => counts.failed += 1,
                ResourceState::Waiting => counts.waiting += 1,
                ResourceState::HeldBack => counts.held_back += 1,
                ResourceState::Pending | ResourceState::Applying => {}
            }
        }
        counts
    }

    /// Objects written: created, updated and deleted.
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }

    /// Every object counted.
    pub fn total(&self) -> usize {
        self.writes() + self.unchanged + self.failed + self.waiting + self.held_back
    }
}

/// An object that differs from what bi applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// The object.
    pub path: ResourcePath,
    /// The fields bi manages that hold other values, as JSON pointers
    /// (`/spec/replicas`).
    pub fields: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_type_in_snake_case() {
        let envelope = EventEnvelope {
            seq: 7,
            at_ms: 1_700_000_000_000,
            event: Event::ResourceApplied {
                snapshot: 3,
                path: ResourcePath::new("v1", "ConfigMap", Some("battery-base"), "settings"),
                outcome: ResourceState::Failed,
                message: Some("denied".to_owned()),
            },
        };
        let json = serde_json::to_value(&envelope).unwrap_or_default();
        assert_eq!(json["event"]["type"], "resource_applied");
        assert_eq!(json["event"]["outcome"], "failed");
        assert_eq!(json["event"]["path"]["kind"], "ConfigMap");
        let back: Result<EventEnvelope, _> = serde_json::from_value(json);
        assert_eq!(back.ok(), Some(envelope));
    }
}
