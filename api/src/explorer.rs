//! The Kubernetes explorer: every kind bi shows with how many objects the
//! cluster has, a kind's objects filtered by namespace, labels and battery,
//! and one object with its YAML, conditions, owners, children, events and
//! what bi knows of it.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::services::ServiceEvent;

/// One kind in the explorer's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindRow {
    /// `apps/v1/Deployment`: what [`ExplorerQuery::kind`] takes.
    pub id: String,
    /// `Deployment`.
    pub kind: String,
    /// `apps/v1`.
    pub api_version: String,
    /// Objects the cluster has (0 when the kind is not served).
    pub objects: usize,
    /// `synced`, `absent` (the cluster does not serve it yet), `listing`,
    /// or `failed: why`.
    pub state: String,
    /// True when bi generates objects of this kind.
    pub managed: bool,
}

/// What the explorer lists: a kind, optionally narrowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplorerQuery {
    /// `apps/v1/Deployment` (`v1/Pod` for the core group).
    pub kind: String,
    /// Only this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A label selector: `key=value`, `key!=value`, `key` or `!key`,
    /// comma-separated, all of which must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// Only objects of this battery or user object (`battery/app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Only objects of this project's user objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// One object in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRow {
    /// Its path (`apps/v1/Deployment/battery-data/redis`): what
    /// [`ObjectDetail`] is asked by.
    pub path: String,
    /// Its namespace (None: cluster-scoped).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// How it is doing, in a few words (`2/3 ready`, `Running, 1
    /// restart`, `Bound`, `Ready`).
    pub status: String,
    /// The battery or user object bi made it for (`battery/app`).
    pub app: Option<String>,
    /// True when bi manages it (`battery/managed`).
    pub managed: bool,
    /// When it was created.
    pub created: Option<Timestamp>,
}

/// A kind's objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectList {
    /// The kind listed.
    pub kind: String,
    /// Where its watch stands (see [`KindRow::state`]).
    pub state: String,
    /// The objects that match, by namespace and name.
    pub objects: Vec<ObjectRow>,
    /// How many objects of the kind there are before filtering.
    pub total: usize,
    /// Every namespace holding an object of the kind, for the filter.
    pub namespaces: Vec<String>,
}

/// A condition from an object's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// `Ready`, `Available`, …
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Its reason, if any.
    pub reason: Option<String>,
    /// Its message, if any.
    pub message: Option<String>,
    /// When it last changed.
    pub last_transition: Option<String>,
}

/// What bi knows of an object it manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Managed {
    /// The battery or user object it belongs to.
    pub app: String,
    /// Whether the current desired state still wants it.
    pub desired: bool,
    /// The hash bi applied it with (its `battery/hash` annotation).
    pub applied_hash: Option<String>,
    /// bi's last write of it: the snapshot and the outcome.
    pub last_write: Option<(i64, String)>,
    /// The object's open drift finding: its fields.
    pub drifted: Vec<String>,
}

/// One object, in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDetail {
    /// Its path.
    pub path: String,
    /// As the cluster has it, in YAML, without `managedFields`; a Secret's
    /// values are replaced by `<redacted>`.
    pub yaml: String,
    /// Its status's conditions.
    pub conditions: Vec<Condition>,
    /// The objects that own it (`ownerReferences`), by path.
    pub owners: Vec<String>,
    /// The objects it owns, among the kinds the explorer watches.
    pub children: Vec<String>,
    /// Events about it, newest first.
    pub events: Vec<ServiceEvent>,
    /// What bi knows of it, when bi manages it.
    pub managed: Option<Managed>,
}

/// One pod of a service or battery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRow {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `Running`, `Pending`, `Succeeded`, `Failed` or `Unknown`.
    pub phase: String,
    /// Containers ready of all (`1/1`).
    pub ready: String,
    /// Restarts of all its containers.
    pub restarts: u64,
    /// The node it runs on (None while unscheduled).
    pub node: Option<String>,
    /// Its containers, for the log viewer.
    pub containers: Vec<String>,
    /// When it was created.
    pub created: Option<Timestamp>,
}

/// What a log is asked for (`GET /api/v1/cluster/logs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The container (needed when the pod has several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The previous container's log (after a restart).
    #[serde(default)]
    pub previous: bool,
    /// Only the last lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<u32>,
    /// Keep the stream open and send lines as they come.
    #[serde(default)]
    pub follow: bool,
}
