//! The sandbox's HTTP server: one axum fallback handler that reads the URL
//! the way the Kubernetes API server lays it out (see `path.rs`), counts the
//! request, and answers discovery, reads, writes and watches from the store.
//!
//! Handlers stay thin: parse the request (query, body, content type), call
//! the store under its lock, persist after a real write, map the result to a
//! response. Errors are Kubernetes `Status` objects (see `status.rs`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{RwLock, watch as signal};

use super::counter::RequestCounter;
use super::discovery::ResourceType;
use super::endpoints;
use super::error::SandboxError;
use super::faults::Faults;
use super::managed::Writer;
use super::openapi;
use super::patch::PatchKind;
use super::path::{ApiPath, ResourcePath};
use super::persist::{Persister, encode};
use super::pods;
use super::scale;
use super::schema::FieldValidation;
use super::selector::{FieldSelector, LabelSelector, Selectors};
use super::status::{ApiError, ApiResult};
use super::store::{DeleteOptions, ObjectKey, Page, Part, Store, WriteOptions, Written};
use super::table;
use super::watch::{WatchRequest, watch};
use super::workloads;

/// Largest request body accepted (CRDs with big schemas are the large ones).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// A watch without `timeoutSeconds` ends after this long; clients re-watch.
const DEFAULT_WATCH_TIMEOUT: u64 = 300;

/// The longest watch granted.
const MAX_WATCH_TIMEOUT: u64 = 3600;

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The objects.
    pub(crate) store: RwLock<Store>,
    /// Requests by verb and resource.
    pub(crate) counter: RequestCounter,
    /// Refusals tests asked for.
    pub(crate) faults: Faults,
    /// Writes the store file, when there is a data directory.
    pub(crate) persister: Option<Persister>,
    /// Delay before workloads report ready.
    pub(crate) ready_after: Duration,
    /// Where the server listens (for `/api`'s server addresses).
    pub(crate) addr: SocketAddr,
    /// Becomes true when the sandbox shuts down (ends watches).
    pub(crate) shutdown: signal::Receiver<bool>,
}

/// A serialized snapshot waiting to be written, with its resourceVersion.
pub(crate) type PendingSnapshot = Option<(u64, Result<Vec<u8>, String>)>;

impl Shared {
    /// A snapshot of the store to persist, if there is a store file.
    pub(crate) fn snapshot_for_persist(&self, store: &Store) -> PendingSnapshot {
        self.persister.as_ref()?;
        let snapshot = store.snapshot();
        Some((
            snapshot.resource_version,
            encode(&snapshot).map_err(|e| e.to_string()),
        ))
    }

    /// Writes a snapshot taken with [`Shared::snapshot_for_persist`].
    pub(crate) async fn persist(&self, pending: PendingSnapshot) -> Result<(), SandboxError> {
        let (Some(persister), Some((resource_version, bytes))) = (&self.persister, pending) else {
            return Ok(());
        };
        let bytes = bytes.map_err(|reason| SandboxError::Persist {
            path: persister.path().to_owned(),
            reason,
        })?;
        persister.write(resource_version, bytes).await
    }

    /// Runs a write under the store lock, then persists it if it changed anything.
    async fn write<T>(&self, op: impl FnOnce(&mut Store) -> ApiResult<T>) -> ApiResult<T> {
        let (written, pending) = {
            let mut store = self.store.write().await;
            let written = op(&mut store)?;
            let pending = if store.take_dirty() {
                self.snapshot_for_persist(&store)
            } else {
                None
            };
            (written, pending)
        };
        if let Err(error) = self.persist(pending).await {
            tracing::error!(%error, "sandbox: could not persist a write");
            return Err(ApiError::internal(format!(
                "the sandbox could not persist the change: {error}"
            )));
        }
        Ok(written)
    }
}

/// The router: everything goes through one handler that reads the path itself.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

