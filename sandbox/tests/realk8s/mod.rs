//! A real Kubernetes API server for tests: kube-apiserver v1.36.2 with etcd
//! and kube-controller-manager, started by `../shared/realk8s/up`.
//!
//! The sandbox follows a real API server, so the stories that run on the
//! sandbox run here too. Where `../shared/realk8s` is absent (or cannot
//! start) a story prints `SKIPPED … real API server` with the reason, unless
//! `BI_REQUIRE_REAL_APISERVER=1`, which turns the skip into a failure.
//!
//! Two ways to get one:
//! - [`RealApiServer::fresh`]: a cluster of the test's own, stopped when it is
//!   dropped; for stories that create cluster-scoped objects (CRDs,
//!   ClusterRoles, bi's namespaces) and would collide with another test's.
//! - [`RealApiServer::shared`]: one cluster for every test of this test run
//!   (keyed by the test runner's process, so nextest's one-process-per-test
//!   shares it too), started by whichever test comes first under a file lock
//!   and stopped by a watchdog once the runner exits; tests isolate themselves
//!   by namespace.
//!
//! No kubelet runs there: no pod starts, Services get no ready endpoints and
//! admission webhooks cannot answer. Stories must expect exactly that.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Where the realk8s scripts are: `BI_REALK8S_DIR`, else `../shared/realk8s`
/// beside the repository.
pub fn scripts() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("BI_REALK8S_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realk8s"),
    };
    if dir.join("up").is_file() && dir.join("down").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "{} has no `up` and `down` scripts (set BI_REALK8S_DIR to the realk8s folder)",
            dir.display()
        ))
    }
}

/// Whether a missing real API server fails the test instead of skipping it.
fn required() -> bool {
    std::env::var("BI_REQUIRE_REAL_APISERVER").is_ok_and(|v| v == "1")
}

/// Skips `test` on the real API server loudly (or fails it when required).
pub fn skip(test: &str, reason: &str) {
    if required() {
        panic!(
            "{test}: BI_REQUIRE_REAL_APISERVER=1 but the real API server is unavailable: {reason}"
        );
    }
    eprintln!(
        "SKIPPED {test} on a real API server: {reason} (set BI_REQUIRE_REAL_APISERVER=1 to fail instead)"
    );
}

/// A running real API server.
#[derive(Debug)]
pub struct RealApiServer {
    dir: PathBuf,
    /// Its cluster-admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// Whether dropping it stops it (a fresh one) or not (the shared one).
    owned: bool,
    /// Keeps a fresh cluster's directory until it is stopped.
    _temp: Option<tempfile::TempDir>,
}

impl RealApiServer {
    /// Starts a cluster of `test`'s own, or None (skipped loudly).
    pub fn fresh(test: &str) -> Option<RealApiServer> {
        let scripts = match scripts() {
            Ok(scripts) => scripts,
            Err(reason) => {
                skip(test, &reason);
                return None;
            }
        };
        let temp = tempfile::Builder::new()
            .prefix("bi-realk8s-")
            .tempdir()
            .expect("a temporary directory");
        let dir = temp.path().to_path_buf();
        match up(&scripts, &dir) {
            Ok(kubeconfig) => Some(RealApiServer {
                dir,
                kubeconfig,
                owned: true,
                _temp: Some(temp),
            }),
            Err(reason) => {
                skip(test, &reason);
                None
            }
        }
    }

    /// The cluster every test of this run shares, or None (skipped loudly).
    pub fn shared(test: &str) -> Option<RealApiServer> {
        let scripts = match scripts() {
            Ok(scripts) => scripts,
            Err(reason) => {
                skip(test, &reason);
                return None;
            }
        };
        // NB: keyed by the runner (nextest or cargo test): each test is its
        // own process under nextest, and they all share their parent.
        let runner = std::os::unix::process::parent_id();
        let dir = std::env::temp_dir().join(format!("bi-realk8s-shared-{runner}"));
        std::fs::create_dir_all(&dir).expect("the shared cluster's directory");
        let lock = File::create(dir.with_extension("lock")).expect("the shared cluster's lock");
        lock.lock().expect("locking the shared cluster");
        let kubeconfig = dir.join("kubeconfig");
        let ready = dir.join("ready");
        let result = if ready.is_file() {
            Ok(kubeconfig)
        } else {
            up(&scripts, &dir).inspect(|_| {
                watch_runner(&scripts, &dir, runner);
                std::fs::write(&ready, b"").expect("marking the shared cluster ready");
            })
        };
        drop(lock);
        match result {
            Ok(kubeconfig) => Some(RealApiServer {
                dir,
                kubeconfig,
                owned: false,
                _temp: None,
            }),
            Err(reason) => {
                skip(test, &reason);
                None
            }
        }
    }

    /// A new client for it (a client belongs to the runtime that made it).
    pub async fn client(&self) -> Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("realk8s's kubeconfig");
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("a client configuration for realk8s");
        Client::try_from(config).expect("a client for realk8s")
    }

    /// The API server's own count of requests (`apiserver_request_total`)
    /// that change something (POST, PUT, PATCH, APPLY, DELETE,
    /// DELETECOLLECTION), by resource, excluding dry runs and subresources
    /// (the controller manager writes `status`, never bi).
    pub async fn write_requests(&self, client: &Client) -> WriteCount {
        let request = http::Request::get("/metrics")
            .body(Vec::new())
            .expect("a metrics request");
        let text = client
            .request_text(request)
            .await
            .expect("the API server's metrics");
        WriteCount::parse(&text)
    }
}

