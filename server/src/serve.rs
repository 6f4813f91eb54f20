//! `bi serve`: open the database, migrate, and serve until asked to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bi_api::server::ServerFacts;
use bi_control::Database;
use bi_control::cluster::{ClusterConnection, ClusterSource};
use bi_control::engine::{Engine, EngineSettings};
use bi_control::events::EventBus;
use bi_control::keycloak::KeycloakAccess;
use bi_control::lease::Lease;
use bi_control::reconciler::Reconciler;
use bi_model::units::Duration;
use bi_model::{ClusterSummary, ReconcileIntervals};
use bi_sandbox::keycloak::SandboxKeycloak;
use bi_sandbox::{Sandbox, SandboxConfig};
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use bi_control::auth::SetupToken;

use crate::auth::AuthConfig;
use crate::auth::policy::Hosts;
use crate::config::Settings;
use crate::router::router;
use crate::state::AppState;

/// Name of the WASM, JS and CSS bundles (`output-name` in Cargo.toml).
const OUTPUT_NAME: &str = "bi";

/// Opens (creating if needed) the data directory and the database, applies
/// migrations and makes sure the installation row exists.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    create_data_dir(&settings.data_dir)?;
    let db = wait_for_database(settings, || {
        Database::connect(
            settings.database_url.expose(),
            settings.database_schema.as_deref(),
        )
    })
    .await
    .with_context(|| format!("while connecting to {}", settings.database_url))?;
    db.migrate().await.context("while migrating the database")?;
    if let Some(file) = &settings.seed_file {
        seed(&db, file).await?;
    }
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

/// Runs `reach` (something that opens the database) and returns what it
/// gives. In its cluster, bi's database may start after bi does (a
/// CloudNativePG cluster applied in the same snapshot): there it is tried
/// again, 1 s doubling to 30 s, 30 times, each wait logged, rather than
/// crash-looping. Elsewhere a wrong URL fails at once.
async fn wait_for_database<T, F, Fut>(settings: &Settings, reach: F) -> bi_control::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bi_control::Result<T>>,
{
    if settings.cluster != Some(ClusterSource::InCluster) {
        let mut reach = reach;
        return reach().await;
    }
    use backon::Retryable;
    reach
        .retry(
            backon::ExponentialBuilder::default()
                .with_min_delay(std::time::Duration::from_secs(1))
                .with_max_delay(std::time::Duration::from_secs(30))
                .with_max_times(30),
        )
        .sleep(tokio::time::sleep)
        .notify(|err, wait| {
            tracing::warn!(database = %settings.database_url, error = %err, ?wait, "waiting for the database");
        })
        .await
}

/// Takes the database's lease (see [`bi_control::lease`]), standing by
/// while another control server holds it; once held, a heartbeat checks it
/// every 2 s and ends this process if it is lost (a standby may have taken
/// over: two servers must never apply at once).
pub async fn take_lease(settings: &Settings) -> anyhow::Result<Arc<Lease>> {
    if settings.database_url.expose().starts_with("sqlite") {
        create_data_dir(&settings.data_dir)?;
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "an unnamed host".to_owned());
    let me = format!(
        "bi {} pid {} on {host} ({})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        settings.listen
    );
    let lease = wait_for_database(settings, || {
        Lease::acquire(
            settings.database_url.expose(),
            settings.database_schema.as_deref(),
            &me,
            |holder| {
                tracing::warn!(
                    %holder,
                    database = %settings.database_url,
                    "another control server holds this database: standing by until it stops"
                );
            },
        )
    })
    .await
    .with_context(|| format!("while taking the lease of {}", settings.database_url))?;
    tracing::info!(
        lease = lease.place(),
        "this server holds the database's lease"
    );
    let lease = Arc::new(lease);
    let watched = lease.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            every.tick().await;
            if !watched.check().await.unwrap_or(false) {
                tracing::error!(
                    lease = watched.place(),
                    "lost the database's lease: another server may apply now; stopping"
                );
                std::process::exit(3);
            }
        }
    });
    Ok(lease)
}

