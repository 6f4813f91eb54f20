//! Apply: executes a plan in order, stage by stage, with server-side apply
//! under the one field manager `bi`. After the CRD stage it waits until the
//! new definitions are established and served; before writes an admission
//! webhook intercepts, it waits (bounded) until the webhook can answer. A
//! refused object is recorded with the API server's message and holds back
//! only what depends on it ([`Dependents`]): the later stages of the same
//! battery or object, the custom resources of a CRD, the objects of a
//! namespace. Everything else is applied. Within a stage the writes run
//! concurrently, paced by the throttle's adaptive concurrency and retried.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::time::Duration;

use bi_model::events::{Event, ResourceState};
use bi_model::generate::{Action, Plan, PlanItem, Resource, ResourcePath, Stage};
use futures::{StreamExt, stream};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, ValidationDirective};
use kube::discovery::Scope;
use tokio::time::Instant;

use super::keycloak::{self, Target};
use super::kinds::Kinds;
use super::throttle::{EngineSettings, Pacer, with_retries};
use super::webhooks::{self, Webhook, WebhookService, Webhooks};
use crate::events::EventBus;

/// The field manager of every apply.
pub(crate) const FIELD_MANAGER: &str = "bi";
/// How long a new CRD may take to be established and served.
const CRD_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a CRD's readiness is checked.
const CRD_POLL: Duration = Duration::from_millis(100);
/// How often a webhook's Service is checked for a ready endpoint.
const WEBHOOK_POLL: Duration = Duration::from_millis(250);

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It was absent and was applied.
    Created,
    /// It differed and was applied.
    Updated,
    /// It was already as desired: no request was made.
    Unchanged,
    /// It was pruned (or was already gone).
    Deleted,
    /// The cluster refused it; the API server's message.
    Failed(String),
    /// Not applied yet: an admission webhook that intercepts it cannot
    /// answer (named in the message); retried soon.
    Waiting(String),
    /// Not attempted: something it depends on failed (named in the
    /// message); retried with it by the next snapshot.
    HeldBack(String),
}

