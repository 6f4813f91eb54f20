//! `bi debug bundle`: a tar.gz for bug reports. It holds bi's version, the
//! resolved config (the database password redacted), the server's status,
//! the last snapshots with their failed objects, and the tail of the
//! server's log file when one exists. Nothing in it is a secret.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bi_api::snapshots::{ResourceOutcomeRow, SnapshotDetail, SnapshotSummary};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;

use super::ApiClient;
use crate::cli::{GlobalArgs, ServeArgs};
use crate::config::Settings;
use bi_api::status::Status;

/// How many snapshots the bundle describes.
const SNAPSHOTS: u64 = 10;
/// How many lines of the log the bundle keeps.
const LOG_LINES: usize = 500;
/// The control server's log file (`bi start` and `bi serve`), in the data directory.
pub const LOG_FILE: &str = "bi.log";

/// A snapshot as the bundle shows it: its summary and only its failures.
#[derive(Debug, Serialize)]
struct SnapshotFailures {
    summary: SnapshotSummary,
    failed: Vec<ResourceOutcomeRow>,
}

/// Writes the bundle to `output` (or a timestamped file); returns its path.
pub async fn bundle(
    api: &ApiClient,
    global: &GlobalArgs,
    output: Option<PathBuf>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<PathBuf> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = output.unwrap_or_else(|| PathBuf::from(format!("bi-debug-{now}.tar.gz")));
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "version.txt".to_owned(),
        format!(
            "bi {}\nserver {}\n",
            env!("CARGO_PKG_VERSION"),
            api.server()
        )
        .into_bytes(),
    )];

    let serve_args = ServeArgs {
        data_dir,
        ..ServeArgs::default()
    };
    let settings = Settings::load(global, &serve_args);
    let config = match &settings {
        // NB: Settings' Debug redacts the database password (DatabaseUrl).
        Ok(settings) => format!("{settings:#?}\n"),
        Err(err) => format!("the config does not resolve: {err:#}\n"),
    };
    files.push(("config.txt".to_owned(), config.into_bytes()));

    match api.get::<Status>("/api/v1/status").await {
        Ok(status) => files.push(("status.json".to_owned(), json(&status)?)),
        Err(err) => files.push(("status.txt".to_owned(), format!("{err}\n").into_bytes())),
    }
    match snapshots(api).await {
        Ok(snapshots) => files.push(("snapshots.json".to_owned(), json(&snapshots)?)),
        Err(err) => files.push((
            "snapshots.txt".to_owned(),
            format!("{err:#}\n").into_bytes(),
        )),
    }
    if let Ok(settings) = &settings
        && let Some(tail) = log_tail(&settings.data_dir.join(LOG_FILE))
    {
        files.push(("server.log".to_owned(), tail.into_bytes()));
    }
    write_tar_gz(&path, &files)?;
    Ok(path)
}

async fn snapshots(api: &ApiClient) -> anyhow::Result<Vec<SnapshotFailures>> {
    let list: Vec<SnapshotSummary> = api
        .get(&format!("/api/v1/snapshots?limit={SNAPSHOTS}"))
        .await?;
    let mut out = Vec::new();
    for summary in list {
        let failed = if summary.counts.failed > 0 {
            let detail: SnapshotDetail = api
                .get(&format!("/api/v1/snapshots/{}", summary.id))
                .await?;
            detail
                .resources
                .into_iter()
                .filter(|row| row.outcome == "failed")
                .collect()
        } else {
            Vec::new()
        };
        out.push(SnapshotFailures { summary, failed });
    }
    Ok(out)
}

fn json(value: &impl Serialize) -> anyhow::Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).context("while rendering JSON")
}

/// The last lines of the file, if it can be read.
fn log_tail(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(LOG_LINES);
    Some(lines[start..].join("\n") + "\n")
}

/// Writes `files` (name, contents) into a gzipped tarball at `path`.
pub fn write_tar_gz(path: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("while creating {}", path.display()))?;
    let mut archive = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    for (name, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(u64::try_from(contents.len()).unwrap_or(u64::MAX));
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        archive
            .append_data(&mut header, format!("bi-debug/{name}"), contents.as_slice())
            .with_context(|| format!("while adding {name} to {}", path.display()))?;
    }
    archive
        .into_inner()
        .and_then(GzEncoder::finish)
        .with_context(|| format!("while finishing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_bundle_holds_the_files_under_one_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.tar.gz");
        write_tar_gz(&path, &[("version.txt".to_owned(), b"bi 0.1.0\n".to_vec())]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut entries = archive.entries().unwrap();
        let mut entry = entries.next().unwrap().unwrap();
        assert_eq!(
            entry.path().unwrap().to_string_lossy(),
            "bi-debug/version.txt"
        );
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(text, "bi 0.1.0\n");
    }
}