/// Query parameters of one request.
#[derive(Debug, Default)]
struct Params(HashMap<String, String>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }

    fn dry_run(&self, verb: &str) -> ApiResult<bool> {
        match self.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::invalid_option(
                options_of(verb),
                &format!("dryRun: Unsupported value: [{other:?}]: supported values: \"All\""),
            )),
        }
    }

    fn selectors(&self, rt: &ResourceType) -> ApiResult<Selectors> {
        let labels =
            LabelSelector::parse(self.get("labelSelector").unwrap_or("")).map_err(|why| {
                ApiError::bad_request(format!("unable to parse labelSelector: {why}"))
            })?;
        let fields = FieldSelector::parse(self.get("fieldSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        fields
            .check_supported(&rt.group, &rt.plural)
            .map_err(ApiError::bad_request)?;
        Ok(Selectors { labels, fields })
    }

    /// `fieldValidation`, refused as the options of `verb` name it when unknown.
    fn field_validation(&self, verb: &str) -> ApiResult<FieldValidation> {
        FieldValidation::parse(self.get("fieldValidation")).map_err(|other| {
            ApiError::invalid_option(
                options_of(verb),
                &format!(
                    "fieldValidation: Unsupported value: {other:?}: supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
                ),
            )
        })
    }

    fn number(&self, name: &str) -> ApiResult<Option<u64>> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "{name}: Invalid value: {v:?}: must be a non-negative integer"
                    ))
                })
            })
            .transpose()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match Query::<HashMap<String, String>>::try_from_uri(&uri) {
        Ok(Query(params)) => Params(params),
        Err(e) => {
            shared.counter.record("get", "discovery");
            return ApiError::bad_request(format!("malformed query string: {e}")).into_response();
        }
    };
    let path = ApiPath::parse(uri.path());
    if !matches!(path, ApiPath::Resource(_)) {
        shared.counter.record("get", "discovery");
        if method != Method::GET {
            return ApiError::method_not_allowed(method.as_str()).into_response();
        }
    }
    match path {
        ApiPath::Version => json_response(StatusCode::OK, version()),
        ApiPath::CoreVersions => {
            let store = shared.store.read().await;
            json_response(StatusCode::OK, store.kinds().core_versions(shared.addr))
        }
        ApiPath::Groups => {
            let store = shared.store.read().await;
            json_response(StatusCode::OK, store.kinds().group_list())
        }
        ApiPath::Group(group) => {
            let store = shared.store.read().await;
            match store.kinds().group(&group) {
                Some(value) => json_response(StatusCode::OK, value),
                None => ApiError::page_not_found().into_response(),
            }
        }
        ApiPath::Resources { group, version } => {
            let store = shared.store.read().await;
            match store.kinds().resource_list(&group, &version) {
                Some(value) => json_response(StatusCode::OK, value),
                None if !store.kinds().serves_group(&group) => {
                    ApiError::page_not_found().into_response()
                }
                None => ApiError::no_route().into_response(),
            }
        }
        ApiPath::OpenApiRoot => {
            let store = shared.store.read().await;
            json_response(StatusCode::OK, openapi::root(store.kinds()))
        }
        ApiPath::OpenApi { group, version } => {
            let store = shared.store.read().await;
            match openapi::document(store.kinds(), &group, &version) {
                Some(value) => json_response(StatusCode::OK, value),
                None => ApiError::no_route().into_response(),
            }
        }
        ApiPath::Resource(rp) => {
            match resource(&shared, &method, rp, &params, &headers, &body).await {
                Ok(response) => response,
                Err(error) => error.into_response(),
            }
        }
        ApiPath::Other => match uri.path() {
            "/healthz" | "/livez" | "/readyz" => (StatusCode::OK, "ok").into_response(),
            _ => ApiError::page_not_found().into_response(),
        },
    }
}

/// The Kubernetes verb of a resource request.
fn verb(method: &Method, rp: &ResourcePath, params: &Params) -> String {
    let named = rp.name.is_some();
    match *method {
        Method::GET if named => "get".into(),
        Method::GET if params.flag("watch") => "watch".into(),
        Method::GET => "list".into(),
        Method::POST => "create".into(),
        Method::PUT => "update".into(),
        Method::PATCH => "patch".into(),
        Method::DELETE if named => "delete".into(),
        Method::DELETE => "deletecollection".into(),
        _ => method.as_str().to_ascii_lowercase(),
    }
}

