//! The timeline: what happened in the cluster and in bi, kept in the
//! database, searchable by battery, project, kind and text.
//!
//! While the `timeline` battery is installed, the [`Recorder`] keeps:
//! - the cluster's Events (from the cluster cache's watch of `v1/Event`),
//!   one row per Event however often it repeats (its count and time follow);
//! - bi's own: each stored change (one entry per battery, object or project
//!   it touched, with who made it), each snapshot that wrote or failed,
//!   drift found, deletions (bi's and anyone's) and undeletes.
//!
//! Entries are kept for the battery's `retention` (pruned every
//! [`PRUNE_EVERY`]); once the battery is removed nothing new is recorded
//! and what was recorded is pruned after [`DEFAULT_RETENTION`].
//!
//! The recorder also archives managed objects deleted outside bi (see
//! [`crate::archive`]): it watches every kind bi generates or last applied,
//! whether or not the timeline battery is installed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::events::{Event, EventEnvelope, ResourceState};
use bi_model::generate::{DesiredState, ResourcePath};
use bi_model::objects::ObjectKind;
use bi_model::units::Duration;
use chrono::{DateTime, Utc};
use kube::api::DynamicObject;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::archive::Archive;
use crate::cache::{Cache, CachedKind, Change, Generated};
use crate::db::Database;
use crate::engine::Engine;
use crate::entities::timeline_event::{self, Entity as TimelineEvent};
use crate::error::{Error, Result, db_error};

pub use bi_api::timeline::{CATEGORIES, TimelineEntry, TimelinePage, TimelineQuery};

/// How often old entries are pruned and the watched kinds looked at again.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
/// How long entries are kept once the `timeline` battery is removed.
pub const DEFAULT_RETENTION: Duration = Duration::hours(24 * 30);
/// Entries a page holds when the query does not say.
pub const PAGE: u64 = 100;
/// Entries a page holds at most.
pub const PAGE_MAX: u64 = 500;

/// The kind of the cluster's Events.
fn event_kind() -> CachedKind {
    CachedKind::new("v1", "Event")
}

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Entry {
    key: Option<String>,
    at: DateTime<Utc>,
    source: &'static str,
    category: &'static str,
    warning: bool,
    app: Option<String>,
    battery: Option<String>,
    project: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    reason: String,
    message: String,
    count: i32,
}

impl Entry {
    /// bi's entry of `category` (one of [`CATEGORIES`]), now.
    pub fn bi(category: &'static str, reason: &str) -> Self {
        Self {
            key: None,
            at: Utc::now(),
            source: "bi",
            category,
            warning: false,
            app: None,
            battery: None,
            project: None,
            kind: None,
            namespace: None,
            name: None,
            reason: reason.to_owned(),
            message: String::new(),
            count: 1,
        }
    }

    /// bi's entry about the object at `path` of battery or object `app`.
    pub fn about(path: &ResourcePath, app: &str, category: &'static str, reason: &str) -> Self {
        let mut entry = Self::bi(category, reason);
        entry.kind = Some(path.kind.clone());
        entry.namespace.clone_from(&path.namespace);
        entry.name = Some(path.name.clone());
        if !app.is_empty() {
            entry.app = Some(app.to_owned());
        }
        entry
    }

    /// With `message`.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Marked a warning.
    pub fn warning(mut self) -> Self {
        self.warning = true;
        self
    }

    /// About battery `battery` (and project `project`).
    fn owned_by(mut self, battery: Option<String>, project: Option<String>) -> Self {
        self.battery = battery;
        self.project = project;
        self
    }
}

/// How long entries are kept while the `timeline` battery is installed;
/// None when it is not (nothing is recorded).
pub fn retention(generated: &Generated) -> Option<Duration> {
    match generated.state.batteries.get(&BatteryKind::Timeline) {
        Some(BatteryConfig::Timeline(config)) => Some(config.retention),
        _ => None,
    }
}

