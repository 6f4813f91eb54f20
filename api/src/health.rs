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

/// Every app's health and the capacity: the dashboard's "every app" list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    /// Batteries first (catalog order), then user objects.
    pub apps: Vec<AppRow>,
    /// CPU, memory and storage.
    pub usage: Vec<Usage>,
    /// Nodes counted.
    pub nodes: usize,
}

/// The dashboard's health card: capacity, how many apps are in each
/// readiness, and only the apps that need attention (a page people keep
/// open shows problems, not a row per healthy app; the full list is one
/// click away, fetched when asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSummary {
    /// CPU, memory and storage.
    pub usage: Vec<Usage>,
    /// Nodes counted.
    pub nodes: usize,
    /// Apps in all.
    pub apps: usize,
    /// How many apps are in each readiness that has any, in the order
    /// `ready`, `progressing`, `missing`, `configured`.
    pub counts: Vec<(String, usize)>,
    /// The apps whose workloads are not all ready (`progressing` or
    /// `missing`), in the card's order.
    pub attention: Vec<AppRow>,
}

impl From<HealthView> for HealthSummary {
    fn from(view: HealthView) -> Self {
        let counts = [
            Readiness::Ready,
            Readiness::Progressing,
            Readiness::Missing,
            Readiness::Configured,
        ]
        .into_iter()
        .map(|readiness| {
            let word = readiness.as_str();
            (
                word.to_owned(),
                view.apps.iter().filter(|a| a.readiness == word).count(),
            )
        })
        .filter(|(_, count)| *count > 0)
        .collect();
        let apps = view.apps.len();
        let attention = view
            .apps
            .into_iter()
            .filter(|a| {
                a.readiness == Readiness::Progressing.as_str()
                    || a.readiness == Readiness::Missing.as_str()
            })
            .collect();
        Self {
            usage: view.usage,
            nodes: view.nodes,
            apps,
            counts,
            attention,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(app: &str, readiness: Readiness) -> AppRow {
        AppRow {
            app: app.to_owned(),
            name: app.to_uppercase(),
            readiness: readiness.as_str().to_owned(),
            ready: 0,
            desired: u32::from(readiness != Readiness::Configured),
        }
    }

    #[test]
    fn the_summary_counts_every_app_and_lists_only_those_not_ready() {
        let view = HealthView {
            apps: vec![
                row("a", Readiness::Ready),
                row("b", Readiness::Missing),
                row("c", Readiness::Configured),
                row("d", Readiness::Ready),
                row("e", Readiness::Progressing),
            ],
            usage: Vec::new(),
            nodes: 3,
        };
        let summary = HealthSummary::from(view);
        assert_eq!(summary.apps, 5);
        assert_eq!(summary.nodes, 3);
        assert_eq!(
            summary.counts,
            vec![
                ("ready".to_owned(), 2),
                ("progressing".to_owned(), 1),
                ("missing".to_owned(), 1),
                ("configured".to_owned(), 1),
            ]
        );
        let attention: Vec<&str> = summary.attention.iter().map(|a| a.app.as_str()).collect();
        assert_eq!(
            attention,
            ["b", "e"],
            "card order, the ready and configured left out"
        );
    }

    #[test]
    fn a_readiness_no_app_has_is_not_counted() {
        let summary = HealthSummary::from(HealthView {
            apps: vec![row("a", Readiness::Ready)],
            usage: Vec::new(),
            nodes: 1,
        });
        assert_eq!(summary.counts, vec![("ready".to_owned(), 1)]);
        assert!(summary.attention.is_empty());
    }
}
