//! The cluster cache: what the pages show of the cluster, kept current by
//! watches instead of read from the API server at every request.
//!
//! Each kind a page asks for gets a reflector (kube-runtime's list, then
//! watch, with its bookmarks and re-lists) the first time it is asked for,
//! and keeps it for the life of the process: health, reach, the service
//! pages and the explorer all read the same stores. A kind the cluster does
//! not serve yet (a CRD before its battery is installed) reads as empty and
//! its watch keeps retrying, so it fills once the CRD is there.
//!
//! Requests never wait for the API server, except the first read of a kind,
//! which waits for its first list (at most [`FIRST_LIST`]). Objects are kept
//! without their `managedFields` and last-applied annotation, which pages
//! never show and which make up most of an object's size.
//!
//! The cache also keeps the newest desired state's generated resources
//! (with placeholder secrets), so pages that compare desired and live
//! objects do not run the generator at every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bi_model::catalog::BatteryKind;
use bi_model::generate::{DesiredState, Resource, ResourcePath, Secrets, generate};
use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource as _, ResourceExt};
use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::db::Database;
use crate::desired_state;
use crate::entities::desired_state_version::{self, Entity as Version};
use crate::error::{Error, Result, db_error};

/// The longest the first read of a kind waits for its first list.
pub const FIRST_LIST: Duration = Duration::from_secs(10);

/// How long an absent kind waits before looking again when no CRD changes.
const ABSENT_RETRY: Duration = Duration::from_secs(60);

/// After a CRD changed, how often and how many times a kind asks discovery
/// again before it waits for the next change.
const SOON: Duration = Duration::from_millis(500);
const SOON_TRIES: u32 = 20;

/// How long a kind waits before asking discovery again after it failed.
const DISCOVERY_RETRY: Duration = Duration::from_secs(5);

/// The annotation `kubectl apply` leaves: a second copy of the object.
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A kind of object, as the cache keys it: `apps/v1` + `Deployment`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CachedKind {
    /// `v1`, `apps/v1`, `gateway.networking.k8s.io/v1`, …
    pub api_version: String,
    /// `Deployment`, `HTTPRoute`, …
    pub kind: String,
}

impl CachedKind {
    /// The kind `kind` of `api_version`.
    pub fn new(api_version: &str, kind: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// The kind of the object at `path`.
    pub fn of(path: &ResourcePath) -> Self {
        Self::new(&path.api_version, &path.kind)
    }

    /// The kind's group, version and kind, as discovery takes them.
    pub(crate) fn gvk(&self) -> GroupVersionKind {
        let (group, version) = self
            .api_version
            .split_once('/')
            .unwrap_or(("", self.api_version.as_str()));
        GroupVersionKind::gvk(group, version, &self.kind)
    }

    /// kube's description of the kind (plural guessed as kube does).
    fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk(&self.gvk())
    }
}

impl std::fmt::Display for CachedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.api_version, self.kind)
    }
}

/// Where a kind's watch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchState {
    /// Its first list has not answered yet.
    Listing,
    /// Listed, and watched since.
    Synced,
    /// The cluster does not serve the kind (yet): it reads as empty.
    Absent,
    /// Its first list failed, with why (the watch keeps retrying).
    Failed(String),
}

/// One watched kind.
#[derive(Debug)]
struct Watched {
    store: Store<DynamicObject>,
    state: watch::Receiver<WatchState>,
    task: JoinHandle<()>,
}

/// The cluster cache. Cheap to clone; the watches stop when the last clone
/// is dropped.
#[derive(Debug, Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    client: kube::Client,
    kinds: Mutex<HashMap<CachedKind, Watched>>,
    /// Bumped at every change any watch sees: live views wait on it.
    revision: watch::Sender<u64>,
    /// Objects changed in the cluster since the cache started.
    events: AtomicU64,
    /// Each change a watch sees, for whoever follows them (the timeline).
    changes: broadcast::Sender<Arc<Change>>,
    generated: tokio::sync::Mutex<Option<Arc<Generated>>>,
    /// Bumped when a CustomResourceDefinition changes.
    definitions: watch::Sender<u64>,
    definitions_task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let kinds = self
            .kinds
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for watched in kinds.values() {
            watched.task.abort();
        }
        if let Some(task) = self
            .definitions_task
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

