//! Layered configuration: defaults → optional TOML file → `BI_*` environment
//! → command-line flags (clap merges the last two, flags winning).
//!
//! Unknown keys in the file and unknown `BI_*` variables are warned about,
//! not ignored silently: a typo should never look like a default.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use bi_control::cluster::ClusterSource;

use crate::cli::{GlobalArgs, ServeArgs, known_env_vars};

/// The address bi listens on when nothing else is said: loopback only.
/// Another address needs TLS in front or `--insecure-listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";

/// The log filter when nothing else is said. sqlx reports PostgreSQL's
/// NOTICEs ("relation already exists, skipping") at INFO: noise to an operator.
/// The most clients of the events websocket at once, unless set.
pub const DEFAULT_MAX_EVENT_CLIENTS: usize = 256;

pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn";

/// `BI_*` variables that are not configuration but are read by bi's own test
/// suite; they are known, so not warned about.
const TEST_ENV_VARS: [&str; 3] = [
    "BI_REQUIRE_POSTGRES",
    "BI_REQUIRE_KUBECTL",
    "BI_TEST_POSTGRES_URL",
];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The TOML config file. Every key is optional; keys mirror the long flags
/// (`listen`, `data_dir`, `database_url`, …).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_schema: Option<String>,
    site_root: Option<PathBuf>,
    log: Option<String>,
    log_format: Option<LogFormat>,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    recheck_every: Option<String>,
    drift_every: Option<String>,
    public_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    keep_snapshots: Option<u64>,
    keep_days: Option<u32>,
    max_write_rate: Option<f64>,
    keycloak_url: Option<String>,
}

/// A database URL whose password never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                // NB: set_password only fails for URLs that cannot have one.
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            Ok(_) => self.0.clone(),
            // Unparseable: say nothing of it rather than risk printing a secret.
            Err(_) => "<unparseable database URL>".to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `RUST_LOG`-style filter.
    pub filter: String,
    /// Line format.
    pub format: LogFormat,
}

/// The resolved settings of `bi serve`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// bi's state directory.
    pub data_dir: PathBuf,
    /// Where the desired state lives.
    pub database_url: DatabaseUrl,
    /// PostgreSQL schema (search path) for bi's tables, if not the default.
    pub database_schema: Option<String>,
    /// The built web UI.
    pub site_root: PathBuf,
    /// Logging.
    pub log: LogSettings,
    /// The cluster to manage; None for the embedded sandbox.
    pub cluster: Option<ClusterSource>,
    /// The periodic re-check of the desired state.
    pub recheck_every: std::time::Duration,
    /// The drift sweep's period.
    pub drift_every: std::time::Duration,
    /// The URL people reach bi at (its host is served besides loopback).
    pub public_url: Option<url::Url>,
    /// Serve a non-loopback address over plain HTTP anyway.
    pub insecure_listen: bool,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<TlsFiles>,
    /// The setup token the operator chose, if any.
    pub setup_token: Option<SetupTokenText>,
    /// The seed an empty database starts from, if it exists.
    pub seed_file: Option<PathBuf>,
    /// The most clients of the events websocket at once.
    pub max_event_clients: usize,
    /// How much snapshot history is kept.
    pub retention: bi_control::engine::Retention,
    /// A ceiling on writes per second to the cluster, if any.
    pub max_write_rate: Option<f64>,
    /// Where Keycloak is reached, when given.
    pub keycloak_url: Option<String>,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Things to warn about once logging is up (unknown keys and variables).
    pub warnings: Vec<String>,
}

impl Settings {
    /// Resolves the settings from the real environment and config file.
    pub fn load(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<Self> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let config_file = match &global.config {
            Some(path) => Some(path.clone()),
            None => dirs::config_dir()
                .map(|dir| dir.join("bi").join("config.toml"))
                .filter(|path| path.is_file()),
        };
        Self::resolve(global, args, config_file.as_deref(), &env)
    }

