//! The websocket route `/api/v1/events`: a browser or the CLI connecting to
//! a running control server sees the start-up snapshot from its first event,
//! and one that reconnects with `since=N` gets exactly what it missed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bi_model::events::{Event, EventEnvelope};
use bi_server::config::Settings;
use bi_server::serve::{Server, open_database};
use futures::StreamExt;
use support::settings;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// A websocket request to `url` with `token` as its bearer and, when
/// given, an `Origin`.
fn connect_request(
    url: &str,
    token: &str,
    origin: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    if !token.is_empty() {
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
    }
    if let Some(origin) = origin {
        headers.insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    request
}

/// A control server started in this process, and a viewer's token.
struct Running {
    addr: SocketAddr,
    token: String,
    /// Send to stop it; `running` then ends.
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Starts a control server from `settings`, with a viewer `root` to follow it.
async fn start(settings: &Settings) -> Running {
    let token = {
        let db = open_database(settings).await.unwrap();
        let token = support::account(&db, "root", bi_api::auth::Role::Viewer).await;
        db.close().await.unwrap();
        token
    };
    let server = Server::bind(settings).await.unwrap();
    let addr: SocketAddr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        token,
        stop,
        running,
    }
}

/// Reads events from `url` until one `stop` accepts; returns them all.
async fn read_until(url: &str, token: &str, stop: impl Fn(&Event) -> bool) -> Vec<EventEnvelope> {
    let (mut socket, _) = tokio_tungstenite::connect_async(connect_request(url, token, None))
        .await
        .unwrap();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(message) = socket.next().await {
            if let Message::Text(text) = message.unwrap() {
                let envelope: EventEnvelope = serde_json::from_str(&text).unwrap();
                let done = stop(&envelope.event);
                seen.push(envelope);
                if done {
                    return;
                }
            }
        }
    })
    .await
    .expect("the events came within 60 s");
    seen
}

#[tokio::test]
async fn the_event_stream_replays_the_latest_snapshot_and_resumes_after_a_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path());
    let Running {
        addr,
        token,
        stop,
        running,
    } = start(&settings).await;

    let finished = |event: &Event| matches!(event, Event::SnapshotFinished { .. });
    let url = format!("ws://{addr}/api/v1/events");
    // Nobody signed in gets no events.
    let anonymous = tokio_tungstenite::connect_async(connect_request(&url, "", None)).await;
    assert!(
        matches!(&anonymous, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401),
        "{anonymous:?}"
    );
    let first = read_until(&url, &token, finished).await;
    let types: Vec<&str> = first
        .iter()
        .map(|e| match e.event {
            Event::SnapshotQueued { .. } => "queued",
            Event::SnapshotStarted { .. } => "started",
            Event::PlanReady { .. } => "plan",
            Event::StageStarted { .. } => "stage",
            Event::ResourceApplied { .. } => "applied",
            Event::SnapshotFinished { .. } => "finished",
            _ => "other",
        })
        .collect();
    assert_eq!(&types[..3], ["queued", "started", "plan"], "{types:?}");
    assert!(types.contains(&"applied"), "{types:?}");
    assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(
        matches!(&first[1].event, Event::SnapshotStarted { trigger, .. } if trigger == "startup")
    );

    // A client that saw up to the plan reconnects and gets the rest, exactly.
    let resume_after = first[2].seq;
    let resumed = read_until(&format!("{url}?since={resume_after}"), &token, finished).await;
    assert_eq!(
        resumed.iter().map(|e| e.seq).collect::<Vec<_>>(),
        first[3..].iter().map(|e| e.seq).collect::<Vec<_>>()
    );

    let bad = tokio_tungstenite::connect_async(connect_request(
        &format!("{url}?since=yesterday"),
        &token,
        None,
    ))
    .await;
    assert!(bad.is_err(), "a bad `since` is refused");

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn more_event_clients_than_the_server_allows_get_503_until_one_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path());
    settings.max_event_clients = 2;
    let Running {
        addr,
        token,
        stop,
        running,
    } = start(&settings).await;
    let url = format!("ws://{addr}/api/v1/events?since=now");
    let connect = || tokio_tungstenite::connect_async(connect_request(&url, &token, None));
    let (first, _) = connect().await.unwrap();
    let (second, _) = connect().await.unwrap();
    match connect().await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers()["retry-after"], "5");
        }
        other => panic!("a third client was let in: {other:?}"),
    }
    drop(first);
    // The place comes back once the server sees the first one gone.
    let mut third = None;
    for _ in 0..50 {
        if let Ok((socket, _)) = connect().await {
            third = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(third.is_some(), "the first client's place never came back");
    drop((second, third));
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
