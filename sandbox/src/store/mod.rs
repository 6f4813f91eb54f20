//! The sandbox's object store: every object as JSON, keyed by group, plural,
//! namespace and name, with the metadata a real API server owns.
//!
//! The store hands out one global, monotonic resourceVersion; sets uid,
//! creationTimestamp and, for the kinds that have one, generation (bumped when
//! anything outside metadata and status changes); keeps status apart from spec
//! for kinds with a `/status` subresource; records who owns which field
//! (`managed.rs`) and drops or refuses undeclared fields (`schema.rs`); and
//! records every change as a watch event. An object with finalizers is only
//! marked when deleted; a deleted Namespace is Terminating until what is in it
//! is gone (and refuses new objects); deleting a CRD deletes its objects, and
//! (unless orphaned) deleting an owner deletes its dependents. Every write can
//! be a dry run: the result is computed and returned, nothing changes.
//!
//! It is plain data behind one lock held by the server; nothing here awaits.
//! What a write fills in is in `defaults.rs`, what a deletion takes along in
//! `cascade.rs`, name rules in `names.rs` and list paging in `paging.rs`;
//! this file keeps the objects, the writes and the watch events.

mod cascade;
mod defaults;
mod names;
mod paging;

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::discovery::{Kinds, ResourceType};
use super::managed::{self, FieldSet, Writer};
use super::patch::{self, PatchError, PatchKind};
use super::persist::{Snapshot, SnapshotObject};
use super::schema::{self, FieldValidation};
use super::selector::Selectors;
use super::status::{ApiError, ApiResult};
use cascade::{has_finalizers, is_deleting};
use defaults::{Generation, defaults, generation_of, spec_part};
use names::{generated_name, validate_name};
use paging::{decode_continue, encode_continue};

/// Watch events kept in memory; a watch from before the oldest one gets 410 Expired
/// and its client lists again (kube-rs watchers and kubectl do).
const MAX_EVENTS: usize = 100_000;

/// The CRD resource, whose objects change what the store serves.
const CRD_GROUP: &str = "apiextensions.k8s.io";
const CRD_PLURAL: &str = "customresourcedefinitions";

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ObjectKey {
    /// API group ("" for core).
    pub(crate) group: String,
    /// Plural resource name.
    pub(crate) plural: String,
    /// Namespace ("" when cluster-scoped).
    pub(crate) namespace: String,
    /// Object name.
    pub(crate) name: String,
}

impl ObjectKey {
    /// The key of `name` in `namespace` of resource `rt`.
    pub(crate) fn new(rt: &ResourceType, namespace: Option<&str>, name: &str) -> Self {
        Self {
            group: rt.group.clone(),
            plural: rt.plural.clone(),
            namespace: if rt.namespaced {
                namespace.unwrap_or_default().to_owned()
            } else {
                String::new()
            },
            name: name.to_owned(),
        }
    }

    fn namespace_object(name: &str) -> Self {
        Self {
            group: String::new(),
            plural: "namespaces".into(),
            namespace: String::new(),
            name: name.to_owned(),
        }
    }

    fn is_crd(&self) -> bool {
        self.group == CRD_GROUP && self.plural == CRD_PLURAL
    }
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Deleted.
    Deleted,
}

impl EventType {
    /// `ADDED`, `MODIFIED` or `DELETED`, as watch streams spell it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as watches replay it.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// The resourceVersion the change got.
    pub(crate) resource_version: u64,
    /// Which object.
    pub(crate) key: ObjectKey,
    /// What happened.
    pub(crate) kind: EventType,
    /// The object after the change (before it, for a deletion).
    pub(crate) object: Value,
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The object itself (status kept, for kinds with a status subresource).
    Main,
    /// The `/status` subresource (only status changes).
    Status,
}

/// `limit` and `continue` of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Page {
    /// At most this many items (0 or None: all).
    pub(crate) limit: Option<usize>,
    /// The token from the previous page.
    pub(crate) continue_token: Option<String>,
}

/// How a deletion treats dependents and which preconditions it checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeleteOptions {
    /// `Orphan` leaves dependents (by ownerReferences) alone.
    pub(crate) orphan: bool,
    /// `Foreground`: the answer is the object (a real server keeps it, marked,
    /// until its dependents are gone).
    pub(crate) foreground: bool,
    /// Precondition: the object's uid.
    pub(crate) uid: Option<String>,
    /// Precondition: the object's resourceVersion.
    pub(crate) resource_version: Option<String>,
}

/// How a write is made: by which field manager, forced or not, for real or as a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WriteOptions {
    /// The field manager (and whether it applies or updates).
    pub(crate) writer: Writer,
    /// An apply takes fields other managers own instead of conflicting.
    pub(crate) force: bool,
    /// Compute and answer, change nothing.
    pub(crate) dry_run: bool,
    /// What fields the kind does not declare do to the write.
    pub(crate) validation: FieldValidation,
}

impl WriteOptions {
    /// A real write by `manager` (an update).
    pub(crate) fn by(manager: &str) -> Self {
        Self {
            writer: Writer::update(manager),
            force: false,
            dry_run: false,
            validation: FieldValidation::Warn,
        }
    }

    /// The same write as a dry run.
    #[cfg(test)]
    pub(crate) fn dry(mut self) -> Self {
        self.dry_run = true;
        self
    }
}