    /// Resolves the settings from the given layers. `env` is only consulted
    /// for what clap does not already read (RUST_LOG, LEPTOS_SITE_ROOT) and
    /// to warn about unknown `BI_*` variables.
    pub fn resolve(
        global: &GlobalArgs,
        args: &ServeArgs,
        config_file: Option<&Path>,
        env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let mut warnings = Vec::new();
        let file = match config_file {
            Some(path) => read_file(path, &mut warnings)?,
            None => FileConfig::default(),
        };
        let known = known_env_vars();
        for (name, _) in env {
            if name.starts_with("BI_")
                && !known.contains(name)
                && !TEST_ENV_VARS.contains(&name.as_str())
            {
                warnings.push(format!(
                    "unknown environment variable {name} is ignored (bi reads {})",
                    known.join(", ")
                ));
            }
        }
        let env_var = |name: &str| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };

        let listen = match args.listen.or(file.listen) {
            Some(listen) => listen,
            None => DEFAULT_LISTEN
                .parse()
                .context("while parsing the default listen address")?,
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(default_data_dir);
        let database_url = match args.database_url.clone().or(file.database_url) {
            Some(url) => url,
            None => format!("sqlite://{}?mode=rwc", data_dir.join("bi.db").display()),
        };
        let database_url = DatabaseUrl::new(database_url);
        if let Err(err) = bi_control::DatabaseBackend::from_url(database_url.expose()) {
            bail!("database_url: {err}");
        }
        let site_root = args
            .site_root
            .clone()
            .or(file.site_root)
            .or_else(|| env_var("LEPTOS_SITE_ROOT").map(PathBuf::from))
            .unwrap_or_else(default_site_root);
        let filter = global
            .log
            .clone()
            .or_else(|| env_var("RUST_LOG"))
            .or(file.log)
            .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned());
        let format = global.log_format.or(file.log_format).unwrap_or_default();
        let kubeconfig = args.kubeconfig.clone().or(file.kubeconfig);
        let context = args.context.clone().or(file.context);
        // NB: kubectl's conventions: an explicit file or context, else
        // $KUBECONFIG, names a real cluster; `--sandbox` overrides them all.
        let cluster = if args.sandbox {
            None
        } else if args.in_cluster {
            Some(ClusterSource::InCluster)
        } else if kubeconfig.is_some()
            || context.is_some()
            || env_var("KUBECONFIG").is_some_and(|value| !value.is_empty())
        {
            Some(ClusterSource::Kubeconfig {
                path: kubeconfig,
                context,
            })
        } else {
            None
        };
        let recheck_every = interval(
            "recheck_every",
            args.recheck_every.clone().or(file.recheck_every),
            DEFAULT_RECHECK_EVERY,
        )?;
        let drift_every = interval(
            "drift_every",
            args.drift_every.clone().or(file.drift_every),
            DEFAULT_DRIFT_EVERY,
        )?;

        let public_url = match args.public_url.clone().or(file.public_url) {
            Some(text) => Some(public_url(&text)?),
            None => None,
        };
        let tls = match (
            args.tls_cert.clone().or(file.tls_cert),
            args.tls_key.clone().or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => bail!("tls_key: --tls-cert needs its key, --tls-key"),
            (None, Some(_)) => bail!("tls_cert: --tls-key needs its certificate, --tls-cert"),
        };
        if !listen.ip().is_loopback() && tls.is_none() && !args.insecure_listen {
            bail!(
                "listen: {listen} can be reached from other machines, and bi would serve it over \
                 plain HTTP (passwords and session cookies readable on the network); give \
                 --tls-cert and --tls-key, listen on 127.0.0.1 behind a TLS proxy, or pass \
                 --insecure-listen to accept the risk"
            );
        }

