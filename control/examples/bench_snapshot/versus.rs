//! bi against `kubectl apply --server-side`, on the same cluster in the same
//! run, and the history a long series of no-op snapshots leaves.
//!
//! The installation is battery_core with traditional services (no operator
//! webhooks, so a real API server without pods accepts all of it), as many
//! services as bring it to the objects asked for. kubectl applies a copy of
//! the very objects bi generates (same kinds, bodies and sizes) under other
//! names: its namespaces and cluster-scoped objects get a `-k` suffix and it
//! does not carry `battery/managed`, so bi never sees it. kubectl goes first,
//! with its discovery cache warmed, so it meets the emptier cluster.
//!
//! Writes are counted by the API server itself (`apiserver_request_total`,
//! dry runs and subresources aside, only the resources the objects use, so
//! the controller manager's leases and events are not counted), or by the
//! sandbox's request counter.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bi_control::Database;
use bi_control::desired_state;
use bi_control::engine::Engine;
use bi_control::entities::{resource_body, snapshot, snapshot_resource};
use bi_model::catalog::{BatteryKind, ClusterProvider};
use bi_model::generate::{DesiredState, Owned, Resource, Secrets, generate};
use bi_model::image::ImageRef;
use bi_model::objects::{Project, TraditionalService};
use bi_sandbox::{RequestCounts, Sandbox, SandboxConfig};
use kube::core::GroupVersionKind;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use super::realk8s::{RealApiServer, WriteCount};
use super::{BoxResult, ms, peak_rss_kib, rss_kib};

/// Where the comparison runs.
pub enum Target {
    /// A fresh sandbox in this process.
    Sandbox,
    /// A fresh real API server started with `../shared/realk8s`.
    Realk8s,
    /// Any cluster: a kubeconfig and an optional context.
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// The context, else the current one.
        context: Option<String>,
    },
}

/// A cluster under test and how its writes are counted.
struct Cluster {
    client: kube::Client,
    kubeconfig: PathBuf,
    context: Option<String>,
    describe: String,
    sandbox: Option<Sandbox>,
    _real: Option<RealApiServer>,
    _dir: tempfile::TempDir,
}

/// A reading of a write counter.
enum Count {
    Sandbox(RequestCounts),
    Real(WriteCount),
}

impl Cluster {
    async fn start(target: &Target) -> BoxResult<Cluster> {
        let dir = tempfile::Builder::new().prefix("bi-bench-").tempdir()?;
        match target {
            Target::Sandbox => {
                let sandbox = Sandbox::start(SandboxConfig {
                    ready_after: Duration::ZERO,
                    ..SandboxConfig::default()
                })
                .await?;
                let kubeconfig = dir.path().join("sandbox.kubeconfig");
                std::fs::write(&kubeconfig, sandbox_kubeconfig(&sandbox.url()))?;
                Ok(Cluster {
                    client: sandbox.client()?,
                    kubeconfig,
                    context: None,
                    describe: format!("the embedded sandbox at {}", sandbox.url()),
                    sandbox: Some(sandbox),
                    _real: None,
                    _dir: dir,
                })
            }
            Target::Realk8s => {
                let server = RealApiServer::fresh("bench-snapshot")
                    .ok_or("the real API server (../shared/realk8s) did not start")?;
                let client = server.client().await;
                let version = client.apiserver_version().await?;
                Ok(Cluster {
                    client,
                    kubeconfig: server.kubeconfig.clone(),
                    context: None,
                    describe: format!(
                        "a fresh real kube-apiserver {} (../shared/realk8s)",
                        version.git_version
                    ),
                    sandbox: None,
                    _real: Some(server),
                    _dir: dir,
                })
            }
            Target::Kubeconfig { path, context } => {
                let connection =
                    bi_control::cluster::connect(&bi_control::cluster::ClusterSource::Kubeconfig {
                        path: Some(path.clone()),
                        context: context.clone(),
                    })
                    .await?;
                let version = connection.client.apiserver_version().await?;
                Ok(Cluster {
                    client: connection.client,
                    kubeconfig: path.clone(),
                    context: context.clone(),
                    describe: format!(
                        "{} ({} {})",
                        connection.summary.url,
                        path.display(),
                        version.git_version
                    ),
                    sandbox: None,
                    _real: None,
                    _dir: dir,
                })
            }
        }
    }

    async fn count(&self) -> BoxResult<Count> {
        match &self.sandbox {
            Some(sandbox) => Ok(Count::Sandbox(sandbox.requests())),
            None => {
                let request = http::Request::get("/metrics").body(Vec::new())?;
                let text = self.client.request_text(request).await?;
                Ok(Count::Real(WriteCount::parse(&text)))
            }
        }
    }

