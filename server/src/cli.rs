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
#[derive(Debug, Default, Clone, Args)]
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
}

/// bi's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the control server (web UI, server functions, health checks).
    Serve(ServeArgs),
    /// Print the Kubernetes resources bi generates, as one YAML stream in
    /// apply order (pipe it to `kubectl apply -f -` or keep it for review).
    /// Secret values are shown as placeholders.
    Export(ExportArgs),
    /// Run only bi's embedded sandbox cluster (a Kubernetes API that stores
    /// objects and runs nothing), for kubectl or kube clients, until Ctrl-C.
    Sandbox(SandboxArgs),
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
    /// A desired state as JSON (batteries with configs, projects, objects).
    #[arg(long, value_name = "FILE", conflicts_with = "battery")]
    pub state: Option<PathBuf>,
    /// Batteries to install (with their dependencies) with default configs,
    /// e.g. `--battery grafana --battery redis`; battery_core alone if none.
    #[arg(long, value_name = "ID")]
    pub battery: Vec<String>,
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

/// Runs a parsed command line and turns the outcome into an exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Sandbox(args) => {
            let log = crate::config::LogSettings {
                filter: cli
                    .global
                    .log
                    .clone()
                    .unwrap_or_else(|| crate::config::DEFAULT_LOG_FILTER.to_owned()),
                format: cli.global.log_format.unwrap_or_default(),
            };
            if let Err(err) = crate::logging::init(&log) {
                eprintln!("bi: {err:#}");
                return ExitCode::from(2);
            }
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("bi: could not start the async runtime: {err}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(crate::serve::run_sandbox(&args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!("{err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Export(args) => match crate::export::run(&args, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("bi: {err:#}");
                ExitCode::from(2)
            }
        },
        Command::Serve(args) => {
            let settings = match Settings::load(&cli.global, &args) {
                Ok(settings) => settings,
                Err(err) => {
                    eprintln!("bi: {err:#}");
                    return ExitCode::from(2);
                }
            };
            if let Err(err) = crate::logging::init(&settings.log) {
                eprintln!("bi: {err:#}");
                return ExitCode::from(2);
            }
            settings.log_warnings();
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("bi: could not start the async runtime: {err}");
                    return ExitCode::FAILURE;
                }
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
