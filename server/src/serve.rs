//! `bi serve`: open the database, migrate, and serve until asked to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bi_api::server::ServerFacts;
use bi_control::Database;
use bi_control::cluster::ClusterConnection;
use bi_control::engine::{Engine, EngineSettings};
use bi_control::events::EventBus;
use bi_control::reconciler::Reconciler;
use bi_model::units::Duration;
use bi_model::{ClusterSummary, ReconcileIntervals};
use bi_sandbox::{Sandbox, SandboxConfig};
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::router::router;
use crate::state::AppState;

/// Name of the WASM, JS and CSS bundles (`output-name` in Cargo.toml).
const OUTPUT_NAME: &str = "bi";

/// Opens (creating if needed) the data directory and the database, applies
/// migrations and makes sure the installation row exists.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    create_data_dir(&settings.data_dir)?;
    let db = Database::connect(
        settings.database_url.expose(),
        settings.database_schema.as_deref(),
    )
    .await
    .with_context(|| format!("while connecting to {}", settings.database_url))?;
    db.migrate().await.context("while migrating the database")?;
    let installation = bi_control::installation::ensure(&db)
        .await
        .context("while reading the installation")?;
    tracing::info!(
        database = %settings.database_url,
        backend = %db.backend(),
        installation = %installation.name,
        "database ready"
    );
    Ok(db)
}