/// Where a write's body came from, for how unknown fields are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// A POST or PUT body (Strict: 400 BadRequest).
    Body,
    /// The result of a JSON / merge / strategic patch (Strict: 422 Invalid).
    Patch,
    /// A server-side apply configuration (always 500: no typed patch).
    Apply,
}

/// A write's result: the object as the client sees it, and whether it was created.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    /// The object (with apiVersion/kind of the request).
    pub(crate) object: Value,
    /// 201 rather than 200.
    pub(crate) created: bool,
    /// `Warning` headers for the client (dropped unknown fields).
    pub(crate) warnings: Vec<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    object: Value,
    /// Last applied configuration per server-side-apply field manager.
    applied: BTreeMap<String, Value>,
}

/// Every object, the resourceVersion counter and the watch history.
#[derive(Debug)]
pub(crate) struct Store {
    objects: BTreeMap<ObjectKey, Entry>,
    resource_version: u64,
    events: VecDeque<Event>,
    /// Every event after this resourceVersion is in `events`.
    history_floor: u64,
    kinds: Kinds,
    notify: watch::Sender<u64>,
    /// Something changed since the last [`Store::take_dirty`] (an object or an applied configuration).
    dirty: bool,
}

impl Store {
    /// A store holding the snapshot's objects, or an empty one.
    pub(crate) fn new(snapshot: Option<Snapshot>) -> Self {
        let mut objects = BTreeMap::new();
        let mut resource_version = 0;
        if let Some(snapshot) = snapshot {
            resource_version = snapshot.resource_version;
            for stored in snapshot.objects {
                let key = ObjectKey {
                    group: stored.group,
                    plural: stored.plural,
                    namespace: stored.namespace,
                    name: stored.name,
                };
                let entry = Entry {
                    object: stored.object,
                    applied: stored.applied,
                };
                objects.insert(key, entry);
            }
        }
        let (notify, _) = watch::channel(resource_version);
        let mut store = Self {
            objects,
            resource_version,
            events: VecDeque::new(),
            history_floor: resource_version,
            dirty: false,
            kinds: Kinds::builtin(),
            notify,
        };
        store.refresh_kinds();
        store
    }

    /// What is served right now.
    pub(crate) fn kinds(&self) -> &Kinds {
        &self.kinds
    }

