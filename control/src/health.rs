//! Health: how the installation is doing in the cluster, for the dashboard
//! and `bi status`.
//!
//! Each battery (and user object) is as healthy as its workloads: the
//! Deployments, StatefulSets and DaemonSets bi generates for it, compared
//! with what the cluster reports ready. Capacity is what the nodes offer
//! (their allocatable CPU and memory) against what the desired state
//! requests (containers' requests times replicas, and volume claims), in
//! `bi-model`'s typed units. Reading health writes nothing and reads the
//! cluster cache (workloads and nodes), never the API server.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bi_model::capacity::{ClusterCapacity, replicas, requested};
use bi_model::catalog::BatteryKind;
use bi_model::generate::{Resource, ResourcePath};
use bi_model::units::{Cpu, Memory};
use kube::api::DynamicObject;
use serde_json::Value;

use crate::cache::{Cache, CachedKind};
use crate::db::Database;
use crate::error::Result;

/// The workload kinds whose readiness makes an app's health.
const WORKLOADS: [(&str, &str, &str); 3] = [
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "StatefulSet"),
    ("apps", "v1", "DaemonSet"),
];

pub use bi_api::health::{AppHealth, Health, Readiness, WorkloadHealth};

/// Reads the health of the current desired state from the cluster cache.
pub async fn read(db: &Database, cache: &Cache) -> Result<Health> {
    let cache = cache.clone();
    db.shared("health", |db| async move { read_now(&db, &cache).await })
        .await
}

async fn read_now(db: &Database, cache: &Cache) -> Result<Health> {
    let generated = cache.generated(db).await?;
    let nodes = cache.list(&CachedKind::new("v1", "Node")).await?;
    let mut live = HashMap::new();
    for (group, version, kind) in WORKLOADS {
        let api_version = format!("{group}/{version}");
        for object in cache.list(&CachedKind::new(&api_version, kind)).await? {
            let path = ResourcePath::new(
                &api_version,
                kind,
                object.metadata.namespace.as_deref(),
                object.metadata.name.as_deref().unwrap_or_default(),
            );
            live.insert(path, object);
        }
    }
    let node_count = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
    Ok(Health {
        apps: apps(
            &generated.resources,
            &live,
            &generated.batteries,
            node_count,
        ),
        capacity: capacity_of(&generated.resources, &nodes),
        nodes: nodes.len(),
    })
}

/// What the nodes offer and what the current desired state requests: the
/// part of [`read`] the forms' capacity advice needs (no workload lists).
pub async fn capacity(db: &Database, cache: &Cache) -> Result<ClusterCapacity> {
    let generated = cache.generated(db).await?;
    let nodes = cache.list(&CachedKind::new("v1", "Node")).await?;
    Ok(capacity_of(&generated.resources, &nodes))
}

/// The nodes' allocatable CPU and memory against what `desired` requests.
fn capacity_of(desired: &[Resource], nodes: &[Arc<DynamicObject>]) -> ClusterCapacity {
    let mut allocatable_cpu = Cpu::ZERO;
    let mut allocatable_memory = Memory::ZERO;
    for node in nodes {
        let allocatable = |what: &str| {
            node.data
                .pointer(&format!("/status/allocatable/{what}"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if let Some(cpu) = allocatable("cpu").and_then(|q| Cpu::from_kubernetes(&q).ok()) {
            allocatable_cpu = allocatable_cpu.saturating_add(cpu);
        }
        if let Some(memory) = allocatable("memory").and_then(|q| Memory::from_kubernetes(&q).ok()) {
            allocatable_memory = allocatable_memory.saturating_add(memory);
        }
    }
    let nodes = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
    let requested = requested(desired, nodes);
    ClusterCapacity {
        allocatable_cpu,
        allocatable_memory,
        allocatable_storage: None,
        requested_cpu: requested.cpu,
        requested_memory: requested.memory,
        requested_storage: requested.storage,
        nodes,
    }
}

/// Replicas the cluster reports ready for a workload of `kind`.
pub(crate) fn ready_replicas(kind: &str, live: &Value) -> u32 {
    let field = if kind == "DaemonSet" {
        "/status/numberReady"
    } else {
        "/status/readyReplicas"
    };
    live.pointer(field)
        .and_then(Value::as_u64)
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Groups the desired workloads by app and reads each one's readiness.
fn apps(
    desired: &[Resource],
    live: &HashMap<ResourcePath, Arc<DynamicObject>>,
    installed: &[BatteryKind],
    nodes: u32,
) -> Vec<AppHealth> {
    let mut by_app: BTreeMap<String, Vec<WorkloadHealth>> = BTreeMap::new();
    for resource in desired {
        by_app.entry(resource.app.clone()).or_default();
        let kind = resource.path.kind.as_str();
        if !WORKLOADS.iter().any(|(_, _, workload)| *workload == kind) {
            continue;
        }
        let wanted = replicas(kind, &resource.body, nodes);
        let ready = live
            .get(&resource.path)
            .map(|object| ready_replicas(kind, &object.data));
        by_app
            .entry(resource.app.clone())
            .or_default()
            .push(WorkloadHealth {
                path: resource.path.clone(),
                desired: wanted,
                ready,
            });
    }
    let battery_of = |app: &str| installed.iter().copied().find(|kind| kind.id() == app);
    let mut apps: Vec<AppHealth> = by_app
        .into_iter()
        .map(|(app, workloads)| AppHealth {
            battery: battery_of(&app),
            readiness: readiness(&workloads),
            app,
            workloads,
        })
        .collect();
    // NB: batteries first, in catalog order; then user objects by name.
    apps.sort_by_key(|app| (app.battery.is_none(), app.battery, app.app.clone()));
    apps
}

/// An app's readiness from its workloads' (configured when it has none).
pub(crate) fn readiness(workloads: &[WorkloadHealth]) -> Readiness {
    if workloads.is_empty() {
        Readiness::Configured
    } else if workloads.iter().any(|w| w.ready.is_none()) {
        Readiness::Missing
    } else if workloads
        .iter()
        .all(|w| w.ready.is_some_and(|ready| ready >= w.desired))
    {
        Readiness::Ready
    } else {
        Readiness::Progressing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_is_ready_only_when_every_workload_is() {
        let path = ResourcePath::new("apps/v1", "Deployment", Some("ns"), "a");
        let w = |desired, ready| WorkloadHealth {
            path: path.clone(),
            desired,
            ready,
        };
        assert_eq!(readiness(&[]), Readiness::Configured);
        assert_eq!(readiness(&[w(1, Some(1)), w(2, Some(2))]), Readiness::Ready);
        assert_eq!(
            readiness(&[w(1, Some(1)), w(2, Some(1))]),
            Readiness::Progressing
        );
        assert_eq!(readiness(&[w(1, Some(1)), w(2, None)]), Readiness::Missing);
    }
}
