//! The `bi` command line (clap). Every option can also come from a `BI_*`
//! environment variable or the TOML config file; see [`crate::config`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::{LogFormat, Settings};

/// bi: a batteries-included platform on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "bi", version, about, propagate_version = true)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// TOML config file [default: $XDG_CONFIG_HOME/bi/config.toml when it exists].
    #[arg(long, global = true, env = "BI_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log filter, RUST_LOG syntax (e.g. `info,bi_control=debug`) [default: $RUST_LOG, else info,sqlx=warn].
    #[arg(long, global = true, env = "BI_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Log line format.
    #[arg(
        long,
        global = true,
        env = "BI_LOG_FORMAT",
        value_enum,
        value_name = "FORMAT"
    )]
    pub log_format: Option<LogFormat>,
    /// The control server client commands talk to.
    #[arg(
        long,
        global = true,
        env = "BI_SERVER",
        value_name = "URL",
        default_value = crate::client::DEFAULT_SERVER
    )]
    pub server: String,
}

/// bi's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start bi: create the data directory, migrate, connect to the cluster
    /// (or start the sandbox), apply the desired state, and serve the UI.
    Start(StartArgs),
    /// Start the control server alone (web UI, API, health checks), for a
    /// process manager or a pod.
    Serve(ServeArgs),
    /// Print the Kubernetes resources bi generates, as YAML that `kubectl
    /// apply` accepts: the running server's desired state, or offline with
    /// --battery/--state. Secret values are shown as placeholders.
    Export(ExportArgs),
    /// Run only bi's embedded sandbox cluster (a Kubernetes API that stores
    /// objects and runs nothing), for kubectl or kube clients, until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Installation health, batteries and the last snapshot.
    Status(OutputArgs),
    /// List, inspect, install, configure and uninstall batteries.
    #[command(subcommand)]
    Batteries(BatteriesCommand),
    /// List, create, show, rename and delete projects.
    #[command(subcommand)]
    Projects(ProjectsCommand),
    /// PostgreSQL clusters (needs the cloudnative_pg battery).
    #[command(subcommand)]
    Postgres(PostgresCommand),
    /// Redis instances (needs the redis battery).
    #[command(subcommand)]
    Redis(RedisCommand),
    /// Traditional (Deployment) and Knative services.
    #[command(subcommand)]
    Services(ServicesCommand),
    /// What a snapshot would change now (nothing is written).
    Plan(PlanArgs),
    /// Start a snapshot and follow it until done.
    Apply,
    /// Past snapshots: list, show one, diff two.
    #[command(subcommand)]
    Deploys(DeploysCommand),
    /// The audit trail: every desired-state change, who made it and when.
    Audit {
        /// How many, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// How often bi re-checks the cluster and sweeps for drift: show, set
    /// (kept across restarts, over bi serve's options), reset.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Put the desired state back to what snapshot N applied, and apply it.
    Rollback {
        /// The snapshot (`bi deploys list` shows them).
        snapshot: i64,
    },
    /// Tools for bug reports.
    #[command(subcommand)]
    Debug(DebugCommand),
    /// Print a shell completion script, e.g. `bi completions bash > /etc/bash_completion.d/bi`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// How client commands print what they read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns.
    #[default]
    Table,
    /// JSON, as the API returns it.
    Json,
    /// YAML.
    Yaml,
}

/// The output option of commands that print data.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table, value_name = "FORMAT")]
    pub output: OutputFormat,
}

/// Options of `bi start`.
#[derive(Debug, Default, Clone, Args)]
pub struct StartArgs {
    /// Everything `bi serve` takes.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Create (or reuse) a kind cluster named `bi-<installation>` and manage
    /// it; needs `docker` and `kind` on PATH.
    #[arg(long, conflicts_with_all = ["kubeconfig", "context", "in_cluster", "sandbox"])]
    pub kind: bool,
}

