//! Capacity feedback while editing: does what an object asks for still fit
//! in what the cluster's nodes offer, after what is already requested?
//!
//! The UI shows the answer next to the field that asks too much
//! ("5 instances × 4 GiB = 20 GiB, but 12 GiB is left"), as the original
//! product's "show impact while editing" did. It is advice about the whole
//! cluster, not a guarantee that one node has room.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::generate::Resource;
use crate::objects::{
    FerretService, ModelInstance, Notebook, PostgresCluster, RedisInstance, Resources,
    TraditionalService,
};
use crate::units::{Cpu, Memory, Storage};
use crate::validation::{FieldError, Rule, join_path};

/// What the cluster offers and what is already asked of it.
///
/// When checking an edit, leave the edited object's current requests out of
/// `requested_*`, or it is counted twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterCapacity {
    /// CPU the nodes offer to Pods, summed.
    pub allocatable_cpu: Cpu,
    /// Memory the nodes offer to Pods, summed.
    pub allocatable_memory: Memory,
    /// Storage the volumes can draw from; none when unknown or unbounded
    /// (cloud disks), and then storage is not checked.
    pub allocatable_storage: Option<Storage>,
    /// CPU requested by what already runs.
    pub requested_cpu: Cpu,
    /// Memory requested by what already runs.
    pub requested_memory: Memory,
    /// Storage claimed by existing volumes.
    pub requested_storage: Storage,
    /// How many nodes there are (a DaemonSet runs a Pod on each).
    #[serde(default)]
    pub nodes: u32,
}

/// What an object asks for: `instances` times the per-instance amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    /// How many instances.
    pub instances: u32,
    /// CPU requested per instance.
    pub cpu: Cpu,
    /// Memory requested per instance.
    pub memory: Memory,
    /// A volume per instance, if the object has one.
    pub storage: Option<Storage>,
}

/// An object that asks the cluster for CPU, memory and maybe storage.
pub trait Demanding {
    /// What the object asks for.
    fn demand(&self) -> Demand;
}

impl Demand {
    /// What `object` asks for.
    pub fn of(object: &impl Demanding) -> Demand {
        object.demand()
    }

    /// `instances` instances with `resources` (requests count, not limits:
    /// the scheduler reserves requests).
    pub fn from_resources(
        instances: u32,
        resources: &Resources,
        storage: Option<Storage>,
    ) -> Demand {
        Demand {
            instances,
            cpu: resources.cpu_request,
            memory: resources.memory_request,
            storage,
        }
    }
}

/// Every amount the demand does not fit, as errors on the object's fields
/// (`resources.cpu_request`, `resources.memory_request`, `storage`) with
/// [`Rule::Capacity`]. Empty when it fits.
pub fn check(capacity: &ClusterCapacity, demand: &Demand) -> Vec<FieldError> {
    let instances = demand.instances;
    let mut errors = Vec::new();
    let resource = |field: &str| join_path("resources", field);
    if let Some(message) = shortfall(
        instances,
        demand.cpu,
        capacity.allocatable_cpu,
        capacity.requested_cpu,
    ) {
        errors.push(FieldError::new(
            resource(Resources::CPU_REQUEST),
            Rule::Capacity,
            message,
        ));
    }
    if let Some(message) = shortfall(
        instances,
        demand.memory,
        capacity.allocatable_memory,
        capacity.requested_memory,
    ) {
        errors.push(FieldError::new(
            resource(Resources::MEMORY_REQUEST),
            Rule::Capacity,
            message,
        ));
    }
    if let (Some(storage), Some(allocatable)) = (demand.storage, capacity.allocatable_storage)
        && let Some(message) =
            shortfall(instances, storage, allocatable, capacity.requested_storage)
    {
        errors.push(FieldError::new("storage", Rule::Capacity, message));
    }
    errors
}

