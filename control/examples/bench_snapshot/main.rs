//! Snapshot-and-apply benchmark.
//!
//! Three parts, each selected with `--only table,versus` (default: both):
//!
//! - `table`, on the in-process sandbox: for installations of about 100,
//!   1,000 and 10,000 resources (or `--sizes 100,1000,10000`), the
//!   first-apply time, the no-op snapshot time, write requests of the no-op
//!   (must be 0; the binary exits non-zero otherwise), generate+plan CPU time
//!   and peak memory.
//! - `versus`: bi against `kubectl apply --server-side` on the same cluster
//!   in the same run (`--objects 1000`): first apply and no-op, their times,
//!   the API server's own write counts and the ratios, then the history
//!   `--noop-snapshots 1000` no-op snapshots leave (rows, database size,
//!   RSS). On the sandbox by default, `--realk8s` on a fresh real API server
//!   (`../shared/realk8s`), `--kubeconfig FILE [--context NAME]` on any
//!   cluster (it creates namespaces `battery-*`, `bench` and their `-k`
//!   copies). kubectl: `--kubectl PATH`, `$KUBECTL`, PATH, or realk8s's.
//!
//! Each size gets a fresh SQLite database in a temporary directory and a
//! fresh memory-only sandbox. The installation is the batteries that
//! projects need (PostgreSQL, Redis, traditional and Knative services,
//! notebooks) plus N projects, each with one object of every kind; N is
//! chosen so the generated resource count is close to the target.
//!
//! Peak memory is the process's VmHWM: process-wide (the sandbox runs in
//! this process too) and cumulative, so sizes run smallest first.
//!
//! `cargo run --release -p bi-control --example bench-snapshot [-- --sizes 100,1000]`
//! `cargo run --release -p bi-control --example bench-snapshot -- --only versus --realk8s`

#[path = "../../../sandbox/tests/realk8s/mod.rs"]
mod realk8s;
mod versus;

use std::collections::BTreeSet;
use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bi_control::Database;
use bi_control::desired_state;
use bi_control::engine::Engine;
use bi_model::catalog::{BatteryKind, ClusterProvider};
use bi_model::generate::{DesiredState, Observed, Owned, Secrets, generate, plan};
use bi_model::image::ImageRef;
use bi_model::objects::{
    KnativeService, Notebook, PostgresCluster, Project, RedisInstance, TraditionalService,
};
use bi_sandbox::{Sandbox, SandboxConfig};

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// The batteries the per-project objects need (their dependencies follow).
const BATTERIES: [BatteryKind; 6] = [
    BatteryKind::BatteryCore,
    BatteryKind::CloudnativePg,
    BatteryKind::Redis,
    BatteryKind::TraditionalServices,
    BatteryKind::Knative,
    BatteryKind::Notebooks,
];

/// How often generate+plan is timed per size; the fastest run is reported.
const GENERATE_RUNS: usize = 3;

/// The batteries plus `projects` projects, each with a PostgreSQL cluster,
/// a Redis instance, a traditional service, a Knative service and a notebook.
fn installation(projects: usize) -> BoxResult<DesiredState> {
    let mut state = DesiredState::with_batteries(&BATTERIES)?;
    state.provider = ClusterProvider::Kind;
    let image = ImageRef::parse("ghcr.io/example/web:1.0.0")?;
    for i in 0..projects {
        let name = format!("project-{i}");
        let project = Some(name.clone());
        state.projects.push(Project {
            name,
            ..Project::default()
        });
        state.postgres_clusters.push(Owned {
            project: project.clone(),
            object: PostgresCluster {
                name: format!("pg-{i}"),
                ..PostgresCluster::default()
            },
        });
        state.redis_instances.push(Owned {
            project: project.clone(),
            object: RedisInstance {
                name: format!("cache-{i}"),
                ..RedisInstance::default()
            },
        });
        state.traditional_services.push(Owned {
            project: project.clone(),
            object: TraditionalService::new(format!("web-{i}"), image.clone()),
        });
        state.knative_services.push(Owned {
            project: project.clone(),
            object: KnativeService::new(format!("fn-{i}"), image.clone()),
        });
        state.notebooks.push(Owned {
            project,
            object: Notebook {
                name: format!("nb-{i}"),
                ..Notebook::default()
            },
        });
    }
    Ok(state)
}

/// Resources generated for `projects` projects (preview secrets).
fn resource_count(projects: usize) -> BoxResult<usize> {
    Ok(generate(&installation(projects)?, Secrets::Preview)?.len())
}

