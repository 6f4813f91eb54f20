//! `GET /api/v1/events`: the engine's live events over a websocket.
//!
//! Each text message is one JSON [`EventEnvelope`]. `?since=latest` (the
//! default) starts with the events of the latest snapshot, `?since=now`
//! with nothing old, `?since=N` with everything after event N — what a
//! client that lost its connection asks for. When the server cannot give
//! every missed event (it keeps the last 30,000, at most 16 MiB of them; a client too slow to keep
//! up is also cut off from the live stream), it sends a `resync` event: the
//! client reloads what it shows from the API and reconnects with
//! `since=now`. The server pings every 20 s. At most `--max-event-clients`
//! (256) clients follow at once; more get 503 with `Retry-After`.

use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bi_control::events::{EventBus, Since};
use bi_model::events::EventEnvelope;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::state::AppState;

/// How often an idle connection is pinged.
const PING_EVERY: Duration = Duration::from_secs(20);

/// The query of the events route.
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// `latest` (default), `now`, or an event number.
    since: Option<String>,
}

/// Upgrades to a websocket streaming the events from `since`.
pub async fn events(
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let since = match query.since.as_deref() {
        None | Some("latest") => Since::LatestSnapshot,
        Some("now") => Since::Now,
        Some(number) => match number.parse::<u64>() {
            Ok(seq) => Since::Seq(seq),
            Err(_) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("since: must be `latest`, `now` or an event number, got {number:?}"),
                )
                    .into_response();
            }
        },
    };
    let Ok(place) = state.event_clients.clone().try_acquire_owned() else {
        tracing::warn!("refused an events client: every place is taken (--max-event-clients)");
        let mut refused = (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many clients follow the events: try again shortly (the server's --max-event-clients)",
        )
            .into_response();
        refused.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("5"),
        );
        return refused;
    };
    let bus = state.reconciler.events().clone();
    upgrade.on_upgrade(move |socket| async move {
        stream(socket, bus, since).await;
        drop(place);
    })
}

/// Sends what was missed, then every new event, until the client leaves.
async fn stream(mut socket: WebSocket, bus: EventBus, since: Since) {
    let mut subscription = bus.subscribe(since);
    if subscription.gap
        && send_resync(
            &mut socket,
            &bus,
            "events after the one asked for were dropped",
        )
        .await
        .is_err()
    {
        return;
    }
    for envelope in subscription.missed.drain(..) {
        if send(&mut socket, &envelope).await.is_err() {
            return;
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    loop {
        tokio::select! {
            received = subscription.live.recv() => match received {
                Ok(envelope) => {
                    if send(&mut socket, &envelope).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    // NB: after a resync the client reconnects; continuing
                    // here would show it a stream with holes.
                    let _ = send_resync(&mut socket, &bus, &format!("the connection fell {missed} events behind")).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                // NB: clients have nothing to say; pongs and the like are read and dropped.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn send(socket: &mut WebSocket, envelope: &EventEnvelope) -> Result<(), axum::Error> {
    let text = serde_json::to_string(envelope).map_err(axum::Error::new)?;
    socket.send(Message::Text(Utf8Bytes::from(text))).await
}

async fn send_resync(
    socket: &mut WebSocket,
    bus: &EventBus,
    reason: &str,
) -> Result<(), axum::Error> {
    send(socket, &bus.resync(reason)).await
}