/// The Leptos options for a server bound to `addr`.
pub fn leptos_options(settings: &Settings, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(settings.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// A control server bound to its address, ready to run.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: AppState,
    sandbox: Option<Sandbox>,
    reconciler: JoinHandle<()>,
}

/// Starts the embedded sandbox cluster, persisting into the data directory.
pub async fn start_sandbox(settings: &Settings) -> anyhow::Result<Sandbox> {
    let sandbox = Sandbox::start(SandboxConfig {
        data_dir: Some(settings.data_dir.clone()),
        ..SandboxConfig::default()
    })
    .await
    .context("while starting the sandbox cluster")?;
    tracing::warn!(
        url = %sandbox.url(),
        kubeconfig = %sandbox.kubeconfig_path().map(|p| p.display().to_string()).unwrap_or_default(),
        "using bi's embedded SANDBOX cluster: it stores objects but runs nothing"
    );
    Ok(sandbox)
}

/// How the UI describes the sandbox.
pub fn sandbox_summary(sandbox: &Sandbox) -> ClusterSummary {
    ClusterSummary {
        sandbox: true,
        url: sandbox.url(),
        kubeconfig: sandbox
            .kubeconfig_path()
            .map(|path| path.display().to_string()),
        context: None,
    }
}

/// Connects to the cluster of `settings`: the one its kubeconfig or the
/// pod names, else a sandbox started here (returned, to stop it at the end).
pub async fn connect_cluster(
    settings: &Settings,
) -> anyhow::Result<(ClusterConnection, Option<Sandbox>)> {
    match &settings.cluster {
        Some(source) => {
            let connection = bi_control::cluster::connect(source)
                .await
                .context("while connecting to the cluster")?;
            Ok((connection, None))
        }
        None => {
            let sandbox = start_sandbox(settings).await?;
            let connection = ClusterConnection {
                client: sandbox
                    .client()
                    .context("while connecting to the sandbox cluster")?,
                summary: sandbox_summary(&sandbox),
            };
            Ok((connection, Some(sandbox)))
        }
    }
}

/// The state every request sees, with the reconciler started over
/// `connection`: it applies the desired state at once, then on every change
/// and period. The returned task runs until aborted.
pub async fn app_state(
    settings: &Settings,
    addr: SocketAddr,
    db: Database,
    connection: ClusterConnection,
) -> anyhow::Result<(AppState, JoinHandle<()>)> {
    let engine = Engine::with_settings(
        db.clone(),
        connection.client,
        EngineSettings::default(),
        EventBus::new(),
    )
    .await
    .context("while starting the snapshot engine")?;
    let defaults = default_intervals(settings);
    // NB: intervals saved from the Settings page outlive restarts and win
    // over the server's options.
    let intervals = bi_control::installation::intervals(&db)
        .await
        .context("while reading the reconcile intervals")?
        .or(defaults);
    let (reconciler, task) = Reconciler::start(Arc::new(engine), intervals.into());
    let state = AppState {
        leptos_options: leptos_options(settings, addr),
        db,
        cluster: connection.summary,
        reconciler,
        facts: ServerFacts {
            data_dir: settings.data_dir.display().to_string(),
            defaults,
        },
    };
    Ok((state, task))
}

/// The reconcile intervals of the server's options (`--recheck-every`,
/// `--drift-every`), in bi's typed units.
pub(crate) fn default_intervals(settings: &Settings) -> ReconcileIntervals {
    let typed = |period: std::time::Duration| {
        Duration::milliseconds(u64::try_from(period.as_millis()).unwrap_or(u64::MAX))
    };
    ReconcileIntervals {
        recheck_every: typed(settings.recheck_every),
        drift_every: typed(settings.drift_every),
    }
}

impl Server {
    /// A server from parts made one by one (`bi start` shows each step).
    pub fn from_parts(
        listener: TcpListener,
        state: AppState,
        sandbox: Option<Sandbox>,
        reconciler: JoinHandle<()>,
    ) -> Self {
        Self {
            listener,
            state,
            sandbox,
            reconciler,
        }
    }

    /// Opens the database, binds the listen address, connects to the
    /// cluster and starts the reconciler; nothing is served yet.
    pub async fn bind(settings: &Settings) -> anyhow::Result<Self> {
        let db = open_database(settings).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("while binding {} (listen)", settings.listen))?;
        let addr = listener
            .local_addr()
            .context("while reading the bound address")?;
        let wasm = settings
            .site_root
            .join("pkg")
            .join(format!("{OUTPUT_NAME}.wasm"));
        if !wasm.is_file() {
            tracing::warn!(
                missing = %wasm.display(),
                "the web UI's browser code is not built: pages render but do not react; \
                 build it with `make build` or point --site-root at a built site"
            );
        }
        let (connection, sandbox) = connect_cluster(settings).await?;
        let (state, reconciler) = app_state(settings, addr, db, connection).await?;
        Ok(Self {
            listener,
            state,
            sandbox,
            reconciler,
        })
    }

    /// The cluster this server manages.
    pub fn cluster(&self) -> &ClusterSummary {
        &self.state.cluster
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("while reading the bound address")
    }

    /// Serves until `shutdown` completes, then drains open requests, stops
    /// the reconciler and closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        let db = self.state.db.clone();
        tracing::info!("bi is listening on http://{addr}");
        let served = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .context("while serving HTTP");
        // NB: stopping mid-apply is safe: the snapshot row is marked
        // interrupted at the next start and the next snapshot converges.
        self.reconciler.abort();
        let _ = self.reconciler.await;
        served?;
        tracing::info!("shutting down: requests drained, closing the database");
        db.close().await.context("while closing the database")?;
        if let Some(sandbox) = self.sandbox {
            sandbox
                .shutdown()
                .await
                .context("while stopping the sandbox cluster")?;
        }
        Ok(())
    }
}

/// Runs the control server until `shutdown` completes.
pub async fn serve(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Server::bind(&settings).await?.run(shutdown).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received Ctrl-C"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}

/// Creates the data directory, private to the user on Unix: it holds the
/// database, and with it, later, generated secrets.
fn create_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "while creating the data directory {} (data_dir)",
            dir.display()
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).with_context(
            || format!("while making the data directory {} private", dir.display()),
        )?;
    }
    Ok(())
}

/// `bi sandbox`: only the sandbox cluster, until Ctrl-C or SIGTERM.
pub async fn run_sandbox(args: &crate::cli::SandboxArgs) -> anyhow::Result<()> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(crate::config::default_data_dir);
    create_data_dir(&data_dir)?;
    let sandbox = Sandbox::start(SandboxConfig {
        listen: args.listen,
        data_dir: Some(data_dir),
        ..SandboxConfig::default()
    })
    .await
    .context("while starting the sandbox cluster")?;
    let kubeconfig = sandbox
        .kubeconfig_path()
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    tracing::info!(
        "sandbox cluster at {}: nothing runs in it; try `kubectl --kubeconfig {kubeconfig} get nodes`",
        sandbox.url()
    );
    shutdown_signal().await;
    sandbox
        .shutdown()
        .await
        .context("while stopping the sandbox cluster")
}
