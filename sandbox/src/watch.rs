//! `?watch=true`: a chunked stream of newline-delimited JSON watch events
//! (`{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{…}}`), as
//! kube-rs watchers/reflectors and `kubectl get -w` read them.
//!
//! A watch starts from a resourceVersion (every later event is replayed from
//! the store's history; one older than the history gets an ERROR 410 Expired
//! event, after which clients list again) or, with resourceVersion "0" or
//! none, with an ADDED event per current object. It honours label and field
//! selectors, sends bookmarks when asked, and ends after `timeoutSeconds` or
//! when the sandbox shuts down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::discovery::ResourceType;
use super::selector::Selectors;
use super::server::Shared;
use super::status::ApiError;
use super::store::{Event, present};
use super::table;

/// How often an idle watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(30);

/// What a watch request asked for.
#[derive(Debug, Clone)]
pub(crate) struct WatchRequest {
    /// The resource watched.
    pub(crate) rt: ResourceType,
    /// Only this namespace, if given.
    pub(crate) namespace: Option<String>,
    /// Only objects passing these.
    pub(crate) selectors: Selectors,
    /// Events after this resourceVersion; None: ADDED for every current object first.
    pub(crate) from: Option<u64>,
    /// When the stream ends.
    pub(crate) timeout: Duration,
    /// `allowWatchBookmarks=true`.
    pub(crate) bookmarks: bool,
    /// `sendInitialEvents=true`: end the initial ADDED events with an
    /// `k8s.io/initial-events-end` bookmark.
    pub(crate) initial_events_end: bool,
    /// Send each object as a one-row Table (`kubectl get -w`), with this `includeObject`.
    pub(crate) table: Option<Option<String>>,
}

impl WatchRequest {
    fn wants(&self, event: &Event) -> bool {
        event.key.group == self.rt.group
            && event.key.plural == self.rt.plural
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| !self.rt.namespaced || event.key.namespace == ns)
            && self.selectors.matches(&event.object)
    }

    fn line(&self, kind: &str, object: &Value) -> Bytes {
        let mut object = present(&self.rt, object);
        if let Some(include_object) = &self.table {
            let metadata =
                json!({ "resourceVersion": object.pointer("/metadata/resourceVersion") });
            object = table::table(&self.rt, &[object], metadata, include_object.as_deref());
        }
        let event = json!({ "type": kind, "object": object });
        let mut line = event.to_string();
        line.push('\n');
        Bytes::from(line)
    }

    fn bookmark(&self, resource_version: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({ "resourceVersion": resource_version.to_string() });
        if initial_events_end {
            metadata["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
        }
        let object = json!({
            "kind": self.rt.kind,
            "apiVersion": self.rt.api_version(),
            "metadata": metadata,
        });
        let mut line = json!({ "type": "BOOKMARK", "object": object }).to_string();
        line.push('\n');
        Bytes::from(line)
    }
}

fn error_line(error: &ApiError) -> Bytes {
    let mut line = json!({ "type": "ERROR", "object": error.to_status() }).to_string();
    line.push('\n');
    Bytes::from(line)
}

/// Starts a watch: the response streams while a task feeds it.
pub(crate) async fn watch(shared: Arc<Shared>, request: WatchRequest) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(feed(shared, request, tx));
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<Bytes, Infallible>));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

async fn feed(shared: Arc<Shared>, request: WatchRequest, tx: mpsc::Sender<Bytes>) {
    let mut shutdown = shared.shutdown.clone();
    let (mut changes, initial, mut last) = {
        let store = shared.store.read().await;
        let changes = store.subscribe();
        let initial: Result<Vec<Bytes>, ApiError> = match request.from {
            None => Ok(store
                .matching(
                    &request.rt,
                    request.namespace.as_deref(),
                    &request.selectors,
                )
                .iter()
                .map(|(_, object)| request.line("ADDED", object))
                .collect()),
            Some(from) => store.events_since(from).map(|events| {
                events
                    .iter()
                    .filter(|event| request.wants(event))
                    .map(|event| request.line(event.kind.as_str(), &event.object))
                    .collect()
            }),
        };
        (changes, initial, store.resource_version())
    };
    let initial = match initial {
        Ok(lines) => lines,
        Err(error) => {
            let _ = tx.send(error_line(&error)).await;
            return;
        }
    };
    for line in initial {
        if tx.send(line).await.is_err() {
            return;
        }
    }
    if request.initial_events_end && tx.send(request.bookmark(last, true)).await.is_err() {
        return;
    }
    let deadline = tokio::time::sleep(request.timeout);
    tokio::pin!(deadline);
    let mut bookmarks =
        tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    loop {
        tokio::select! {
            () = &mut deadline => return,
            () = tx.closed() => return,
            _ = shutdown.changed() => return,
            _ = bookmarks.tick(), if request.bookmarks => {
                if tx.send(request.bookmark(last, false)).await.is_err() {
                    return;
                }
            }
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                let lines = {
                    let store = shared.store.read().await;
                    let events = store.events_since(last);
                    last = store.resource_version();
                    events.map(|events| {
                        events
                            .iter()
                            .filter(|event| request.wants(event))
                            .map(|event| request.line(event.kind.as_str(), &event.object))
                            .collect::<Vec<_>>()
                    })
                };
                match lines {
                    Ok(lines) => {
                        for line in lines {
                            if tx.send(line).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(error) => {
                        let _ = tx.send(error_line(&error)).await;
                        return;
                    }
                }
            }
        }
    }
}