    /// The last resourceVersion handed out.
    pub(crate) fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Whether anything changed since the last call (then it needs persisting).
    pub(crate) fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// A receiver told the new resourceVersion after every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.notify.subscribe()
    }

    /// Everything, for the store file.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let objects = self
            .objects
            .iter()
            .map(|(key, entry)| SnapshotObject {
                group: key.group.clone(),
                plural: key.plural.clone(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                object: entry.object.clone(),
                applied: entry.applied.clone(),
            })
            .collect();
        Snapshot::new(self.resource_version, objects)
    }

    /// Whether the namespace exists.
    pub(crate) fn namespace_exists(&self, name: &str) -> bool {
        self.objects
            .contains_key(&ObjectKey::namespace_object(name))
    }

    /// How many objects of `group/plural` exist.
    pub(crate) fn count(&self, group: &str, plural: &str) -> usize {
        self.objects
            .keys()
            .filter(|key| key.group == group && key.plural == plural)
            .count()
    }

    /// The stored object (as stored, not presented).
    pub(crate) fn object(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key).map(|entry| &entry.object)
    }

    /// The keys of every object of `group/plural`.
    pub(crate) fn keys_of(&self, group: &str, plural: &str) -> Vec<ObjectKey> {
        self.objects
            .keys()
            .filter(|key| key.group == group && key.plural == plural)
            .cloned()
            .collect()
    }

    /// The first object of `group/plural` named `name`, in any namespace.
    pub(crate) fn find_named(&self, group: &str, plural: &str, name: &str) -> Option<Value> {
        self.objects
            .iter()
            .find(|(key, _)| key.group == group && key.plural == plural && key.name == name)
            .map(|(_, entry)| entry.object.clone())
    }

    /// GET one object.
    pub(crate) fn get(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> ApiResult<Value> {
        self.objects
            .get(&ObjectKey::new(rt, namespace, name))
            .map(|entry| present(rt, &entry.object))
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// The objects of `rt` (in `namespace`, if given) passing the selectors, sorted by namespace/name.
    pub(crate) fn matching(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        selectors: &Selectors,
    ) -> Vec<(ObjectKey, Value)> {
        self.objects
            .iter()
            .filter(|(key, _)| key.group == rt.group && key.plural == rt.plural)
            .filter(|(key, _)| namespace.is_none_or(|ns| !rt.namespaced || key.namespace == ns))
            .filter(|(_, entry)| selectors.matches(&entry.object))
            .map(|(key, entry)| (key.clone(), present(rt, &entry.object)))
            .collect()
    }

    /// LIST: a `<Kind>List` page.
    pub(crate) fn list(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        selectors: &Selectors,
        page: &Page,
    ) -> ApiResult<Value> {
        let after = page
            .continue_token
            .as_deref()
            .filter(|token| !token.is_empty())
            .map(decode_continue)
            .transpose()?;
        let mut items: Vec<(ObjectKey, Value)> = self
            .matching(rt, namespace, selectors)
            .into_iter()
            .filter(|(key, _)| {
                after
                    .as_ref()
                    .is_none_or(|(ns, name)| (&key.namespace, &key.name) > (ns, name))
            })
            .collect();
        let mut metadata = json!({ "resourceVersion": self.resource_version.to_string() });
        if let Some(limit) = page.limit.filter(|limit| *limit > 0)
            && items.len() > limit
        {
            let remaining = items.len() - limit;
            items.truncate(limit);
            if let Some((last, _)) = items.last() {
                metadata["continue"] = json!(encode_continue(&last.namespace, &last.name));
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        let items: Vec<Value> = items.into_iter().map(|(_, object)| object).collect();
        Ok(list_object(rt, metadata, items))
    }

    /// Watch events after `resource_version`, or 410 Expired when they are no longer kept.
    pub(crate) fn events_since(&self, resource_version: u64) -> ApiResult<Vec<Event>> {
        if resource_version < self.history_floor {
            return Err(ApiError::expired(resource_version));
        }
        let start = self
            .events
            .partition_point(|event| event.resource_version <= resource_version);
        Ok(self.events.range(start..).cloned().collect())
    }

    /// POST: creates an object.
    pub(crate) fn create(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        body: Value,
        how: &WriteOptions,
    ) -> ApiResult<Written> {
        self.create_owned(rt, namespace, body, how, None)
    }

    /// Creates an object; `applied` is what an apply that creates it owns.
    fn create_owned(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        body: Value,
        how: &WriteOptions,
        applied: Option<FieldSet>,
    ) -> ApiResult<Written> {
        let dry_run = how.dry_run;
        let mut object = checked_body(rt, body)?;
        let warnings = self.check_fields(rt, &mut object, how, Via::Body)?;
        let namespace = self.place(rt, namespace, &mut object)?;
        let name = match name_of(&object) {
            Some(name) => name,
            None => match object
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
            {
                Some(prefix) if !prefix.is_empty() => {
                    let name = generated_name(prefix);
                    object["metadata"]["name"] = json!(name);
                    name
                }
                _ => {
                    return Err(ApiError::invalid(
                        rt,
                        "",
                        "metadata.name: Required value: name or generateName is required",
                    ));
                }
            },
        };
        validate_name(rt, &name).map_err(|whys| ApiError::invalid_causes(rt, &name, &whys))?;
        let key = ObjectKey::new(rt, namespace.as_deref(), &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(rt, &name));
        }
        let metadata = metadata_mut(&mut object);
        metadata.remove("managedFields");
        metadata.remove("resourceVersion");
        metadata.remove("deletionTimestamp");
        metadata.remove("deletionGracePeriodSeconds");
        metadata.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        metadata.insert("creationTimestamp".into(), json!(now()));
        if generation_of(rt) == Generation::None {
            metadata.remove("generation");
        } else {
            metadata.insert("generation".into(), json!(1));
        }
        if rt.status {
            // NB: like the real server, status is not set by creating the object.
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
        }
        defaults(rt, &mut object).map_err(|why| ApiError::invalid(rt, &name, &why))?;
        managed::record(
            None,
            &mut object,
            &how.writer,
            &rt.api_version(),
            applied,
            !rt.status,
            &now(),
        );
        if dry_run {
            return Ok(Written {
                object: present(rt, &object),
                created: true,
                warnings,
            });
        }
        let stored = self.commit(key, object, EventType::Added);
        Ok(Written {
            object: present(rt, &stored),
            created: true,
            warnings,
        })
    }

    /// PUT: replaces an object (or its status).
    pub(crate) fn update(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        part: Part,
        how: &WriteOptions,
    ) -> ApiResult<Written> {
        let mut body = checked_body(rt, body)?;
        let warnings = self.check_fields(rt, &mut body, how, Via::Body)?;
        let mut written = self.replace(rt, namespace, name, body, part, how, None)?;
        written.warnings = warnings;
        Ok(written)
    }

    /// PATCH with a JSON, merge or strategic patch.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        kind: PatchKind,
        body: &[u8],
        part: Part,
        how: &WriteOptions,
    ) -> ApiResult<Written> {
        let key = ObjectKey::new(rt, namespace, name);
        let existing = match self.objects.get(&key) {
            Some(entry) => present(rt, &entry.object),
            None => return Err(ApiError::not_found(rt, name)),
        };
        let patched = patch::patch(kind, &existing, body).map_err(|error| match error {
            PatchError::Decode(why) => {
                ApiError::bad_request(format!("error decoding patch: {why}"))
            }
            PatchError::Apply(_) => ApiError::rejected(),
        })?;
        let mut patched = checked_body(rt, patched)?;
        let warnings = self.check_fields(rt, &mut patched, how, Via::Patch)?;
        let mut written = self.replace(rt, namespace, name, patched, part, how, None)?;
        written.warnings = warnings;
        Ok(written)
    }

    /// PATCH with `application/apply-patch+yaml`: server-side apply (merging
    /// approximated, see `patch.rs`; ownership and conflicts as a real server,
    /// see `managed.rs`); creates the object when it is absent.
    pub(crate) fn apply(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        body: &[u8],
        part: Part,
        how: &WriteOptions,
    ) -> ApiResult<Written> {
        let dry_run = how.dry_run;
        let manager = how.writer.manager.as_str();
        let mut applied = patch::read_applied(body)
            .map_err(|why| ApiError::bad_request(format!("error decoding YAML: {why}")))?;
        applied = checked_body(rt, applied)?;
        self.check_fields(rt, &mut applied, how, Via::Apply)?;
        match name_of(&applied) {
            Some(given) if given != name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({given}) does not match the name on the URL ({name})"
                )));
            }
            Some(_) => {}
            None => {
                metadata_mut(&mut applied).insert("name".into(), json!(name));
            }
        }
        let key = ObjectKey::new(rt, namespace, name);
        let Some(entry) = self.objects.get(&key) else {
            if part == Part::Status {
                return Err(ApiError::not_found(rt, name));
            }
            let owned = FieldSet::of(&applied, !rt.status);
            let written = self.create_owned(rt, namespace, applied.clone(), how, Some(owned))?;
            if !dry_run && let Some(entry) = self.objects.get_mut(&key) {
                entry.applied.insert(manager.to_owned(), applied);
                self.dirty = true;
            }
            return Ok(written);
        };
        let existing = present(rt, &entry.object);
        let owned = FieldSet::of(&applied, !rt.status);
        let conflicts = managed::conflicts(&existing, &applied, &owned, &how.writer);
        if !conflicts.is_empty() && !how.force {
            return Err(ApiError::apply_conflicts(&conflicts));
        }
        let merged = patch::apply(&existing, entry.applied.get(manager), &applied);
        let written = self.replace(rt, namespace, name, merged, part, how, Some(owned))?;
        if !dry_run
            && let Some(entry) = self.objects.get_mut(&key)
            && entry.applied.get(manager) != Some(&applied)
        {
            entry.applied.insert(manager.to_owned(), applied);
            self.dirty = true;
        }
        Ok(written)
    }

    /// DELETE: removes an object and what depends on it; returns it.
    pub(crate) fn delete(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
        dry_run: bool,
    ) -> ApiResult<Value> {
        let key = ObjectKey::new(rt, namespace, name);
        let Some(entry) = self.objects.get(&key) else {
            return Err(ApiError::not_found(rt, name));
        };
        let meta = |field: &str| {
            entry
                .object
                .pointer(&format!("/metadata/{field}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        if let Some(uid) = &options.uid
            && *uid != meta("uid")
        {
            return Err(ApiError::conflict(
                rt,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta("uid")
                ),
            ));
        }
        if let Some(rv) = &options.resource_version
            && *rv != meta("resourceVersion")
        {
            return Err(ApiError::conflict(
                rt,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta("resourceVersion")
                ),
            ));
        }
        if dry_run {
            return Ok(present(rt, &entry.object));
        }
        let is_namespace = key.group.is_empty() && key.plural == "namespaces";
        if is_namespace || has_finalizers(&entry.object) {
            // NB: the object stays, marked, until its finalizers are gone; a
            // Namespace is Terminating until everything in it is gone.
            let marked = self.mark_deleting(&key);
            if is_namespace {
                self.finish_namespaces();
            }
            return marked
                .map(|object| present(rt, &object))
                .ok_or_else(|| ApiError::not_found(rt, name));
        }
        let dependents = self.dependents(&key, options.orphan);
        for dependent in dependents {
            self.remove(&dependent);
        }
        let removed = self
            .remove(&key)
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        Ok(present(rt, &removed))
    }

    /// DELETE on a collection: removes every matching object; returns them as a list.
    pub(crate) fn delete_collection(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        selectors: &Selectors,
        options: &DeleteOptions,
        dry_run: bool,
    ) -> ApiResult<Value> {
        let mut deleted = Vec::new();
        for (key, _) in self.matching(rt, namespace, selectors) {
            // NB: a cascade from an earlier item may already have removed this one.
            if !self.objects.contains_key(&key) {
                continue;
            }
            let ns = (!key.namespace.is_empty()).then_some(key.namespace.as_str());
            deleted.push(self.delete(rt, ns, &key.name, options, dry_run)?);
        }
        let metadata = json!({ "resourceVersion": self.resource_version.to_string() });
        Ok(list_object(rt, metadata, deleted))
    }

    /// Sets an object's status from inside the sandbox (workload readiness), if the
    /// object still has this uid and generation and the status differs.
    pub(crate) fn set_status(
        &mut self,
        key: &ObjectKey,
        uid: &str,
        generation: u64,
        status: Value,
    ) -> bool {
        let Some(entry) = self.objects.get(key) else {
            return false;
        };
        let object = &entry.object;
        let same = object.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid)
            && object
                .pointer("/metadata/generation")
                .and_then(Value::as_u64)
                == Some(generation);
        if !same || object.get("status") == Some(&status) {
            return false;
        }
        let mut next = object.clone();
        next["status"] = status;
        self.commit(key.clone(), next, EventType::Modified);
        true
    }

    /// Creates an object from inside the sandbox (default namespaces, nodes) if absent.
    pub(crate) fn ensure(&mut self, group: &str, plural: &str, object: Value) -> ApiResult<()> {
        let Some(rt) = self.kinds.any_version(group, plural).cloned() else {
            return Err(ApiError::no_route());
        };
        let name = name_of(&object).unwrap_or_default();
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if self
            .objects
            .contains_key(&ObjectKey::new(&rt, namespace.as_deref(), &name))
        {
            return Ok(());
        }
        let status = object.get("status").cloned();
        self.create(
            &rt,
            namespace.as_deref(),
            object,
            &WriteOptions::by("kube-apiserver"),
        )?;
        // NB: system objects (nodes) come with a status that a client create would drop.
        if let Some(status) = status {
            let key = ObjectKey::new(&rt, namespace.as_deref(), &name);
            if let Some(entry) = self.objects.get(&key) {
                let mut next = entry.object.clone();
                next["status"] = status;
                self.commit(key, next, EventType::Modified);
            }
        }
        Ok(())
    }

    /// Finds the fields of `object` its kind does not declare: refuses the
    /// write under Strict validation (and always for an apply, which cannot
    /// build a typed patch from them), else drops them; returns the warnings.
    fn check_fields(
        &self,
        rt: &ResourceType,
        object: &mut Value,
        how: &WriteOptions,
        via: Via,
    ) -> ApiResult<Vec<String>> {
        let crd = self
            .objects
            .iter()
            .filter(|(key, _)| key.is_crd())
            .map(|(_, entry)| &entry.object)
            .find(|crd| {
                crd.pointer("/spec/group").and_then(Value::as_str) == Some(rt.group.as_str())
                    && crd.pointer("/spec/names/plural").and_then(Value::as_str)
                        == Some(rt.plural.as_str())
            });
        let mut unknown = schema::unknown_fields(rt, crd, object);
        if unknown.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = unknown.iter().map(|f| f.decoded.clone()).collect();
        match (via, how.validation) {
            (Via::Apply, _) => {
                schema::name_for_apply(&mut unknown, object);
                let namespace = object
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let name = name_of(object).unwrap_or_default();
                Err(ApiError::undeclared_field(
                    rt,
                    namespace,
                    &name,
                    &unknown[0].applied,
                ))
            }
            (Via::Body, FieldValidation::Strict) => Err(ApiError::unknown_fields(rt, &names)),
            (Via::Patch, FieldValidation::Strict) => {
                Err(ApiError::unknown_fields_in_patch(object, &names))
            }
            (_, validation) => {
                schema::drop_fields(object, &unknown);
                Ok(if validation == FieldValidation::Warn {
                    names
                        .iter()
                        .map(|name| format!("unknown field \"{name}\""))
                        .collect()
                } else {
                    Vec::new()
                })
            }
        }
    }

    /// Checks the namespace of a new object against the URL and that it exists;
    /// returns the namespace (None when cluster-scoped).
    fn place(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        object: &mut Value,
    ) -> ApiResult<Option<String>> {
        let metadata = metadata_mut(object);
        if !rt.namespaced {
            metadata.remove("namespace");
            return Ok(None);
        }
        let Some(namespace) = namespace else {
            return Err(ApiError::no_route());
        };
        match metadata.get("namespace").and_then(Value::as_str) {
            Some(given) if !given.is_empty() && given != namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {
                metadata.insert("namespace".into(), json!(namespace));
            }
        }
        if !self.namespace_exists(namespace) {
            return Err(ApiError::namespace_not_found(namespace));
        }
        let terminating = self
            .objects
            .get(&ObjectKey::namespace_object(namespace))
            .is_some_and(|entry| is_deleting(&entry.object));
        if terminating {
            let name = name_of(object).unwrap_or_default();
            return Err(ApiError::namespace_terminating(rt, &name, namespace));
        }
        Ok(Some(namespace.to_owned()))
    }

    /// The update path shared by PUT, PATCH and apply; `applied` is what an apply owns.
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        mut body: Value,
        part: Part,
        how: &WriteOptions,
        applied: Option<FieldSet>,
    ) -> ApiResult<Written> {
        let dry_run = how.dry_run;
        if rt.namespaced && namespace.is_none() {
            return Err(ApiError::no_route());
        }
        match name_of(&body) {
            Some(given) if given != name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({given}) does not match the name on the URL ({name})"
                )));
            }
            Some(_) => {}
            None => {
                metadata_mut(&mut body).insert("name".into(), json!(name));
            }
        }
        if rt.namespaced {
            let given = body.pointer("/metadata/namespace").and_then(Value::as_str);
            if given.is_some_and(|given| !given.is_empty() && Some(given) != namespace) {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        let key = ObjectKey::new(rt, namespace, name);
        let Some(entry) = self.objects.get(&key) else {
            return Err(ApiError::not_found(rt, name));
        };
        let existing = &entry.object;
        let existing_meta = |field: &str| existing.pointer(&format!("/metadata/{field}")).cloned();
        let given_rv = body
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|rv| !rv.is_empty());
        if let Some(given) = given_rv
            && Some(json!(given)) != existing_meta("resourceVersion")
        {
            return Err(ApiError::conflict(
                rt,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        let given_uid = body
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .filter(|uid| !uid.is_empty());
        if let Some(given) = given_uid
            && Some(json!(given)) != existing_meta("uid")
        {
            return Err(ApiError::conflict(
                rt,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {given}, UID in object meta: {}",
                    existing_meta("uid").unwrap_or_default()
                ),
            ));
        }
        let mut next = match part {
            Part::Main => {
                let mut next = body;
                if rt.status {
                    set_or_remove(&mut next, "status", existing.get("status").cloned());
                }
                next
            }
            Part::Status => {
                let mut next = existing.clone();
                set_or_remove(&mut next, "status", body.get("status").cloned());
                next
            }
        };
        {
            let metadata = metadata_mut(&mut next);
            metadata.remove("managedFields");
            for field in [
                "uid",
                "creationTimestamp",
                "resourceVersion",
                "namespace",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                match existing_meta(field) {
                    Some(value) => metadata.insert(field.into(), value),
                    None => metadata.remove(field),
                };
            }
        }
        let rule = generation_of(rt);
        let generation = existing_meta("generation")
            .and_then(|g| g.as_u64())
            .unwrap_or(1);
        let annotations = |object: &Value| object.pointer("/metadata/annotations").cloned();
        let changed = spec_part(&next) != spec_part(existing)
            || rule == Generation::SpecAndAnnotations
                && annotations(&next) != annotations(existing);
        if rule == Generation::None {
            metadata_mut(&mut next).remove("generation");
        } else {
            let generation = if changed { generation + 1 } else { generation };
            metadata_mut(&mut next).insert("generation".into(), json!(generation));
        }
        if let Some(map) = next.as_object_mut() {
            // NB: stored objects keep the apiVersion they were written with.
            for field in ["apiVersion", "kind"] {
                if let Some(value) = existing.get(field) {
                    map.insert(field.into(), value.clone());
                }
            }
        }
        defaults(rt, &mut next).map_err(|why| ApiError::invalid(rt, name, &why))?;
        let mut unmanaged = existing.clone();
        managed::strip(&mut unmanaged);
        if next == unmanaged {
            // NB: a no-op write gets no new resourceVersion and no watch event, like the real server.
            return Ok(Written {
                object: present(rt, existing),
                created: false,
                warnings: Vec::new(),
            });
        }
        match part {
            Part::Main => managed::record(
                Some(existing),
                &mut next,
                &how.writer,
                &rt.api_version(),
                applied,
                !rt.status,
                &now(),
            ),
            Part::Status => {
                if let Some(fields) = existing.pointer("/metadata/managedFields") {
                    metadata_mut(&mut next).insert("managedFields".into(), fields.clone());
                }
            }
        }
        if dry_run {
            return Ok(Written {
                object: present(rt, &next),
                created: false,
                warnings: Vec::new(),
            });
        }
        let stored = self.commit(key.clone(), next, EventType::Modified);
        if is_deleting(&stored) && !has_finalizers(&stored) {
            // NB: its last finalizer is gone: deletion completes.
            self.remove(&key);
            self.finish_namespaces();
        }
        Ok(Written {
            object: present(rt, &stored),
            created: false,
            warnings: Vec::new(),
        })
    }

    /// Stores (or replaces) an object with a new resourceVersion and records the event.
    fn commit(&mut self, key: ObjectKey, mut object: Value, kind: EventType) -> Value {
        self.resource_version += 1;
        let rv = self.resource_version;
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv.to_string()));
        let applied = self
            .objects
            .remove(&key)
            .map(|entry| entry.applied)
            .unwrap_or_default();
        self.objects.insert(
            key.clone(),
            Entry {
                object: object.clone(),
                applied,
            },
        );
        let is_crd = key.is_crd();
        self.record(key, kind, object.clone());
        if is_crd {
            self.refresh_kinds();
        }
        object
    }

    /// Removes an object with a new resourceVersion and records the event.
    fn remove(&mut self, key: &ObjectKey) -> Option<Value> {
        let mut object = self.objects.remove(key)?.object;
        self.resource_version += 1;
        let rv = self.resource_version;
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv.to_string()));
        self.record(key.clone(), EventType::Deleted, object.clone());
        if key.is_crd() {
            self.refresh_kinds();
        }
        Some(object)
    }

    fn record(&mut self, key: ObjectKey, kind: EventType, object: Value) {
        self.dirty = true;
        self.events.push_back(Event {
            resource_version: self.resource_version,
            key,
            kind,
            object,
        });
        while self.events.len() > MAX_EVENTS {
            if let Some(dropped) = self.events.pop_front() {
                self.history_floor = dropped.resource_version;
            }
        }
        self.notify.send_replace(self.resource_version);
    }

    fn refresh_kinds(&mut self) {
        let crds: Vec<&Value> = self
            .objects
            .iter()
            .filter(|(key, _)| key.is_crd())
            .map(|(_, entry)| &entry.object)
            .collect();
        self.kinds.set_custom(crds.into_iter());
    }
}