impl Outcome {
    /// The name stored in `snapshot_resource.outcome`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Deleted => "deleted",
            Self::Failed(_) => "failed",
            Self::Waiting(_) => "waiting",
            Self::HeldBack(_) => "held_back",
        }
    }

    /// The state the live plan viewer shows for it.
    pub fn state(&self) -> ResourceState {
        match self {
            Self::Created => ResourceState::Created,
            Self::Updated => ResourceState::Updated,
            Self::Unchanged => ResourceState::Unchanged,
            Self::Deleted => ResourceState::Deleted,
            Self::Failed(_) => ResourceState::Failed,
            Self::Waiting(_) => ResourceState::Waiting,
            Self::HeldBack(_) => ResourceState::HeldBack,
        }
    }

    /// The API server's message, when the object failed, or the webhook
    /// it waits for.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Failed(message) | Self::Waiting(message) | Self::HeldBack(message) => {
                Some(message)
            }
            _ => None,
        }
    }

    /// Whether the object waits for an admission webhook.
    pub fn is_waiting(&self) -> bool {
        matches!(self, Self::Waiting(_))
    }

    /// Whether the object failed.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed(_))
    }

    /// Whether the object is now in the cluster as desired (it belongs to the inventory).
    pub fn is_applied(&self) -> bool {
        matches!(self, Self::Created | Self::Updated | Self::Unchanged)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(message) => write!(f, "failed: {message}"),
            Self::Waiting(message) => write!(f, "waiting: {message}"),
            Self::HeldBack(message) => write!(f, "held back: {message}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Executes `plan` in its order, paced by `pacer`; one outcome per item,
/// in the same order. `existing` holds the paths the cluster had before the
/// snapshot (which webhook configurations are registered already); the
/// Keycloak stage writes to `keycloak`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply(
    plan: &Plan,
    desired: &[Resource],
    existing: &BTreeSet<ResourcePath>,
    kinds: &mut Kinds,
    keycloak: Option<&Target>,
    settings: &EngineSettings,
    pacer: &Pacer,
    progress: &Progress,
) -> Vec<(PlanItem, Outcome)> {
    let bodies: BTreeMap<&ResourcePath, &Resource> = desired
        .iter()
        .map(|resource| (&resource.path, resource))
        .collect();
    let phase = |item: &PlanItem| (item.action == Action::Delete, item.stage);
    let mut registered: BTreeSet<ResourcePath> = existing
        .iter()
        .filter(|path| webhooks::is_webhook_configuration(path))
        .cloned()
        .collect();
    let mut answering = BTreeMap::new();
    let mut failed = Dependents::default();
    let mut outcomes = Vec::with_capacity(plan.items.len());
    let mut rest = plan.items.as_slice();
    while let Some(first) = rest.first() {
        let current = phase(first);
        let len = rest
            .iter()
            .take_while(|item| phase(item) == current)
            .count();
        let (chunk, tail) = rest.split_at(len);
        rest = tail;
        if chunk.iter().any(|item| item.action.writes()) {
            progress.publish(Event::StageStarted {
                snapshot: progress.snapshot,
                stage: current.1,
                deletions: current.0,
            });
        }

        if current.1 == Stage::Keycloak {
            // NB: what bi keeps in Keycloak needs Keycloak's own objects.
            let decided = chunk
                .iter()
                .map(|item| {
                    if !item.action.writes() {
                        Some(Outcome::Unchanged)
                    } else {
                        failed
                            .holds_back(item)
                            .or_else(|| failed.holds_back_app(item, keycloak::KEYCLOAK_APP))
                            .map(Outcome::HeldBack)
                    }
                })
                .collect();
            let results = keycloak::apply(
                chunk,
                decided,
                &bodies,
                keycloak,
                settings.keycloak_wait,
                progress,
            )
            .await;
            outcomes.extend(chunk.iter().cloned().zip(results));
            continue;
        }

        // NB: types are resolved one by one (discovery is cached and needs
        // `&mut Kinds`); only the writes themselves run concurrently.
        let mut writes = Vec::with_capacity(chunk.len());
        for item in chunk {
            let write = if !item.action.writes() {
                Err(Outcome::Unchanged)
            } else if let Some(reason) = failed.holds_back(item) {
                Err(Outcome::HeldBack(reason))
            } else {
                prepare_write(item, bodies.get(&item.path).copied(), kinds).await
            };
            writes.push(write);
        }
        let webhooks = Webhooks::of(desired, |path| registered.contains(path));
        if !webhooks.is_empty() {
            hold_for_webhooks(
                chunk,
                &mut writes,
                &webhooks,
                &mut answering,
                kinds.client(),
                settings,
            )
            .await;
        }
        // NB: the futures are built before they enter the stream: a stream
        // of closures borrowing the pacer trips rustc's higher-ranked
        // `Send` check (rust-lang/rust#102211) and the task could not spawn.
        let pending: Vec<_> = writes
            .into_iter()
            .enumerate()
            .map(|(index, write)| {
                let item = &chunk[index];
                let report = current != (false, Stage::Crds) && item.action.writes();
                write_one(index, write, item, report, settings, pacer, progress)
            })
            .collect();
        let mut results: Vec<(usize, Outcome)> = stream::iter(pending)
            .buffer_unordered(settings.max_in_flight.max(1))
            .collect()
            .await;
        results.sort_unstable_by_key(|(index, _)| *index);
        let mut results: Vec<Outcome> = results.into_iter().map(|(_, outcome)| outcome).collect();

        if current == (false, Stage::Crds) {
            wait_until_served(chunk, &mut results, kinds).await;
            for (item, outcome) in chunk.iter().zip(&results) {
                if item.action.writes() {
                    progress.applied(&item.path, outcome);
                }
            }
        }
        for (item, outcome) in chunk.iter().zip(&results) {
            if !webhooks::is_webhook_configuration(&item.path) {
                continue;
            }
            match outcome {
                Outcome::Created | Outcome::Updated | Outcome::Unchanged => {
                    registered.insert(item.path.clone());
                }
                Outcome::Deleted => {
                    registered.remove(&item.path);
                }
                Outcome::Failed(_) | Outcome::Waiting(_) | Outcome::HeldBack(_) => {}
            }
        }
        for (item, outcome) in chunk.iter().zip(&results) {
            if outcome.is_failed() {
                failed.record(item, bodies.get(&item.path).copied());
            }
        }
        outcomes.extend(chunk.iter().cloned().zip(results));
    }
    outcomes
}

/// What the failures so far hold back: later writes that depend on a
/// refused object.
#[derive(Debug, Default)]
struct Dependents {
    /// Batteries and user objects with a refused object, and which.
    apps: BTreeMap<String, String>,
    /// `(group, kind)` of refused CRDs, and which.
    types: BTreeMap<(String, String), String>,
    /// Refused namespaces.
    namespaces: BTreeSet<String>,
}

impl Dependents {
    /// Notes that `item` (with `resource`, its body) was refused.
    fn record(&mut self, item: &PlanItem, resource: Option<&Resource>) {
        if item.action == Action::Delete {
            return;
        }
        let path = &item.path;
        if let Some(app) = &item.app {
            self.apps
                .entry(app.clone())
                .or_insert_with(|| path.to_string());
        }
        match path.kind.as_str() {
            "Namespace" if path.group().is_empty() => {
                self.namespaces.insert(path.name.clone());
            }
            "CustomResourceDefinition" => {
                let spec = resource.and_then(|r| r.body.get("spec"));
                let group = spec.and_then(|s| s.get("group")).and_then(|g| g.as_str());
                let kind = spec
                    .and_then(|s| s.pointer("/names/kind"))
                    .and_then(|k| k.as_str());
                if let (Some(group), Some(kind)) = (group, kind) {
                    self.types
                        .insert((group.to_owned(), kind.to_owned()), path.to_string());
                }
            }
            _ => {}
        }
    }

    /// Why `item` is held back, if a failure holds it back.
    // NB: only creates and updates wait; a prune goes on, and objects of
    // the stage that failed were already in flight beside it.
    fn holds_back(&self, item: &PlanItem) -> Option<String> {
        if item.action == Action::Delete {
            return None;
        }
        let path = &item.path;
        if let Some(namespace) = path
            .namespace
            .as_ref()
            .filter(|ns| self.namespaces.contains(*ns))
        {
            return Some(format!("its namespace {namespace} was refused"));
        }
        if let Some(crd) = self
            .types
            .get(&(path.group().to_owned(), path.kind.clone()))
        {
            return Some(format!("its type's definition {crd} was refused"));
        }
        let app = item.app.as_ref()?;
        let refused = self.apps.get(app)?;
        Some(format!("{refused} of {app}, an earlier stage, was refused"))
    }

    /// Why `item` is held back by a refused object of `app`, which it
    /// needs though it is not `app`'s own.
    fn holds_back_app(&self, item: &PlanItem, app: &str) -> Option<String> {
        if item.action == Action::Delete {
            return None;
        }
        let refused = self.apps.get(app)?;
        Some(format!("{refused} of {app}, which it needs, was refused"))
    }
}

/// Turns the writes of `chunk` that a registered webhook intercepts into
/// `Waiting` outcomes when the webhook's Service has no ready endpoint
/// within `settings.webhook_wait` (one wait per Service and snapshot).
async fn hold_for_webhooks(
    chunk: &[PlanItem],
    writes: &mut [Result<Write<'_>, Outcome>],
    webhooks: &Webhooks,
    answering: &mut BTreeMap<WebhookService, bool>,
    client: &kube::Client,
    settings: &EngineSettings,
) {
    let intercepted: Vec<Vec<&Webhook>> = chunk
        .iter()
        .zip(writes.iter())
        .map(|(item, write)| match write {
            Ok(write) => webhooks.intercepting(&write.as_seen_by_webhooks(item)),
            Err(_) => Vec::new(),
        })
        .collect();
    let unknown: BTreeSet<WebhookService> =
        webhooks::services(intercepted.iter().flatten().copied())
            .into_iter()
            .filter(|service| !answering.contains_key(service))
            .collect();
    if !unknown.is_empty() {
        wait_for_services(client, unknown, answering, settings.webhook_wait).await;
    }
    for (write, hooks) in writes.iter_mut().zip(intercepted) {
        let silent = hooks
            .iter()
            .find(|hook| answering.get(hook.service()) != Some(&true));
        if let Some(hook) = silent {
            *write = Err(Outcome::Waiting(format!(
                "waiting for {}: its Service has no ready endpoint after {} s",
                hook.describe(),
                settings.webhook_wait.as_secs()
            )));
        }
    }
}

/// Polls `services` until each has a ready endpoint or `wait` runs out;
/// records which answer in `answering`.
async fn wait_for_services(
    client: &kube::Client,
    mut services: BTreeSet<WebhookService>,
    answering: &mut BTreeMap<WebhookService, bool>,
    wait: Duration,
) {
    let deadline = Instant::now() + wait;
    loop {
        let mut silent = BTreeSet::new();
        for service in services {
            if webhooks::answers(client, &service).await {
                answering.insert(service, true);
            } else {
                silent.insert(service);
            }
        }
        services = silent;
        if services.is_empty() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(WEBHOOK_POLL).await;
    }
    for service in services {
        tracing::info!(
            namespace = service.0,
            name = service.1,
            "a webhook's Service has no ready endpoint: the writes it intercepts wait"
        );
        answering.insert(service, false);
    }
}

/// Where a snapshot's progress goes: the event bus, tagged with its id.
#[derive(Debug)]
pub(crate) struct Progress {
    /// The bus.
    pub(crate) bus: EventBus,
    /// The snapshot applying.
    pub(crate) snapshot: i64,
    /// Where the objects it deletes are kept.
    pub(crate) archive: crate::archive::Archive,
}

impl Progress {
    /// Publishes `event`.
    pub(crate) fn publish(&self, event: Event) {
        self.bus.publish(event);
    }

    /// Publishes that `path` reached `outcome`.
    pub(super) fn applied(&self, path: &ResourcePath, outcome: &Outcome) {
        self.publish(Event::ResourceApplied {
            snapshot: self.snapshot,
            path: path.clone(),
            outcome: outcome.state(),
            message: outcome.message().map(str::to_owned),
        });
    }
}

/// Runs write number `index` (or takes the outcome that ends it) and,
/// when `report`, publishes its outcome.
// NB: CRDs are reported once served, and an unchanged object's outcome is
// already in the plan, so neither is reported here.
async fn write_one(
    index: usize,
    write: Result<Write<'_>, Outcome>,
    item: &PlanItem,
    report: bool,
    settings: &EngineSettings,
    pacer: &Pacer,
    progress: &Progress,
) -> (usize, Outcome) {
    let outcome = match write {
        Ok(write) if item.action == Action::Delete => {
            // NB: the object is read afresh and archived before it goes,
            // as the cluster holds it (bi's own body may be older).
            let before = match write.api.get_opt(write.name).await {
                Ok(Some(object)) => {
                    progress.archive.before_delete(&object, progress.snapshot);
                    Some(object)
                }
                Ok(None) => None,
                Err(err) => {
                    tracing::warn!(path = %item.path, %err, "cannot read an object before deleting it: it is not archived");
                    None
                }
            };
            let outcome = execute(write, settings, pacer).await;
            if let Some(object) = before {
                if matches!(outcome, Outcome::Deleted) {
                    progress
                        .archive
                        .deleted(&item.path, &object, progress.snapshot)
                        .await;
                } else {
                    progress.archive.delete_failed(&object);
                }
            }
            outcome
        }
        Ok(write) => execute(write, settings, pacer).await,
        Err(outcome) => outcome,
    };
    if report {
        progress.applied(&item.path, &outcome);
    }
    (index, outcome)
}

/// One write, ready to send.
struct Write<'a> {
    api: Api<DynamicObject>,
    name: &'a str,
    action: Action,
    body: Option<&'a Resource>,
    /// The resource (plural) of its type.
    plural: String,
    /// Whether its type is namespaced.
    namespaced: bool,
}

impl Write<'_> {
    /// The write as an admission webhook's rules see it.
    fn as_seen_by_webhooks<'b>(&'b self, item: &'b PlanItem) -> webhooks::Write<'b> {
        let path = &item.path;
        let (_, version) = path
            .api_version
            .rsplit_once('/')
            .unwrap_or(("", &path.api_version));
        webhooks::Write {
            group: path.group(),
            version,
            plural: &self.plural,
            namespaced: self.namespaced,
            operation: match item.action {
                Action::Create => "CREATE",
                Action::Delete => "DELETE",
                Action::Update | Action::Unchanged => "UPDATE",
            },
            path,
            labels: self
                .body
                .map(|resource| webhooks::labels_of(&resource.body))
                .unwrap_or_default(),
        }
    }
}