/// Records `entry` when the `timeline` battery is installed; a failure is
/// logged (the timeline never stops what it records).
pub async fn note(db: &Database, cache: &Cache, entry: Entry) {
    let result = async {
        let generated = cache.generated(db).await?;
        if retention(&generated).is_none() {
            return Ok(());
        }
        insert(db, &Owners::of(&generated.state), entry).await
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, "timeline: could not record an entry");
    }
}

/// Who a `battery/app` belongs to: its battery and project.
#[derive(Debug, Default)]
pub struct Owners {
    objects: HashMap<String, (String, Option<String>)>,
}

impl Owners {
    /// The owners of the apps of `state`.
    pub fn of(state: &DesiredState) -> Self {
        let objects = crate::operations::projects::every_object(state)
            .into_iter()
            .map(|object| {
                (
                    object.kind.app(&object.name),
                    (object.kind.battery().id().to_owned(), object.project),
                )
            })
            .collect();
        Self { objects }
    }

    /// The battery and project of `app`: a user object's (its project as
    /// the state holds it), a battery's own, or for an object no longer in
    /// the state, the battery its app's prefix names.
    pub fn resolve(&self, app: &str) -> (Option<String>, Option<String>) {
        if let Some((battery, project)) = self.objects.get(app) {
            return (Some(battery.clone()), project.clone());
        }
        if let Ok(kind) = app.parse::<BatteryKind>() {
            return (Some(kind.id().to_owned()), None);
        }
        ObjectKind::ALL
            .iter()
            .find(|kind| app.starts_with(kind.app_prefix()))
            .map_or((None, None), |kind| {
                (Some(kind.battery().id().to_owned()), None)
            })
    }
}

/// Inserts `entry`, its owners resolved; a cluster Event already recorded
/// (same key) has its time, count and message updated instead.
async fn insert(db: &Database, owners: &Owners, mut entry: Entry) -> Result<()> {
    if let Some(app) = entry.app.take()
        && entry.battery.is_none()
    {
        let (battery, project) = owners.resolve(&app);
        entry = entry.owned_by(battery, project);
    }
    if let Some(key) = &entry.key
        && let Some(found) = TimelineEvent::find()
            .filter(timeline_event::Column::Key.eq(key.clone()))
            .one(db.connection())
            .await
            .map_err(db_error("reading the timeline"))?
    {
        if found.count == entry.count && found.message == entry.message && found.at >= entry.at {
            return Ok(());
        }
        let mut active: timeline_event::ActiveModel = found.into();
        active.at = Set(entry.at);
        active.count = Set(entry.count);
        active.message = Set(entry.message);
        active.warning = Set(entry.warning);
        active
            .update(db.connection())
            .await
            .map_err(db_error("updating the timeline"))?;
        db.wrote_timeline();
        return Ok(());
    }
    timeline_event::ActiveModel {
        key: Set(entry.key),
        at: Set(entry.at),
        source: Set(entry.source.to_owned()),
        category: Set(entry.category.to_owned()),
        warning: Set(entry.warning),
        battery: Set(entry.battery),
        project: Set(entry.project),
        kind: Set(entry.kind),
        namespace: Set(entry.namespace),
        name: Set(entry.name),
        reason: Set(entry.reason),
        message: Set(entry.message),
        count: Set(entry.count),
        ..Default::default()
    }
    .insert(db.connection())
    .await
    .map_err(db_error("recording on the timeline"))?;
    db.wrote_timeline();
    Ok(())
}

/// Deletes entries older than `retention`; how many.
pub async fn prune(db: &Database, retention: Duration) -> Result<u64> {
    let millis = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let cutoff = Utc::now() - chrono::Duration::milliseconds(millis);
    let deleted = TimelineEvent::delete_many()
        .filter(timeline_event::Column::At.lt(cutoff))
        .exec(db.connection())
        .await
        .map_err(db_error("pruning the timeline"))?;
    if deleted.rows_affected > 0 {
        db.wrote_timeline();
    }
    Ok(deleted.rows_affected)
}