        Ok(Self {
            listen,
            data_dir,
            database_url,
            database_schema: args.database_schema.clone().or(file.database_schema),
            site_root,
            log: LogSettings { filter, format },
            cluster,
            recheck_every,
            drift_every,
            public_url,
            insecure_listen: args.insecure_listen,
            tls,
            setup_token: args.setup_token.clone().map(SetupTokenText),
            seed_file: args.seed_file.clone(),
            max_event_clients: args.max_event_clients.unwrap_or(DEFAULT_MAX_EVENT_CLIENTS),
            retention: {
                let default = bi_control::engine::Retention::default();
                bi_control::engine::Retention {
                    keep_snapshots: args
                        .keep_snapshots
                        .or(file.keep_snapshots)
                        .unwrap_or(default.keep_snapshots),
                    keep_days: args
                        .keep_days
                        .or(file.keep_days)
                        .unwrap_or(default.keep_days),
                }
            },
            max_write_rate: match args.max_write_rate.or(file.max_write_rate) {
                Some(rate) if !(rate.is_finite() && rate > 0.0) => {
                    bail!("max_write_rate: {rate} is not a positive number of writes per second")
                }
                rate => rate,
            },
            keycloak_url: match args.keycloak_url.clone().or(file.keycloak_url) {
                Some(url)
                    if !url::Url::parse(&url).is_ok_and(|u| {
                        matches!(u.scheme(), "http" | "https") && u.host().is_some()
                    }) =>
                {
                    bail!("keycloak_url: {url:?} is not an http:// or https:// URL with a host")
                }
                url => url,
            },
            config_file: config_file.map(Path::to_path_buf),
            warnings,
        })
    }

    /// Logs what was collected while resolving; call once logging is set up.
    pub fn log_warnings(&self) {
        for warning in &self.warnings {
            tracing::warn!("{warning}");
        }
        if let Some(path) = &self.config_file {
            tracing::info!(path = %path.display(), "read config file");
        }
    }
}

/// The certificate chain and key bi serves HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// `--public-url`: an absolute http(s) URL with a host.
fn public_url(text: &str) -> anyhow::Result<url::Url> {
    let url = url::Url::parse(text)
        .map_err(|err| anyhow::anyhow!("public_url: {text:?} is not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("public_url: {text:?} must be an http:// or https:// URL with a host");
    }
    Ok(url)
}

/// A setup token given on the command line or in `BI_SETUP_TOKEN`; its
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SetupTokenText(pub String);

impl fmt::Debug for SetupTokenText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetupTokenText(<redacted>)")
    }
}

/// The periodic re-check when nothing else is said.
const DEFAULT_RECHECK_EVERY: &str = "5m";
/// The drift sweep's period when nothing else is said.
const DEFAULT_DRIFT_EVERY: &str = "1h";
/// The shortest period accepted for either.
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Parses the period `key` (`90s`, `5m`, `1h30m`), at least one second.
fn interval(
    key: &str,
    value: Option<String>,
    default: &str,
) -> anyhow::Result<std::time::Duration> {
    let text = value.unwrap_or_else(|| default.to_owned());
    let parsed = bi_model::units::Duration::parse(&text)
        .map_err(|err| anyhow::anyhow!("{key}: {err}"))?
        .to_std();
    if parsed < MIN_INTERVAL {
        bail!("{key}: must be at least 1s, got {text:?}");
    }
    Ok(parsed)
}

/// Reads the TOML file, collecting a warning for every key bi does not know.
fn read_file(path: &Path, warnings: &mut Vec<String>) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("while reading the config file {}", path.display()))?;
    let deserializer = toml::Deserializer::parse(&text)
        .with_context(|| format!("while parsing the config file {}", path.display()))?;
    let mut unknown = Vec::new();
    let file: FileConfig = serde_ignored::deserialize(deserializer, |key| {
        unknown.push(key.to_string());
    })
    .with_context(|| format!("while reading the config file {}", path.display()))?;
    for key in unknown {
        warnings.push(format!(
            "unknown key `{key}` in {} is ignored (bi reads listen, data_dir, database_url, \
             database_schema, site_root, log, log_format, kubeconfig, context, recheck_every, \
             drift_every, public_url, tls_cert, tls_key, keep_snapshots, keep_days, max_write_rate, \
             keycloak_url)",
            path.display()
        ));
    }
    Ok(file)
}