async fn resource(
    shared: &Arc<Shared>,
    method: &Method,
    rp: ResourcePath,
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    let verb = verb(method, &rp, params);
    let counted = match &rp.subresource {
        Some(sub) => format!("{}/{sub}", rp.plural),
        None => rp.plural.clone(),
    };
    shared.counter.record(&verb, &counted);
    if let Some(refusal) = shared.faults.answer(&verb, &counted, rp.name.as_deref()) {
        return Err(refusal);
    }

    let rt = {
        let store = shared.store.read().await;
        store
            .kinds()
            .find(&rp.group, &rp.version, &rp.plural)
            .cloned()
    };
    let Some(rt) = rt else {
        let served = shared.store.read().await.kinds().serves_group(&rp.group);
        return Err(if served {
            ApiError::no_route()
        } else {
            ApiError::page_not_found()
        });
    };
    if rp.namespace.is_some() && !rt.namespaced {
        return Err(ApiError::no_route());
    }
    if rp.subresource.as_deref() == Some("log") && rt.is("", "pods") && verb == "get" {
        let (Some(namespace), Some(name)) = (rp.namespace.as_deref(), rp.name.as_deref()) else {
            return Err(ApiError::no_route());
        };
        return pod_log(shared, namespace, name, params).await;
    }
    let scaled = rp.subresource.as_deref() == Some("scale") && scale::has_scale(&rt);
    let part = match rp.subresource.as_deref() {
        None => Part::Main,
        Some("status") if rt.status => Part::Status,
        Some("scale") if scaled => Part::Main,
        Some(_) => return Err(ApiError::no_route()),
    };
    let namespace = rp.namespace.as_deref();
    let name = rp.name.as_deref();
    let dry_run = params.dry_run(&verb)?;
    let how = WriteOptions {
        writer: Writer::update(&field_manager(params, headers)),
        force: params.flag("force"),
        dry_run,
        validation: params.field_validation(&verb)?,
    };
    if scaled {
        let target = Target { rt: &rt, namespace };
        return scale_request(shared, &target, &verb, name, headers, body, &how).await;
    }

    match (verb.as_str(), name) {
        ("get", Some(name)) => {
            let object = shared.store.read().await.get(&rt, namespace, name)?;
            if table::wanted(headers) {
                let metadata =
                    json!({ "resourceVersion": object.pointer("/metadata/resourceVersion") });
                let table = table::table(&rt, &[object], metadata, params.get("includeObject"));
                return Ok(json_response(StatusCode::OK, table));
            }
            if table::metadata_wanted(headers) {
                return Ok(json_response(StatusCode::OK, table::partial(&object)));
            }
            Ok(json_response(StatusCode::OK, object))
        }
        ("list", None) => {
            let selectors = params.selectors(&rt)?;
            let page = Page {
                limit: params
                    .number("limit")?
                    .and_then(|n| usize::try_from(n).ok()),
                continue_token: params.get("continue").map(str::to_owned),
            };
            let list = shared
                .store
                .read()
                .await
                .list(&rt, namespace, &selectors, &page)?;
            if table::wanted(headers) {
                let items = list["items"].as_array().cloned().unwrap_or_default();
                let table = table::table(
                    &rt,
                    &items,
                    list["metadata"].clone(),
                    params.get("includeObject"),
                );
                return Ok(json_response(StatusCode::OK, table));
            }
            if table::metadata_wanted(headers) {
                let items = list["items"].as_array().cloned().unwrap_or_default();
                let partial = table::partial_list(&items, list["metadata"].clone());
                return Ok(json_response(StatusCode::OK, partial));
            }
            Ok(json_response(StatusCode::OK, list))
        }
        ("watch", None) => {
            let selectors = params.selectors(&rt)?;
            let from = match params.get("resourceVersion") {
                None | Some("" | "0") => None,
                Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("resourceVersion: Invalid value: {rv:?}"))
                })?),
            };
            let timeout = params
                .number("timeoutSeconds")?
                .unwrap_or(DEFAULT_WATCH_TIMEOUT)
                .min(MAX_WATCH_TIMEOUT);
            let request = WatchRequest {
                rt,
                namespace: namespace.map(str::to_owned),
                selectors,
                from,
                timeout: Duration::from_secs(timeout),
                bookmarks: params.flag("allowWatchBookmarks"),
                initial_events_end: params.flag("sendInitialEvents"),
                table: table::wanted(headers)
                    .then(|| params.get("includeObject").map(str::to_owned)),
            };
            Ok(watch(Arc::clone(shared), request).await)
        }
        ("create", None) => {
            let object = read_body(&rt, headers, body)?;
            let written = shared
                .write(|store| store.create(&rt, namespace, object, &how))
                .await?;
            after_write(shared, &rt, namespace, part, dry_run, &written).await;
            Ok(written_response(written))
        }
        ("update", Some(name)) => {
            let object = read_body(&rt, headers, body)?;
            let written = shared
                .write(|store| store.update(&rt, namespace, name, object, part, &how))
                .await?;
            after_write(shared, &rt, namespace, part, dry_run, &written).await;
            Ok(written_response(written))
        }
        ("patch", Some(name)) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let Some(kind) = PatchKind::from_content_type(content_type) else {
                return Err(ApiError::unsupported_media_type(content_type));
            };
            let written = if kind == PatchKind::Apply {
                let Some(manager) = params.get("fieldManager").filter(|m| !m.is_empty()) else {
                    return Err(ApiError::invalid_option(
                        "PatchOptions",
                        "fieldManager: Required value: is required for apply patch",
                    ));
                };
                let how = WriteOptions {
                    writer: Writer::apply(manager),
                    ..how
                };
                shared
                    .write(|store| store.apply(&rt, namespace, name, body, part, &how))
                    .await?
            } else {
                shared
                    .write(|store| store.patch(&rt, namespace, name, kind, body, part, &how))
                    .await?
            };
            after_write(shared, &rt, namespace, part, dry_run, &written).await;
            Ok(written_response(written))
        }
        ("delete", Some(name)) => {
            let (options, body_dry_run) = delete_options(params, body)?;
            let dry_run = dry_run || body_dry_run;
            let deleted = shared
                .write(|store| store.delete(&rt, namespace, name, &options, dry_run))
                .await?;
            // NB: a real server answers with the object only while it still
            // exists (marked) or for kinds that delete gracefully; otherwise
            // with a `Status` of success.
            let kept = deleted.pointer("/metadata/deletionTimestamp").is_some()
                || options.foreground
                || rt.is("", "namespaces")
                || rt.is("", "pods");
            if kept {
                Ok(json_response(StatusCode::OK, deleted))
            } else {
                Ok(json_response(StatusCode::OK, deleted_status(&rt, &deleted)))
            }
        }
        ("deletecollection", None) => {
            let (options, body_dry_run) = delete_options(params, body)?;
            let dry_run = dry_run || body_dry_run;
            let selectors = params.selectors(&rt)?;
            let deleted = shared
                .write(|store| {
                    store.delete_collection(&rt, namespace, &selectors, &options, dry_run)
                })
                .await?;
            Ok(json_response(StatusCode::OK, deleted))
        }
        _ => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