/// Starts an empty database from the seed in `file` (see [`bi_model::generate::Seed`]);
/// a database that holds a desired state, or a missing file, is left alone.
async fn seed(db: &Database, file: &std::path::Path) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(file = %file.display(), "no seed: starting from the database as it is");
            return Ok(());
        }
        Err(err) => {
            return Err(err).with_context(|| format!("while reading the seed {}", file.display()));
        }
    };
    let seed: bi_model::generate::Seed = serde_json::from_str(&text)
        .with_context(|| format!("the seed {} is not a seed", file.display()))?;
    if bi_control::desired_state::seed(db, &seed)
        .await
        .with_context(|| format!("while starting from the seed {}", file.display()))?
    {
        tracing::info!(file = %file.display(), batteries = seed.state.batteries.len(), "started from the installation's seed");
    }
    Ok(())
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
    /// Whether [`Server::run`] prints the setup link (`bi start` prints
    /// its own).
    announce_setup: bool,
    /// HTTPS, when the server has a certificate.
    tls: Option<Arc<rustls::ServerConfig>>,
    listener: TcpListener,
    state: AppState,
    sandbox: Option<Sandbox>,
    /// The sandbox's Keycloak, when bi runs on the sandbox: held while
    /// the server runs.
    _sandbox_keycloak: Option<SandboxKeycloak>,
    reconciler: JoinHandle<()>,
    /// Held while the server runs.
    _lease: Arc<Lease>,
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

/// Where the engine reaches Keycloak: `--keycloak-url`; else, on the
/// sandbox, a sandbox Keycloak started here (returned, to keep it running)
/// whose administrator is the one bi generates; else its Service when bi runs
/// in a pod; else nowhere (and a snapshot wanting it says how to give one).
pub async fn keycloak_access(
    settings: &Settings,
    sandbox: Option<&Sandbox>,
) -> anyhow::Result<(KeycloakAccess, Option<SandboxKeycloak>)> {
    if let Some(url) = &settings.keycloak_url {
        return Ok((KeycloakAccess::Url(url.clone()), None));
    }
    if let Some(sandbox) = sandbox {
        let keycloak = SandboxKeycloak::start_in(sandbox, "keycloak-admin")
            .await
            .context("while starting the sandbox Keycloak")?;
        tracing::info!(url = %keycloak.url(), "sandbox Keycloak started");
        return Ok((KeycloakAccess::Url(keycloak.url()), Some(keycloak)));
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return Ok((KeycloakAccess::InCluster, None));
    }
    Ok((KeycloakAccess::Outside, None))
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
    keycloak: KeycloakAccess,
) -> anyhow::Result<(AppState, JoinHandle<()>)> {
    let engine = Engine::with_settings(
        db.clone(),
        connection.client,
        EngineSettings {
            retention: settings.retention,
            writes_per_second: settings.max_write_rate,
            keycloak,
            ..EngineSettings::default()
        },
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
    let auth = auth_config(settings, addr, &db).await?;
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
        auth,
        event_clients: Arc::new(tokio::sync::Semaphore::new(settings.max_event_clients)),
        event_client_limit: settings.max_event_clients,
        metrics: Arc::default(),
    };
    crate::metrics::follow_events(&state);
    Ok((state, task))
}

/// The HTTPS config of `settings`, if it names a certificate.
pub fn tls_config(settings: &Settings) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    settings
        .tls
        .as_ref()
        .map(|files| crate::tls::server_config(&files.cert, &files.key).map(Arc::new))
        .transpose()
}

/// The file in the data directory that holds the setup token while bi is
/// not set up (readable by its owner only).
pub const SETUP_TOKEN_FILE: &str = "setup-token";