/// The newest desired state and what it generates (placeholder secrets).
#[derive(Debug)]
pub struct Generated {
    /// The desired-state version (0 before the first change).
    pub version: i32,
    /// The desired state.
    pub state: DesiredState,
    /// The installed batteries.
    pub batteries: Vec<BatteryKind>,
    /// Every resource it generates, with placeholder secrets.
    pub resources: Vec<Resource>,
}

/// Changes a follower may fall behind before it is told it lagged.
const CHANGES_CAPACITY: usize = 4_096;

/// One change a watch saw (not the objects of a first list or a re-list).
#[derive(Debug)]
pub struct Change {
    /// The object's kind.
    pub kind: CachedKind,
    /// True when the object was deleted (`object` is its last state).
    pub deleted: bool,
    /// The object.
    pub object: Arc<DynamicObject>,
}

/// A kind's objects as the cache holds them.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Where the kind's watch stands.
    pub state: WatchState,
    /// Its objects (none when absent or failed).
    pub objects: Vec<Arc<DynamicObject>>,
}

impl Cache {
    /// A cache over the cluster behind `client`; nothing is watched until
    /// a kind is first read.
    pub fn new(client: kube::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                kinds: Mutex::new(HashMap::new()),
                revision: watch::channel(0).0,
                events: AtomicU64::new(0),
                changes: broadcast::channel(CHANGES_CAPACITY).0,
                generated: tokio::sync::Mutex::new(None),
                definitions: watch::channel(0).0,
                definitions_task: Mutex::new(None),
            }),
        }
    }

    /// Every change the watches see from now on: objects created, changed
    /// and deleted, in the order each kind's watch saw them. Changes made
    /// while a watch re-lists (after a lost connection) are not told.
    pub fn changes(&self) -> broadcast::Receiver<Arc<Change>> {
        self.inner.changes.subscribe()
    }

    /// The objects of `kind`, starting its watch on first use and waiting
    /// for its first list. Refused ([`Error::Unavailable`]) when the first
    /// list fails or does not answer in time.
    pub async fn list(&self, kind: &CachedKind) -> Result<Vec<Arc<DynamicObject>>> {
        let listed = self.read(kind).await;
        match listed.state {
            WatchState::Synced | WatchState::Absent => Ok(listed.objects),
            WatchState::Listing => Err(Error::Unavailable(format!(
                "the cluster has not listed {kind} within {} s",
                FIRST_LIST.as_secs()
            ))),
            WatchState::Failed(why) => Err(Error::Unavailable(format!(
                "the cluster could not list {kind}: {why}"
            ))),
        }
    }

    /// [`Self::list`], never refused: the state says why a list is empty.
    pub async fn read(&self, kind: &CachedKind) -> Listed {
        let (store, mut state) = self.watched(kind);
        let settled = tokio::time::timeout(
            FIRST_LIST,
            state.wait_for(|state| *state != WatchState::Listing),
        )
        .await
        .ok()
        .and_then(|settled| settled.ok().map(|settled| settled.clone()));
        let state = settled.unwrap_or_else(|| state.borrow().clone());
        let objects = if state == WatchState::Synced {
            store.state()
        } else {
            Vec::new()
        };
        Listed { state, objects }
    }

    /// The object at `path`, if the cluster has it.
    pub async fn get(&self, path: &ResourcePath) -> Result<Option<Arc<DynamicObject>>> {
        let kind = CachedKind::of(path);
        self.list(&kind).await?;
        let (store, _) = self.watched(&kind);
        let mut key = ObjectRef::new_with(&path.name, kind.api_resource());
        key.namespace.clone_from(&path.namespace);
        Ok(store.get(&key))
    }

    /// The kinds watched now and where each stands.
    pub fn watches(&self) -> Vec<(CachedKind, WatchState, usize)> {
        let kinds = self.kinds();
        let mut watches: Vec<_> = kinds
            .iter()
            .map(|(kind, watched)| {
                (
                    kind.clone(),
                    watched.state.borrow().clone(),
                    watched.store.len(),
                )
            })
            .collect();
        watches.sort_by(|a, b| a.0.cmp(&b.0));
        watches
    }

    /// Changes seen since the cache started: a live view re-reads when it moves.
    pub fn revision(&self) -> watch::Receiver<u64> {
        self.inner.revision.subscribe()
    }

    /// Objects changed in the cluster (added, modified, deleted) as the
    /// watches saw them since the cache started.
    pub fn changes_seen(&self) -> u64 {
        self.inner.events.load(Ordering::Relaxed)
    }

    /// The newest desired state and its resources, generated again only
    /// when a newer version was stored.
    pub async fn generated(&self, db: &Database) -> Result<Arc<Generated>> {
        let newest = db
            .shared("desired-state-version", |db| async move {
                Version::find()
                    .select_only()
                    .column(desired_state_version::Column::Version)
                    .order_by_desc(desired_state_version::Column::Version)
                    .into_tuple::<i32>()
                    .one(db.connection())
                    .await
                    .map_err(db_error("reading the newest desired-state version"))
                    .map(|newest| newest.unwrap_or(0))
            })
            .await?;
        let mut memo = self.inner.generated.lock().await;
        if let Some(generated) = memo.as_ref().filter(|g| g.version == newest) {
            return Ok(Arc::clone(generated));
        }
        let (version, state) = desired_state::current(db).await?;
        // NB: pages show specs and secret names; the values stay in the database.
        let resources = generate(&state, Secrets::Preview)
            .map_err(|source| Error::Generation { version, source })?;
        let generated = Arc::new(Generated {
            version,
            batteries: state.batteries.keys().copied().collect(),
            state,
            resources,
        });
        *memo = Some(Arc::clone(&generated));
        Ok(generated)
    }

    fn kinds(&self) -> std::sync::MutexGuard<'_, HashMap<CachedKind, Watched>> {
        self.inner
            .kinds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store and state of `kind`, starting its watch if needed.
    fn watched(&self, kind: &CachedKind) -> (Store<DynamicObject>, watch::Receiver<WatchState>) {
        let mut kinds = self.kinds();
        if let Some(watched) = kinds.get(kind) {
            return (watched.store.clone(), watched.state.clone());
        }
        if kinds.is_empty() {
            // NB: kinds a CRD brings start reading as absent; this watch
            // tells them when to look again.
            let crds: Api<CustomResourceDefinition> = Api::all(self.inner.client.clone());
            let definitions = self.inner.definitions.clone();
            let task = tokio::spawn(async move {
                let stream = watcher(crds, watcher::Config::default()).default_backoff();
                let mut stream = std::pin::pin!(stream);
                while let Some(event) = stream.next().await {
                    if let Ok(
                        watcher::Event::InitDone
                        | watcher::Event::Apply(_)
                        | watcher::Event::Delete(_),
                    ) = event
                    {
                        definitions.send_modify(|r| *r += 1);
                    }
                }
            });
            *self
                .inner
                .definitions_task
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
        }
        let resource = kind.api_resource();
        let writer = reflector::store::Writer::new(resource.clone());
        let store = writer.as_reader();
        let (state_tx, state) = watch::channel(WatchState::Listing);
        let follower = Follower {
            client: self.inner.client.clone(),
            writer,
            state: state_tx,
            revision: self.inner.revision.clone(),
            definitions: self.inner.definitions.subscribe(),
            inner: Arc::downgrade(&self.inner),
            kind: kind.clone(),
        };
        let task = tokio::spawn(follower.follow());
        kinds.insert(
            kind.clone(),
            Watched {
                store: store.clone(),
                state: state.clone(),
                task,
            },
        );
        (store, state)
    }
}