/// The options type a real server reads a write's query into (for its refusals).
fn options_of(verb: &str) -> &'static str {
    match verb {
        "create" => "CreateOptions",
        "update" => "UpdateOptions",
        "patch" => "PatchOptions",
        "delete" | "deletecollection" => "DeleteOptions",
        _ => "ListOptions",
    }
}

/// `GET …/pods/NAME/log`: the sandbox's lines for the container, as text;
/// `follow` keeps the stream open with a line every few seconds until the
/// client goes or the sandbox stops.
async fn pod_log(
    shared: &Arc<Shared>,
    namespace: &str,
    name: &str,
    params: &Params,
) -> ApiResult<Response> {
    let pod = {
        let store = shared.store.read().await;
        let rt = store
            .kinds()
            .any_version("", "pods")
            .cloned()
            .ok_or_else(ApiError::no_route)?;
        store.get(&rt, Some(namespace), name)?
    };
    let request = pods::LogRequest {
        container: params.get("container").map(str::to_owned),
        previous: params.flag("previous"),
        tail_lines: params
            .number("tailLines")?
            .and_then(|n| usize::try_from(n).ok()),
        timestamps: params.flag("timestamps"),
        follow: params.flag("follow"),
    };
    let (container, lines) = pods::log_lines(&pod, &request)
        .map_err(|refusal| ApiError::bad_request(refusal.message))?;
    let text = lines.concat();
    if !request.follow {
        return Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], text).into_response());
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let mut shutdown = shared.shutdown.clone();
    let pod_name = name.to_owned();
    tokio::spawn(async move {
        if tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        let mut beat = 0_u64;
        loop {
            tokio::select! {
                () = tokio::time::sleep(pods::FOLLOW_EVERY) => {}
                _ = shutdown.changed() => return,
            }
            beat += 1;
            let line = pods::line(
                &request,
                &crate::store::now(),
                &format!(
                    "bi sandbox: {container} of pod {pod_name} is still not running anything ({beat})"
                ),
            );
            if tx.send(Bytes::from(line)).await.is_err() {
                return;
            }
        }
    });
    let body = Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok::<Bytes, std::convert::Infallible>),
    );
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response())
}

