//! The websocket route `/api/v1/events`: a browser or the CLI connecting to
//! a running control server sees the start-up snapshot from its first event,
//! and one that reconnects with `since=N` gets exactly what it missed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bi_model::events::{Event, EventEnvelope};
use bi_server::cli::{GlobalArgs, ServeArgs};
use bi_server::config::Settings;
use bi_server::serve::Server;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;

fn settings(data_dir: &Path) -> Settings {
    let args = ServeArgs {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_path_buf()),
        site_root: Some(data_dir.join("site")),
        sandbox: true,
        ..ServeArgs::default()
    };
    Settings::resolve(&GlobalArgs::default(), &args, None, &[]).unwrap()
}

/// Reads events from `url` until one `stop` accepts; returns them all.
async fn read_until(url: &str, stop: impl Fn(&Event) -> bool) -> Vec<EventEnvelope> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
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
    let server = Server::bind(&settings(dir.path())).await.unwrap();
    let addr: SocketAddr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    let finished = |event: &Event| matches!(event, Event::SnapshotFinished { .. });
    let url = format!("ws://{addr}/api/v1/events");
    let first = read_until(&url, finished).await;
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
    let resumed = read_until(&format!("{url}?since={resume_after}"), finished).await;
    assert_eq!(
        resumed.iter().map(|e| e.seq).collect::<Vec<_>>(),
        first[3..].iter().map(|e| e.seq).collect::<Vec<_>>()
    );

    let bad = tokio_tungstenite::connect_async(format!("{url}?since=yesterday")).await;
    assert!(bad.is_err(), "a bad `since` is refused");

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