    /// Writes to `types` (`group/plural`) since `before`.
    async fn writes_since(&self, before: &Count, types: &BTreeSet<String>) -> BoxResult<u64> {
        Ok(match (before, self.count().await?) {
            (Count::Sandbox(before), Count::Sandbox(now)) => {
                let changed = |counts: &RequestCounts| {
                    counts
                        .iter()
                        .filter(|((verb, resource), _)| {
                            ["create", "update", "patch", "delete", "deletecollection"]
                                .contains(&verb.as_str())
                                && types.iter().any(|t| t.ends_with(&format!("/{resource}")))
                        })
                        .map(|(_, n)| *n)
                        .sum::<u64>()
                };
                changed(&now).saturating_sub(changed(before))
            }
            (Count::Real(before), Count::Real(now)) => now
                .since(before, |resource| types.contains(resource))
                .total(),
            _ => 0,
        })
    }
}

/// A kubeconfig for the sandbox's plain-HTTP URL (it asks no credentials).
fn sandbox_kubeconfig(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster:\n    server: {url}\n\
         contexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: sandbox\n\
         users:\n- name: sandbox\n  user: {{}}\ncurrent-context: sandbox\n"
    )
}

/// battery_core and traditional services, `services` of them in one project.
fn installation(services: usize) -> BoxResult<DesiredState> {
    let mut state = DesiredState::with_batteries(&[
        BatteryKind::BatteryCore,
        BatteryKind::TraditionalServices,
    ])?;
    state.provider = ClusterProvider::Kind;
    state.projects.push(Project {
        name: "bench".to_owned(),
        ..Project::default()
    });
    let image = ImageRef::parse("ghcr.io/example/web:1.0.0")?;
    for i in 0..services {
        state.traditional_services.push(Owned {
            project: Some("bench".to_owned()),
            object: TraditionalService::new(format!("web-{i}"), image.clone()),
        });
    }
    Ok(state)
}

/// How many services bring the installation closest to `objects` (at least one).
fn services_for(objects: usize) -> BoxResult<usize> {
    let base = generate(&installation(0)?, Secrets::Preview)?.len();
    let per = generate(&installation(1)?, Secrets::Preview)?
        .len()
        .saturating_sub(base)
        .max(1);
    Ok(objects.saturating_sub(base).div_ceil(per).max(1))
}

/// kubectl's copy of `resources`: namespaces and cluster-scoped objects
/// renamed with `-k` (CRDs keep theirs: their name is their type), without
/// `battery/managed`; namespaces first, then CRDs, then the rest in order.
fn kubectl_copy(resources: &[Resource]) -> String {
    let rank = |kind: &str| match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        _ => 2,
    };
    let mut items: Vec<(u8, Value)> = resources
        .iter()
        .map(|resource| {
            let mut body = resource.body.clone();
            let kind = resource.path.kind.as_str();
            if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
                    labels.remove("battery/managed");
                }
                let suffix = |value: &mut Value| {
                    if let Some(text) = value.as_str() {
                        *value = Value::String(format!("{text}-k"));
                    }
                };
                match metadata.get_mut("namespace") {
                    Some(namespace) => suffix(namespace),
                    None if kind != "CustomResourceDefinition" => {
                        if let Some(name) = metadata.get_mut("name") {
                            suffix(name);
                        }
                    }
                    None => {}
                }
            }
            (rank(kind), body)
        })
        .collect();
    items.sort_by_key(|(rank, _)| *rank);
    // NB: one YAML stream of JSON documents rather than a `v1 List`, which
    // kubectl validates as a whole (and the sandbox's OpenAPI lacks `List`).
    items
        .into_iter()
        .map(|(_, body)| format!("---\n{body}\n"))
        .collect()
}

/// kubectl: `--kubectl`, else `$KUBECTL`, else on PATH, else the one
/// realk8s unpacks.
pub fn find_kubectl(given: Option<PathBuf>) -> BoxResult<PathBuf> {
    let candidates = given
        .into_iter()
        .chain(std::env::var_os("KUBECTL").map(PathBuf::from))
        .chain(std::env::var_os("PATH").into_iter().flat_map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("kubectl"))
                .collect::<Vec<_>>()
        }))
        .chain(
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/realk8s/bin/kubectl")),
        );
    for candidate in candidates {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err("no kubectl: pass --kubectl PATH, set $KUBECTL, or put it on PATH (../shared/realk8s/up unpacks one into ~/.cache/realk8s/bin)".into())
}

