//! Ownership across a crash: a control server killed with `kill -9` in the
//! middle of a snapshot (nothing cleaned up, the snapshot never finished),
//! redis uninstalled while it is down, and the server started again
//! deletes every object the killed snapshot created: nothing is left
//! behind. On a real kube-apiserver (skipped loudly without
//! `../shared/realk8s`, failed with `BI_REQUIRE_REAL_APISERVER=1`) and on
//! the sandbox. `--max-write-rate` slows the first server so the kill lands
//! mid-snapshot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../sandbox/tests/realk8s/mod.rs"]
mod realk8s;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use realk8s::RealApiServer;

/// `bi ARGS` without a server: it works on the data directory.
fn offline(data_dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_bi"))
        .args(args)
        .env("BI_SERVER", "http://127.0.0.1:9")
        .env("BI_DATA_DIR", data_dir)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bi {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `bi serve` on `kubeconfig` (else the sandbox) with `extra` flags, and
/// the lines of its log.
fn serve(
    data_dir: &Path,
    kubeconfig: Option<&Path>,
    extra: &[&str],
) -> (Child, mpsc::Receiver<String>) {
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
        .env("BI_SETUP_TOKEN", "kill-tests-setup-token")
        .env("BI_LOG_FORMAT", "text")
        .env("BI_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines)
}

/// Every line logged so far.
fn drain(lines: &mpsc::Receiver<String>) -> Vec<String> {
    lines.try_iter().collect()
}

/// Waits (at most `timeout`) for a log line with `text`; every line seen.
fn wait_for(lines: &mpsc::Receiver<String>, text: &str, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("no {text:?} within {timeout:?}:\n{}", seen.join("\n")));
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(text);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => panic!("no {text:?} within {timeout:?}:\n{}", seen.join("\n")),
        }
    }
}

async fn client(kubeconfig: &Path) -> kube::Client {
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(kubeconfig).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// The redis battery's objects in the cluster (`battery/app=redis`), by
/// kind/name; namespaces being deleted are not counted.
async fn redis_objects(client: &kube::Client) -> Vec<String> {
    let params = ListParams::default().labels("battery/app=redis");
    let mut found = Vec::new();
    macro_rules! collect {
        ($($kind:ty),*) => {$(
            let api: Api<$kind> = Api::all(client.clone());
            for object in api.list(&params).await.unwrap() {
                if object.metadata.deletion_timestamp.is_none() {
                    found.push(format!(
                        "{}/{}",
                        stringify!($kind),
                        object.metadata.name.unwrap_or_default()
                    ));
                }
            }
        )*};
    }
    collect!(
        Namespace,
        CustomResourceDefinition,
        ClusterRole,
        ClusterRoleBinding,
        ServiceAccount,
        ConfigMap,
        Secret,
        Service,
        Deployment
    );
    found
}

async fn story(real: Option<&RealApiServer>) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let kubeconfig = real.map(|real| real.kubeconfig.clone());
    // An installation of battery_core, running; then redis is installed
    // while its server is down.
    let (mut start, lines) = serve(&data_dir, kubeconfig.as_deref(), &[]);
    wait_for(&lines, "snapshot finished", Duration::from_secs(120));
    start.kill().unwrap();
    start.wait().unwrap();
    offline(&data_dir, &["batteries", "install", "redis"]);

    // A slow server: killed once some of redis is in the cluster.
    let (mut first, lines) = serve(&data_dir, kubeconfig.as_deref(), &["--max-write-rate", "6"]);
    wait_for(&lines, "snapshot started", Duration::from_secs(120));
    let cluster = match real {
        Some(real) => real.client().await,
        None => client(&data_dir.join("sandbox.kubeconfig")).await,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut created = redis_objects(&cluster).await;
    while created.len() < 3 {
        assert!(Instant::now() < deadline, "redis never started to land");
        tokio::time::sleep(Duration::from_millis(50)).await;
        created = redis_objects(&cluster).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let log = drain(&lines);
    assert!(
        !log.iter().any(|line| line.contains("snapshot finished")),
        "killed mid-snapshot, yet it finished:\n{}",
        log.join("\n")
    );
    if real.is_some() {
        let created = redis_objects(&cluster).await;
        eprintln!(
            "the killed snapshot left {} redis objects: {created:?}",
            created.len()
        );
    }

    // Uninstalled while no server runs; the next server prunes it all.
    offline(&data_dir, &["batteries", "uninstall", "redis"]);
    let (mut second, lines) = serve(&data_dir, kubeconfig.as_deref(), &[]);
    let seen = wait_for(&lines, "snapshot finished", Duration::from_secs(120));
    // NB: the sandbox died with its server; the second one serves the
    // objects it persisted on a new port.
    let cluster = match real {
        Some(_) => cluster,
        None => client(&data_dir.join("sandbox.kubeconfig")).await,
    };
    assert!(
        seen.iter()
            .any(|line| line.contains("marked snapshots left running as interrupted")),
        "{}",
        seen.join("\n")
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut left = redis_objects(&cluster).await;
    while !left.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = redis_objects(&cluster).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(left.is_empty(), "left behind after the uninstall: {left:?}");
}

#[tokio::test]
async fn a_snapshot_killed_midway_then_an_uninstall_leaves_nothing_on_the_sandbox() {
    story(None).await;
}

#[tokio::test]
async fn a_snapshot_killed_midway_then_an_uninstall_leaves_nothing_on_a_real_api_server() {
    let Some(real) = RealApiServer::fresh(
        "a_snapshot_killed_midway_then_an_uninstall_leaves_nothing_on_a_real_api_server",
    ) else {
        return;
    };
    story(Some(&real)).await;
    real.stop_in_background();
}