/// What to run, from the command line.
struct Args {
    sizes: Vec<usize>,
    table: bool,
    versus: bool,
    target: versus::Target,
    objects: usize,
    noops: usize,
    kubectl: Option<PathBuf>,
}

const USAGE: &str = "usage: bench-snapshot [--only table,versus] [--sizes 100,1000,10000] \
[--objects 1000] [--noop-snapshots 1000] [--realk8s | --kubeconfig FILE [--context NAME]] [--kubectl PATH]";

fn args() -> BoxResult<Args> {
    let mut parsed = Args {
        sizes: vec![100, 1_000, 10_000],
        table: true,
        versus: true,
        target: versus::Target::Sandbox,
        objects: 1_000,
        noops: 1_000,
        kubectl: None,
    };
    let mut kubeconfig: Option<PathBuf> = None;
    let mut context: Option<String> = None;
    let mut realk8s = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || -> BoxResult<String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value; {USAGE}").into())
        };
        match flag.as_str() {
            "--sizes" => {
                parsed.sizes = value()?
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<Vec<_>, _>>()?;
            }
            "--only" => {
                let parts = value()?;
                let parts: Vec<&str> = parts.split(',').map(str::trim).collect();
                if let Some(unknown) = parts.iter().find(|p| !["table", "versus"].contains(p)) {
                    return Err(format!("--only: {unknown:?} is not table or versus").into());
                }
                parsed.table = parts.contains(&"table");
                parsed.versus = parts.contains(&"versus");
            }
            "--objects" => parsed.objects = value()?.parse()?,
            "--noop-snapshots" => parsed.noops = value()?.parse()?,
            "--kubeconfig" => kubeconfig = Some(PathBuf::from(value()?)),
            "--context" => context = Some(value()?),
            "--kubectl" => parsed.kubectl = Some(PathBuf::from(value()?)),
            "--realk8s" => realk8s = true,
            _ => return Err(format!("unknown argument {arg:?}; {USAGE}").into()),
        }
    }
    parsed.target = match (kubeconfig, realk8s) {
        (Some(_), true) => return Err("--realk8s and --kubeconfig exclude each other".into()),
        (Some(path), false) => versus::Target::Kubeconfig { path, context },
        (None, true) => versus::Target::Realk8s,
        (None, false) if context.is_some() => return Err("--context needs --kubeconfig".into()),
        (None, false) => versus::Target::Sandbox,
    };
    // NB: VmHWM only grows, so smallest first keeps each figure meaningful.
    parsed.sizes.sort_unstable();
    parsed.sizes.dedup();
    Ok(parsed)
}

/// The process's resident set now (VmRSS) in KiB, if /proc says.
fn rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS:")
}

/// The process's peak resident set (VmHWM) in KiB, if /proc says.
fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

/// A `kB` field of /proc/self/status.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time this thread has run, from /proc/thread-self/schedstat (ns).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// The CPU time (wall time when /proc cannot tell) of one generate+plan,
/// planned against an observed cluster that already holds every resource.
fn generate_and_plan(state: &DesiredState, secrets: Secrets<'_>) -> BoxResult<(Duration, bool)> {
    let resources = generate(state, secrets)?;
    let observed: Vec<Observed> = resources
        .iter()
        .map(|r| Observed {
            path: r.path.clone(),
            managed: true,
            hash: Some(r.hash.clone()),
            owned: false,
        })
        .collect();
    let inventory: BTreeSet<_> = resources.iter().map(|r| r.path.clone()).collect();
    drop(resources);

    let (cpu_before, wall_before) = (thread_cpu(), Instant::now());
    let resources = generate(state, secrets)?;
    let planned = plan(&resources, &observed, &inventory);
    let wall = wall_before.elapsed();
    let cpu = match (cpu_before, thread_cpu()) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    std::hint::black_box(&planned);
    Ok((cpu.unwrap_or(wall), cpu.is_some()))
}

struct Row {
    target: usize,
    projects: usize,
    resources: usize,
    created: usize,
    first: Duration,
    noop: Duration,
    noop_writes: u64,
    noop_requests: u64,
    generate_plan: Duration,
    cpu_measured: bool,
    peak_kib: Option<u64>,
}

