//! `bi start`: the one command of the README. The same server as `bi
//! serve`, brought up step by step with a spinner and the time each step
//! took: data directory and migrations, (with `--kind`) the kind cluster,
//! the cluster connection, the first snapshot; then the URL.
//!
//! battery_core is part of the initial desired state, so the first
//! snapshot of a new installation installs it.

pub mod kind;

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context;
use bi_control::cluster::ClusterSource;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::net::TcpListener;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::config::{DEFAULT_LOG_FILTER, Settings};
use crate::serve::{Server, app_state, connect_cluster, open_database, shutdown_signal};

/// The log filter of `bi start` unless one is given: the steps say what
/// happens; log lines would only break up the spinners.
const START_LOG_FILTER: &str = "warn,sqlx=warn";

/// Starts the control server step by step, then serves until Ctrl-C.
pub async fn start(global: &GlobalArgs, args: &StartArgs) -> anyhow::Result<()> {
    let mut settings = Settings::load(global, &args.serve)?;
    // NB: a bad certificate should stop bi before anything starts.
    crate::serve::tls_config(&settings)?;
    // NB: the file keeps what the terminal is spared (progress replaces
    // the info lines there), for `bi debug bundle`.
    let file_filter = settings.log.filter.clone();
    if settings.log.filter == DEFAULT_LOG_FILTER && std::env::var_os("RUST_LOG").is_none() {
        START_LOG_FILTER.clone_into(&mut settings.log.filter);
    }
    let log_file = settings.data_dir.join(crate::client::debug::LOG_FILE);
    crate::logging::init_with_file(&settings.log, &log_file, &file_filter)?;
    settings.log_warnings();
    if args.kind {
        kind::require_tools()?;
    }

    let lease = step(
        "the database's lease (one control server per database)",
        crate::serve::take_lease(&settings),
    )
    .await?;
    let db = step(
        &format!(
            "data directory {} and database",
            settings.data_dir.display()
        ),
        open_database(&settings),
    )
    .await?;
    if args.kind {
        let installation = bi_control::installation::ensure(&db)
            .await
            .context("while reading the installation's name")?;
        let name = format!("bi-{}", installation.name);
        let kubeconfig = settings.data_dir.join("kind.kubeconfig");
        step(
            &format!("kind cluster {name}"),
            kind::ensure_cluster(&name, &kubeconfig),
        )
        .await?;
        settings.cluster = Some(ClusterSource::Kubeconfig {
            path: Some(kubeconfig),
            context: None,
        });
    }
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("while binding {} (listen)", settings.listen))?;
    let addr = listener
        .local_addr()
        .context("while reading the bound address")?;
    let (connection, sandbox) = step("cluster", connect_cluster(&settings)).await?;
    let cluster_url = connection.summary.url.clone();
    let is_sandbox = connection.summary.sandbox;
    let (keycloak, sandbox_keycloak) =
        crate::serve::keycloak_access(&settings, sandbox.as_ref()).await?;
    let (state, reconciler) = app_state(&settings, addr, db.clone(), connection, keycloak).await?;
    let ticket = state.reconciler.request("start");
    let first = step(
        "first snapshot (installs battery_core on a new installation)",
        async { ticket.finished().await.map_err(anyhow::Error::msg) },
    )
    .await;
    match first {
        Ok(report) => eprintln!(
            "  snapshot {} {}: {} created, {} updated, {} unchanged, {} failed",
            report.id,
            report.status,
            report.counts.created,
            report.counts.updated,
            report.counts.unchanged,
            report.counts.failed
        ),
        Err(err) => eprintln!("  the first snapshot did not run: {err:#}; bi keeps retrying"),
    }
    if args.kind {
        match kind::add_metallb_pool(&db).await {
            Ok(Some(range)) => {
                eprintln!("  MetalLB addresses: {range} (inside the kind docker network)")
            }
            Ok(None) => {}
            Err(err) => eprintln!("  no MetalLB address pool: {err:#}"),
        }
    }
    let what = if is_sandbox {
        "the embedded sandbox cluster (it stores objects, runs nothing)".to_owned()
    } else {
        cluster_url
    };
    eprintln!("bi is running at http://{addr} managing {what}; Ctrl-C stops it");
    match crate::serve::setup_link(&state, addr) {
        Some(link) => {
            eprintln!(
                "bi is not set up yet: open this link to create the first admin (it works once):"
            );
            println!("{link}");
        }
        None => println!("http://{addr}"),
    }
    Server::from_parts(
        &settings,
        listener,
        state,
        sandbox,
        sandbox_keycloak,
        reconciler,
        lease,
    )?
    .run(shutdown_signal())
    .await
}

/// Runs one step under a spinner, then prints it with its duration.
async fn step<T>(label: &str, work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner.set_message(label.to_owned());
    let began = Instant::now();
    let result = work.await;
    let took = began.elapsed().as_secs_f64();
    spinner.finish_and_clear();
    match &result {
        Ok(_) => eprintln!("✔ {label} ({took:.1}s)"),
        Err(_) => eprintln!("✘ {label} ({took:.1}s)"),
    }
    result
}

/// Options of `bi start`.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct StartArgs {
    /// Everything `bi serve` takes.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Create (or reuse) a kind cluster named `bi-<installation>` and manage
    /// it; needs `docker` and `kind` on PATH.
    #[arg(long, conflicts_with_all = ["kubeconfig", "context", "in_cluster", "sandbox"])]
    pub kind: bool,
}
