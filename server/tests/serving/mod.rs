//! A `bi serve` of a test's own, started as a user would start it, and the
//! lines of its log as they come: the lease and crash stories.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The setup token every server here is started with.
pub const SETUP_TOKEN: &str = "serving-tests-setup-token";

/// A running `bi serve` and its log; dropping it kills it.
pub struct Serving {
    /// The process.
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serving {
    /// `bi serve` on the cluster of `kubeconfig` (else `--sandbox`), its
    /// data in `data_dir`, on a free loopback port, with `extra` flags.
    pub fn start(data_dir: &Path, kubeconfig: Option<&Path>, extra: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bi"));
        command.arg("serve");
        match kubeconfig {
            Some(kubeconfig) => command.arg("--kubeconfig").arg(kubeconfig),
            None => command.arg("--sandbox"),
        };
        let mut child = command
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env_remove("KUBECONFIG")
            .env("BI_SETUP_TOKEN", SETUP_TOKEN)
            .env("BI_LOG_FORMAT", "text")
            .env("BI_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        // NB: keep draining stderr, or the server blocks once the pipe fills.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The lines logged until one contains `text` (that one last), or None
    /// when none does within `timeout`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> Option<Vec<String>> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            let found = line.contains(text);
            seen.push(line);
            if found {
                return Some(seen);
            }
        }
    }

    /// Every line logged and not read yet.
    pub fn drain(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Kills it with SIGKILL (nothing is cleaned up by bi) and waits for it.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}
