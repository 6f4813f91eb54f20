//! What each command does: start-up of the server commands, and the client
//! commands sent to a running server (with the offline fallback where a
//! command can read the database itself). The argument schema is in
//! [`super`].

use std::path::PathBuf;
use std::process::ExitCode;

use bi_api::snapshots::PruneRequest;
use clap::CommandFactory;

use super::{
    BatteriesCommand, Cli, Command, DebugCommand, DeploysCommand, GlobalArgs, PostgresCommand,
    ProjectsCommand, RedisCommand, SandboxArgs, ServeArgs, ServicesCommand, SettingsCommand,
};
use crate::config::Settings;

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

    let mut api = ApiClient::new(&global.server, global.ca_cert.as_deref())?;
    let token = crate::client::auth::token_for(api.server(), global.token.as_deref())?;
    api = api.with_token(token);
    if !api.reachable().await {
        api = with_offline_fallback(global, api).await?;
    }
    let services = [ObjectKind::TraditionalService, ObjectKind::KnativeService];
    match command {
        Command::Status(output) => status::status(&api, output.output).await?,
        Command::Ca { output } => crate::client::reach::ca(&api, output.as_deref()).await?,
        Command::Sso(command) => match command {
            crate::cli::SsoCommand::InitialPassword => {
                crate::client::sso::initial_password(&api).await?;
            }
            crate::cli::SsoCommand::Users(command) => {
                crate::client::sso::users(&api, command).await?;
            }
            crate::cli::SsoCommand::Clients(output) => {
                crate::client::sso::clients(&api, output.output).await?;
            }
        },
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
            BatteriesCommand::Configure {
                battery,
                set,
                expected_version,
            } => {
                batteries::configure(&api, &battery, &set, expected_version).await?;
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
            ServicesCommand::List(output) => {
                objects::list_services(&api, &services, output.output).await?
            }
            ServicesCommand::Scale {
                name,
                replicas,
                min,
                max,
                expected_version,
            } => {
                let scale = bi_api::projects::Scale {
                    replicas,
                    min_scale: min,
                    max_scale: max,
                    expected_version,
                };
                objects::scale(&api, &name, &scale).await?;
            }
            ServicesCommand::Remove { name } => objects::remove(&api, &services, &name).await?,
        },
        Command::Plan(args) => return deploys::plan(&api, args).await,
        Command::Apply => return apply::apply(&api).await,
        Command::Drift(args) => return crate::client::drift::drift(&api, args).await,
        Command::Logs(args) => crate::client::logs::logs(&api, args).await?,
        Command::Timeline(args) => crate::client::timeline::timeline(&api, args).await?,
        Command::Deleted(args) => crate::client::timeline::deleted(&api, args).await?,
        Command::Undelete(args) => crate::client::timeline::undelete(&api, args).await?,
        Command::Deploys(command) => match command {
            DeploysCommand::List { limit, output } => {
                deploys::list(&api, limit, output.output).await?;
            }
            DeploysCommand::Show { id, output } => deploys::show(&api, id, output.output).await?,
            DeploysCommand::Diff { a, b, output } => {
                deploys::diff(&api, a, b, output.output).await?;
            }
            DeploysCommand::Orphans {
                prune,
                paths,
                output,
            } => {
                if prune {
                    return deploys::prune_orphans(&api, paths, output.output).await;
                }
                deploys::orphans(&api, output.output).await?;
            }
            DeploysCommand::Prune {
                keep,
                keep_days,
                dry_run,
                output,
            } => {
                let request = PruneRequest {
                    keep_snapshots: keep,
                    keep_days,
                    dry_run,
                };
                deploys::prune_history(&api, request, output.output).await?;
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
        Command::Login(args) => crate::client::auth::login(&api, &args).await?,
        Command::Logout => crate::client::auth::logout(&api).await?,
        Command::Whoami(output) => crate::client::auth::whoami(&api, output.output).await?,
        Command::Password(args) => crate::client::auth::password(&api, &args).await?,
        Command::Setup(args) => crate::client::auth::setup(&api, &args).await?,
        Command::Users(command) => crate::client::auth::users(&api, command).await?,
        Command::Tokens(command) => crate::client::auth::tokens(&api, command).await?,
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
