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
mod serving;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use realk8s::RealApiServer;
use serving::Serving;

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
    let minutes = Duration::from_secs(120);
    // An installation of battery_core, running; then redis is installed
    // while its server is down.
    let mut start = Serving::start(&data_dir, kubeconfig.as_deref(), &[]);
    start
        .wait_for("snapshot finished", minutes)
        .expect("the first snapshot finished");
    start.kill();
    offline(&data_dir, &["batteries", "install", "redis"]);

    // A slow server: killed once some of redis is in the cluster.
    let mut slow = Serving::start(&data_dir, kubeconfig.as_deref(), &["--max-write-rate", "6"]);
    slow.wait_for("snapshot started", minutes)
        .expect("the slow server started a snapshot");
    let cluster = match real {
        Some(real) => real.client().await,
        None => client(&data_dir.join("sandbox.kubeconfig")).await,
    };
    let deadline = Instant::now() + minutes;
    while redis_objects(&cluster).await.len() < 3 {
        assert!(Instant::now() < deadline, "redis never started to land");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    slow.kill();
    let log = slow.drain();
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
    let mut next = Serving::start(&data_dir, kubeconfig.as_deref(), &[]);
    let seen = next
        .wait_for("snapshot finished", minutes)
        .expect("the next server's snapshot finished");
    assert!(
        seen.iter()
            .any(|line| line.contains("marked snapshots left running as interrupted")),
        "{}",
        seen.join("\n")
    );
    // NB: the sandbox died with its server; the next one serves the
    // objects it persisted on a new port.
    let cluster = match real {
        Some(_) => cluster,
        None => client(&data_dir.join("sandbox.kubeconfig")).await,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut left = redis_objects(&cluster).await;
    while !left.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = redis_objects(&cluster).await;
    }
    next.kill();
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
