//! The `bi` command line's schema (clap): the commands and their arguments.
//! Every option can also come from a `BI_*` environment variable or the
//! TOML config file; see [`crate::config`]. What the commands do is in
//! [`dispatch`].

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::client::deploys::PlanArgs;
use crate::client::objects::SizeArgs;
use crate::client::output::OutputArgs;
use crate::config::LogFormat;
use crate::export::ExportArgs;
use crate::start::StartArgs;

mod dispatch;

pub use dispatch::run;

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
    /// A CA certificate (PEM) to trust for an https:// --server, besides the system's roots.
    #[arg(long, global = true, env = "BI_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The API token client commands send [default: the one `bi login` kept for --server].
    #[arg(
        long,
        global = true,
        env = "BI_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
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
    /// Installation health, batteries, the last snapshot and the addresses
    /// to open.
    Status(OutputArgs),
    /// The Battery CA's certificate (PEM): import it once so browsers trust
    /// the gateway's HTTPS certificates.
    Ca {
        /// Write it to this file instead of standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Single Sign-On: what bi keeps in Keycloak.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// A service's or battery's container log (`-f` follows it).
    Logs(crate::client::logs::LogsArgs),
    /// What happened in the cluster and in bi, newest first (the
    /// timeline battery records it).
    Timeline(crate::client::timeline::TimelineArgs),
    /// The archive of deleted objects bi managed (`bi deleted ID`: one,
    /// with its last body).
    Deleted(crate::client::timeline::DeletedArgs),
    /// Bring back a deleted object from the archive (editors).
    Undelete(crate::client::timeline::UndeleteArgs),
    /// Drift: objects changed behind bi's back (list; `check` sweeps now,
    /// `repair` re-applies, `mode` repair or report).
    Drift(crate::client::drift::DriftArgs),
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
    /// Sign in to the control server: a username and password become an
    /// API token this machine keeps (in ~/.config/bi/credentials.toml).
    Login(crate::client::auth::LoginArgs),
    /// Revoke this machine's token for the server and forget it.
    Logout,
    /// Who the CLI is signed in as, and the role.
    Whoami(OutputArgs),
    /// Change your own password (asks for the current one first).
    Password(crate::client::auth::PasswordArgs),
    /// Create the first admin with the setup token `bi start` printed, and
    /// sign in as it.
    Setup(crate::client::auth::SetupArgs),
    /// Accounts: list, add, change (role, disable, unlock, password), remove (admins).
    #[command(subcommand)]
    Users(crate::client::auth::UsersCommand),
    /// API tokens for scripts and CI: list, create (shown once), revoke.
    #[command(subcommand)]
    Tokens(crate::client::auth::TokensCommand),
    /// Tools for bug reports.
    #[command(subcommand)]
    Debug(DebugCommand),
    /// Print a shell completion script, e.g. `bi completions bash > /etc/bash_completion.d/bi`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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
        /// Refuse (nothing stored) if the battery changed after this
        /// desired-state version, the `version` `bi batteries show` printed.
        #[arg(long, value_name = "VERSION")]
        expected_version: Option<i32>,
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

/// `bi sso …`.
#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// The initial password of Single Sign-On's first administrator in
    /// Keycloak (admins only); Keycloak asks for a new one at the first
    /// sign-in.
    InitialPassword,
    /// Keycloak's users: list, add, enable or disable, reset a password,
    /// set the bi role (admins).
    #[command(subcommand)]
    Users(crate::client::sso::SsoUsersCommand),
    /// Keycloak's OIDC clients, with those bi keeps marked.
    Clients(crate::client::output::OutputArgs),
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
        /// Refuse (nothing stored) if the service changed after this
        /// desired-state version, the one it was read at.
        #[arg(long, value_name = "VERSION")]
        expected_version: Option<i32>,
    },
    /// Remove a service.
    Remove {
        /// Its name.
        name: String,
    },
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
    /// Managed objects no inventory knows (left by another bi or a lost
    /// database); with --prune, delete them (or only the PATHs given).
    Orphans {
        /// Delete them, with a snapshot of their own.
        #[arg(long)]
        prune: bool,
        /// Only these orphans (as listed: apps/v1/Deployment/NAMESPACE/NAME); needs --prune.
        #[arg(requires = "prune", value_name = "PATH")]
        paths: Vec<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove old snapshots beyond the server's retention (or the limits
    /// given), with the rows, inventories and bodies only they used (admins).
    Prune {
        /// Keep at least the newest N snapshots [default: the server's, 500].
        #[arg(long, value_name = "N")]
        keep: Option<u64>,
        /// Keep at least every snapshot younger than DAYS days [default: the server's, 30].
        #[arg(long, value_name = "DAYS")]
        keep_days: Option<u32>,
        /// Only say what would go.
        #[arg(long)]
        dry_run: bool,
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
    /// The URL people reach bi at, e.g. `https://bi.example.com`: its host is served besides loopback names [default: loopback only].
    #[arg(long, env = "BI_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Serve a non-loopback --listen address over plain HTTP: passwords and session cookies then cross the network readable.
    #[arg(long)]
    pub insecure_listen: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "BI_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "BI_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The one-time token that creates the first admin, instead of a random one (at least 16 characters) [default: random, printed at start].
    #[arg(
        long,
        env = "BI_SETUP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub setup_token: Option<String>,
    /// The most clients of the events websocket at once; more get 503 [default: 256].
    #[arg(long, env = "BI_MAX_EVENT_CLIENTS", value_name = "N")]
    pub max_event_clients: Option<usize>,
    /// At most N writes per second to the cluster, for one shared with others [default: no ceiling; the number in flight adapts to the API server].
    #[arg(long, env = "BI_MAX_WRITE_RATE", value_name = "N")]
    pub max_write_rate: Option<f64>,
    /// Where bi reaches Keycloak's HTTP port, to keep Single Sign-On's realm and clients there (a port-forward, or https://keycloak.<domain>) [default: its Service when bi runs in the cluster; the sandbox's own Keycloak on the sandbox].
    #[arg(long, env = "BI_KEYCLOAK_URL", value_name = "URL")]
    pub keycloak_url: Option<String>,
    /// Snapshot history: keep at least the newest N snapshots [default: 500].
    #[arg(long, env = "BI_KEEP_SNAPSHOTS", value_name = "N")]
    pub keep_snapshots: Option<u64>,
    /// Snapshot history: keep at least every snapshot younger than DAYS days [default: 30].
    #[arg(long, env = "BI_KEEP_DAYS", value_name = "DAYS")]
    pub keep_days: Option<u32>,
    /// Start from this seed (JSON: a desired state and its stored secrets, as battery_core publishes in the Secret control-server-seed) when the database holds no desired state yet; a missing file is skipped.
    #[arg(long, env = "BI_SEED_FILE", value_name = "FILE")]
    pub seed_file: Option<PathBuf>,
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
            token: None,
            ca_cert: None,
        }
    }
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