/// The object as a client sees it: apiVersion/kind of the request's version.
pub(crate) fn present(rt: &ResourceType, object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(rt.api_version()));
        map.insert("kind".into(), json!(rt.kind));
    }
    object
}

/// A `<Kind>List` object.
pub(crate) fn list_object(rt: &ResourceType, metadata: Value, items: Vec<Value>) -> Value {
    json!({
        "apiVersion": rt.api_version(),
        "kind": format!("{}List", rt.kind),
        "metadata": metadata,
        "items": items,
    })
}

/// A request body, checked: an object whose kind/apiVersion (if given) match the URL.
fn checked_body(rt: &ResourceType, body: Value) -> ApiResult<Value> {
    let name = name_of(&body).unwrap_or_default();
    let Value::Object(mut map) = body else {
        return Err(ApiError::invalid(
            rt,
            &name,
            "the body must be a JSON object",
        ));
    };
    match map.get("kind") {
        Some(Value::String(kind)) if *kind == rt.kind => {}
        None => {
            map.insert("kind".into(), json!(rt.kind));
        }
        Some(Value::String(other)) => {
            return Err(ApiError::bad_request(format!(
                "{other} in version \"{version}\" cannot be handled as a {kind}: converting ({version}.{other}) to ({internal}.{kind}): unknown conversion",
                version = rt.version,
                kind = rt.kind,
                internal = if rt.group.is_empty() {
                    "core"
                } else {
                    rt.group.split('.').next().unwrap_or_default()
                },
            )));
        }
        Some(other) => {
            return Err(ApiError::invalid(
                rt,
                &name,
                &format!("kind: Invalid value: {other}: must be {}", rt.kind),
            ));
        }
    }
    match map.get("apiVersion") {
        Some(Value::String(version)) if *version == rt.api_version() => {}
        None => {
            map.insert("apiVersion".into(), json!(rt.api_version()));
        }
        Some(Value::String(other)) => {
            return Err(ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: no kind \"{kind}\" is registered for version \"{other}\"",
                version = rt.version,
                kind = rt.kind,
            )));
        }
        Some(other) => {
            return Err(ApiError::invalid(
                rt,
                &name,
                &format!(
                    "apiVersion: Invalid value: {other}: must be {}",
                    rt.api_version()
                ),
            ));
        }
    }
    match map.get("metadata") {
        None | Some(Value::Null) => {
            map.insert("metadata".into(), json!({}));
        }
        Some(Value::Object(_)) => {}
        Some(_) => return Err(ApiError::invalid(rt, &name, "metadata: must be an object")),
    }
    Ok(Value::Object(map))
}

