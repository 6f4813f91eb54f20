//! How the installation is doing in the cluster: each app's readiness from
//! its workloads, and the cluster's capacity against what is requested.

use bi_model::capacity::ClusterCapacity;
use bi_model::catalog::BatteryKind;
use bi_model::generate::ResourcePath;
use serde::{Deserialize, Serialize};

/// How an app (a battery or a user object) is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Every workload has all its replicas ready.
    Ready,
    /// Some replicas are not ready yet (starting, or failing).
    Progressing,
    /// A workload the desired state has is not in the cluster (not applied yet).
    Missing,
    /// It has no workloads of its own (CRDs, configuration only).
    Configured,
}

impl Readiness {
    /// The word the UI shows: `ready`, `progressing`, `missing`, `configured`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Progressing => "progressing",
            Self::Missing => "missing",
            Self::Configured => "configured",
        }
    }
}

/// One workload and its replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadHealth {
    /// The workload.
    pub path: ResourcePath,
    /// Replicas wanted (for a DaemonSet: pods to schedule).
    pub desired: u32,
    /// Replicas ready; None when the workload is not in the cluster.
    pub ready: Option<u32>,
}

/// One app's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppHealth {
    /// The `battery/app` label: a battery id or a user object's name.
    pub app: String,
    /// The battery, when the app is one.
    pub battery: Option<BatteryKind>,
    /// Its state, from its workloads.
    pub readiness: Readiness,
    /// Its workloads.
    pub workloads: Vec<WorkloadHealth>,
}

/// The installation's health and the cluster's capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Every app of the desired state, batteries first in catalog order.
    pub apps: Vec<AppHealth>,
    /// What the nodes offer and what the desired state requests.
    pub capacity: ClusterCapacity,
    /// Nodes counted.
    pub nodes: usize,
}

/// One app (a battery or a user object) and how it is doing, in the
/// dashboard's words (the browser formats nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRow {
    /// The `battery/app` label.
    pub app: String,
    /// The battery's name, or the object's.
    pub name: String,
    /// `ready`, `progressing`, `missing` or `configured`.
    pub readiness: String,
    /// Ready replicas of all its workloads.
    pub ready: u32,
    /// Wanted replicas of all its workloads.
    pub desired: u32,
}

/// One resource's use: what is requested of what the nodes offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// `CPU`, `Memory`, `Storage`.
    pub what: String,
    /// `2.35 cores of 12 cores requested`.
    pub words: String,
    /// Requested in percent of allocatable (0–100+); None when unbounded.
    pub percent: Option<u32>,
}

/// The health card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    /// Batteries first (catalog order), then user objects.
    pub apps: Vec<AppRow>,
    /// CPU, memory and storage.
    pub usage: Vec<Usage>,
    /// Nodes counted.
    pub nodes: usize,
}