/// Resolves the API of `item`'s object, or the outcome that ends it.
async fn prepare_write<'a>(
    item: &'a PlanItem,
    resource: Option<&'a Resource>,
    kinds: &mut Kinds,
) -> Result<Write<'a>, Outcome> {
    let path = &item.path;
    let (resource_type, capabilities) = match kinds.resolve(&path.api_version, &path.kind).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(Outcome::Failed(format!(
                "the cluster does not serve {} {}",
                path.api_version, path.kind
            )));
        }
        Err(err) => return Err(Outcome::Failed(err.to_string())),
    };
    if item.action != Action::Delete && resource.is_none() {
        return Err(Outcome::Failed(format!("no generated body for {path}")));
    }
    let namespaced = capabilities.scope == Scope::Namespaced;
    Ok(Write {
        api: kinds.api_of(&resource_type, &capabilities, path),
        name: &path.name,
        action: item.action,
        body: resource,
        plural: resource_type.plural,
        namespaced,
    })
}

/// Applies or deletes one object, retrying transient failures.
async fn execute(write: Write<'_>, settings: &EngineSettings, pacer: &Pacer) -> Outcome {
    let Write {
        api,
        name,
        action,
        body,
        ..
    } = write;
    // NB: strict, as `kubectl apply --server-side` is: a field the type does
    // not declare is refused, never silently dropped.
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.field_validation = Some(ValidationDirective::Strict);
    let delete = DeleteParams::background();
    write_with_retries(action, settings, pacer, || async {
        match (action, body) {
            (Action::Delete, _) => api.delete(name, &delete).await.map(|_| ()),
            (_, Some(resource)) => api
                .patch(name, &params, &Patch::Apply(&resource.body))
                .await
                .map(|_| ()),
            // NB: `prepare_write` only lets a body-less write through for deletes.
            (_, None) => Ok(()),
        }
    })
    .await
}