fn name_of(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// `metadata` as a map, created when missing (bodies are checked to be objects first).
fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    match object.get_mut("metadata") {
        Some(Value::Object(map)) => map,
        // NB: unreachable: the lines above made it an object.
        _ => unreachable!("metadata was just made an object"),
    }
}

fn set_or_remove(object: &mut Value, field: &str, value: Option<Value>) {
    if let Some(map) = object.as_object_mut() {
        match value {
            Some(value) => map.insert(field.into(), value),
            None => map.remove(field),
        };
    }
}

/// Now, as Kubernetes writes timestamps (RFC 3339, UTC, seconds).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::LabelSelector;

    fn store() -> Store {
        let mut store = Store::new(None);
        store
            .ensure(
                "",
                "namespaces",
                json!({ "metadata": { "name": "default" } }),
            )
            .unwrap();
        store
    }

    fn rt(store: &Store, group: &str, plural: &str) -> ResourceType {
        store.kinds().any_version(group, plural).unwrap().clone()
    }

    fn config_map(name: &str, labels: Value) -> Value {
        json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": name, "labels": labels }, "data": { "k": "v" } })
    }

    #[test]
    fn create_sets_server_metadata_and_bumps_resource_version() {
        let mut store = store();
        let cm = rt(&store, "", "configmaps");
        let before = store.resource_version();
        let written = store
            .create(
                &cm,
                Some("default"),
                config_map("a", json!({})),
                &WriteOptions::by("test"),
            )
            .unwrap();
        assert!(written.created);
        let meta = &written.object["metadata"];
        assert_eq!(meta["namespace"], "default");
        assert_eq!(
            meta.get("generation"),
            None,
            "a ConfigMap has no generation"
        );
        assert_eq!(meta["resourceVersion"], (before + 1).to_string());
        assert!(meta["uid"].as_str().unwrap().len() > 30);
        assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn create_in_a_missing_namespace_is_not_found() {
        let mut store = store();
        let cm = rt(&store, "", "configmaps");
        let error = store
            .create(
                &cm,
                Some("nope"),
                config_map("a", json!({})),
                &WriteOptions::by("test"),
            )
            .unwrap_err();
        assert_eq!(error.code, 404);
        assert!(error.message.contains("namespaces \"nope\""));
    }

    #[test]
    fn generation_counts_spec_changes_only() {
        let mut store = store();
        let sets = rt(&store, "apps", "statefulsets");
        let set = |labels: Value, replicas: u32| json!({ "metadata": { "name": "a", "labels": labels }, "spec": { "replicas": replicas } });
        store
            .create(
                &sets,
                Some("default"),
                set(json!({}), 1),
                &WriteOptions::by("test"),
            )
            .unwrap();
        let labelled = store
            .update(
                &sets,
                Some("default"),
                "a",
                set(json!({ "x": "1" }), 1),
                Part::Main,
                &WriteOptions::by("test"),
            )
            .unwrap();
        assert_eq!(labelled.object["metadata"]["generation"], 1);
        let changed = store
            .update(
                &sets,
                Some("default"),
                "a",
                set(json!({ "x": "1" }), 2),
                Part::Main,
                &WriteOptions::by("test"),
            )
            .unwrap();
        assert_eq!(changed.object["metadata"]["generation"], 2);
    }

    #[test]
    fn stale_resource_version_conflicts_and_noop_keeps_version() {
        let mut store = store();
        let cm = rt(&store, "", "configmaps");
        let created = store
            .create(
                &cm,
                Some("default"),
                config_map("a", json!({})),
                &WriteOptions::by("test"),
            )
            .unwrap()
            .object;
        let same = store
            .update(
                &cm,
                Some("default"),
                "a",
                created.clone(),
                Part::Main,
                &WriteOptions::by("test"),
            )
            .unwrap();
        assert_eq!(
            same.object["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"]
        );
        let mut stale = created.clone();
        stale["metadata"]["resourceVersion"] = json!("1");
        stale["data"]["k"] = json!("w");
        let error = store
            .update(
                &cm,
                Some("default"),
                "a",
                stale,
                Part::Main,
                &WriteOptions::by("test"),
            )
            .unwrap_err();
        assert_eq!(error.code, 409);
        assert_eq!(error.reason, "Conflict");
    }

    #[test]
    fn lists_page_with_continue_tokens() {
        let mut store = store();
        let cm = rt(&store, "", "configmaps");
        for name in ["c", "a", "b"] {
            store
                .create(
                    &cm,
                    Some("default"),
                    config_map(name, json!({ "app": name })),
                    &WriteOptions::by("test"),
                )
                .unwrap();
        }
        let all = Selectors::default();
        let page = |token: Option<String>| Page {
            limit: Some(2),
            continue_token: token,
        };
        let first = store.list(&cm, Some("default"), &all, &page(None)).unwrap();
        let names: Vec<&str> = first["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(first["kind"], "ConfigMapList");
        let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
        let second = store
            .list(&cm, Some("default"), &all, &page(Some(token)))
            .unwrap();
        assert_eq!(second["items"].as_array().unwrap().len(), 1);
        assert!(second["metadata"].get("continue").is_none());
        assert_eq!(
            store
                .list(&cm, None, &all, &page(Some("zz".into())))
                .unwrap_err()
                .code,
            400
        );
        let selected = Selectors {
            labels: LabelSelector::parse("app in (a,c)").unwrap(),
            ..Selectors::default()
        };
        let listed = store.list(&cm, None, &selected, &Page::default()).unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn deleting_a_namespace_deletes_its_objects() {
        let mut store = store();
        let ns = rt(&store, "", "namespaces");
        let cm = rt(&store, "", "configmaps");
        store
            .create(
                &ns,
                None,
                json!({ "metadata": { "name": "shop" } }),
                &WriteOptions::by("test"),
            )
            .unwrap();
        store
            .create(
                &cm,
                Some("shop"),
                config_map("a", json!({})),
                &WriteOptions::by("test"),
            )
            .unwrap();
        let rv = store.resource_version();
        store
            .delete(&ns, None, "shop", &DeleteOptions::default(), false)
            .unwrap();
        assert_eq!(store.get(&cm, Some("shop"), "a").unwrap_err().code, 404);
        let events: Vec<(EventType, String)> = store
            .events_since(rv)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.key.name))
            .collect();
        assert_eq!(
            events,
            [
                (EventType::Modified, "shop".to_owned()),
                (EventType::Deleted, "a".to_owned()),
                (EventType::Deleted, "shop".to_owned()),
            ],
            "the namespace is Terminating, then its objects go, then it"
        );
    }

    #[test]
    fn dry_runs_change_nothing() {
        let mut store = store();
        let cm = rt(&store, "", "configmaps");
        let rv = store.resource_version();
        let written = store
            .create(
                &cm,
                Some("default"),
                config_map("a", json!({})),
                &WriteOptions::by("test").dry(),
            )
            .unwrap();
        assert_eq!(written.object["metadata"]["name"], "a");
        assert_eq!(store.resource_version(), rv);
        assert_eq!(store.get(&cm, Some("default"), "a").unwrap_err().code, 404);
    }

    #[test]
    fn status_subresource_separates_status_from_spec() {
        let mut store = store();
        let deploy = rt(&store, "apps", "deployments");
        let body = json!({ "metadata": { "name": "web" }, "spec": { "replicas": 2 }, "status": { "replicas": 9 } });
        let created = store
            .create(&deploy, Some("default"), body, &WriteOptions::by("test"))
            .unwrap()
            .object;
        assert!(created.get("status").is_none());
        let status = json!({ "metadata": { "name": "web" }, "spec": { "replicas": 7 }, "status": { "readyReplicas": 2 } });
        let updated = store
            .update(
                &deploy,
                Some("default"),
                "web",
                status,
                Part::Status,
                &WriteOptions::by("test"),
            )
            .unwrap()
            .object;
        assert_eq!(updated["status"]["readyReplicas"], 2);
        assert_eq!(updated["spec"]["replicas"], 2);
        let main = json!({ "metadata": { "name": "web" }, "spec": { "replicas": 3 } });
        let updated = store
            .update(
                &deploy,
                Some("default"),
                "web",
                main,
                Part::Main,
                &WriteOptions::by("test"),
            )
            .unwrap()
            .object;
        assert_eq!(updated["status"]["readyReplicas"], 2);
        assert_eq!(updated["metadata"]["generation"], 2);
    }

    #[test]
    fn continue_tokens_round_trip() {
        let token = encode_continue("shop", "web-1");
        assert_eq!(
            decode_continue(&token).unwrap(),
            ("shop".to_owned(), "web-1".to_owned())
        );
        assert!(decode_continue("not hex").is_err());
    }

    #[test]
    fn names_are_validated_per_kind() {
        let store = store();
        let cm = rt(&store, "", "configmaps");
        let role = rt(&store, "rbac.authorization.k8s.io", "clusterroles");
        assert!(validate_name(&cm, "web.example-1").is_ok());
        assert!(validate_name(&cm, "Web").is_err());
        assert!(validate_name(&role, "system:view").is_ok());
        let long = "a".repeat(80);
        let secrets = rt(&store, "", "secrets");
        let namespaces = rt(&store, "", "namespaces");
        assert!(
            validate_name(&secrets, &long).is_ok(),
            "a subdomain has no 63-character limit per part"
        );
        assert_eq!(validate_name(&namespaces, &long).unwrap_err().len(), 2);
        assert!(validate_name(&secrets, &"a".repeat(254)).is_err());
    }
}