/// What a set of resources requests in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    /// Containers' CPU requests times their Pods.
    pub cpu: Cpu,
    /// Containers' memory requests times their Pods.
    pub memory: Memory,
    /// Volume claims, and claim templates times their Pods.
    pub storage: Storage,
}

impl Requested {
    /// Nothing requested.
    pub const ZERO: Self = Self {
        cpu: Cpu::ZERO,
        memory: Memory::ZERO,
        storage: Storage::ZERO,
    };
}

/// Sums what `resources` request: containers' requests times replicas (a
/// DaemonSet's Pods run on each of `nodes`), volume claim templates times
/// replicas, and claims. Amounts saturate instead of overflowing.
pub fn requested(resources: &[Resource], nodes: u32) -> Requested {
    let mut total = Requested::ZERO;
    for resource in resources {
        let body = &resource.body;
        match resource.path.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" => {
                let copies = u64::from(replicas(&resource.path.kind, body, nodes));
                let containers = body
                    .pointer("/spec/template/spec/containers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                for container in containers {
                    let request = |what: &str| {
                        container
                            .pointer(&format!("/resources/requests/{what}"))
                            .and_then(Value::as_str)
                    };
                    if let Some(cpu) = request("cpu").and_then(|q| Cpu::from_kubernetes(q).ok()) {
                        total.cpu = total
                            .cpu
                            .saturating_add(cpu.checked_mul(copies).unwrap_or(Cpu::MAX));
                    }
                    if let Some(memory) =
                        request("memory").and_then(|q| Memory::from_kubernetes(q).ok())
                    {
                        total.memory = total
                            .memory
                            .saturating_add(memory.checked_mul(copies).unwrap_or(Memory::MAX));
                    }
                }
                let templates = body
                    .pointer("/spec/volumeClaimTemplates")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                for template in templates {
                    if let Some(size) = claim_size(template) {
                        total.storage = total
                            .storage
                            .saturating_add(size.checked_mul(copies).unwrap_or(Storage::MAX));
                    }
                }
            }
            "PersistentVolumeClaim" => {
                if let Some(size) = claim_size(body) {
                    total.storage = total.storage.saturating_add(size);
                }
            }
            _ => {}
        }
    }
    total
}

/// A claim's (or claim template's) requested size.
fn claim_size(claim: &Value) -> Option<Storage> {
    claim
        .pointer("/spec/resources/requests/storage")
        .and_then(Value::as_str)
        .and_then(|q| Storage::from_kubernetes(q).ok())
}

/// Pods a workload of `kind` wants: `spec.replicas` (1 when unset); a
/// DaemonSet, one per node.
pub fn replicas(kind: &str, body: &Value, nodes: u32) -> u32 {
    if kind == "DaemonSet" {
        return nodes;
    }
    body.pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// How a change moves one amount the cluster is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// `CPU`, `Memory` or `Storage`.
    pub what: String,
    /// Requested now, in words (`2.5 cores`).
    pub before: String,
    /// Requested after the change, in words.
    pub after: String,
    /// What the nodes offer, in words; None when unknown (storage on most clusters).
    pub allocatable: Option<String>,
    /// Whether the change adds to the amount.
    pub grows: bool,
    /// Why it does not fit, when it grows past what the nodes offer.
    pub problem: Option<String>,
}

/// How requests move from what the cluster is asked for now (`capacity`'s
/// requested amounts) to `after` (what the changed desired state requests),
/// CPU, memory and storage; each names the problem when the change grows an
/// amount past what the nodes offer. Advice about the whole cluster, not a
/// promise that one node has room.
pub fn impact(capacity: &ClusterCapacity, after: &Requested) -> Vec<Impact> {
    vec![
        impact_of(
            "CPU",
            capacity.requested_cpu,
            after.cpu,
            Some(capacity.allocatable_cpu),
        ),
        impact_of(
            "Memory",
            capacity.requested_memory,
            after.memory,
            Some(capacity.allocatable_memory),
        ),
        impact_of(
            "Storage",
            capacity.requested_storage,
            after.storage,
            capacity.allocatable_storage,
        ),
    ]
}