/// Runs one write of `action` through `with_retries` and names its outcome:
/// a refused write is `Failed` with the API server's message.
async fn write_with_retries<F, Fut>(
    action: Action,
    settings: &EngineSettings,
    pacer: &Pacer,
    operation: F,
) -> Outcome
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), kube::Error>>,
{
    let (result, attempts) = with_retries(settings, pacer, operation).await;
    match (result, action) {
        (Ok(()), Action::Create) => Outcome::Created,
        (Ok(()), Action::Delete) => Outcome::Deleted,
        (Ok(()), Action::Update | Action::Unchanged) => Outcome::Updated,
        (Err(kube::Error::Api(status)), Action::Delete) if status.is_not_found() => {
            Outcome::Deleted
        }
        (Err(err), _) => {
            let message = message(&err);
            if webhooks::is_webhook_unreachable(&message) {
                tracing::info!(attempts, %err, "write waits for a webhook");
                Outcome::Waiting(message)
            } else {
                tracing::warn!(attempts, %err, "write failed");
                Outcome::Failed(message)
            }
        }
    }
}

/// Waits (bounded) until every CRD just applied is Established and served by
/// discovery; one that is not in time fails, which skips the later stages.
async fn wait_until_served(chunk: &[PlanItem], results: &mut [Outcome], kinds: &mut Kinds) {
    let crds: Api<CustomResourceDefinition> = Api::all(kinds.client().clone());
    let deadline = Instant::now() + CRD_TIMEOUT;
    for (item, outcome) in chunk.iter().zip(results.iter_mut()) {
        if !matches!(outcome, Outcome::Created | Outcome::Updated) {
            continue;
        }
        loop {
            match served(&crds, &item.path.name, kinds).await {
                Ok(true) => break,
                Ok(false) if Instant::now() < deadline => tokio::time::sleep(CRD_POLL).await,
                Ok(false) => {
                    *outcome = Outcome::Failed(format!(
                        "not established and served within {} s",
                        CRD_TIMEOUT.as_secs()
                    ));
                    break;
                }
                Err(err) => {
                    *outcome = Outcome::Failed(err);
                    break;
                }
            }
        }
    }
}

