//! `bi status`: installation health, batteries, last snapshot.

use anyhow::Context;

use super::ApiClient;
use super::output::print;
use crate::api::status::Status;
use crate::cli::OutputFormat;

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
            "last snapshot:   #{} {} (version {}, {} created, {} updated, {} failed) at {}\n",
            snapshot.id,
            snapshot.status,
            snapshot.desired_version,
            snapshot.counts.created,
            snapshot.counts.updated,
            snapshot.counts.failed,
            snapshot.started_at.format("%Y-%m-%d %H:%M:%S UTC")
        )),
        None => out.push_str("last snapshot:   none yet\n"),
    }
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