fn impact_of<T: Amount>(what: &str, before: T, after: T, allocatable: Option<T>) -> Impact {
    let grows = after > before;
    let problem = allocatable
        .filter(|offered| grows && after > *offered)
        .map(|offered| {
            format!(
                "{what} requests would grow by {} to {}, but the nodes offer {}",
                after.minus(before).words(),
                after.words(),
                offered.words()
            )
        });
    Impact {
        what: what.to_owned(),
        before: before.words(),
        after: after.words(),
        allocatable: allocatable.map(Amount::words),
        grows,
        problem,
    }
}

/// An amount of CPU, memory or storage, for [`shortfall`].
trait Amount: Copy + Ord {
    fn times(self, factor: u64) -> Option<Self>;
    fn minus(self, other: Self) -> Self;
    fn is_nothing(self) -> bool;
    fn words(self) -> String;
}

macro_rules! amount {
    ($($unit:ty),*) => {$(
        impl Amount for $unit {
            fn times(self, factor: u64) -> Option<Self> {
                self.checked_mul(factor)
            }
            fn minus(self, other: Self) -> Self {
                self.saturating_sub(other)
            }
            fn is_nothing(self) -> bool {
                self == Self::ZERO
            }
            fn words(self) -> String {
                self.human()
            }
        }
    )*};
}

amount!(Cpu, Memory, Storage);

/// Why `instances × per` does not fit in what is left, or `None` when it does.
fn shortfall<T: Amount>(instances: u32, per: T, allocatable: T, requested: T) -> Option<String> {
    let total = per.times(u64::from(instances));
    let left = allocatable.minus(requested);
    if total.is_some_and(|total| total <= left) {
        return None;
    }
    let count = if instances == 1 {
        "1 instance".to_owned()
    } else {
        format!("{instances} instances")
    };
    let asked = match total {
        Some(total) => format!("{count} × {} = {}", per.words(), total.words()),
        None => format!("{count} × {} is more than any cluster holds", per.words()),
    };
    let remains = if !left.is_nothing() {
        format!("{} is left", left.words())
    } else if requested > allocatable {
        format!(
            "nothing is left: {} is already requested of {}",
            requested.words(),
            allocatable.words()
        )
    } else {
        "nothing is left".to_owned()
    };
    Some(format!("{asked}, but {remains}"))
}

impl Demanding for PostgresCluster {
    fn demand(&self) -> Demand {
        Demand::from_resources(self.instances, &self.resources, Some(self.storage))
    }
}

impl Demanding for RedisInstance {
    fn demand(&self) -> Demand {
        Demand::from_resources(self.instances, &self.resources, self.storage)
    }
}

impl Demanding for FerretService {
    fn demand(&self) -> Demand {
        Demand::from_resources(self.instances, &self.resources, None)
    }
}

impl Demanding for TraditionalService {
    fn demand(&self) -> Demand {
        Demand::from_resources(self.replicas, &self.resources, None)
    }
}

impl Demanding for Notebook {
    fn demand(&self) -> Demand {
        Demand::from_resources(1, &self.resources, Some(self.storage))
    }
}

