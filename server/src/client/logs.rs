//! `bi logs NAME`: a service's or battery's container log, as
//! `kubectl logs` prints it, from the cluster's pod log API through bi.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bi_api::explorer::{LogQuery, PodRow};

use super::api::ApiClient;

/// `bi logs …`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// A service (Knative or traditional), or a battery (`redis`).
    pub name: String,
    /// Keep printing lines as they come (until Ctrl-C).
    #[arg(short, long)]
    pub follow: bool,
    /// The pod (default: the first, by namespace and name).
    #[arg(long)]
    pub pod: Option<String>,
    /// The container (needed when the pod has several).
    #[arg(short, long)]
    pub container: Option<String>,
    /// The previous container's log (after a restart).
    #[arg(short, long)]
    pub previous: bool,
    /// Only the last N lines.
    #[arg(long)]
    pub tail: Option<u32>,
    /// How long to wait for a pod when it has none yet (just applied),
    /// as `kubectl logs --pod-running-timeout`: `20s`, `1m`, `0s`.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub pod_running_timeout: Duration,
}

/// How often `bi logs` asks again for the pods of a workload that has none yet.
const ASK_AGAIN: Duration = Duration::from_millis(500);

/// Runs `bi logs …`.
pub async fn logs(api: &ApiClient, args: LogsArgs) -> anyhow::Result<()> {
    let pods = pods_of(api, &args.name, args.pod_running_timeout).await?;
    let pod = match &args.pod {
        Some(wanted) => pods.iter().find(|p| &p.name == wanted),
        None => pods.first(),
    };
    let Some(pod) = pod else {
        let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        if names.is_empty() {
            bail!(
                "{} has no pods (yet): is it installed and applied?",
                args.name
            );
        }
        bail!(
            "{} has no pod {:?}; its pods: {}",
            args.name,
            args.pod,
            names.join(", ")
        );
    };
    if pods.len() > 1 && args.pod.is_none() {
        eprintln!(
            "{} has {} pods; showing {} (choose with --pod)",
            args.name,
            pods.len(),
            pod.name
        );
    }
    let query = LogQuery {
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        container: args.container,
        previous: args.previous,
        tail: args.tail,
        follow: args.follow,
    };
    let mut path = format!(
        "/api/v1/cluster/logs?namespace={}&pod={}&previous={}&follow={}",
        encode(&query.namespace),
        encode(&query.pod),
        query.previous,
        query.follow
    );
    if let Some(container) = &query.container {
        path.push_str(&format!("&container={}", encode(container)));
    }
    if let Some(tail) = query.tail {
        path.push_str(&format!("&tail={tail}"));
    }
    let mut response = api
        .get_chunks(&path)
        .await
        .with_context(|| format!("while reading the log of {}", pod.name))?;
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = response
        .chunk()
        .await
        .context("while reading the log stream")?
    {
        out.write_all(&chunk)?;
        out.flush()?;
    }
    Ok(())
}

/// The pods of `name`, waiting up to `timeout` for the first when its
/// workloads have none yet (a pod is made a moment after its workload).
/// A name bi runs no workloads for is refused by the server at once.
async fn pods_of(api: &ApiClient, name: &str, timeout: Duration) -> anyhow::Result<Vec<PodRow>> {
    let deadline = Instant::now() + timeout;
    let mut told = false;
    loop {
        let pods: Vec<PodRow> = api
            .get(&format!("/api/v1/cluster/pods?of={}", encode(name)))
            .await
            .with_context(|| format!("while finding the pods of {name}"))?;
        if !pods.is_empty() || Instant::now() + ASK_AGAIN > deadline {
            return Ok(pods);
        }
        if !told {
            eprintln!(
                "waiting up to {} for a pod of {name}",
                humantime::format_duration(timeout)
            );
            told = true;
        }
        tokio::time::sleep(ASK_AGAIN).await;
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
