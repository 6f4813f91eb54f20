//! Deletion as a real API server's controllers carry it out: finalizers
//! hold an object until they are gone, a Terminating Namespace takes what is
//! in it along, deleting a CRD deletes its objects, and (unless orphaned)
//! deleting an owner deletes its dependents.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{EventType, ObjectKey, Store, metadata_mut, now};

impl Store {
    /// Marks an object as being deleted (deletionTimestamp; a Namespace also
    /// Terminating), unless it already is; returns it.
    pub(super) fn mark_deleting(&mut self, key: &ObjectKey) -> Option<Value> {
        let object = self.objects.get(key)?.object.clone();
        if is_deleting(&object) {
            return Some(object);
        }
        let mut next = object;
        let metadata = metadata_mut(&mut next);
        metadata.insert("deletionTimestamp".into(), json!(now()));
        metadata.insert("deletionGracePeriodSeconds".into(), json!(0));
        if key.group.is_empty() && key.plural == "namespaces" {
            next["status"] = json!({ "phase": "Terminating" });
        }
        Some(self.commit(key.clone(), next, EventType::Modified))
    }

    /// The namespace controller's work, done at once: everything in a
    /// Terminating namespace is deleted (what has finalizers is marked and
    /// waits for them), and a Terminating namespace left empty is removed.
    pub(super) fn finish_namespaces(&mut self) {
        let terminating: Vec<String> = self
            .objects
            .iter()
            .filter(|(key, entry)| {
                key.group.is_empty() && key.plural == "namespaces" && is_deleting(&entry.object)
            })
            .map(|(key, _)| key.name.clone())
            .collect();
        for namespace in terminating {
            let inside: Vec<ObjectKey> = self
                .objects
                .keys()
                .filter(|key| key.namespace == namespace)
                .cloned()
                .collect();
            for key in &inside {
                let held = self
                    .objects
                    .get(key)
                    .is_some_and(|entry| has_finalizers(&entry.object));
                if held {
                    self.mark_deleting(key);
                } else {
                    self.remove(key);
                }
            }
            if !self.objects.keys().any(|key| key.namespace == namespace) {
                self.remove(&ObjectKey::namespace_object(&namespace));
            }
        }
    }

    /// What goes with `key` when it is deleted: a Namespace's contents, a CRD's objects,
    /// and (unless orphaning) everything owned by it, transitively.
    pub(super) fn dependents(&self, key: &ObjectKey, orphan: bool) -> Vec<ObjectKey> {
        let mut doomed: BTreeSet<ObjectKey> = BTreeSet::new();
        if key.group.is_empty() && key.plural == "namespaces" {
            doomed.extend(
                self.objects
                    .keys()
                    .filter(|other| other.namespace == key.name)
                    .cloned(),
            );
        }
        if key.is_crd()
            && let Some(entry) = self.objects.get(key)
        {
            let group = entry.object.pointer("/spec/group").and_then(Value::as_str);
            let plural = entry
                .object
                .pointer("/spec/names/plural")
                .and_then(Value::as_str);
            if let (Some(group), Some(plural)) = (group, plural) {
                doomed.extend(self.keys_of(group, plural));
            }
        }
        if !orphan {
            let mut owners: Vec<ObjectKey> = vec![key.clone()];
            owners.extend(doomed.iter().cloned());
            while let Some(owner) = owners.pop() {
                let Some(uid) = self
                    .objects
                    .get(&owner)
                    .and_then(|entry| entry.object.pointer("/metadata/uid"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                for (other, entry) in &self.objects {
                    if other != key && !doomed.contains(other) && owned_by(&entry.object, uid) {
                        doomed.insert(other.clone());
                        owners.push(other.clone());
                    }
                }
            }
        }
        doomed.remove(key);
        doomed.into_iter().collect()
    }
}

/// Whether the object has finalizers left.
pub(super) fn has_finalizers(object: &Value) -> bool {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|finalizers| !finalizers.is_empty())
}

/// Whether the object is being deleted (it has a deletionTimestamp).
pub(super) fn is_deleting(object: &Value) -> bool {
    object.pointer("/metadata/deletionTimestamp").is_some()
}

pub(super) fn owned_by(object: &Value, uid: &str) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|owner| owner.get("uid").and_then(Value::as_str) == Some(uid))
        })
}