/// A page of the timeline, newest first, narrowed by `query`. Refused,
/// naming the field, for an unknown category or a limit out of range.
pub async fn query(db: &Database, cache: &Cache, query: &TimelineQuery) -> Result<TimelinePage> {
    let limit = query.limit.unwrap_or(PAGE);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(Error::Invalid(bi_model::FieldError::new(
            "limit",
            bi_model::Rule::Range,
            format!("{limit} entries: a page holds 1 to {PAGE_MAX}"),
        )));
    }
    let mut filter = Condition::all();
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    if let Some(category) = given(&query.category) {
        if !CATEGORIES.contains(&category.as_str()) {
            return Err(Error::Invalid(bi_model::FieldError::new(
                "category",
                bi_model::Rule::Format,
                format!(
                    "\"{category}\" is not a category: one of {}",
                    CATEGORIES.join(", ")
                ),
            )));
        }
        filter = filter.add(timeline_event::Column::Category.eq(category));
    }
    if let Some(battery) = given(&query.battery) {
        filter = filter.add(timeline_event::Column::Battery.eq(battery));
    }
    if let Some(project) = given(&query.project) {
        filter = filter.add(timeline_event::Column::Project.eq(project));
    }
    if let Some(kind) = given(&query.kind) {
        filter = filter.add(timeline_event::Column::Kind.eq(kind));
    }
    if query.warnings {
        filter = filter.add(timeline_event::Column::Warning.eq(true));
    }
    if let Some(before) = query.before {
        filter = filter.add(timeline_event::Column::Id.lt(before));
    }
    if let Some(search) = given(&query.search) {
        let escaped = search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let mut any = Condition::any();
        for column in [
            timeline_event::Column::Reason,
            timeline_event::Column::Message,
            timeline_event::Column::Name,
            timeline_event::Column::Namespace,
        ] {
            any = any.add(
                Expr::expr(Func::lower(Expr::col(column)))
                    .like(LikeExpr::new(pattern.clone()).escape('\\')),
            );
        }
        filter = filter.add(any);
    }
    let mut rows = TimelineEvent::find()
        .filter(filter)
        .order_by_desc(timeline_event::Column::Id)
        .limit(limit + 1)
        .all(db.connection())
        .await
        .map_err(db_error("reading the timeline"))?;
    let next_before = if rows.len() as u64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        rows.last().map(|row| row.id)
    } else {
        None
    };
    let generated = cache.generated(db).await?;
    let retention = retention(&generated);
    Ok(TimelinePage {
        recording: retention.is_some(),
        retention: retention.map(|r| r.to_string()),
        entries: rows.into_iter().map(view).collect(),
        next_before,
    })
}

fn view(row: timeline_event::Model) -> TimelineEntry {
    TimelineEntry {
        id: row.id,
        at: row.at.into(),
        source: row.source,
        category: row.category,
        warning: row.warning,
        battery: row.battery,
        project: row.project,
        kind: row.kind,
        namespace: row.namespace,
        name: row.name,
        reason: row.reason,
        message: row.message,
        count: row.count,
    }
}

/// Where objects of the newest desired state live, to tell what a cluster
/// Event is about: by kind, namespace and name, and the workloads by
/// namespace (a Pod's Event belongs to the Deployment its name extends).
#[derive(Debug, Default)]
struct Index {
    /// The desired-state version it was built from (None: not yet).
    version: Option<i32>,
    apps: HashMap<(String, Option<String>, String), String>,
    workloads: HashMap<String, Vec<(String, String)>>,
}

const WORKLOADS: [&str; 5] = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

impl Index {
    fn of(generated: &Generated) -> Self {
        let mut index = Self {
            version: Some(generated.version),
            ..Self::default()
        };
        for resource in &generated.resources {
            let path = &resource.path;
            index.apps.insert(
                (path.kind.clone(), path.namespace.clone(), path.name.clone()),
                resource.app.clone(),
            );
            if WORKLOADS.contains(&path.kind.as_str())
                && let Some(namespace) = &path.namespace
            {
                index
                    .workloads
                    .entry(namespace.clone())
                    .or_default()
                    .push((path.name.clone(), resource.app.clone()));
            }
        }
        index
    }