impl RealApiServer {
    /// Stops a fresh cluster without waiting for it: kube-apiserver takes
    /// about 5 s to shut down gracefully, which a test need not sit through.
    /// Its directory is removed once it has stopped. The shared cluster is
    /// left running, as when it is dropped.
    pub fn stop_in_background(mut self) {
        if !self.owned {
            return;
        }
        let Ok(scripts) = scripts() else {
            return;
        };
        // NB: the directory holds the pid files `down` reads: keep it until
        // `down` is done, then remove it.
        let dir = match self._temp.take() {
            Some(temp) => temp.keep(),
            None => self.dir.clone(),
        };
        let script = format!(
            "'{down}' '{dir}'; rm -rf '{dir}'",
            down = scripts.join("down").display(),
            dir = dir.display(),
        );
        let spawned = Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if spawned.is_ok() {
            self.owned = false;
        }
    }
}

impl Drop for RealApiServer {
    fn drop(&mut self) {
        if self.owned
            && let Ok(scripts) = scripts()
        {
            let _ = Command::new(scripts.join("down")).arg(&self.dir).status();
        }
    }
}

/// Writes the API server counted, by `(group/resource, verb)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteCount(pub BTreeMap<(String, String), u64>);

impl WriteCount {
    const VERBS: [&str; 6] = [
        "POST",
        "PUT",
        "PATCH",
        "APPLY",
        "DELETE",
        "DELETECOLLECTION",
    ];

    /// Reads the write counts out of the API server's `/metrics` text.
    pub fn parse(metrics: &str) -> WriteCount {
        let mut counts = BTreeMap::new();
        for line in metrics.lines() {
            let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
                continue;
            };
            let Some((labels, value)) = rest.rsplit_once("} ") else {
                continue;
            };
            let labels: BTreeMap<&str, &str> = labels
                .split("\",")
                .filter_map(|pair| pair.split_once("=\""))
                .map(|(key, value)| (key, value.trim_end_matches('"')))
                .collect();
            let verb = labels.get("verb").copied().unwrap_or_default();
            if !Self::VERBS.contains(&verb)
                || !labels
                    .get("dry_run")
                    .copied()
                    .unwrap_or_default()
                    .is_empty()
                || !labels
                    .get("subresource")
                    .copied()
                    .unwrap_or_default()
                    .is_empty()
            {
                continue;
            }
            let group = labels.get("group").copied().unwrap_or_default();
            let resource = labels.get("resource").copied().unwrap_or_default();
            let value: f64 = value.trim().parse().unwrap_or_default();
            *counts
                .entry((format!("{group}/{resource}"), verb.to_owned()))
                .or_insert(0) += value as u64;
        }
        WriteCount(counts)
    }

    /// The writes in `self` that `before` had not counted, to the resources
    /// for which `counts` says true.
    pub fn since(&self, before: &WriteCount, counts: impl Fn(&str) -> bool) -> WriteCount {
        WriteCount(
            self.0
                .iter()
                .filter(|((resource, _), _)| counts(resource))
                .filter_map(|(key, now)| {
                    let then = before.0.get(key).copied().unwrap_or(0);
                    (*now > then).then(|| (key.clone(), now - then))
                })
                .collect(),
        )
    }

    /// How many writes in all.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// Runs `up DIR`; the kubeconfig, or why it failed.
/// Starts a cluster in `dir`, a second time if the first start fails: on
/// the 2-core machine, with the rest of the suite running, a component
/// sometimes takes longer than `up` waits (seen: kube-controller-manager's
/// 60 s), which says nothing about bi.
fn up(scripts: &Path, dir: &Path) -> Result<PathBuf, String> {
    match up_once(scripts, dir) {
        Ok(kubeconfig) => Ok(kubeconfig),
        Err(first) => {
            eprintln!("realk8s: starting again after: {first}");
            // NB: `up` stopped what it started; a fresh store, the same certificates.
            let _ = std::fs::remove_dir_all(dir.join("etcd"));
            up_once(scripts, dir).map_err(|second| format!("{first}; and again: {second}"))
        }
    }
}

fn up_once(scripts: &Path, dir: &Path) -> Result<PathBuf, String> {
    let output = Command::new(scripts.join("up"))
        .arg(dir)
        .output()
        .map_err(|err| format!("cannot run {}/up: {err}", scripts.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{}/up {} failed: {}",
            scripts.display(),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(dir.join("kubeconfig"))
}

/// Starts a watchdog that stops the shared cluster once `runner` has exited.
fn watch_runner(scripts: &Path, dir: &Path, runner: u32) {
    let script = format!(
        "while kill -0 {runner} 2>/dev/null; do sleep 1; done; '{down}' '{dir}'; rm -rf '{dir}' '{dir}.lock'",
        down = scripts.join("down").display(),
        dir = dir.display(),
    );
    let _ = Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