/// Whether the CRD `name` reports Established=True and discovery serves
/// every version it declares served.
async fn served(
    crds: &Api<CustomResourceDefinition>,
    name: &str,
    kinds: &mut Kinds,
) -> Result<bool, String> {
    let crd = match crds.get_opt(name).await {
        Ok(Some(crd)) => crd,
        Ok(None) => return Ok(false),
        Err(err) => return Err(message(&err)),
    };
    let established = crd
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
    if !established {
        return Ok(false);
    }
    let spec = &crd.spec;
    for version in spec.versions.iter().filter(|version| version.served) {
        let api_version = format!("{}/{}", spec.group, version.name);
        match kinds.resolve(&api_version, &spec.names.kind).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(false),
            Err(err) => return Err(err.to_string()),
        }
    }
    Ok(true)
}

/// The API server's message for a refused request, or the client's error.
fn message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn api_error(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(
            kube::core::Status::failure(message, "Test").with_code(code),
        ))
    }

    /// Settings that retry fast, so tests do not sleep long.
    fn quick() -> EngineSettings {
        EngineSettings {
            base_backoff: Duration::from_millis(2),
            ..EngineSettings::default()
        }
    }

    /// Runs a write whose attempts answer `answers` in turn.
    async fn run(action: Action, answers: Vec<Result<(), kube::Error>>) -> (Outcome, usize) {
        let settings = quick();
        let pacer = Pacer::new(&settings, std::sync::Arc::default());
        let answers = std::cell::RefCell::new(answers.into_iter());
        let calls = Cell::new(0);
        let outcome = write_with_retries(action, &settings, &pacer, || {
            calls.set(calls.get() + 1);
            let answer = answers.borrow_mut().next().unwrap_or(Ok(()));
            async move { answer }
        })
        .await;
        (outcome, calls.get())
    }

    #[tokio::test]
    async fn a_refused_object_fails_at_once_with_the_servers_message() {
        let message = "spec.replicas: Invalid value: -1: must be greater than or equal to 0";
        let (outcome, calls) = run(Action::Create, vec![Err(api_error(422, message))]).await;
        assert_eq!(outcome, Outcome::Failed(message.to_owned()));
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_transient_500_twice_then_success_is_created_after_three_attempts() {
        let (outcome, calls) = run(
            Action::Create,
            vec![
                Err(api_error(500, "etcdserver: leader changed")),
                Err(api_error(500, "etcdserver: leader changed")),
                Ok(()),
            ],
        )
        .await;
        assert_eq!(outcome, Outcome::Created);
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn throttled_429_is_retried_then_updated() {
        let (outcome, calls) = run(
            Action::Update,
            vec![Err(api_error(429, "too many requests")), Ok(())],
        )
        .await;
        assert_eq!(outcome, Outcome::Updated);
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn an_object_failing_every_attempt_records_the_last_message() {
        let answers = (0..10)
            .map(|n| Err(api_error(503, &format!("unavailable {n}"))))
            .collect();
        let (outcome, calls) = run(Action::Create, answers).await;
        assert_eq!(outcome, Outcome::Failed("unavailable 4".to_owned()));
        assert_eq!(calls, EngineSettings::default().max_attempts as usize);
    }

    #[tokio::test]
    async fn deleting_an_absent_object_is_deleted() {
        let gone = kube::core::Status::failure("not found", "NotFound").with_code(404);
        let (outcome, calls) =
            run(Action::Delete, vec![Err(kube::Error::Api(Box::new(gone)))]).await;
        assert_eq!(outcome, Outcome::Deleted);
        assert_eq!(calls, 1);
    }
}