/// The object a subresource request is about.
struct Target<'a> {
    rt: &'a ResourceType,
    namespace: Option<&'a str>,
}

/// `/scale`: reads and writes `spec.replicas` through an `autoscaling/v1` Scale.
async fn scale_request(
    shared: &Arc<Shared>,
    target: &Target<'_>,
    verb: &str,
    name: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    how: &WriteOptions,
) -> ApiResult<Response> {
    let (rt, namespace) = (target.rt, target.namespace);
    let Some(name) = name else {
        return Err(ApiError::no_route());
    };
    let current = shared.store.read().await.get(rt, namespace, name)?;
    let replicas = match verb {
        "get" => return Ok(json_response(StatusCode::OK, scale::view(&current))),
        "update" => {
            let (replicas, resource_version) = scale::replicas_of(&read_body(rt, headers, body)?)?;
            let stored = current
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str);
            if resource_version.is_some() && resource_version.as_deref() != stored {
                return Err(ApiError::conflict(
                    rt,
                    name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
            replicas
        }
        "patch" => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = match PatchKind::from_content_type(content_type) {
                Some(PatchKind::Apply) | None => {
                    return Err(ApiError::unsupported_media_type(content_type));
                }
                Some(kind) => kind,
            };
            let patched = scale::patched(&scale::view(&current), kind, body)?;
            scale::replicas_of(&patched)?.0
        }
        _ => return Err(ApiError::method_not_allowed(verb)),
    };
    let change = json!({ "spec": { "replicas": replicas } }).to_string();
    let written = shared
        .write(|store| {
            store.patch(
                rt,
                namespace,
                name,
                PatchKind::Merge,
                change.as_bytes(),
                Part::Main,
                how,
            )
        })
        .await?;
    after_write(shared, rt, namespace, Part::Main, how.dry_run, &written).await;
    Ok(json_response(StatusCode::OK, scale::view(&written.object)))
}

/// The field manager of an update: `fieldManager`, else the client's
/// User-Agent up to its first `/` (`kubectl`, `curl`), as a real server names it.
fn field_manager(params: &Params, headers: &HeaderMap) -> String {
    if let Some(manager) = params.get("fieldManager").filter(|m| !m.is_empty()) {
        return manager.to_owned();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .and_then(|agent| agent.split('/').next())
        .filter(|agent| !agent.is_empty())
        .unwrap_or("unknown")
        .to_owned()
}

/// After a stored workload write, schedule its readiness; after a Service
/// write, publish its endpoints if its workloads are ready already.
async fn after_write(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: Option<&str>,
    part: Part,
    dry_run: bool,
    written: &Written,
) {
    if !dry_run && rt.is("", "services") {
        let snapshot = {
            let mut store = shared.store.write().await;
            endpoints::publish(&mut store, namespace.unwrap_or_default());
            store
                .take_dirty()
                .then(|| shared.snapshot_for_persist(&store))
        };
        if let Some(snapshot) = snapshot
            && let Err(error) = shared.persist(snapshot).await
        {
            tracing::error!(%error, "sandbox: could not persist a Service's endpoints");
        }
        return;
    }
    if dry_run
        || part != Part::Main
        || !workloads::is_workload(rt)
        || workloads::is_settled(&written.object)
    {
        return;
    }
    let name = written
        .object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let key = ObjectKey::new(rt, namespace, name);
    workloads::schedule(shared, key, &written.object).await;
}

/// A create/update body: JSON (or YAML), else 400; protobuf and CBOR are 415.
fn read_body(rt: &ResourceType, headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        // NB: kubectl's typed generators (`kubectl create namespace x`) send protobuf;
        // `kubectl apply -f` / `kubectl create -f` send JSON.
        return Err(ApiError::unsupported_body(content_type));
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(json_error) => serde_yaml_ng::from_slice(body)
            .map_err(|_| ApiError::unrecognized_body(rt, &json_error.to_string()))?,
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::unrecognized_body(
            rt,
            "the body is not an object (a map of fields)",
        ))
    }
}

