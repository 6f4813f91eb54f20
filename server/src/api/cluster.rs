//! `/api/v1/cluster/…`: the Kubernetes explorer, read from the cluster
//! cache (never the API server): kinds, a kind's objects with filters, one
//! object, and a stream that says when the cache changed; a service's or
//! battery's pods, and a container's log from the pod log API.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bi_api::explorer::{ExplorerQuery, KindRow, LogQuery, ObjectDetail, ObjectList, PodRow};
use futures::{Stream, StreamExt};
use serde::Deserialize;

use super::ApiError;
use crate::state::AppState;

/// How long one change stream lasts; browsers reconnect on their own.
pub(super) const STREAM_FOR: Duration = Duration::from_secs(300);

/// Every kind the explorer shows, with its objects counted.
pub async fn kinds(State(state): State<AppState>) -> Result<Json<Vec<KindRow>>, ApiError> {
    let cache = state.reconciler.engine().cache();
    Ok(Json(bi_control::explorer::kinds(&state.db, cache).await?))
}

/// A kind's objects (`?kind=apps/v1/Deployment&namespace=…&labels=…&app=…`).
pub async fn objects(
    State(state): State<AppState>,
    Query(query): Query<ExplorerQuery>,
) -> Result<Json<ObjectList>, ApiError> {
    let cache = state.reconciler.engine().cache();
    Ok(Json(
        bi_control::explorer::list(&state.db, cache, &query).await?,
    ))
}

/// `?path=…` of [`object`].
#[derive(Debug, Deserialize)]
pub struct ObjectQuery {
    /// `apps/v1/Deployment/battery-data/redis`.
    pub path: String,
}

/// One object in full (`?path=apps/v1/Deployment/ns/name`).
pub async fn object(
    State(state): State<AppState>,
    Query(query): Query<ObjectQuery>,
) -> Result<Json<ObjectDetail>, ApiError> {
    let path = bi_control::explorer::parse_path(&query.path)?;
    let cache = state.reconciler.engine().cache();
    Ok(Json(
        bi_control::explorer::object(&state.db, cache, &path).await?,
    ))
}

/// Server-sent events: one `message` with the cache's revision each time
/// the cluster changed (bursts arrive as one); the explorer reloads on it.
pub async fn changes(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let revision = state.reconciler.engine().cache().revision();
    let stream = tokio_stream::wrappers::WatchStream::new(revision)
        .map(|revision| Ok(Event::default().data(revision.to_string())))
        .take_until(tokio::time::sleep(STREAM_FOR));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `?of=NAME` of [`pods`].
#[derive(Debug, Deserialize)]
pub struct PodsQuery {
    /// A service, a battery, or a `battery/app` value.
    pub of: String,
}

/// The pods of a service or battery (`?of=web`, `?of=redis`).
pub async fn pods(
    State(state): State<AppState>,
    Query(query): Query<PodsQuery>,
) -> Result<Json<Vec<PodRow>>, ApiError> {
    let app = bi_control::pods::app_named(&state.db, &query.of).await?;
    let cache = state.reconciler.engine().cache();
    Ok(Json(
        bi_control::pods::of_named(&state.db, cache, &query.of, &app).await?,
    ))
}

/// A container's log as text (`?namespace=&pod=&container=&previous=&tail=&follow=`):
/// followed, the response streams until the log ends or the client goes.
pub async fn logs(
    State(state): State<AppState>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let client = state.reconciler.engine().client();
    let lines = bi_control::pods::stream(client, &query).await?;
    let body =
        axum::body::Body::from_stream(lines.map(|line| line.map(|line| format!("{line}\n"))));
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// The same log as server-sent events, for the browser: one `message` per
/// line, then `end` (or `refused` with why), so the page stops listening.
pub async fn log_events(
    State(state): State<AppState>,
    Query(query): Query<LogQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let client = state.reconciler.engine().client().clone();
    let stream = async_stream(client, query);
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn async_stream(
    client: kube::Client,
    query: LogQuery,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::once(async move { bi_control::pods::stream(&client, &query).await })
        .flat_map(|opened| match opened {
            Ok(lines) => lines
                .map(|line| match line {
                    Ok(line) => Event::default().data(line),
                    Err(err) => Event::default().event("refused").data(err.to_string()),
                })
                .chain(futures::stream::once(async {
                    Event::default().event("end").data("")
                }))
                .boxed(),
            Err(err) => futures::stream::iter([
                Event::default()
                    .event("refused")
                    .data(bi_api::ApiError::from(err).to_string()),
                Event::default().event("end").data(""),
            ])
            .boxed(),
        })
        .map(Ok)
}