async fn run(target: usize, projects: usize, index: usize) -> BoxResult<Row> {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("bi-bench-snapshot-{}-{index}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_in(&dir, target, projects).await;
    let removed = std::fs::remove_dir_all(&dir);
    let row = result?;
    removed?;
    Ok(row)
}

async fn run_in(dir: &std::path::Path, target: usize, projects: usize) -> BoxResult<Row> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = Database::connect(&url, None).await?;
    db.migrate().await?;
    let sandbox = Sandbox::start(SandboxConfig {
        ready_after: Duration::ZERO,
        ..SandboxConfig::default()
    })
    .await?;

    let state = installation(projects)?;
    let stored = state.clone();
    desired_state::change(&db, "bench", "benchmark installation", move |s| {
        *s = stored;
        Ok(())
    })
    .await?;
    let engine = Engine::new(db.clone(), sandbox.client()?).await?;

    let started = Instant::now();
    let first = engine.snapshot("bench-first").await?;
    let first_time = started.elapsed();
    if first.counts.failed > 0 {
        return Err(format!(
            "first snapshot of {projects} projects: {} objects failed",
            first.counts.failed
        )
        .into());
    }

    sandbox.reset_requests();
    let started = Instant::now();
    let noop = engine.snapshot("bench-noop").await?;
    let noop_time = started.elapsed();
    let requests = sandbox.requests();
    if noop.counts.writes() > 0 {
        eprintln!("no-op snapshot reported changes: {:?}", noop.counts);
    }

    let secrets = desired_state::secrets(&db).await?;
    let mut best: Option<(Duration, bool)> = None;
    for _ in 0..GENERATE_RUNS {
        let run = generate_and_plan(&state, Secrets::Stored(secrets.as_map()))?;
        best = Some(match best {
            Some(b) if b.0 <= run.0 => b,
            _ => run,
        });
    }
    let (generate_plan, cpu_measured) = best.unwrap_or_default();

    sandbox.shutdown().await?;
    drop(engine);
    db.close().await?;
    Ok(Row {
        target,
        projects,
        resources: first.outcomes.len(),
        created: first.counts.created,
        first: first_time,
        noop: noop_time,
        noop_writes: requests.writes(),
        noop_requests: requests.total(),
        generate_plan,
        cpu_measured,
        peak_kib: peak_rss_kib(),
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn bench() -> BoxResult<bool> {
    let args = args()?;
    let mut ok = true;
    if args.table {
        if matches!(args.target, versus::Target::Sandbox) {
            ok &= table(&args.sizes).await?;
        } else {
            println!("(the table runs on the sandbox only; skipped for this cluster)");
        }
    }
    if args.versus {
        let kubectl = versus::find_kubectl(args.kubectl.clone())?;
        ok &= versus::compare(&args.target, args.objects, args.noops, &kubectl).await?;
    }
    Ok(ok)
}

async fn table(sizes: &[usize]) -> BoxResult<bool> {
    let base = resource_count(0)?;
    let per_project = resource_count(1)?.saturating_sub(base).max(1);
    println!(
        "installation: batteries {} (+ dependencies) = {base} resources; {per_project} resources per project",
        BATTERIES.map(BatteryKind::id).join(", ")
    );
    println!(
        "peak RSS is the process-wide VmHWM (sandbox included), cumulative: sizes run smallest first"
    );
    println!(
        "{:>7} {:>8} {:>9} {:>8} {:>13} {:>12} {:>11} {:>13} {:>16} {:>10}",
        "target",
        "projects",
        "resources",
        "created",
        "first apply",
        "no-op",
        "no-op write",
        "no-op reqs",
        "generate+plan",
        "peak RSS"
    );
    let mut ok = true;
    for (index, target) in sizes.iter().copied().enumerate() {
        let projects = target.saturating_sub(base).div_ceil(per_project);
        let row = run(target, projects, index).await?;
        println!(
            "{:>7} {:>8} {:>9} {:>8} {:>13} {:>12} {:>11} {:>13} {:>16} {:>10}",
            row.target,
            row.projects,
            row.resources,
            row.created,
            ms(row.first),
            ms(row.noop),
            row.noop_writes,
            row.noop_requests,
            format!(
                "{}{}",
                ms(row.generate_plan),
                if row.cpu_measured { " cpu" } else { " wall" }
            ),
            row.peak_kib
                .map_or_else(|| "?".to_owned(), |k| format!("{} MiB", k / 1024)),
        );
        if row.noop_writes != 0 {
            eprintln!(
                "FAIL: the no-op snapshot of {} resources made {} write requests",
                row.resources, row.noop_writes
            );
            ok = false;
        }
    }
    Ok(ok)
}

#[tokio::main]
async fn main() -> ExitCode {
    match bench().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("bench-snapshot: {error}");
            ExitCode::FAILURE
        }
    }
}