/// DeleteOptions from the query and the body; also whether the body asks for a dry run.
fn delete_options(params: &Params, body: &[u8]) -> ApiResult<(DeleteOptions, bool)> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the body is not DeleteOptions: {e}")))?
    };
    let policy = params
        .get("propagationPolicy")
        .map(str::to_owned)
        .or_else(|| {
            body.get("propagationPolicy")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let orphan = match policy.as_deref() {
        None | Some("Background" | "Foreground") => {
            body.get("orphanDependents").and_then(Value::as_bool) == Some(true)
                || params.flag("orphanDependents")
        }
        Some("Orphan") => true,
        Some(other) => {
            return Err(ApiError::invalid_option(
                "DeleteOptions",
                &format!(
                    "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                ),
            ));
        }
    };
    let precondition = |field: &str| {
        body.pointer(&format!("/preconditions/{field}"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let dry_run = body
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|modes| modes.iter().any(|m| m == "All"));
    let options = DeleteOptions {
        orphan,
        foreground: policy.as_deref() == Some("Foreground"),
        uid: precondition("uid"),
        resource_version: precondition("resourceVersion"),
    };
    Ok((options, dry_run))
}

/// The `Status` of success a real server answers a completed deletion with.
fn deleted_status(rt: &ResourceType, deleted: &Value) -> Value {
    let mut details = json!({
        "name": deleted.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
        "kind": rt.plural,
        "uid": deleted.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
    });
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

fn written_response(written: Written) -> Response {
    let code = if written.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = json_response(code, written.object);
    for warning in written.warnings {
        // NB: `299 - "text"`, as a real server warns (kubectl prints it).
        let value = format!("299 - {warning:?}");
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

fn json_response(code: StatusCode, value: Value) -> Response {
    (code, axum::Json(value)).into_response()
}

/// `/version`: a Kubernetes 1.33 that says it is bi's sandbox.
fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-bi-sandbox",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "none (bi sandbox, in-process)",
        "compiler": "rustc",
        "platform": "linux/amd64",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn path(s: &str) -> ResourcePath {
        match ApiPath::parse(s) {
            ApiPath::Resource(rp) => rp,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn verbs_follow_method_and_path() {
        let collection = path("/api/v1/namespaces/a/pods");
        let object = path("/api/v1/namespaces/a/pods/p");
        assert_eq!(verb(&Method::GET, &collection, &params(&[])), "list");
        assert_eq!(
            verb(&Method::GET, &collection, &params(&[("watch", "true")])),
            "watch"
        );
        assert_eq!(verb(&Method::GET, &object, &params(&[])), "get");
        assert_eq!(
            verb(&Method::DELETE, &collection, &params(&[])),
            "deletecollection"
        );
        assert_eq!(verb(&Method::PATCH, &object, &params(&[])), "patch");
    }

    #[test]
    fn delete_options_come_from_query_or_body() {
        let (options, dry_run) = delete_options(
            &params(&[]),
            br#"{"propagationPolicy":"Orphan","dryRun":["All"],"preconditions":{"uid":"u"}}"#,
        )
        .unwrap();
        assert!(options.orphan);
        assert!(dry_run);
        assert_eq!(options.uid.as_deref(), Some("u"));
        let (options, _) =
            delete_options(&params(&[("propagationPolicy", "Foreground")]), b"").unwrap();
        assert!(!options.orphan);
        assert!(delete_options(&params(&[("propagationPolicy", "Sometimes")]), b"").is_err());
    }

    #[test]
    fn only_dry_run_all_is_accepted() {
        assert!(params(&[("dryRun", "All")]).dry_run("create").unwrap());
        assert!(!params(&[]).dry_run("create").unwrap());
        assert_eq!(
            params(&[("dryRun", "Some")])
                .dry_run("create")
                .unwrap_err()
                .code,
            422
        );
    }
}
