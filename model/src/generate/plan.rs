//! The plan diff of the snapshot-and-apply engine: a pure comparison of the
//! desired resources with what the cluster holds and with the inventory of
//! the last successful snapshot.
//!
//! Each desired resource is created, updated (its `battery/hash` is missing
//! or differs) or left unchanged. What to delete comes from the inventory
//! kept in the database — the paths the last successful snapshot applied —
//! minus what is now desired, never from guessing by labels; and only objects
//! that still carry `battery/managed` are deleted. Managed objects that no
//! inventory knows are reported as orphans, never deleted. bi-control reads
//! the cluster into [`Observed`], calls [`plan`] and executes the items in
//! order.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::labels::{HASH_ANNOTATION, MANAGED_LABEL};
use super::order::{Stage, stage_of};
use super::resource::{ContentHash, Resource, ResourcePath};

/// An object as found in the cluster: just what the plan needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// Where it lives.
    pub path: ResourcePath,
    /// It carries `battery/managed=true`.
    pub managed: bool,
    /// Its `battery/hash` annotation, if any.
    pub hash: Option<ContentHash>,
    /// It has `ownerReferences`: an operator created it, so it is never
    /// pruned or reported.
    pub owned: bool,
}

impl Observed {
    /// Reads `apiVersion`, `kind` and `metadata` of a cluster object; None
    /// when the object has no `apiVersion`, `kind` or `metadata.name`.
    pub fn from_object(object: &Value) -> Option<Self> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        let metadata = object.get("metadata")?;
        let name = metadata.get("name")?.as_str()?;
        let namespace = metadata.get("namespace").and_then(Value::as_str);
        let managed = metadata
            .get("labels")
            .and_then(|labels| labels.get(MANAGED_LABEL))
            .and_then(Value::as_str)
            == Some("true");
        let hash = metadata
            .get("annotations")
            .and_then(|annotations| annotations.get(HASH_ANNOTATION))
            .filter(|hash| hash.is_string())
            // NB: ContentHash is serde-transparent over its hex text, so this
            // cannot fail for a string; a non-string annotation reads as None.
            .and_then(|hash| serde_json::from_value(hash.clone()).ok());
        let owned = metadata
            .get("ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|owners| !owners.is_empty());
        Some(Self {
            path: ResourcePath::new(api_version, kind, namespace, name),
            managed,
            hash,
            owned,
        })
    }
}

/// What the engine does with one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Desired and absent from the cluster.
    Create,
    /// Desired and present with a missing or different hash.
    Update,
    /// Desired and present with the same hash: nothing to write.
    Unchanged,
    /// In the last inventory, no longer desired, still managed: prune it.
    Delete,
}

impl Action {
    /// Whether the action writes to the cluster.
    pub fn writes(self) -> bool {
        self != Self::Unchanged
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The object acted on.
    pub path: ResourcePath,
    /// What is done with it.
    pub action: Action,
    /// Its apply stage (deletions run in reverse stage order).
    pub stage: Stage,
    /// The battery or user object it belongs to; None for deletions.
    pub app: Option<String>,
    /// The desired hash; None for deletions.
    pub hash: Option<ContentHash>,
}

/// How many items of each action a plan has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCounts {
    /// Objects to create.
    pub create: usize,
    /// Objects to update.
    pub update: usize,
    /// Objects already as desired.
    pub unchanged: usize,
    /// Objects to delete.
    pub delete: usize,
}

impl PlanCounts {
    /// Creates, updates and deletes together.
    pub fn writes(&self) -> usize {
        self.create + self.update + self.delete
    }
}

/// The diff between desired and observed state, in execution order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Creates, updates and unchanged by stage then path; then deletes in
    /// reverse stage order (by path within a stage).
    pub items: Vec<PlanItem>,
    /// Managed, unowned objects in the cluster that are neither desired nor
    /// in the inventory: reported, never deleted.
    pub orphans: Vec<ResourcePath>,
    /// In the inventory, no longer desired, but no longer carrying
    /// `battery/managed`: reported, never deleted.
    pub untouchable: Vec<ResourcePath>,
}