/// The task that keeps one kind's store current.
struct Follower {
    client: kube::Client,
    writer: reflector::store::Writer<DynamicObject>,
    state: watch::Sender<WatchState>,
    revision: watch::Sender<u64>,
    definitions: watch::Receiver<u64>,
    inner: std::sync::Weak<Inner>,
    kind: CachedKind,
}

impl Follower {
    /// Lists and watches the kind for ever; while the cluster does not
    /// serve it, waits for a CRD to change (or [`ABSENT_RETRY`]).
    async fn follow(mut self) {
        let mut soon = 0;
        loop {
            // NB: discovery gives the plural (`redis`, not a guess such as
            // `redises`); a kind not served waits for a CRD to change.
            let resource = match kube::discovery::pinned_kind(&self.client, &self.kind.gvk()).await
            {
                Ok((resource, _)) => resource,
                // NB: a real API server serves a new CRD's kind a moment
                // after the CRD is created (once Established): look again
                // shortly for a while before waiting for the next change.
                Err(err) if crate::engine::is_not_served(&err) && soon > 0 => {
                    soon -= 1;
                    tokio::time::sleep(SOON).await;
                    continue;
                }
                Err(err) if crate::engine::is_not_served(&err) => {
                    if self.absent().await {
                        soon = SOON_TRIES;
                    }
                    continue;
                }
                Err(err) => {
                    self.state.send_replace(WatchState::Failed(err.to_string()));
                    tracing::debug!(kind = %self.kind, error = %err, "cluster cache: discovery failed; retrying");
                    tokio::time::sleep(DISCOVERY_RETRY).await;
                    continue;
                }
            };
            let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
            let stream = watcher(api, watcher::Config::default())
                .default_backoff()
                .modify(|object: &mut DynamicObject| {
                    object.meta_mut().managed_fields = None;
                    object.annotations_mut().remove(LAST_APPLIED);
                });
            let mut stream = std::pin::pin!(stream);
            let mut synced = false;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(event) => {
                        self.writer.apply_watcher_event(&event);
                        let deleted = matches!(event, watcher::Event::Delete(_));
                        match event {
                            watcher::Event::InitDone => {
                                synced = true;
                                self.state.send_replace(WatchState::Synced);
                                self.revision.send_modify(|r| *r += 1);
                            }
                            watcher::Event::Apply(object) | watcher::Event::Delete(object) => {
                                if let Some(inner) = self.inner.upgrade() {
                                    inner.events.fetch_add(1, Ordering::Relaxed);
                                    if inner.changes.receiver_count() > 0 {
                                        // NB: nobody listening is not an error.
                                        let _ = inner.changes.send(Arc::new(Change {
                                            kind: self.kind.clone(),
                                            deleted,
                                            object: Arc::new(object),
                                        }));
                                    }
                                }
                                self.revision.send_modify(|r| *r += 1);
                            }
                            watcher::Event::Init | watcher::Event::InitApply(_) => {}
                        }
                    }
                    Err(err) if not_served(&err) => break,
                    Err(err) => {
                        if !synced {
                            self.state.send_replace(WatchState::Failed(err.to_string()));
                        }
                        tracing::debug!(kind = %self.kind, error = %err, "cluster cache: watch failed; retrying");
                    }
                }
            }
            if self.absent().await {
                soon = SOON_TRIES;
            }
        }
    }

    /// The kind is not served (its CRD is not there, or went away with its
    /// objects): empties the store and waits for a CRD to change; true when
    /// one did (false: the wait timed out).
    async fn absent(&mut self) -> bool {
        self.writer.apply_watcher_event(&watcher::Event::Init);
        self.writer.apply_watcher_event(&watcher::Event::InitDone);
        if *self.state.borrow() != WatchState::Absent {
            self.state.send_replace(WatchState::Absent);
            self.revision.send_modify(|r| *r += 1);
        }
        self.definitions.mark_unchanged();
        matches!(
            tokio::time::timeout(ABSENT_RETRY, self.definitions.changed()).await,
            Ok(Ok(()))
        )
    }
}

/// Whether a watch error says the cluster does not serve the kind.
fn not_served(err: &watcher::Error) -> bool {
    matches!(
        err,
        watcher::Error::InitialListFailed(kube::Error::Api(status))
            | watcher::Error::WatchStartFailed(kube::Error::Api(status))
            | watcher::Error::WatchFailed(kube::Error::Api(status))
            if status.code == 404
    )
}
