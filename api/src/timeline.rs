//! The timeline (what happened in the cluster and in bi) and the archive
//! of deleted objects with their undelete.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// What the timeline lists: the newest entries first, narrowed by any of
/// these (all must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineQuery {
    /// Only entries about this battery (`redis`, `grafana`, …); a user
    /// object's entries count for its battery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<String>,
    /// Only entries about this project's objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Only entries about objects of this Kubernetes kind (`Deployment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only this category: `event`, `change`, `snapshot`, `drift`,
    /// `deletion`, `undelete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Only warnings.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warnings: bool,
    /// Only entries whose reason, message, name or namespace contains
    /// this text (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Only entries older than the entry of this id (the next page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// At most this many entries (1–500; 100 when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// The categories of [`TimelineQuery::category`].
pub const CATEGORIES: [&str; 6] = [
    "event", "change", "snapshot", "drift", "deletion", "undelete",
];

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Its number: newer entries have larger ones.
    pub id: i64,
    /// When it (last) happened.
    pub at: Timestamp,
    /// `cluster` (a Kubernetes Event) or `bi`.
    pub source: String,
    /// One of [`CATEGORIES`].
    pub category: String,
    /// A warning: a cluster Warning Event, a failed snapshot, drift, an
    /// object deleted outside bi.
    pub warning: bool,
    /// The battery it concerns.
    pub battery: Option<String>,
    /// The project it concerns.
    pub project: Option<String>,
    /// The kind of the object it is about.
    pub kind: Option<String>,
    /// The object's namespace.
    pub namespace: Option<String>,
    /// The object's name.
    pub name: Option<String>,
    /// A short word: the Event's reason, `install`, `succeeded`, …
    pub reason: String,
    /// What happened.
    pub message: String,
    /// How many times (a repeated cluster Event counts up).
    pub count: i32,
}

/// A page of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePage {
    /// True while the `timeline` battery is installed (only then does bi
    /// record; what was recorded stays readable until its retention ends).
    pub recording: bool,
    /// How long entries are kept (`720h`), while recording.
    pub retention: Option<String>,
    /// The entries, newest first.
    pub entries: Vec<TimelineEntry>,
    /// The `before` of the next (older) page; None on the last page.
    pub next_before: Option<i64>,
}

/// One object in the archive of deleted objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedObject {
    /// Its number: what `bi undelete` takes.
    pub id: i64,
    /// The object (`v1/ConfigMap/battery-core/timeline`).
    pub path: String,
    /// The battery or user object it belonged to (`battery/app`).
    pub app: String,
    /// When it was deleted.
    pub deleted_at: Timestamp,
    /// `bi` (a snapshot deleted it: the battery or object was removed) or
    /// `outside bi`.
    pub deleted_by: String,
    /// The snapshot that deleted it.
    pub snapshot: Option<i64>,
    /// True while bi's newest desired state still wants it: undeleting it
    /// runs a snapshot, which creates it as bi generates it.
    pub desired: bool,
    /// When it was restored; None while deleted.
    pub undeleted_at: Option<Timestamp>,
    /// Who restored it.
    pub undeleted_by: Option<String>,
    /// How it was restored.
    pub restored: Option<String>,
}

/// The archive, newest deletion first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedList {
    /// The deleted objects.
    pub objects: Vec<DeletedObject>,
}

/// One archived object with its last body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedDetail {
    /// The object.
    pub object: DeletedObject,
    /// Its last body as YAML; a Secret's values read `<redacted>`.
    pub yaml: String,
}

/// What an undelete did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undeleted {
    /// The archived object, now marked restored.
    pub object: DeletedObject,
    /// In words: `created again by snapshot 12 (bi still wants it)` or
    /// `created from its last body, no longer managed by bi`.
    pub message: String,
}