impl Demanding for ModelInstance {
    fn demand(&self) -> Demand {
        Demand::from_resources(self.instances, &self.resources, None)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::objects::SizePreset;

    fn capacity() -> ClusterCapacity {
        ClusterCapacity {
            allocatable_cpu: Cpu::cores(16),
            allocatable_memory: Memory::gibibytes(32),
            allocatable_storage: Some(Storage::gibibytes(100)),
            requested_cpu: Cpu::cores(4),
            requested_memory: Memory::gibibytes(20),
            requested_storage: Storage::gibibytes(40),
            nodes: 2,
        }
    }

    fn demand(instances: u32, cores: u64, gib: u64, storage_gib: Option<u64>) -> Demand {
        Demand {
            instances,
            cpu: Cpu::cores(cores),
            memory: Memory::gibibytes(gib),
            storage: storage_gib.map(Storage::gibibytes),
        }
    }

    fn messages(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect()
    }

    fn workload(kind: &str, name: &str, body: serde_json::Value) -> Resource {
        let mut body = body;
        body["apiVersion"] = json!("apps/v1");
        body["kind"] = json!(kind);
        body["metadata"] = json!({ "name": name, "namespace": "battery-base" });
        Resource::from_value("redis", body).unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn requests_multiply_by_replicas_and_daemonsets_by_nodes() {
        let container = json!([{ "name": "a", "resources": { "requests": { "cpu": "250m", "memory": "512Mi" } } }]);
        let desired = vec![
            workload(
                "Deployment",
                "web",
                json!({ "spec": { "replicas": 2, "template": { "spec": { "containers": container } } } }),
            ),
            workload(
                "DaemonSet",
                "agent",
                json!({ "spec": { "template": { "spec": { "containers": container } } } }),
            ),
            workload(
                "StatefulSet",
                "db",
                json!({ "spec": { "replicas": 3, "template": { "spec": { "containers": [] } },
                    "volumeClaimTemplates": [{ "spec": { "resources": { "requests": { "storage": "10Gi" } } } }] } }),
            ),
        ];
        let total = requested(&desired, 3);
        assert_eq!(total.cpu, Cpu::millicores(250 * 5));
        assert_eq!(total.memory, Memory::mebibytes(512 * 5));
        assert_eq!(total.storage, Storage::gibibytes(30));
    }

    #[test]
    fn impact_names_what_grows_past_what_the_nodes_offer() {
        let now = capacity();
        let after = Requested {
            cpu: Cpu::cores(5),
            memory: Memory::gibibytes(36),
            storage: Storage::gibibytes(30),
        };
        let found = impact(&now, &after);
        let summary: Vec<(&str, &str, &str, bool, Option<&str>)> = found
            .iter()
            .map(|i| {
                (
                    i.what.as_str(),
                    i.before.as_str(),
                    i.after.as_str(),
                    i.grows,
                    i.problem.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("CPU", "4 cores", "5 cores", true, None),
                (
                    "Memory",
                    "20 GiB",
                    "36 GiB",
                    true,
                    Some(
                        "Memory requests would grow by 16 GiB to 36 GiB, but the nodes offer 32 GiB"
                    )
                ),
                ("Storage", "40 GiB", "30 GiB", false, None),
            ]
        );
        assert_eq!(found[2].allocatable.as_deref(), Some("100 GiB"));
    }

    #[test]
    fn a_change_that_shrinks_an_over_committed_amount_is_not_blamed() {
        let over = ClusterCapacity {
            requested_memory: Memory::gibibytes(40),
            ..capacity()
        };
        let after = Requested {
            cpu: Cpu::cores(4),
            memory: Memory::gibibytes(38),
            storage: Storage::gibibytes(40),
        };
        assert!(impact(&over, &after).iter().all(|i| i.problem.is_none()));
    }

    #[test]
    fn nothing_is_reported_when_it_fits() {
        assert_eq!(check(&capacity(), &demand(3, 4, 4, Some(20))), []);
        // Exactly what is left still fits.
        assert_eq!(check(&capacity(), &demand(3, 4, 4, Some(15))), []);
        assert_eq!(check(&capacity(), &demand(0, 100, 100, Some(100))), []);
    }

    #[test]
    fn too_much_memory_says_how_much_is_asked_and_left() {
        let errors = check(&capacity(), &demand(5, 1, 4, None));
        assert_eq!(
            messages(&errors),
            [(
                "resources.memory_request",
                "5 instances × 4 GiB = 20 GiB, but 12 GiB is left"
            )]
        );
        assert!(errors.iter().all(|e| e.rule == Rule::Capacity));
    }

    #[test]
    fn every_amount_that_does_not_fit_is_reported() {
        let errors = check(&capacity(), &demand(1, 13, 13, Some(61)));
        assert_eq!(
            messages(&errors),
            [
                (
                    "resources.cpu_request",
                    "1 instance × 13 cores = 13 cores, but 12 cores is left"
                ),
                (
                    "resources.memory_request",
                    "1 instance × 13 GiB = 13 GiB, but 12 GiB is left"
                ),
                (
                    "storage",
                    "1 instance × 61 GiB = 61 GiB, but 60 GiB is left"
                ),
            ]
        );
    }

    #[test]
    fn an_over_committed_cluster_has_nothing_left() {
        let over = ClusterCapacity {
            requested_memory: Memory::gibibytes(40),
            requested_cpu: Cpu::cores(16),
            ..capacity()
        };
        let errors = check(&over, &demand(2, 1, 1, None));
        assert_eq!(
            messages(&errors),
            [
                (
                    "resources.cpu_request",
                    "2 instances × 1 core = 2 cores, but nothing is left"
                ),
                (
                    "resources.memory_request",
                    "2 instances × 1 GiB = 2 GiB, but nothing is left: 40 GiB is already \
                     requested of 32 GiB"
                ),
            ]
        );
    }

    #[test]
    fn storage_is_not_checked_when_the_cluster_does_not_say() {
        let unbounded = ClusterCapacity {
            allocatable_storage: None,
            ..capacity()
        };
        assert_eq!(check(&unbounded, &demand(1, 1, 1, Some(10_000))), []);
    }

    #[test]
    fn overflowing_demands_do_not_fit_and_do_not_panic() {
        let huge = Demand {
            instances: u32::MAX,
            cpu: Cpu::MAX,
            memory: Memory::MAX,
            storage: Some(Storage::MAX),
        };
        let errors = check(&capacity(), &huge);
        assert_eq!(errors.len(), 3);
        assert!(
            errors
                .iter()
                .all(|e| e.message.contains("is more than any cluster holds")),
            "{errors:?}"
        );
    }

    #[test]
    fn objects_demand_their_requests_per_instance() {
        let pg = PostgresCluster {
            instances: 3,
            storage: Storage::gibibytes(10),
            resources: SizePreset::Small.resources(),
            ..PostgresCluster::default()
        };
        assert_eq!(
            Demand::of(&pg),
            Demand {
                instances: 3,
                cpu: Cpu::millicores(500),
                memory: Memory::gibibytes(1),
                storage: Some(Storage::gibibytes(10)),
            }
        );
        assert_eq!(Demand::of(&RedisInstance::default()).storage, None);
        assert_eq!(Demand::of(&Notebook::default()).instances, 1);
        assert_eq!(
            Demand::of(&ModelInstance::default()).memory,
            Memory::gibibytes(1)
        );
        assert_eq!(Demand::of(&FerretService::default()).instances, 1);
        let image = crate::image::ImageRef::from_static("nginx:1.27");
        let stopped = TraditionalService {
            replicas: 0,
            ..TraditionalService::new("web", image)
        };
        assert_eq!(check(&capacity(), &Demand::of(&stopped)), []);
    }

    #[test]
    fn a_postgres_cluster_too_big_for_the_cluster_is_reported_on_its_fields() {
        let pg = PostgresCluster {
            name: "big".into(),
            instances: 3,
            storage: Storage::gibibytes(64),
            resources: SizePreset::Medium.resources(),
            ..PostgresCluster::default()
        };
        let fields: Vec<_> = check(&capacity(), &Demand::of(&pg))
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["resources.memory_request", "storage"]);
    }

    #[test]
    fn capacity_and_demand_round_trip_through_serde() {
        let value = capacity();
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(
            serde_json::from_str::<ClusterCapacity>(&json).unwrap(),
            value
        );
        let value = demand(2, 1, 2, Some(3));
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::from_str::<Demand>(&json).unwrap(), value);
    }
}