/// Runs kubectl with `args` against `cluster`; fails with its stderr.
fn kubectl(kubectl: &Path, cluster: &Cluster, args: &[&str]) -> BoxResult<String> {
    let mut command = Command::new(kubectl);
    command.arg("--kubeconfig").arg(&cluster.kubeconfig);
    if let Some(context) = &cluster.context {
        command.args(["--context", context]);
    }
    let output = command.args(args).output()?;
    if !output.status.success() {
        return Err(format!(
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The `group/plural` of every type in `resources`, as the API server's
/// metrics name them.
async fn types_of(client: &kube::Client, resources: &[Resource]) -> BoxResult<BTreeSet<String>> {
    let kinds: BTreeSet<(String, String)> = resources
        .iter()
        .map(|r| (r.path.api_version.clone(), r.path.kind.clone()))
        .collect();
    let mut types = BTreeSet::new();
    for (api_version, kind) in kinds {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
        let gvk = GroupVersionKind::gvk(group, version, &kind);
        let (resource, _) = kube::discovery::pinned_kind(client, &gvk).await?;
        types.insert(format!("{}/{}", resource.group, resource.plural));
    }
    Ok(types)
}

/// One timed phase.
struct Phase {
    time: Duration,
    writes: u64,
}

/// Runs the comparison (and, when `noops` > 0, the history series) on
/// `target`; true when every target was met.
pub async fn compare(
    target: &Target,
    objects: usize,
    noops: usize,
    kubectl_path: &Path,
) -> BoxResult<bool> {
    let cluster = Cluster::start(target).await?;
    let services = services_for(objects)?;
    let state = installation(services)?;
    let dir = tempfile::Builder::new().prefix("bi-bench-db-").tempdir()?;
    let db_file = dir.path().join("bench.db");
    let db = Database::connect(&format!("sqlite://{}?mode=rwc", db_file.display()), None).await?;
    db.migrate().await?;
    let stored = state.clone();
    desired_state::change(&db, "bench", "benchmark installation", move |s| {
        *s = stored;
        Ok(())
    })
    .await?;
    let secrets = desired_state::secrets(&db).await?;
    let resources = generate(&state, Secrets::Stored(secrets.as_map()))?;
    let types = types_of(&cluster.client, &resources).await?;
    println!();
    println!(
        "bi vs kubectl apply --server-side on {}: {} objects ({services} traditional services)",
        cluster.describe,
        resources.len()
    );

    // kubectl first: its discovery cache warmed, then the first apply and a re-apply.
    let list = dir.path().join("kubectl-objects.yaml");
    std::fs::write(&list, kubectl_copy(&resources))?;
    let list_arg = list.display().to_string();
    kubectl(kubectl_path, &cluster, &["api-resources", "-o", "name"])?;
    let apply_args = [
        "apply",
        "--server-side",
        "--field-manager=kubectl-bench",
        "-f",
        &list_arg,
    ];
    let mut kubectl_phases = Vec::new();
    for _ in 0..2 {
        let before = cluster.count().await?;
        let started = Instant::now();
        let printed = kubectl(kubectl_path, &cluster, &apply_args)?;
        let time = started.elapsed();
        let applied = printed
            .lines()
            .filter(|line| line.contains("serverside-applied"))
            .count();
        if applied != resources.len() {
            return Err(format!("kubectl applied {applied} of {} objects", resources.len()).into());
        }
        kubectl_phases.push(Phase {
            time,
            writes: cluster.writes_since(&before, &types).await?,
        });
    }

    // bi: the first apply, then a no-op.
    let engine = Engine::new(db.clone(), cluster.client.clone()).await?;
    let mut bi_phases = Vec::new();
    let mut peak = 0;
    for trigger in ["bench-first", "bench-noop"] {
        let before = cluster.count().await?;
        let started = Instant::now();
        let report = engine.snapshot(trigger).await?;
        let time = started.elapsed();
        if report.counts.failed + report.counts.waiting > 0 {
            let failed: Vec<String> = report
                .outcomes
                .iter()
                .filter(|(_, outcome)| outcome.is_failed() || outcome.is_waiting())
                .take(3)
                .map(|(path, outcome)| format!("{path}: {outcome}"))
                .collect();
            return Err(
                format!("bi's {trigger} snapshot did not apply everything: {failed:?}").into(),
            );
        }
        peak = peak.max(report.concurrency.peak_in_flight);
        bi_phases.push(Phase {
            time,
            writes: cluster.writes_since(&before, &types).await?,
        });
    }

    let first_ratio = kubectl_phases[0].time.as_secs_f64() / bi_phases[0].time.as_secs_f64();
    let noop_share = bi_phases[1].time.as_secs_f64() / kubectl_phases[1].time.as_secs_f64();
    println!(
        "{:<26} {:>12} {:>8} {:>12} {:>8}",
        "", "bi", "writes", "kubectl", "writes"
    );
    for (label, bi, kc) in [
        ("first apply", &bi_phases[0], &kubectl_phases[0]),
        (
            "re-apply, nothing changed",
            &bi_phases[1],
            &kubectl_phases[1],
        ),
    ] {
        println!(
            "{label:<26} {:>12} {:>8} {:>12} {:>8}",
            ms(bi.time),
            bi.writes,
            ms(kc.time),
            kc.writes
        );
    }
    let first_met = first_ratio >= 2.0;
    let noop_met = noop_share <= 1.0 / 20.0 && bi_phases[1].writes == 0;
    println!(
        "first apply: bi {first_ratio:.1}x faster than kubectl (target >= 2x: {}); bi's writes in flight peaked at {peak}",
        if first_met { "met" } else { "NOT met" }
    );
    println!(
        "no-op: bi takes 1/{:.0} of kubectl's time with {} writes (target <= 1/20 with 0 writes: {})",
        1.0 / noop_share,
        bi_phases[1].writes,
        if noop_met { "met" } else { "NOT met" }
    );

    // NB: the targets are a real API server's; the sandbox runs in this
    // process on the same cores, so only its write count must hold there.
    let mut ok = if cluster.sandbox.is_some() {
        println!(
            "(the time targets apply to a real API server; on the sandbox only 0 writes must hold)"
        );
        bi_phases[1].writes == 0
    } else {
        first_met && noop_met
    };
    if noops > 0 {
        ok &= history(&engine, &db, &db_file, noops, resources.len()).await?;
    }
    drop(engine);
    db.close().await?;
    if let Some(sandbox) = cluster.sandbox {
        sandbox.shutdown().await?;
    }
    Ok(ok)
}

/// The database file and its write-ahead log, in bytes.
fn db_bytes(file: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", file.display())).ok())
        .map(|meta| meta.len())
        .sum()
}

/// Rows in the snapshot tables.
async fn rows(db: &Database) -> BoxResult<(u64, u64, u64)> {
    let conn = db.connection();
    Ok((
        snapshot::Entity::find().count(conn).await?,
        snapshot_resource::Entity::find().count(conn).await?,
        resource_body::Entity::find().count(conn).await?,
    ))
}

/// `noops` no-op snapshots in a row: what the history and the process keep.
async fn history(
    engine: &Engine,
    db: &Database,
    file: &Path,
    noops: usize,
    objects: usize,
) -> BoxResult<bool> {
    let (rows_before, bytes_before, rss_before) = (rows(db).await?, db_bytes(file), rss_kib());
    let started = Instant::now();
    for _ in 0..noops {
        let report = engine.snapshot("bench-history").await?;
        if report.counts.writes() > 0 {
            return Err(format!("a no-op snapshot wrote: {:?}", report.counts).into());
        }
    }
    let elapsed = started.elapsed();
    let (rows_after, bytes_after, rss_after) = (rows(db).await?, db_bytes(file), rss_kib());
    let added = rows_after.1.saturating_sub(rows_before.1);
    println!();
    println!(
        "history: {noops} no-op snapshots of {objects} objects, {} each on average",
        ms(elapsed / u32::try_from(noops).unwrap_or(u32::MAX))
    );
    println!(
        "  snapshots {} -> {}, snapshot_resource rows {} -> {} ({:.2} per no-op), bodies {} -> {}",
        rows_before.0,
        rows_after.0,
        rows_before.1,
        rows_after.1,
        added as f64 / noops as f64,
        rows_before.2,
        rows_after.2
    );
    println!(
        "  database {:.1} -> {:.1} MiB; RSS {} -> {} MiB (peak {} MiB)",
        bytes_before as f64 / 1048576.0,
        bytes_after as f64 / 1048576.0,
        rss_before.map_or(0, |k| k / 1024),
        rss_after.map_or(0, |k| k / 1024),
        peak_rss_kib().map_or(0, |k| k / 1024),
    );
    // NB: O(1) rows per no-op: the inventory is referenced, not copied.
    let bounded = added <= noops as u64;
    if !bounded {
        eprintln!("FAIL: {added} snapshot_resource rows for {noops} no-op snapshots");
    }
    Ok(bounded)
}