    /// The app of the object an Event is about.
    fn app_of(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<String> {
        if let Some(app) = self.apps.get(&(
            kind.to_owned(),
            namespace.map(str::to_owned),
            name.to_owned(),
        )) {
            return Some(app.clone());
        }
        // NB: Pods, ReplicaSets and Jobs a workload makes are named after it.
        self.workloads
            .get(namespace?)?
            .iter()
            .filter(|(workload, _)| {
                name.strip_prefix(workload.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|(workload, _)| workload.len())
            .map(|(_, app)| app.clone())
    }
}

/// A cluster Event as an entry (None when it is not one).
fn cluster_entry(object: &DynamicObject, index: &Index) -> Option<Entry> {
    let text = |pointer: &str| {
        object
            .data
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let key = object.metadata.uid.clone()?;
    let at = ["/lastTimestamp", "/eventTime", "/firstTimestamp"]
        .iter()
        .find_map(|pointer| text(pointer))
        .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
        .map(|at| at.with_timezone(&Utc))
        .or_else(|| {
            let created = object.metadata.creation_timestamp.as_ref()?;
            DateTime::parse_from_rfc3339(&created.0.to_string())
                .ok()
                .map(|at| at.with_timezone(&Utc))
        })
        .unwrap_or_else(Utc::now);
    let count = object
        .data
        .pointer("/count")
        .or_else(|| object.data.pointer("/series/count"))
        .and_then(Value::as_i64)
        .and_then(|count| i32::try_from(count).ok())
        .map_or(1, |count| Ord::max(count, 1));
    let kind = text("/involvedObject/kind");
    let namespace = text("/involvedObject/namespace");
    let name = text("/involvedObject/name");
    let app = match (&kind, &name) {
        (Some(kind), Some(name)) => index.app_of(kind, namespace.as_deref(), name),
        _ => None,
    };
    Some(Entry {
        key: Some(key),
        at,
        source: "cluster",
        category: "event",
        warning: text("/type").as_deref() == Some("Warning"),
        app,
        battery: None,
        project: None,
        kind,
        namespace,
        name,
        reason: text("/reason").unwrap_or_else(|| "Event".to_owned()),
        message: text("/message").unwrap_or_default(),
        count,
    })
}

/// One entry per battery, object and project a stored change touched
/// (`reason`: install, uninstall, configure, create, edit, delete).
fn changes(before: Option<&DesiredState>, after: &DesiredState) -> Vec<Entry> {
    let mut found = Vec::new();
    let empty = BTreeMap::new();
    let old = before.map_or(&empty, |state| &state.batteries);
    for (kind, config) in &after.batteries {
        let reason = match old.get(kind) {
            None => "install",
            Some(was) if was != config => "configure",
            Some(_) => continue,
        };
        found.push(Entry::bi("change", reason).owned_by(Some(kind.id().to_owned()), None));
    }
    for kind in old
        .keys()
        .filter(|kind| !after.batteries.contains_key(kind))
    {
        found.push(Entry::bi("change", "uninstall").owned_by(Some(kind.id().to_owned()), None));
    }
    let objects = |state: Option<&DesiredState>| {
        state
            .map(crate::operations::projects::every_object)
            .unwrap_or_default()
    };
    let get = |state: Option<&DesiredState>, kind, name: &str| {
        state.and_then(|state| crate::operations::projects::get(state, kind, name))
    };
    for object in objects(Some(after)) {
        let reason = match get(before, object.kind, &object.name) {
            None => "create",
            Some(was) if Some(&was) != get(Some(after), object.kind, &object.name).as_ref() => {
                "edit"
            }
            Some(_) => continue,
        };
        let entry = Entry::bi("change", reason)
            .owned_by(Some(object.kind.battery().id().to_owned()), object.project);
        found.push(entry);
    }
    for object in objects(before) {
        if get(Some(after), object.kind, &object.name).is_none() {
            let entry = Entry::bi("change", "delete")
                .owned_by(Some(object.kind.battery().id().to_owned()), object.project);
            found.push(entry);
        }
    }
    let projects = |state: Option<&DesiredState>| -> HashSet<String> {
        state
            .map(|state| state.projects.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default()
    };
    let (was, now) = (projects(before), projects(Some(after)));
    let mut added: Vec<&String> = now.difference(&was).collect();
    added.sort();
    let mut removed: Vec<&String> = was.difference(&now).collect();
    removed.sort();
    for (names, reason) in [(added, "create"), (removed, "delete")] {
        for name in names {
            let entry = Entry::bi("change", reason).owned_by(None, Some(name.clone()));
            found.push(entry);
        }
    }
    found
}

/// Follows the cluster cache and the event bus: records the timeline
/// while the `timeline` battery is installed, and archives managed objects
/// deleted outside bi always.
pub struct Recorder {
    engine: Arc<Engine>,
    bus: broadcast::Receiver<Arc<EventEnvelope>>,
    changes: broadcast::Receiver<Arc<Change>>,
    watched: HashSet<CachedKind>,
    index: Arc<Index>,
    owners: Arc<Owners>,
    retention: Option<Duration>,
    /// The newest desired-state version whose change is on the timeline
    /// (versions published together are each recorded).
    recorded: Option<i32>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("watched", &self.watched.len())
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder over `engine`'s cache, bus and archive, subscribed now
    /// (nothing published after this is missed).
    pub fn new(engine: Arc<Engine>) -> Self {
        let bus = engine.events().subscribe(crate::events::Since::Now).live;
        let changes = engine.cache().changes();
        Self {
            engine,
            bus,
            changes,
            watched: HashSet::new(),
            index: Arc::default(),
            owners: Arc::default(),
            retention: None,
            recorded: None,
        }
    }

    fn db(&self) -> &Database {
        self.engine.database()
    }

    fn archive(&self) -> &Archive {
        self.engine.archive()
    }

    /// Runs until the bus closes.
    pub async fn run(mut self) {
        self.refresh().await;
        self.prune().await;
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                received = self.bus.recv() => match received {
                    Ok(envelope) => self.on_bi(&envelope.event).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "timeline: fell behind the event bus");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                received = self.changes.recv() => match received {
                    Ok(change) => self.on_change(&change).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "timeline: fell behind the cluster's changes");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    self.refresh().await;
                    self.prune().await;
                }
            }
        }
    }

    /// Reads the newest desired state again: whether to record, the index,
    /// and the kinds to watch (every kind bi generates or last applied, and
    /// Events while recording).
    async fn refresh(&mut self) {
        let cache = self.engine.cache().clone();
        let generated = match cache.generated(self.db()).await {
            Ok(generated) => generated,
            Err(err) => {
                tracing::warn!(error = %err, "timeline: cannot read the desired state");
                return;
            }
        };
        self.recorded.get_or_insert(generated.version);
        if self.index.version != Some(generated.version) {
            self.index = Arc::new(Index::of(&generated));
            self.owners = Arc::new(Owners::of(&generated.state));
        }
        let was_recording = self.retention.is_some();
        self.retention = retention(&generated);
        let inventory = crate::engine::inventory(self.db())
            .await
            .unwrap_or_default();
        let mut kinds: Vec<CachedKind> = generated
            .resources
            .iter()
            .map(|resource| &resource.path)
            .chain(&inventory)
            .filter(|path| !bi_model::keycloak::is_keycloak(path))
            .map(CachedKind::of)
            .collect();
        kinds.sort_by_key(ToString::to_string);
        kinds.dedup();
        for kind in kinds {
            if self.watched.insert(kind.clone()) {
                let cache = cache.clone();
                tokio::spawn(async move {
                    cache.read(&kind).await;
                });
            }
        }
        if self.retention.is_some() && !was_recording {
            // NB: Events from before (bi restarted, or the battery was just
            // installed) are recorded once; repeats update their row.
            let listed = cache.read(&event_kind()).await;
            for event in listed.objects {
                self.on_event(&event).await;
            }
        }
    }

    async fn prune(&self) {
        let retention = self.retention.unwrap_or(DEFAULT_RETENTION);
        match prune(self.db(), retention).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "timeline: pruned entries past their retention"),
            Err(err) => tracing::warn!(error = %err, "timeline: cannot prune"),
        }
        match crate::archive::prune(self.db(), retention).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(
                pruned,
                "archive: pruned objects deleted longer ago than the timeline's retention"
            ),
            Err(err) => tracing::warn!(error = %err, "archive: cannot prune"),
        }
    }

    async fn record(&self, entry: Entry) {
        if self.retention.is_none() {
            return;
        }
        if let Err(err) = insert(self.db(), &self.owners, entry).await {
            tracing::warn!(error = %err, "timeline: could not record an entry");
        }
    }

    async fn on_event(&self, event: &DynamicObject) {
        if let Some(entry) = cluster_entry(event, &self.index) {
            self.record(entry).await;
        }
    }

    async fn on_change(&mut self, change: &Change) {
        if change.kind == event_kind() {
            if !change.deleted {
                self.on_event(&change.object).await;
            }
            return;
        }
        if !change.deleted || !crate::archive::is_managed(&change.object) {
            return;
        }
        match self
            .archive()
            .seen_deleted(&change.kind, &change.object)
            .await
        {
            Ok(Some(row)) if row.snapshot_id.is_none() => {
                let Ok(path) = crate::engine::parse_path(&row.path) else {
                    return;
                };
                let entry = Entry::about(&path, &row.app, "deletion", "deleted")
                    .message(format!(
                        "deleted outside bi; its last body is in the archive (bi undelete {})",
                        row.id
                    ))
                    .warning();
                self.record(entry).await;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "timeline: could not archive a deletion"),
        }
    }

    async fn on_bi(&mut self, event: &Event) {
        match event {
            Event::DesiredStateChanged { version } => {
                let from = self.recorded.map_or(*version, |recorded| recorded + 1);
                self.refresh().await;
                for stored in from..=*version {
                    if let Err(err) = self.on_change_stored(stored).await {
                        tracing::warn!(error = %err, "timeline: could not record a change");
                    }
                }
                self.recorded = Some(self.recorded.map_or(*version, |r| Ord::max(r, *version)));
            }
            Event::SnapshotFinished {
                snapshot,
                status,
                counts,
                elapsed_ms,
            } => {
                self.refresh().await;
                if counts.writes() == 0 && counts.failed == 0 && status == "succeeded" {
                    return;
                }
                let mut entry = Entry::bi("snapshot", status).message(format!(
                    "snapshot {snapshot} {status} in {:.1} s: {} created, {} updated, {} deleted, {} failed, {} waiting",
                    *elapsed_ms as f64 / 1000.0,
                    counts.created,
                    counts.updated,
                    counts.deleted,
                    counts.failed,
                    counts.waiting
                ));
                if status != "succeeded" || counts.failed > 0 {
                    entry = entry.warning();
                }
                self.record(entry).await;
            }
            Event::DriftChecked { drifted, .. } => {
                for drift in drifted {
                    let path = &drift.path;
                    let app = self
                        .index
                        .app_of(&path.kind, path.namespace.as_deref(), &path.name)
                        .unwrap_or_default();
                    let entry = Entry::about(&drift.path, &app, "drift", "drifted")
                        .message(format!(
                            "changed behind bi's back: {}",
                            drift.fields.join(", ")
                        ))
                        .warning();
                    self.record(entry).await;
                }
            }
            Event::ResourceApplied {
                snapshot,
                path,
                outcome: ResourceState::Deleted,
                ..
            } => {
                let archived = crate::archive::newest_of(self.db(), &path.to_string())
                    .await
                    .ok()
                    .flatten()
                    .filter(|row| row.snapshot_id == Some(*snapshot));
                let (app, message) = match archived {
                    Some(row) => (
                        row.app,
                        format!(
                            "deleted by snapshot {snapshot} (bi no longer wants it); its last body is in the archive (bi undelete {})",
                            row.id
                        ),
                    ),
                    None => (
                        String::new(),
                        format!("deleted by snapshot {snapshot} (bi no longer wants it)"),
                    ),
                };
                self.record(Entry::about(path, &app, "deletion", "deleted").message(message))
                    .await;
            }
            _ => {}
        }
    }

    /// Entries for the stored change that made `version`.
    async fn on_change_stored(&self, version: i32) -> Result<()> {
        if self.retention.is_none() {
            return Ok(());
        }
        let Some(row) = crate::desired_state::version_row(self.db(), version).await? else {
            return Ok(());
        };
        let after: DesiredState =
            serde_json::from_str(&row.state).map_err(|err| Error::Corrupt {
                what: "desired state version",
                reason: err.to_string(),
            })?;
        let before = crate::desired_state::at_version(self.db(), version - 1).await?;
        let message = format!("{}: {} (version {version})", row.author, row.summary);
        let mut found = changes(before.as_ref(), &after);
        if found.is_empty() {
            found.push(Entry::bi("change", "change"));
        }
        for mut entry in found {
            entry.at = row.created_at;
            self.record(entry.message(message.clone())).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_belongs_to_its_battery_or_its_objects_battery_and_project() {
        let mut state = DesiredState::with_batteries(&[BatteryKind::Redis]).unwrap();
        state.projects.push(bi_model::objects::Project {
            name: "shop".to_owned(),
            description: String::new(),
        });
        state.redis_instances.push(bi_model::generate::Owned {
            project: Some("shop".to_owned()),
            object: bi_model::objects::RedisInstance {
                name: "cache".to_owned(),
                ..bi_model::objects::RedisInstance::default()
            },
        });
        let owners = Owners::of(&state);
        assert_eq!(
            owners.resolve("redis-cache"),
            (Some("redis".to_owned()), Some("shop".to_owned()))
        );
        assert_eq!(
            owners.resolve("grafana"),
            (Some("grafana".to_owned()), None)
        );
        assert_eq!(
            owners.resolve("postgres-gone"),
            (Some("cloudnative_pg".to_owned()), None)
        );
        assert_eq!(owners.resolve("someone-elses"), (None, None));

        let installed =
            DesiredState::with_batteries(&[BatteryKind::Redis, BatteryKind::Timeline]).unwrap();
        let found = changes(Some(&state), &installed);
        let reasons: Vec<(&str, Option<&str>, Option<&str>)> = found
            .iter()
            .map(|entry| {
                (
                    entry.reason.as_str(),
                    entry.battery.as_deref(),
                    entry.project.as_deref(),
                )
            })
            .collect();
        assert!(
            reasons.contains(&("install", Some("timeline"), None)),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("delete", Some("redis"), Some("shop"))),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("delete", None, Some("shop"))),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_pods_event_belongs_to_the_workload_its_name_extends() {
        let mut index = Index::default();
        index.workloads.insert(
            "battery-base".to_owned(),
            vec![
                ("redis".to_owned(), "redis".to_owned()),
                ("redis-operator".to_owned(), "redis-op".to_owned()),
            ],
        );
        let event: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e", "namespace": "battery-base", "uid": "u1"},
            "involvedObject": {"kind": "Pod", "namespace": "battery-base", "name": "redis-operator-5d9f-x2"},
            "reason": "BackOff",
            "message": "Back-off restarting failed container",
            "type": "Warning",
            "count": 4,
            "lastTimestamp": "2026-12-05T10:00:00Z",
        }))
        .unwrap();
        let entry = cluster_entry(&event, &index).unwrap();
        assert_eq!(entry.app.as_deref(), Some("redis-op"));
        assert!(entry.warning);
        assert_eq!(entry.count, 4);
        assert_eq!(entry.key.as_deref(), Some("u1"));
        assert_eq!(entry.at.to_rfc3339(), "2026-12-05T10:00:00+00:00");
        assert_eq!(entry.reason, "BackOff");
    }
}
