//! `/api/v1/timeline`: what happened in the cluster and in bi;
//! `/api/v1/deleted`: the archive of deleted objects and their undelete.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use bi_api::timeline::{DeletedDetail, DeletedList, TimelinePage, TimelineQuery, Undeleted};
use futures::{Stream, StreamExt};

use super::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// A page of the timeline, newest first, narrowed by the query.
pub async fn timeline(
    State(state): State<AppState>,
    Query(query): Query<TimelineQuery>,
) -> Result<Json<TimelinePage>, ApiError> {
    let cache = state.reconciler.engine().cache();
    Ok(Json(
        bi_control::timeline::query(&state.db, cache, &query).await?,
    ))
}

/// Server-sent events: one `message` each time bi wrote the timeline or
/// the archive (bursts arrive as one), the first as soon as the stream
/// opens; the timeline and deleted-objects pages read again on each.
pub async fn changes(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let revision = state.db.watch_timeline();
    let stream = tokio_stream::wrappers::WatchStream::new(revision)
        .map(|revision| Ok(Event::default().data(revision.to_string())))
        .take_until(tokio::time::sleep(super::cluster::STREAM_FOR));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// The archive, newest deletion first.
pub async fn deleted(State(state): State<AppState>) -> Result<Json<DeletedList>, ApiError> {
    let cache = state.reconciler.engine().cache();
    Ok(Json(bi_control::archive::list(&state.db, cache).await?))
}

/// One archived object with its last body (a Secret's values redacted).
pub async fn deleted_object(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<DeletedDetail>, ApiError> {
    let cache = state.reconciler.engine().cache();
    Ok(Json(
        bi_control::archive::detail(&state.db, cache, id).await?,
    ))
}

/// Restores archived object `id`; answers once it is in the cluster.
pub async fn undelete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Undeleted>, ApiError> {
    Ok(Json(
        bi_control::archive::undelete(&state.reconciler, id, &caller.author()).await?,
    ))
}
