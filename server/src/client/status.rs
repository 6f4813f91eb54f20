//! `bi status`: installation health, batteries, last snapshot.

use anyhow::Context;

use super::ApiClient;
use super::output::print;
use crate::client::output::OutputFormat;
use bi_api::health::Readiness;
use bi_api::status::Status;

/// Prints the server's status.
pub async fn status(api: &ApiClient, format: OutputFormat) -> anyhow::Result<()> {
    let status: Status = api
        .get("/api/v1/status")
        .await
        .context("while reading the status")?;
    print(format, &status, render)
}

fn render(status: &Status) -> String {
    let installation = &status.installation;
    let mut out = format!(
        "installation:    {} (bi {}, {} database)\n",
        installation.name, installation.version, installation.database_backend
    );
    if let Some(cluster) = &installation.cluster {
        let what = if cluster.sandbox {
            "sandbox (stores objects, runs nothing)"
        } else {
            "kubernetes"
        };
        out.push_str(&format!("cluster:         {} — {what}\n", cluster.url));
        if let Some(kubeconfig) = &cluster.kubeconfig {
            out.push_str(&format!("kubeconfig:      {kubeconfig}\n"));
        }
    }
    out.push_str(&format!("desired version: {}\n", status.desired_version));
    let batteries: Vec<String> = status.batteries.iter().map(ToString::to_string).collect();
    out.push_str(&format!(
        "batteries:       {} ({})\n",
        batteries.len(),
        batteries.join(", ")
    ));
    match &status.last_snapshot {
        Some(snapshot) => out.push_str(&format!(
            "last snapshot:   #{} {} (version {}, {} created, {} updated, {} failed, {} waiting for a webhook) at {}\n",
            snapshot.id,
            snapshot.status,
            snapshot.desired_version,
            snapshot.counts.created,
            snapshot.counts.updated,
            snapshot.counts.failed,
            snapshot.counts.waiting,
            snapshot.started_at.readable()
        )),
        None => out.push_str("last snapshot:   none yet\n"),
    }
    match (&status.health, &status.health_error) {
        (Some(health), _) => {
            let capacity = &health.capacity;
            out.push_str(&format!(
                "capacity:        CPU {} of {}, memory {} of {} requested ({} nodes); storage {} claimed\n",
                capacity.requested_cpu.human(),
                capacity.allocatable_cpu.human(),
                capacity.requested_memory.human(),
                capacity.allocatable_memory.human(),
                health.nodes,
                capacity.requested_storage.human(),
            ));
            out.push_str("health:\n");
            for app in &health.apps {
                let workloads = app.workloads.iter().fold((0, 0), |(ready, desired), w| {
                    (ready + w.ready.unwrap_or(0), desired + w.desired)
                });
                let readiness = match app.readiness {
                    Readiness::Ready => "ready",
                    Readiness::Progressing => "progressing",
                    Readiness::Missing => "missing (not applied yet)",
                    Readiness::Configured => "configured (no workloads)",
                };
                if app.workloads.is_empty() {
                    out.push_str(&format!("  {:<28} {readiness}\n", app.app));
                } else {
                    out.push_str(&format!(
                        "  {:<28} {readiness} ({}/{} replicas ready)\n",
                        app.app, workloads.0, workloads.1
                    ));
                }
            }
        }
        (None, Some(error)) => out.push_str(&format!("health:          unknown: {error}\n")),
        (None, None) => {}
    }
    out.push_str(&super::reach::render(&status.reach));
    if status.drifted.is_empty() {
        out.push_str("drift:           none\n");
    } else {
        out.push_str(&format!(
            "drift:           {} object(s) changed outside bi:\n",
            status.drifted.len()
        ));
        for path in &status.drifted {
            out.push_str(&format!("  {path}\n"));
        }
    }
    out
}