/// `bi batteries …`.
#[derive(Debug, Subcommand)]
pub enum BatteriesCommand {
    /// Every battery of the catalog and whether it is installed.
    List(OutputArgs),
    /// One battery: dependencies, integrations, config and settable keys.
    Show {
        /// The battery, e.g. `redis`.
        battery: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Install a battery with its dependencies, e.g. `bi batteries install redis --set memory=512Mi`.
    Install {
        /// The battery.
        battery: String,
        /// A setting, `key=value` (repeat for more); `bi batteries show` lists the keys.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Only show what would be installed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Change settings of an installed battery.
    Configure {
        /// The battery.
        battery: String,
        /// A setting, `key=value` (repeat for more).
        #[arg(long = "set", value_name = "KEY=VALUE", required = true)]
        set: Vec<String>,
    },
    /// Uninstall a battery (refused while others need it).
    Uninstall {
        /// The battery.
        battery: String,
    },
}

/// `bi projects …`.
#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// Every project.
    List(OutputArgs),
    /// Create a project.
    Create {
        /// Its name (a DNS label).
        name: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// A project and its objects.
    Show {
        /// The project.
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Rename a project; its objects move with it.
    Rename {
        /// The project.
        name: String,
        /// Its new name.
        new_name: String,
    },
    /// Delete a project (refused while it holds objects, unless --cascade).
    Delete {
        /// The project.
        name: String,
        /// Remove its objects too.
        #[arg(long)]
        cascade: bool,
    },
}

/// Size options shared by object commands.
#[derive(Debug, Clone, Args)]
pub struct SizeArgs {
    /// A preset for CPU, memory and storage.
    #[arg(long, value_enum, value_name = "PRESET")]
    pub size: Option<SizePresetArg>,
    /// Memory request and limit, with a unit, e.g. `1Gi`.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
}

/// The size presets, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SizePresetArg {
    /// 512 MiB storage, 500m CPU, 512 MiB memory.
    Tiny,
    /// 16 GiB storage, 500m–2 CPU, 1–4 GiB memory.
    Small,
    /// 64 GiB storage, 4 CPU, 8 GiB memory.
    Medium,
    /// 128 GiB storage, 8 CPU, 16 GiB memory.
    Large,
    /// 256 GiB storage, 10 CPU, 32 GiB memory.
    Xlarge,
    /// 1 TiB storage, 32 CPU, 256 GiB memory.
    Huge,
}

/// `bi postgres …`.
#[derive(Debug, Subcommand)]
pub enum PostgresCommand {
    /// Add a PostgreSQL cluster.
    Add {
        /// Its name (a DNS label).
        name: String,
        /// The project it belongs to.
        #[arg(long)]
        project: Option<String>,
        /// How many instances (1 primary, the rest replicas).
        #[arg(long, default_value_t = 1)]
        instances: u32,
        /// Volume size per instance, with a unit, e.g. `10Gi`.
        #[arg(long, value_name = "SIZE")]
        storage: Option<String>,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Every PostgreSQL cluster.
    List(OutputArgs),
    /// Remove a PostgreSQL cluster.
    Remove {
        /// Its name.
        name: String,
    },
}

/// `bi redis …`.
#[derive(Debug, Subcommand)]
pub enum RedisCommand {
    /// Add a Redis instance.
    Add {
        /// Its name (a DNS label).
        name: String,
        /// The project it belongs to.
        #[arg(long)]
        project: Option<String>,
        /// How many servers.
        #[arg(long, default_value_t = 1)]
        instances: u32,
        /// A volume per server, with a unit (none: in memory only).
        #[arg(long, value_name = "SIZE")]
        storage: Option<String>,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Every Redis instance.
    List(OutputArgs),
    /// Remove a Redis instance.
    Remove {
        /// Its name.
        name: String,
    },
}

/// `bi services …`.
#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// Add a service running an image.
    Add {
        /// Its name (a DNS label).
        name: String,
        /// The image, e.g. `nginx:1.27`.
        #[arg(long)]
        image: String,
        /// The project it belongs to.
        #[arg(long)]
        project: Option<String>,
        /// A Knative service (scales with requests) instead of a Deployment.
        #[arg(long)]
        knative: bool,
        /// Replicas of a traditional service.
        #[arg(long, default_value_t = 1, conflicts_with = "knative")]
        replicas: u32,
        /// The port it listens on (traditional: exposed as `http`; Knative: its container port).
        #[arg(long)]
        port: Option<u16>,
        /// Memory request and limit of a traditional service, e.g. `256Mi`.
        #[arg(long, value_name = "SIZE", conflicts_with = "knative")]
        memory: Option<String>,
    },
    /// Every traditional and Knative service.
    List(OutputArgs),
    /// Scale a service: --replicas for traditional, --min/--max for Knative.
    Scale {
        /// Its name.
        name: String,
        /// Replicas of a traditional service (0 stops it).
        #[arg(long, conflicts_with_all = ["min", "max"], required_unless_present_any = ["min", "max"])]
        replicas: Option<u32>,
        /// Fewest instances of a Knative service (0: scale to zero).
        #[arg(long, requires = "max")]
        min: Option<u32>,
        /// Most instances of a Knative service.
        #[arg(long, requires = "min")]
        max: Option<u32>,
    },
    /// Remove a service.
    Remove {
        /// Its name.
        name: String,
    },
}

/// Options of `bi plan`.
#[derive(Debug, Clone, Copy, Args)]
pub struct PlanArgs {
    /// Exit 2 when a snapshot would change something, 0 when not.
    #[arg(long)]
    pub exit_code: bool,
    /// Also list the objects that would stay unchanged.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `bi settings …`.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// The intervals in force and where each comes from.
    Show(OutputArgs),
    /// Set the re-check (10s–24h) and/or drift-sweep (1m–168h) interval.
    Set {
        /// e.g. 2m.
        #[arg(long, value_name = "DURATION")]
        recheck_every: Option<String>,
        /// e.g. 1h.
        #[arg(long, value_name = "DURATION")]
        drift_every: Option<String>,
    },
    /// Go back to bi serve's --recheck-every and --drift-every.
    Reset,
}

/// `bi deploys …`.
#[derive(Debug, Subcommand)]
pub enum DeploysCommand {
    /// The newest snapshots.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u64,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// One snapshot and what happened to each object.
    Show {
        /// The snapshot.
        id: i64,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// What changed in the cluster from snapshot A to B.
    Diff {
        /// The earlier snapshot.
        a: i64,
        /// The later snapshot.
        b: i64,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `bi debug …`.
#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Write a tar.gz for a bug report: version, config (secrets
    /// redacted), the last snapshots and their errors, the server log tail.
    Bundle {
        /// Where to write it [default: bi-debug-UNIX_TIME.tar.gz].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The data directory whose log and config to include [default: as for `bi serve`].
        #[arg(long, env = "BI_DATA_DIR", value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

/// Options of `bi sandbox`.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address of the sandbox's API server (loopback only).
    #[arg(long, default_value = "127.0.0.1:6443", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Where the sandbox keeps its objects and writes `sandbox.kubeconfig` [default: as for `bi serve`].
    #[arg(long, env = "BI_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Options of `bi export`.
#[derive(Debug, Default, Clone, Args)]
pub struct ExportArgs {
    /// Offline: a desired state as JSON (batteries with configs, projects, objects).
    #[arg(long, value_name = "FILE", conflicts_with = "battery")]
    pub state: Option<PathBuf>,
    /// Offline: batteries to install (with their dependencies) with default
    /// configs, e.g. `--battery grafana --battery redis`.
    #[arg(long, value_name = "ID")]
    pub battery: Vec<String>,
    /// Without a server: battery_core and the --battery ones (implied by
    /// --battery and --state).
    #[arg(long)]
    pub offline: bool,
    /// Write one file per resource into this directory (numbered in apply
    /// order) instead of one stream on stdout.
    #[arg(short = 'd', long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Options of `bi serve`.
#[derive(Debug, Default, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:3000].
    #[arg(long, env = "BI_LISTEN", value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Where bi keeps its SQLite database and other state [default: $XDG_DATA_HOME/bi, i.e. ~/.local/share/bi].
    #[arg(long, env = "BI_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: postgres://… for PostgreSQL [default: the SQLite file bi.db in the data directory].
    #[arg(
        long,
        env = "BI_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// PostgreSQL schema to keep bi's tables in [default: the server's search path].
    #[arg(long, env = "BI_DATABASE_SCHEMA", value_name = "SCHEMA")]
    pub database_schema: Option<String>,
    /// Directory of the built web UI (pkg/bi.wasm, pkg/bi.css) [default: where `cargo leptos build` put it].
    #[arg(long, env = "BI_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,
    /// Manage the cluster of this kubeconfig file [default: $KUBECONFIG when set; without either, the embedded sandbox].
    #[arg(long, value_name = "FILE", conflicts_with_all = ["sandbox", "in_cluster"])]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use [default: the file's current context].
    #[arg(long, value_name = "NAME", conflicts_with_all = ["sandbox", "in_cluster"])]
    pub context: Option<String>,
    /// Manage the cluster bi runs in, with its pod's service account.
    #[arg(long, conflicts_with = "sandbox")]
    pub in_cluster: bool,
    /// Use the embedded sandbox cluster even when $KUBECONFIG is set.
    #[arg(long)]
    pub sandbox: bool,
    /// How often the desired state is re-applied on its own, e.g. `5m` [default: 5m].
    #[arg(long, env = "BI_RECHECK_EVERY", value_name = "DURATION")]
    pub recheck_every: Option<String>,
    /// How often managed objects are checked for changes made outside bi, e.g. `1h` [default: 1h].
    #[arg(long, env = "BI_DRIFT_EVERY", value_name = "DURATION")]
    pub drift_every: Option<String>,
}

/// The names of every `BI_*` variable the command line reads, so that a
/// misspelt one can be warned about.
pub fn known_env_vars() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if let Some(env) = arg.get_env() {
                out.push(env.to_string_lossy().into_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &mut out);
    out.sort();
    out.dedup();
    out
}

impl Default for GlobalArgs {
    fn default() -> Self {
        Self {
            config: None,
            log: None,
            log_format: None,
            server: crate::client::DEFAULT_SERVER.to_owned(),
        }
    }
}

/// Runs a parsed command line and turns the outcome into an exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Sandbox(args) => run_sandbox(&cli.global, &args),
        Command::Serve(args) => {
            let settings = match Settings::load(&cli.global, &args) {
                Ok(settings) => settings,
                Err(err) => {
                    eprintln!("bi: {err:#}");
                    return ExitCode::from(2);
                }
            };
            let log_file = settings.data_dir.join(crate::client::debug::LOG_FILE);
            if let Err(err) =
                crate::logging::init_with_file(&settings.log, &log_file, &settings.log.filter)
            {
                eprintln!("bi: {err:#}");
                return ExitCode::from(2);
            }
            settings.log_warnings();
            let Some(runtime) = runtime() else {
                return ExitCode::FAILURE;
            };
            match runtime.block_on(crate::serve::serve(
                settings,
                crate::serve::shutdown_signal(),
            )) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!("{err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Start(args) => {
            let Some(runtime) = runtime() else {
                return ExitCode::FAILURE;
            };
            match runtime.block_on(crate::start::start(&cli.global, &args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("bi: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Export(args)
            if args.offline || args.state.is_some() || !args.battery.is_empty() =>
        {
            match crate::export::run(&args, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("bi: {err:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "bi", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        command => {
            let Some(runtime) = runtime() else {
                return ExitCode::FAILURE;
            };
            match runtime.block_on(run_client(&cli.global, command)) {
                Ok(code) => code,
                Err(err) => {
                    eprintln!("bi: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => Some(runtime),
        Err(err) => {
            eprintln!("bi: could not start the async runtime: {err}");
            None
        }
    }
}

fn run_sandbox(global: &GlobalArgs, args: &SandboxArgs) -> ExitCode {
    let log = crate::config::LogSettings {
        filter: global
            .log
            .clone()
            .unwrap_or_else(|| crate::config::DEFAULT_LOG_FILTER.to_owned()),
        format: global.log_format.unwrap_or_default(),
    };
    if let Err(err) = crate::logging::init(&log) {
        eprintln!("bi: {err:#}");
        return ExitCode::from(2);
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(crate::serve::run_sandbox(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `api`, falling back to the data directory when no server answers and
/// bi has run there before (see [`crate::client::local`]).
async fn with_offline_fallback(
    global: &GlobalArgs,
    api: crate::client::ApiClient,
) -> anyhow::Result<crate::client::ApiClient> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let args = ServeArgs {
        data_dir: env("BI_DATA_DIR").map(PathBuf::from),
        database_url: env("BI_DATABASE_URL"),
        database_schema: env("BI_DATABASE_SCHEMA"),
        ..ServeArgs::default()
    };
    let settings = Settings::load(global, &args)?;
    match crate::client::local::LocalApi::open(&settings).await? {
        Some(local) => {
            eprintln!(
                "bi: no control server answers at {}; working on the {} directly \
                 (the server applies changes when it starts)",
                api.server().as_str().trim_end_matches('/'),
                local.describe()
            );
            Ok(api.with_local_fallback(local))
        }
        None => Ok(api),
    }
}

/// Runs a command that talks to the control server.
async fn run_client(global: &GlobalArgs, command: Command) -> anyhow::Result<ExitCode> {
    use crate::client::{
        ApiClient, apply, batteries, debug, deploys, objects, projects, settings, status,
    };
    use bi_control::operations::{ObjectKind, ProjectObject};
    use bi_model::generate::Owned;

    let mut api = ApiClient::new(&global.server)?;
    if !api.reachable().await {
        api = with_offline_fallback(global, api).await?;
    }
    let services = [ObjectKind::TraditionalService, ObjectKind::KnativeService];
    match command {
        Command::Status(output) => status::status(&api, output.output).await?,
        Command::Batteries(command) => match command {
            BatteriesCommand::List(output) => batteries::list(&api, output.output).await?,
            BatteriesCommand::Show { battery, output } => {
                batteries::show(&api, &battery, output.output).await?;
            }
            BatteriesCommand::Install {
                battery,
                set,
                dry_run,
            } => batteries::install(&api, &battery, &set, dry_run).await?,
            BatteriesCommand::Configure { battery, set } => {
                batteries::configure(&api, &battery, &set).await?;
            }
            BatteriesCommand::Uninstall { battery } => batteries::uninstall(&api, &battery).await?,
        },
        Command::Projects(command) => match command {
            ProjectsCommand::List(output) => projects::list(&api, output.output).await?,
            ProjectsCommand::Create { name, description } => {
                projects::create(&api, &name, &description).await?;
            }
            ProjectsCommand::Show { name, output } => {
                projects::show(&api, &name, output.output).await?;
            }
            ProjectsCommand::Rename { name, new_name } => {
                projects::rename(&api, &name, &new_name).await?;
            }
            ProjectsCommand::Delete { name, cascade } => {
                projects::delete(&api, &name, cascade).await?;
            }
        },
        Command::Postgres(command) => match command {
            PostgresCommand::Add {
                name,
                project,
                instances,
                storage,
                size,
            } => {
                let cluster =
                    objects::postgres_cluster(&name, instances, storage.as_deref(), &size)?;
                let object = ProjectObject::PostgresCluster(Owned {
                    project,
                    object: cluster,
                });
                objects::add(&api, &object).await?;
            }
            PostgresCommand::List(output) => {
                objects::list(&api, &[ObjectKind::PostgresCluster], output.output).await?;
            }
            PostgresCommand::Remove { name } => {
                objects::remove(&api, &[ObjectKind::PostgresCluster], &name).await?;
            }
        },
        Command::Redis(command) => match command {
            RedisCommand::Add {
                name,
                project,
                instances,
                storage,
                size,
            } => {
                let redis = objects::redis_instance(&name, instances, storage.as_deref(), &size)?;
                let object = ProjectObject::RedisInstance(Owned {
                    project,
                    object: redis,
                });
                objects::add(&api, &object).await?;
            }
            RedisCommand::List(output) => {
                objects::list(&api, &[ObjectKind::RedisInstance], output.output).await?;
            }
            RedisCommand::Remove { name } => {
                objects::remove(&api, &[ObjectKind::RedisInstance], &name).await?;
            }
        },
        Command::Services(command) => match command {
            ServicesCommand::Add {
                name,
                image,
                project,
                knative,
                replicas,
                port,
                memory,
            } => {
                let flags = objects::ServiceFlags {
                    name: &name,
                    image: &image,
                    knative,
                    replicas,
                    port,
                    memory: memory.as_deref(),
                };
                let object = objects::service(&flags, project)?;
                objects::add(&api, &object).await?;
            }
            ServicesCommand::List(output) => objects::list(&api, &services, output.output).await?,
            ServicesCommand::Scale {
                name,
                replicas,
                min,
                max,
            } => {
                let scale = crate::api::projects::Scale {
                    replicas,
                    min_scale: min,
                    max_scale: max,
                };
                objects::scale(&api, &name, &scale).await?;
            }
            ServicesCommand::Remove { name } => objects::remove(&api, &services, &name).await?,
        },
        Command::Plan(args) => return deploys::plan(&api, args).await,
        Command::Apply => return apply::apply(&api).await,
        Command::Deploys(command) => match command {
            DeploysCommand::List { limit, output } => {
                deploys::list(&api, limit, output.output).await?;
            }
            DeploysCommand::Show { id, output } => deploys::show(&api, id, output.output).await?,
            DeploysCommand::Diff { a, b, output } => {
                deploys::diff(&api, a, b, output.output).await?;
            }
        },
        Command::Rollback { snapshot } => return deploys::rollback(&api, snapshot).await,
        Command::Audit { limit, output } => deploys::audit(&api, limit, output.output).await?,
        Command::Settings(command) => match command {
            SettingsCommand::Show(output) => settings::show(&api, output.output).await?,
            SettingsCommand::Set {
                recheck_every,
                drift_every,
            } => settings::set(&api, recheck_every, drift_every).await?,
            SettingsCommand::Reset => settings::reset(&api).await?,
        },
        Command::Export(args) => crate::export::from_server(&api, &args).await?,
        Command::Debug(DebugCommand::Bundle { output, data_dir }) => {
            let path = debug::bundle(&api, global, output, data_dir).await?;
            println!("wrote {}", path.display());
        }
        Command::Start(_)
        | Command::Serve(_)
        | Command::Sandbox(_)
        | Command::Completions { .. } => {
            anyhow::bail!("internal: {command:?} is not a client command")
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_commands_parse_typed_flags() {
        let cli = Cli::try_parse_from([
            "bi",
            "batteries",
            "install",
            "redis",
            "--set",
            "memory=512Mi",
            "--set",
            "replicas=2",
        ])
        .unwrap();
        let Command::Batteries(BatteriesCommand::Install { set, .. }) = cli.command else {
            panic!("not an install: {cli:?}");
        };
        assert_eq!(set, ["memory=512Mi", "replicas=2"]);
        assert!(Cli::try_parse_from(["bi", "services", "scale", "web"]).is_err());
        assert!(Cli::try_parse_from(["bi", "plan", "--exit-code", "-o", "json"]).is_ok());
    }

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn known_env_vars_come_from_the_arguments() {
        let known = known_env_vars();
        for name in [
            "BI_CONFIG",
            "BI_LISTEN",
            "BI_DATA_DIR",
            "BI_DATABASE_URL",
            "BI_LOG_FORMAT",
        ] {
            assert!(
                known.iter().any(|k| k == name),
                "{name} missing from {known:?}"
            );
        }
    }
}
