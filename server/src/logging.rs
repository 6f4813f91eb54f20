//! Logging with `tracing`: a `RUST_LOG`-style filter, text or JSON lines on
//! stderr, and for the control server also text lines appended to
//! `<data dir>/bi.log`, which `bi debug bundle` puts in bug reports.

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{LogFormat, LogSettings};

/// The log file is set aside as `bi.log.1` at start once it is this big.
const MAX_LOG_FILE: u64 = 10 * 1024 * 1024;

/// A boxed layer of the global subscriber.
type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber (stderr only). Fails on a filter that
/// does not parse, naming it, rather than silently logging nothing.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    install(vec![stderr_layer(settings)?])
}

/// Like [`init`], also appending text lines that pass `file_filter` to
/// `file` (created with its directory; set aside as `.1` once over 10 MiB).
pub fn init_with_file(
    settings: &LogSettings,
    file: &Path,
    file_filter: &str,
) -> anyhow::Result<()> {
    let stderr = stderr_layer(settings)?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("while creating {} for the log file", dir.display()))?;
    }
    if std::fs::metadata(file).is_ok_and(|meta| meta.len() > MAX_LOG_FILE) {
        let _ = std::fs::rename(file, file.with_extension("log.1"));
    }
    let writer = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("while opening the log file {}", file.display()))?;
    let filter = EnvFilter::try_new(file_filter)
        .with_context(|| format!("log: invalid filter {file_filter:?}"))?;
    let to_file = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Mutex::new(writer))
        .with_filter(filter)
        .boxed();
    install(vec![stderr, to_file])
}

fn stderr_layer(settings: &LogSettings) -> anyhow::Result<BoxedLayer> {
    let filter = EnvFilter::try_new(&settings.filter)
        .with_context(|| format!("log: invalid filter {:?}", settings.filter))?;
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    Ok(match settings.format {
        LogFormat::Text => layer
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => layer.json().with_filter(filter).boxed(),
    })
}

fn install(layers: Vec<BoxedLayer>) -> anyhow::Result<()> {
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|err| anyhow::anyhow!("could not install the logger: {err}"))
}
