//! `bi apply`: asks for a snapshot and follows its live events until it
//! finishes, with a progress bar over the objects it applies.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use bi_model::events::{Event, EventEnvelope, ResourceState};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_tungstenite::tungstenite::Message;

use super::ApiClient;
use bi_api::snapshots::Requested;

/// Starts a snapshot and follows it; exit 1 when it failed.
pub async fn apply(api: &ApiClient) -> anyhow::Result<ExitCode> {
    request_and_follow(api, "/api/v1/snapshots").await
}

/// Asks for a snapshot by POSTing to `route` (which answers
/// [`Requested`]) and follows it; exit 1 when it failed.
pub async fn request_and_follow(api: &ApiClient, route: &str) -> anyhow::Result<ExitCode> {
    // NB: subscribe before asking, or the snapshot's first events could
    // pass before the stream starts.
    let mut socket = api.websocket("/api/v1/events?since=now").await?;
    let requested: Requested = api
        .post(route, &serde_json::Value::Null)
        .await
        .context("while asking for a snapshot")?;
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(format!("request {} queued", requested.request));
    let mut mine: Option<i64> = None;
    while let Some(message) = socket.next().await {
        let message = message.context("while following the snapshot's events")?;
        let Message::Text(text) = message else {
            continue;
        };
        let envelope: EventEnvelope =
            serde_json::from_str(&text).context("while decoding an event")?;
        match envelope.event {
            Event::SnapshotStarted {
                snapshot,
                desired_version,
                requests,
                ..
            } if requests.contains(&requested.request) => {
                mine = Some(snapshot);
                bar.set_message(format!(
                    "snapshot {snapshot}: planning desired-state version {desired_version}"
                ));
            }
            Event::PlanReady {
                snapshot, items, ..
            } if Some(snapshot) == mine => {
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} snapshot {prefix}: [{bar:30}] {pos}/{len} {wide_msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(snapshot.to_string());
                bar.set_length(u64::try_from(items.len()).unwrap_or(u64::MAX));
                bar.set_position(0);
            }
            Event::ResourceApplied {
                snapshot,
                path,
                outcome,
                message,
            } if Some(snapshot) == mine => {
                if matches!(outcome, ResourceState::Pending | ResourceState::Applying) {
                    continue;
                }
                bar.inc(1);
                bar.set_message(path.to_string());
                if outcome == ResourceState::Failed {
                    bar.println(format!("failed: {path}: {}", message.unwrap_or_default()));
                }
            }
            Event::SnapshotFinished {
                snapshot,
                status,
                counts,
                elapsed_ms,
            } if Some(snapshot) == mine => {
                bar.finish_and_clear();
                println!(
                    "snapshot {snapshot} {status} in {:.1}s: {} created, {} updated, {} unchanged, {} deleted, {} failed, {} held back, {} waiting",
                    elapsed_ms as f64 / 1000.0,
                    counts.created,
                    counts.updated,
                    counts.unchanged,
                    counts.deleted,
                    counts.failed,
                    counts.held_back,
                    counts.waiting
                );
                if status == "succeeded" {
                    return Ok(ExitCode::SUCCESS);
                }
                if status == "waiting" {
                    eprintln!(
                        "bi: {} objects wait for an admission webhook that cannot answer yet; the control server retries them soon (`bi deploys show {snapshot}` names the webhooks)",
                        counts.waiting
                    );
                } else {
                    eprintln!("bi: `bi deploys show {snapshot}` lists what failed and why");
                }
                return Ok(ExitCode::FAILURE);
            }
            Event::SnapshotError { requests, message } if requests.contains(&requested.request) => {
                bar.finish_and_clear();
                bail!("the snapshot could not run: {message}");
            }
            Event::Resync { reason } => {
                bar.finish_and_clear();
                bail!(
                    "lost the snapshot's events ({reason}); `bi deploys list` shows how it ended"
                );
            }
            _ => {}
        }
    }
    bar.finish_and_clear();
    bail!("the control server closed the event stream before the snapshot finished")
}