/// `$XDG_DATA_HOME/bi` (usually `~/.local/share/bi`), or `./.bi` when the
/// system has no data directory.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().map_or_else(|| PathBuf::from(".bi"), |dir| dir.join("bi"))
}

/// Where `cargo leptos build` put the web UI for this binary. cargo-leptos
/// tells the compiler through `LEPTOS_SITE_ROOT`, relative to the workspace,
/// so it is anchored there and the binary works from any directory.
fn default_site_root() -> PathBuf {
    let site_root = PathBuf::from(option_env!("LEPTOS_SITE_ROOT").unwrap_or("target/site"));
    if site_root.is_absolute() {
        site_root
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(site_root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: &ServeArgs, file: Option<&str>, env: &[(&str, &str)]) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::resolve(
            &GlobalArgs::default(),
            args,
            file.map(|_| path.as_path()),
            &env,
        )
        .unwrap()
    }

    #[test]
    fn another_address_than_loopback_needs_tls_or_an_explicit_flag() {
        let args = |extra: fn(&mut ServeArgs)| {
            let mut args = ServeArgs {
                listen: Some("0.0.0.0:3000".parse().unwrap_or_else(|_| unreachable!())),
                ..ServeArgs::default()
            };
            extra(&mut args);
            Settings::resolve(&GlobalArgs::default(), &args, None, &[])
        };
        let refused = args(|_| {})
            .err()
            .map(|err| err.to_string())
            .unwrap_or_default();
        assert!(refused.starts_with("listen: 0.0.0.0:3000"), "{refused}");
        assert!(
            refused.contains("--insecure-listen") && refused.contains("--tls-cert"),
            "{refused}"
        );
        assert!(args(|a| a.insecure_listen = true).is_ok());
        let with_tls = args(|a| {
            a.tls_cert = Some("cert.pem".into());
            a.tls_key = Some("key.pem".into());
        });
        assert!(with_tls.is_ok_and(|settings| settings.tls.is_some()));
        let half = args(|a| a.tls_cert = Some("cert.pem".into()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(half.starts_with("tls_key:"), "{half}");
        let bad_url = Settings::resolve(
            &GlobalArgs::default(),
            &ServeArgs {
                public_url: Some("bi.example.com".into()),
                ..ServeArgs::default()
            },
            None,
            &[],
        );
        assert!(bad_url.is_err_and(|err| err.to_string().starts_with("public_url:")));
    }

    #[test]
    fn defaults_listen_on_loopback_with_sqlite_in_the_data_dir() {
        let settings = resolve(
            &ServeArgs {
                data_dir: Some("/srv/bi".into()),
                ..ServeArgs::default()
            },
            None,
            &[],
        );
        assert_eq!(settings.listen.to_string(), "127.0.0.1:3000");
        assert!(settings.listen.ip().is_loopback());
        assert_eq!(
            settings.database_url.expose(),
            "sqlite:///srv/bi/bi.db?mode=rwc"
        );
        assert_eq!(settings.log.filter, "info,sqlx=warn");
        assert_eq!(settings.log.format, LogFormat::Text);
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    }

    #[test]
    fn file_overrides_defaults_and_flags_override_the_file() {
        let file =
            "listen = \"127.0.0.1:4000\"\ndata_dir = \"/from/file\"\nlog_format = \"json\"\n";
        let from_file = resolve(&ServeArgs::default(), Some(file), &[]);
        assert_eq!(from_file.listen.to_string(), "127.0.0.1:4000");
        assert_eq!(from_file.data_dir, PathBuf::from("/from/file"));
        assert_eq!(from_file.log.format, LogFormat::Json);

        // clap has already merged BI_* variables into the args, flags winning.
        let args = ServeArgs {
            listen: Some("127.0.0.1:5000".parse().unwrap()),
            ..ServeArgs::default()
        };
        let from_flag = resolve(&args, Some(file), &[]);
        assert_eq!(from_flag.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(from_flag.data_dir, PathBuf::from("/from/file"));
    }

    #[test]
    fn unknown_file_keys_and_env_vars_are_warned_about() {
        let settings = resolve(
            &ServeArgs::default(),
            Some("listn = \"127.0.0.1:1\"\n"),
            &[
                ("BI_LISTN", "x"),
                ("BI_REQUIRE_POSTGRES", "1"),
                ("HOME", "/root"),
            ],
        );
        assert_eq!(settings.warnings.len(), 2, "{:?}", settings.warnings);
        assert!(settings.warnings[0].contains("unknown key `listn`"));
        assert!(settings.warnings[1].contains("BI_LISTN"));
        assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
    }

    #[test]
    fn the_cluster_follows_kubectls_conventions() {
        assert_eq!(resolve(&ServeArgs::default(), None, &[]).cluster, None);
        let from_env = resolve(&ServeArgs::default(), None, &[("KUBECONFIG", "/k/config")]);
        assert_eq!(
            from_env.cluster,
            Some(ClusterSource::Kubeconfig {
                path: None,
                context: None
            })
        );
        let explicit = ServeArgs {
            kubeconfig: Some("/k/other".into()),
            context: Some("prod".into()),
            ..ServeArgs::default()
        };
        assert_eq!(
            resolve(&explicit, None, &[]).cluster,
            Some(ClusterSource::Kubeconfig {
                path: Some("/k/other".into()),
                context: Some("prod".into())
            })
        );
        let sandbox = ServeArgs {
            sandbox: true,
            ..ServeArgs::default()
        };
        assert_eq!(
            resolve(&sandbox, None, &[("KUBECONFIG", "/k/config")]).cluster,
            None
        );
    }

    #[test]
    fn intervals_parse_human_durations_and_name_the_key_when_bad() {
        let settings = resolve(
            &ServeArgs::default(),
            Some("recheck_every = \"90s\"\n"),
            &[],
        );
        assert_eq!(settings.recheck_every.as_secs(), 90);
        assert_eq!(settings.drift_every.as_secs(), 3600);
        let args = ServeArgs {
            drift_every: Some("soon".into()),
            ..ServeArgs::default()
        };
        let err = Settings::resolve(&GlobalArgs::default(), &args, None, &[]).unwrap_err();
        assert!(err.to_string().starts_with("drift_every:"), "{err}");
    }

    #[test]
    fn rust_log_is_used_when_no_log_option_is_given() {
        let settings = resolve(&ServeArgs::default(), None, &[("RUST_LOG", "debug")]);
        assert_eq!(settings.log.filter, "debug");
    }

    #[test]
    fn a_bad_value_in_the_file_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "listen = \"not an address\"\n").unwrap();
        let err = Settings::resolve(
            &GlobalArgs::default(),
            &ServeArgs::default(),
            Some(&path),
            &[],
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("listen"), "{err:#}");
    }

    #[test]
    fn unsupported_database_is_refused_with_the_field_name() {
        let args = ServeArgs {
            database_url: Some("mysql://root@localhost/bi".into()),
            ..ServeArgs::default()
        };
        let err = Settings::resolve(&GlobalArgs::default(), &args, None, &[]).unwrap_err();
        assert!(err.to_string().starts_with("database_url:"), "{err}");
    }

    #[test]
    fn database_password_never_shows_in_debug_or_display() {
        let url = DatabaseUrl::new("postgres://bi:hunter2@db.example:5432/bi");
        let args = ServeArgs {
            database_url: Some(url.expose().to_owned()),
            ..ServeArgs::default()
        };
        let settings = Settings::resolve(&GlobalArgs::default(), &args, None, &[]).unwrap();
        for shown in [format!("{settings:?}"), url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert_eq!(url.redacted(), "postgres://bi:***@db.example:5432/bi");
    }
}