/// The hosts served and, while no account exists, the setup token: the
/// operator's (`BI_SETUP_TOKEN`) or a new random one, also written to the
/// data directory's `setup-token` file.
async fn auth_config(
    settings: &Settings,
    addr: SocketAddr,
    db: &Database,
) -> anyhow::Result<AuthConfig> {
    let accounts = bi_control::auth::accounts::count(db)
        .await
        .context("while counting accounts")?;
    let setup_file = settings.data_dir.join(SETUP_TOKEN_FILE);
    let setup = if accounts == 0 {
        let token = match &settings.setup_token {
            Some(chosen) => SetupToken::chosen(&chosen.0)
                .map_err(|err| anyhow::anyhow!("setup_token: {err}"))?,
            None => SetupToken::generate(),
        };
        write_private(&setup_file, token.expose())?;
        Some(token)
    } else {
        let _ = std::fs::remove_file(&setup_file);
        None
    };
    Ok(AuthConfig {
        setup: Arc::new(std::sync::Mutex::new(setup)),
        setup_file: Some(setup_file),
        hosts: Arc::new(Hosts::new(addr, settings.public_url.as_ref())),
        tls: settings.tls.is_some(),
        limiter: Arc::default(),
        oidc: Arc::new(
            crate::auth::oidc::Oidc::new()
                .context("while setting up single sign-on's HTTP client")?,
        ),
        public_url: settings.public_url.clone(),
    })
}

/// Writes `text` to `path`, readable by its owner only.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("while writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("while writing {}", path.display()))
}

/// The link that creates the first admin, while bi is not set up.
pub fn setup_link(state: &AppState, addr: SocketAddr) -> Option<String> {
    let token = state.auth.pending_setup()?;
    let base = state.auth.hosts.public_base().unwrap_or_else(|| {
        let scheme = if state.auth.tls { "https" } else { "http" };
        format!("{scheme}://{addr}")
    });
    Some(format!("{base}/setup?token={}", token.expose()))
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
        settings: &Settings,
        listener: TcpListener,
        state: AppState,
        sandbox: Option<Sandbox>,
        sandbox_keycloak: Option<SandboxKeycloak>,
        reconciler: JoinHandle<()>,
        lease: Arc<Lease>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            announce_setup: false,
            tls: tls_config(settings)?,
            listener,
            state,
            sandbox,
            _sandbox_keycloak: sandbox_keycloak,
            reconciler,
            _lease: lease,
        })
    }

    /// Opens the database, binds the listen address, connects to the
    /// cluster and starts the reconciler; nothing is served yet.
    pub async fn bind(settings: &Settings) -> anyhow::Result<Self> {
        let tls = tls_config(settings)?;
        let lease = take_lease(settings).await?;
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
        let (keycloak, sandbox_keycloak) = keycloak_access(settings, sandbox.as_ref()).await?;
        let (state, reconciler) = app_state(settings, addr, db, connection, keycloak).await?;
        Ok(Self {
            announce_setup: true,
            tls,
            listener,
            state,
            sandbox,
            _sandbox_keycloak: sandbox_keycloak,
            reconciler,
            _lease: lease,
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
        if let Some(link) = setup_link(&self.state, addr).filter(|_| self.announce_setup) {
            // NB: to the terminal, not the log: the link is a one-time
            // credential for whoever runs bi.
            eprintln!(
                "bi is not set up yet: create the first admin at {link} (the token is also in {})",
                self.state
                    .auth
                    .setup_file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default()
            );
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        tracing::info!("bi is listening on {scheme}://{addr}");
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let served = match self.tls {
            None => axum::serve(self.listener, app)
                .with_graceful_shutdown(shutdown)
                .await
                .context("while serving HTTP"),
            Some(config) => {
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    shutdown.await;
                    stopper.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
                });
                let listener = self
                    .listener
                    .into_std()
                    .context("while handing the listener to the HTTPS server")?;
                axum_server::from_tcp_rustls(
                    listener,
                    axum_server::tls_rustls::RustlsConfig::from_config(config),
                )
                .context("while starting the HTTPS server")?
                .handle(handle)
                .serve(app)
                .await
                .context("while serving HTTPS")
            }
        };
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