impl Plan {
    /// The number of items of each action.
    pub fn counts(&self) -> PlanCounts {
        let mut counts = PlanCounts::default();
        for item in &self.items {
            match item.action {
                Action::Create => counts.create += 1,
                Action::Update => counts.update += 1,
                Action::Unchanged => counts.unchanged += 1,
                Action::Delete => counts.delete += 1,
            }
        }
        counts
    }

    /// The number of items that write to the cluster (zero: nothing to do).
    pub fn writes(&self) -> usize {
        self.items
            .iter()
            .filter(|item| item.action.writes())
            .count()
    }
}

/// Diffs `desired` against the cluster (`observed`) and the paths the last
/// successful snapshot applied (`inventory`). The result does not depend on
/// the order of the inputs, except that a path desired twice is planned once,
/// from its first occurrence.
pub fn plan(
    desired: &[Resource],
    observed: &[Observed],
    inventory: &BTreeSet<ResourcePath>,
) -> Plan {
    let mut wanted: BTreeMap<(Stage, &ResourcePath), &Resource> = BTreeMap::new();
    for resource in desired {
        wanted
            .entry((stage_of(&resource.path), &resource.path))
            .or_insert(resource);
    }
    let desired_paths: BTreeSet<&ResourcePath> = wanted.keys().map(|(_, path)| *path).collect();
    // NB: a path listed twice merges its facts so the result stays independent
    // of the input order: managed or owned if any copy is, the smallest hash.
    let mut found: BTreeMap<&ResourcePath, Observed> = BTreeMap::new();
    for object in observed {
        found
            .entry(&object.path)
            .and_modify(|seen| {
                seen.managed |= object.managed;
                seen.owned |= object.owned;
                seen.hash = match (seen.hash.take(), object.hash.clone()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            })
            .or_insert_with(|| object.clone());
    }

    let mut items: Vec<PlanItem> = wanted
        .into_iter()
        .map(|((stage, path), resource)| {
            let action = match found.get(path) {
                None => Action::Create,
                Some(object) if object.hash.as_ref() == Some(&resource.hash) => Action::Unchanged,
                Some(_) => Action::Update,
            };
            PlanItem {
                path: path.clone(),
                action,
                stage,
                app: Some(resource.app.clone()),
                hash: Some(resource.hash.clone()),
            }
        })
        .collect();

    let mut deletes = Vec::new();
    let mut untouchable = Vec::new();
    for path in inventory
        .iter()
        .filter(|path| !desired_paths.contains(path))
    {
        match found.get(path) {
            // Already gone, or adopted by an operator: nothing to do.
            None => {}
            Some(object) if object.owned => {}
            Some(object) if object.managed => deletes.push(PlanItem {
                path: path.clone(),
                action: Action::Delete,
                stage: stage_of(path),
                app: None,
                hash: None,
            }),
            Some(_) => untouchable.push(path.clone()),
        }
    }
    deletes.sort_by(|a, b| b.stage.cmp(&a.stage).then_with(|| a.path.cmp(&b.path)));
    items.extend(deletes);

    let orphans = found
        .values()
        .filter(|object| object.managed && !object.owned)
        .filter(|object| !inventory.contains(&object.path) && !desired_paths.contains(&object.path))
        .map(|object| object.path.clone())
        .collect();

    Plan {
        items,
        orphans,
        untouchable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// A small universe with one kind per stage, three names each.
    const KINDS: [(&str, &str); 6] = [
        ("v1", "Namespace"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("v1", "ConfigMap"),
        ("apps/v1", "Deployment"),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
        ),
        ("postgresql.cnpg.io/v1", "Cluster"),
    ];
    const NAMES: [&str; 3] = ["a", "b", "c"];
    const UNIVERSE: usize = KINDS.len() * NAMES.len();

    fn path_at(index: usize) -> ResourcePath {
        let (api_version, kind) = KINDS[index / NAMES.len()];
        let cluster_scoped = matches!(
            kind,
            "Namespace" | "CustomResourceDefinition" | "ValidatingWebhookConfiguration"
        );
        let namespace = (!cluster_scoped).then_some("ns");
        ResourcePath::new(api_version, kind, namespace, NAMES[index % NAMES.len()])
    }

    fn hash(seed: u8) -> ContentHash {
        ContentHash::of(&json!(seed))
    }

    fn resource(path: ResourcePath, seed: u8) -> Resource {
        Resource {
            path,
            app: "app".into(),
            body: json!({}),
            hash: hash(seed),
        }
    }

    fn seen(path: ResourcePath, managed: bool, seed: Option<u8>, owned: bool) -> Observed {
        Observed {
            path,
            managed,
            hash: seed.map(hash),
            owned,
        }
    }

    fn deployment(name: &str) -> ResourcePath {
        ResourcePath::new("apps/v1", "Deployment", Some("ns"), name)
    }

    fn actions(plan: &Plan) -> Vec<(String, Action)> {
        plan.items
            .iter()
            .map(|item| (item.path.to_string(), item.action))
            .collect()
    }

    #[test]
    fn absent_objects_are_created_and_changed_ones_updated() {
        let desired = [
            resource(deployment("new"), 1),
            resource(deployment("same"), 1),
            resource(deployment("changed"), 2),
            resource(deployment("unhashed"), 1),
        ];
        let observed = [
            seen(deployment("same"), true, Some(1), false),
            seen(deployment("changed"), true, Some(1), false),
            seen(deployment("unhashed"), true, None, false),
        ];
        let plan = plan(&desired, &observed, &BTreeSet::new());
        assert_eq!(
            actions(&plan),
            [
                ("apps/v1/Deployment/ns/changed".into(), Action::Update),
                ("apps/v1/Deployment/ns/new".into(), Action::Create),
                ("apps/v1/Deployment/ns/same".into(), Action::Unchanged),
                ("apps/v1/Deployment/ns/unhashed".into(), Action::Update),
            ]
        );
        assert_eq!(
            plan.counts(),
            PlanCounts {
                create: 1,
                update: 2,
                unchanged: 1,
                delete: 0
            }
        );
        assert_eq!(plan.writes(), 3);
        assert_eq!(plan.items[1].hash, Some(hash(1)));
        assert_eq!(plan.items[1].app.as_deref(), Some("app"));
    }

    #[test]
    fn only_managed_inventory_objects_are_deleted() {
        let inventory = BTreeSet::from([
            deployment("gone"),
            deployment("stale"),
            deployment("unlabelled"),
            deployment("adopted"),
            deployment("kept"),
        ]);
        let observed = [
            seen(deployment("stale"), true, Some(1), false),
            seen(deployment("unlabelled"), false, Some(1), false),
            seen(deployment("adopted"), true, Some(1), true),
            seen(deployment("kept"), true, Some(1), false),
        ];
        let plan = plan(&[resource(deployment("kept"), 1)], &observed, &inventory);
        assert_eq!(
            actions(&plan),
            [
                ("apps/v1/Deployment/ns/kept".into(), Action::Unchanged),
                ("apps/v1/Deployment/ns/stale".into(), Action::Delete),
            ]
        );
        assert_eq!(plan.untouchable, [deployment("unlabelled")]);
        assert!(plan.orphans.is_empty());
    }

    #[test]
    fn managed_objects_in_no_inventory_are_orphans_not_deletions() {
        let observed = [
            seen(deployment("stray"), true, Some(1), false),
            seen(deployment("foreign"), false, None, false),
            seen(deployment("operator-made"), true, None, true),
        ];
        let plan = plan(&[], &observed, &BTreeSet::new());
        assert!(plan.items.is_empty());
        assert_eq!(plan.orphans, [deployment("stray")]);
        assert!(plan.untouchable.is_empty());
    }

    #[test]
    fn items_run_by_stage_and_deletions_in_reverse() {
        let desired: Vec<Resource> = [15, 0, 6, 3, 9, 12]
            .into_iter()
            .map(|index| resource(path_at(index), 1))
            .collect();
        let stale = [1, 16, 4, 7, 10, 13].map(path_at);
        let observed: Vec<Observed> = stale
            .iter()
            .map(|path| seen(path.clone(), true, None, false))
            .collect();
        let plan = plan(&desired, &observed, &stale.iter().cloned().collect());
        let order: Vec<(Action, Stage)> = plan
            .items
            .iter()
            .map(|item| (item.action, item.stage))
            .collect();
        assert_eq!(
            order,
            [
                (Action::Create, Stage::Namespaces),
                (Action::Create, Stage::Crds),
                (Action::Create, Stage::Config),
                (Action::Create, Stage::Workloads),
                (Action::Create, Stage::Webhooks),
                (Action::Create, Stage::CustomResources),
                (Action::Delete, Stage::CustomResources),
                (Action::Delete, Stage::Webhooks),
                (Action::Delete, Stage::Workloads),
                (Action::Delete, Stage::Config),
                (Action::Delete, Stage::Crds),
                (Action::Delete, Stage::Namespaces),
            ]
        );
    }

    #[test]
    fn observed_is_read_from_a_cluster_object() {
        let object = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "ns",
                "labels": { MANAGED_LABEL: "true" },
                "annotations": { HASH_ANNOTATION: hash(1).as_str() },
                "ownerReferences": [{ "kind": "Cluster", "name": "pg" }],
            },
        });
        assert_eq!(
            Observed::from_object(&object),
            Some(seen(deployment("web"), true, Some(1), true))
        );
        let bare = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": "ns", "labels": { MANAGED_LABEL: "false" }, "ownerReferences": [] },
        });
        assert_eq!(
            Observed::from_object(&bare),
            Some(seen(
                ResourcePath::new("v1", "Namespace", None, "ns"),
                false,
                None,
                false
            ))
        );
        assert_eq!(Observed::from_object(&json!({ "kind": "Namespace" })), None);
    }

    /// Desired: path index → hash seed. Observed: path index → (managed,
    /// hash seed, owned). Inventory: path indices.
    type Inputs = (
        BTreeMap<usize, u8>,
        BTreeMap<usize, (bool, Option<u8>, bool)>,
        BTreeSet<usize>,
    );

    fn inputs() -> impl Strategy<Value = Inputs> {
        (
            prop::collection::btree_map(0..UNIVERSE, 0..3u8, 0..UNIVERSE),
            prop::collection::btree_map(
                0..UNIVERSE,
                (any::<bool>(), prop::option::of(0..3u8), any::<bool>()),
                0..UNIVERSE,
            ),
            prop::collection::btree_set(0..UNIVERSE, 0..UNIVERSE),
        )
    }

    fn build(
        (desired, observed, inventory): &Inputs,
    ) -> (Vec<Resource>, Vec<Observed>, BTreeSet<ResourcePath>) {
        (
            desired
                .iter()
                .map(|(&index, &seed)| resource(path_at(index), seed))
                .collect(),
            observed
                .iter()
                .map(|(&index, &(managed, seed, owned))| seen(path_at(index), managed, seed, owned))
                .collect(),
            inventory.iter().map(|&index| path_at(index)).collect(),
        )
    }

    proptest! {
        #[test]
        fn every_desired_path_is_planned_once_and_never_deleted(inputs in inputs()) {
            let (desired, observed, inventory) = build(&inputs);
            let plan = plan(&desired, &observed, &inventory);
            for resource in &desired {
                let kept = plan.items.iter().filter(|item| {
                    item.path == resource.path && item.action != Action::Delete
                });
                prop_assert_eq!(kept.count(), 1);
                let deleted = plan
                    .items
                    .iter()
                    .any(|item| item.path == resource.path && item.action == Action::Delete);
                prop_assert!(!deleted);
                prop_assert!(!plan.orphans.contains(&resource.path));
            }
            prop_assert_eq!(plan.items.len() - plan.counts().delete, desired.len());
        }

        #[test]
        fn deletions_are_managed_unowned_inventory_objects(inputs in inputs()) {
            let (desired, observed, inventory) = build(&inputs);
            let plan = plan(&desired, &observed, &inventory);
            let find = |path: &ResourcePath| observed.iter().find(|object| &object.path == path);
            for item in plan.items.iter().filter(|item| item.action == Action::Delete) {
                prop_assert!(inventory.contains(&item.path));
                let object = find(&item.path);
                prop_assert!(object.is_some_and(|object| object.managed && !object.owned));
            }
            for path in &plan.untouchable {
                prop_assert!(inventory.contains(path));
                prop_assert!(find(path).is_some_and(|object| !object.managed && !object.owned));
            }
            for path in &plan.orphans {
                prop_assert!(!inventory.contains(path));
                prop_assert!(find(path).is_some_and(|object| object.managed && !object.owned));
            }
        }

        #[test]
        fn unmanaged_objects_are_never_deleted_or_orphaned(inputs in inputs()) {
            let (desired, observed, inventory) = build(&inputs);
            let plan = plan(&desired, &observed, &inventory);
            for object in observed.iter().filter(|object| !object.managed) {
                prop_assert!(!plan.orphans.contains(&object.path));
                let deleted = plan
                    .items
                    .iter()
                    .any(|item| item.path == object.path && item.action == Action::Delete);
                prop_assert!(!deleted);
            }
        }

        #[test]
        fn items_respect_the_stage_order(inputs in inputs()) {
            let (desired, observed, inventory) = build(&inputs);
            let plan = plan(&desired, &observed, &inventory);
            let split = plan.items.iter().position(|item| item.action == Action::Delete)
                .unwrap_or(plan.items.len());
            let (applies, deletes) = plan.items.split_at(split);
            prop_assert!(applies.iter().all(|item| item.action != Action::Delete));
            prop_assert!(deletes.iter().all(|item| item.action == Action::Delete));
            prop_assert!(plan.items.iter().all(|item| item.stage == stage_of(&item.path)));
            let sorted = applies
                .windows(2)
                .all(|pair| (pair[0].stage, &pair[0].path) < (pair[1].stage, &pair[1].path));
            prop_assert!(sorted);
            prop_assert!(deletes.windows(2).all(|pair| pair[0].stage >= pair[1].stage));
        }

        #[test]
        fn plans_do_not_depend_on_input_order(inputs in inputs()) {
            let (mut desired, mut observed, inventory) = build(&inputs);
            let forward = plan(&desired, &observed, &inventory);
            desired.reverse();
            observed.reverse();
            prop_assert_eq!(plan(&desired, &observed, &inventory), forward);
        }

        #[test]
        fn noop_snapshot_writes_nothing(inputs in inputs()) {
            let (desired, _, inventory) = build(&inputs);
            let observed: Vec<Observed> = desired
                .iter()
                .map(|resource| Observed {
                    path: resource.path.clone(),
                    managed: true,
                    hash: Some(resource.hash.clone()),
                    owned: false,
                })
                .collect();
            let plan = plan(&desired, &observed, &inventory);
            prop_assert_eq!(plan.writes(), 0);
            prop_assert_eq!(plan.counts().unchanged, desired.len());
            prop_assert!(plan.orphans.is_empty() && plan.untouchable.is_empty());
        }
    }
}
