//! The real `bi` binary against a control server the test starts on the
//! sandbox: status, install, apply, plan's exit code, refused settings,
//! rollback, export (applied to a fresh sandbox), debug bundle. The
//! end-to-end story runs again with `bi serve --kubeconfig` on a real
//! kube-apiserver (`../shared/realk8s`), which has no nodes: nothing runs
//! there, so nothing becomes ready.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../sandbox/tests/realk8s/mod.rs"]
mod realk8s;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bi_sandbox::{Sandbox, SandboxConfig};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use realk8s::RealApiServer;
use serde_json::Value;

/// A `bi serve` the test started, with a CLI signed in to it as an admin
/// (its credentials in `config`); killed when dropped.
struct RunningServer {
    child: Child,
    url: String,
    config: tempfile::TempDir,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The one-time token the tests' servers are started with.
const SETUP_TOKEN: &str = "cli-tests-setup-token";
/// The tests' admin and password.
const ADMIN: &str = "admin";
const PASSWORD: &str = "cli tests password";

/// Starts `bi serve --sandbox`.
fn start_server(data_dir: &Path) -> RunningServer {
    serve(data_dir, None)
}

/// Starts `bi serve` on the cluster of `kubeconfig`, else on the sandbox,
/// then signs the CLI in: `bi setup` on a new data directory (with the
/// setup token), `bi login` on one set up before.
fn serve(data_dir: &Path, kubeconfig: Option<&Path>) -> RunningServer {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bi"));
    command.arg("serve");
    match kubeconfig {
        Some(kubeconfig) => command.arg("--kubeconfig").arg(kubeconfig),
        None => command.arg("--sandbox"),
    };
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("KUBECONFIG")
        .env_remove("BI_SERVER")
        .env("BI_SETUP_TOKEN", SETUP_TOKEN)
        .env("BI_LOG_FORMAT", "text")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, url) = mpsc::channel();
    // NB: keep draining stderr after the address is found, or the server
    // blocks once the pipe fills.
    std::thread::spawn(move || {
        let mut setup = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            setup |= line.contains("create the first admin at");
            if let Some(at) = line.find("bi is listening on ") {
                let url = line[at + "bi is listening on ".len()..].trim().to_owned();
                let _ = found.send((url, setup));
            }
        }
    });
    let (url, needs_setup) = url
        .recv_timeout(Duration::from_secs(120))
        .expect("the server never said where it listens");
    let config = tempfile::tempdir().unwrap();
    let signed_in = if needs_setup {
        bi_with(
            &url,
            config.path(),
            &[
                "setup",
                "--token",
                SETUP_TOKEN,
                "--username",
                ADMIN,
                "--password-stdin",
            ],
            PASSWORD,
        )
    } else {
        bi_with(
            &url,
            config.path(),
            &["login", "--username", ADMIN, "--password-stdin"],
            PASSWORD,
        )
    };
    ok(&signed_in);
    RunningServer { child, url, config }
}

/// Runs `bi args…` against the server, signed in as the admin.
fn bi(server: &RunningServer, args: &[&str]) -> Output {
    bi_with(&server.url, server.config.path(), args, "")
}

/// Runs `bi args…` against the server at `url` with the credentials kept
/// in `config` and `stdin` as its input.
fn bi_with(url: &str, config: &Path, args: &[&str], stdin: &str) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("bi")
        .args(args)
        .env("BI_SERVER", url)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("BI_TOKEN")
        .env_remove("KUBECONFIG")
        .write_stdin(stdin)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(server: &RunningServer, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&ok(&bi(server, &args))).unwrap()
}

async fn kube_client(kubeconfig: &Path) -> kube::Client {
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(kubeconfig).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// `apiVersion/kind/namespace/name` of every document of a YAML stream.
fn paths(yaml: &str) -> Vec<(Value, String)> {
    yaml.split("\n---\n")
        .map(|doc| doc.trim_start_matches("---\n"))
        .filter(|doc| !doc.trim().is_empty())
        .map(|doc| {
            let body: Value = serde_yaml_ng::from_str(doc).unwrap();
            let path = format!(
                "{}/{}/{}/{}",
                body["apiVersion"].as_str().unwrap(),
                body["kind"].as_str().unwrap(),
                body["metadata"]["namespace"].as_str().unwrap_or(""),
                body["metadata"]["name"].as_str().unwrap()
            );
            (body, path)
        })
        .collect()
}

/// Server-side applies every document to the cluster behind `client`, in
/// order, as `kubectl apply --server-side` would.
async fn apply_all(client: &kube::Client, documents: &[(Value, String)]) {
    for (body, path) in documents {
        let object: DynamicObject = serde_json::from_value(body.clone()).unwrap();
        let api = dynamic_api(client, body).await;
        api.patch(
            object.metadata.name.as_deref().unwrap(),
            &PatchParams::apply("bi-test").force(),
            &Patch::Apply(&object),
        )
        .await
        .unwrap_or_else(|err| panic!("applying {path}: {err}"));
    }
}

/// The API for `body`'s kind; waits (at most 30 s) for a kind a CRD just
/// created to be served, as a real API server takes a moment to.
async fn dynamic_api(client: &kube::Client, body: &Value) -> Api<DynamicObject> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match try_dynamic_api(client, body).await {
            Ok(api) => return api,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("{} is not served: {err}", body["kind"]),
        }
    }
}

async fn try_dynamic_api(
    client: &kube::Client,
    body: &Value,
) -> Result<Api<DynamicObject>, kube::Error> {
    let (group, version) = match body["apiVersion"].as_str().unwrap().split_once('/') {
        Some((group, version)) => (group.to_owned(), version.to_owned()),
        None => (
            String::new(),
            body["apiVersion"].as_str().unwrap().to_owned(),
        ),
    };
    let gvk = GroupVersionKind::gvk(&group, &version, body["kind"].as_str().unwrap());
    let (resource, capabilities) = kube::discovery::pinned_kind(client, &gvk).await?;
    Ok(
        match (capabilities.scope, body["metadata"]["namespace"].as_str()) {
            (kube::discovery::Scope::Namespaced, Some(namespace)) => {
                Api::namespaced_with(client.clone(), namespace, &resource)
            }
            _ => Api::all_with(client.clone(), &resource),
        },
    )
}

async fn exists_in(client: &kube::Client, body: &Value) -> bool {
    let api = dynamic_api(client, body).await;
    api.get_opt(body["metadata"]["name"].as_str().unwrap())
        .await
        .unwrap()
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_drives_a_control_server_end_to_end() {
    cli_story(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_drives_a_control_server_on_a_real_api_server_end_to_end() {
    let test = "the_cli_drives_a_control_server_on_a_real_api_server_end_to_end";
    if let Some(real) = RealApiServer::fresh(test) {
        cli_story(Some(&real)).await;
        real.stop_in_background();
    }
}

/// Status, install, apply, plan, drift, refused settings, rollback, export
/// and a debug bundle, through `bi`, against a `bi serve` on the sandbox
/// or on `real`.
async fn cli_story(real: Option<&RealApiServer>) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = serve(&data_dir, real.map(|real| real.kubeconfig.as_path()));

    // status
    let status = ok(&bi(&server, &["status"]));
    assert!(status.contains("battery_core"), "{status}");
    match real {
        Some(real) => {
            assert!(status.contains("— kubernetes"), "{status}");
            let kubeconfig = real.kubeconfig.display().to_string();
            assert!(status.contains(&kubeconfig), "{status}");
        }
        None => assert!(status.contains("sandbox"), "{status}"),
    }

    ok(&bi(&server, &["apply"]));

    // users and tokens: an admin adds a viewer, makes a token for CI, and
    // the token works until it is revoked
    let added = bi_with(
        &server.url,
        server.config.path(),
        &[
            "users",
            "add",
            "val",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "a viewer's password",
    );
    assert!(ok(&added).contains("created val (viewer)"));
    let users = json(&server, &["users", "list"]);
    assert_eq!(users[1]["username"], "val", "{users}");
    assert_eq!(users[1]["role"], "viewer", "{users}");
    // the viewer signs in on their own machine and changes their password
    let val = tempfile::tempdir().unwrap();
    let as_val = |args: &[&str], stdin: &str| bi_with(&server.url, val.path(), args, stdin);
    ok(&as_val(
        &["login", "--username", "val", "--password-stdin"],
        "a viewer's password",
    ));
    let wrong = as_val(
        &["password", "--password-stdin"],
        "not the password\nval's new password\n",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("current_password"),
        "{wrong:?}"
    );
    let changed = ok(&as_val(
        &["password", "--password-stdin"],
        "a viewer's password\nval's new password\n",
    ));
    assert!(changed.contains("changed the password of val"), "{changed}");
    assert_eq!(
        ok(&as_val(&["whoami"], "")).trim().split(' ').next(),
        Some("val")
    );
    let old = as_val(
        &["login", "--username", "val", "--password-stdin"],
        "a viewer's password",
    );
    assert_eq!(old.status.code(), Some(1), "{old:?}");
    ok(&as_val(
        &["login", "--username", "val", "--password-stdin"],
        "val's new password",
    ));
    let created = bi(
        &server,
        &["tokens", "create", "ci", "--expires-in-days", "30"],
    );
    let token = ok(&created).trim().to_owned();
    assert!(token.starts_with("bi_"), "{token}");
    let listed = ok(&bi(&server, &["tokens", "list"]));
    assert!(
        listed.contains("ci") && !listed.contains(&token),
        "{listed}"
    );
    let as_ci = |args: &[&str]| {
        assert_cmd::cargo::cargo_bin_cmd!("bi")
            .args(args)
            .env("BI_SERVER", &server.url)
            .env("BI_TOKEN", &token)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    assert_eq!(ok(&as_ci(&["whoami"])).trim(), "admin (token ci), admin");
    let tokens = json(&server, &["tokens", "list"]);
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap()["id"]
        .to_string();
    ok(&bi(&server, &["tokens", "revoke", &id]));
    let revoked = as_ci(&["whoami"]);
    assert_eq!(revoked.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&revoked.stderr).contains("bi login"),
        "{revoked:?}"
    );

    // install a battery, then apply converges and plan shows nothing to do
    let installed = ok(&bi(&server, &["batteries", "install", "redis"]));
    assert!(installed.contains("installed redis"), "{installed}");
    let applied = ok(&bi(&server, &["apply"]));
    assert!(applied.contains("succeeded"), "{applied}");
    let plan = bi(&server, &["plan", "--exit-code"]);
    assert_eq!(plan.status.code(), Some(0), "{}", ok(&plan));
    // the sandbox reports workloads ready shortly after they are applied; a
    // real API server without nodes runs no pod, so redis stays progressing
    // with none of its replicas ready (only a cluster with nodes shows it
    // ready)
    let shown = if real.is_some() {
        " progressing (0/"
    } else {
        " ready ("
    };
    let mut status = String::new();
    for _ in 0..50 {
        status = ok(&bi(&server, &["status"]));
        if status
            .lines()
            .any(|l| l.trim_start().starts_with("redis ") && l.contains(shown))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        status
            .lines()
            .any(|l| l.trim_start().starts_with("redis ") && l.contains(shown)),
        "{status}"
    );
    assert!(status.contains("capacity:        CPU"), "{status}");
    if real.is_some() {
        assert!(status.contains("(0 nodes)"), "{status}");
    }

    // an object deleted behind bi's back: the plan has changes (exit 2)
    let cluster = match real {
        Some(real) => real.client().await,
        None => kube_client(&data_dir.join("sandbox.kubeconfig")).await,
    };
    let deployments: Api<Deployment> = Api::namespaced(cluster.clone(), "battery-base");
    deployments
        .delete("redis-operator", &DeleteParams::default())
        .await
        .unwrap();
    let plan = bi(&server, &["plan", "--exit-code"]);
    let shown = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert_eq!(plan.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("create")
            && shown.contains("apps/v1/Deployment/battery-base/redis-operator"),
        "{shown}"
    );
    ok(&bi(&server, &["apply"]));
    let plan = bi(&server, &["plan", "--exit-code"]);
    assert_eq!(plan.status.code(), Some(0), "{}", ok(&plan));
    let converged = json(&server, &["deploys", "list"])[0]["id"]
        .as_i64()
        .unwrap();

    // a size without a unit is refused with the model's words; nothing changes
    let version_before = json(&server, &["status"])["desired_version"].clone();
    let snapshots_before = json(&server, &["deploys", "list"]);
    let audit_before = json(&server, &["audit"]);
    let refused = bi(
        &server,
        &["batteries", "install", "grafana", "--set", "storage=500"],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("grafana.storage: "), "{stderr}");
    assert!(stderr.contains("has no unit"), "{stderr}");
    let malformed = bi(
        &server,
        &["batteries", "install", "grafana", "--set", "storage"],
    );
    assert!(!malformed.status.success());
    let stderr = String::from_utf8_lossy(&malformed.stderr);
    assert!(stderr.contains("key=value"), "{stderr}");
    assert_eq!(
        json(&server, &["status"])["desired_version"],
        version_before
    );
    assert_eq!(json(&server, &["deploys", "list"]), snapshots_before);
    assert_eq!(json(&server, &["audit"]), audit_before);

    // rollback: change a setting, apply, then go back to the converged snapshot
    let image = |server: &RunningServer| {
        json(server, &["batteries", "show", "redis"])["config"]["operator_image"].clone()
    };
    let original = image(&server);
    ok(&bi(
        &server,
        &[
            "batteries",
            "configure",
            "redis",
            "--set",
            "operator_image=quay.io/opstree/redis-operator:v0.22.2",
        ],
    ));
    ok(&bi(&server, &["apply"]));
    assert_eq!(image(&server), "quay.io/opstree/redis-operator:v0.22.2");
    let rolled = ok(&bi(&server, &["rollback", &converged.to_string()]));
    assert!(rolled.contains("rolled back"), "{rolled}");
    assert_eq!(image(&server), original);
    let live = deployments.get("redis-operator").await.unwrap();
    let live_image = live.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert_eq!(Value::from(live_image), original);
    ok(&bi(&server, &["apply"]));
    let plan = bi(&server, &["plan", "--exit-code"]);
    assert_eq!(plan.status.code(), Some(0), "{}", ok(&plan));

    // export applied to a fresh cluster of the same kind gives the same objects
    let exported = ok(&bi(&server, &["export"]));
    let documents = paths(&exported);
    assert!(!documents.is_empty());
    let (fresh, fresh_real, fresh_client) = match real {
        Some(_) => {
            let fresh_real = RealApiServer::fresh(
                "the_cli_drives_a_control_server_on_a_real_api_server_end_to_end (export)",
            )
            .expect("a second real API server");
            let client = fresh_real.client().await;
            (None, Some(fresh_real), client)
        }
        None => {
            let fresh = Sandbox::start(SandboxConfig::default()).await.unwrap();
            let client = fresh.client().unwrap();
            (Some(fresh), None, client)
        }
    };
    apply_all(&fresh_client, &documents).await;
    let mut in_fresh = BTreeSet::new();
    let mut in_server = BTreeSet::new();
    for (body, path) in &documents {
        if exists_in(&fresh_client, body).await {
            in_fresh.insert(path.clone());
        }
        if exists_in(&cluster, body).await {
            in_server.insert(path.clone());
        }
    }
    let exported_paths: BTreeSet<String> = documents.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(in_fresh, exported_paths);
    assert_eq!(in_server, exported_paths);
    if let Some(fresh) = fresh {
        fresh.shutdown().await.unwrap();
    }
    if let Some(fresh_real) = fresh_real {
        fresh_real.stop_in_background();
    }

    // orphans: a managed object no inventory knows is listed, left alone
    // by snapshots, and deleted on request, by a snapshot of its own
    let secrets: Api<Secret> = Api::namespaced(cluster.clone(), "default");
    let orphan: Secret = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "left-behind", "labels": { "battery/managed": "true" } },
        "stringData": { "left": "behind" },
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &orphan)
        .await
        .unwrap();
    let listed = ok(&bi(&server, &["deploys", "orphans"]));
    assert!(listed.contains("v1/Secret/default/left-behind"), "{listed}");
    ok(&bi(&server, &["apply"]));
    assert!(
        secrets.get_opt("left-behind").await.unwrap().is_some(),
        "a snapshot leaves an orphan alone"
    );
    let wrong = bi(&server, &["deploys", "orphans", "--prune", "nonsense"]);
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("paths[0]"),
        "{wrong:?}"
    );
    let pruned = ok(&bi(&server, &["deploys", "orphans", "--prune"]));
    assert!(
        pruned.contains("deleted v1/Secret/default/left-behind"),
        "{pruned}"
    );
    assert!(secrets.get_opt("left-behind").await.unwrap().is_none());
    assert!(ok(&bi(&server, &["deploys", "orphans"])).contains("no orphans"));
    let newest = json(&server, &["deploys", "list", "--limit", "1"]);
    assert_eq!(newest[0]["trigger"], "prune-orphans");

    // history retention: a dry run counts and removes nothing; a prune
    // keeps what rollback and pruning need
    let before = json(&server, &["deploys", "list", "--limit", "1000"])
        .as_array()
        .unwrap()
        .len() as u64;
    let keep = ["deploys", "prune", "--keep", "1", "--keep-days", "0"];
    let dry = json(&server, &[&keep[..], &["--dry-run"]].concat());
    assert_eq!(dry["dry_run"], true);
    assert!(dry["snapshots"].as_u64().unwrap() > 0, "{dry}");
    assert_eq!(
        dry["snapshots"].as_u64().unwrap() + dry["kept"].as_u64().unwrap(),
        before
    );
    let pruned = json(&server, &keep);
    assert_eq!(pruned["snapshots"], dry["snapshots"]);
    let after = json(&server, &["deploys", "list", "--limit", "1000"])
        .as_array()
        .unwrap()
        .len() as u64;
    assert_eq!(after, dry["kept"].as_u64().unwrap());
    let plan = bi(&server, &["plan", "--exit-code"]);
    assert_eq!(plan.status.code(), Some(0), "{}", ok(&plan));

    // one file per resource with -d
    let export_dir = dir.path().join("export");
    ok(&bi(
        &server,
        &["export", "-d", export_dir.to_str().unwrap()],
    ));
    assert_eq!(
        std::fs::read_dir(&export_dir).unwrap().count(),
        documents.len()
    );

    // debug bundle
    let bundle = dir.path().join("bundle.tar.gz");
    ok(&bi(
        &server,
        &[
            "debug",
            "bundle",
            "-o",
            bundle.to_str().unwrap(),
            "--data-dir",
            data_dir.to_str().unwrap(),
        ],
    ));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&bundle).unwrap(),
    ));
    let mut log = None;
    let mut everything = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        everything.push_str(&text);
        if entry.path().unwrap().ends_with("server.log") {
            log = Some(text);
        }
    }
    let log = log.expect("the bundle holds the server's log");
    assert!(log.contains("bi is listening on"), "{log}");
    assert!(!log.contains("\x1b["), "no terminal colours in the file");
    // No credential is in the bundle: not the password, the setup token,
    // the CLI's token, nor any secret the installation generated.
    let credentials =
        std::fs::read_to_string(server.config.path().join("bi").join("credentials.toml")).unwrap();
    let token = credentials
        .split("token = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert!(token.starts_with("bi_"), "{credentials}");
    for (what, secret) in [
        ("the password", PASSWORD),
        ("the setup token", SETUP_TOKEN),
        ("the CLI's token", token),
    ] {
        assert!(
            !everything.contains(secret),
            "{what} is in the debug bundle"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.config.path().join("bi").join("credentials.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the credentials file is readable by others"
        );
    }
}

#[test]
fn an_unreachable_server_is_named_with_what_to_do() {
    let empty = tempfile::tempdir().unwrap();
    let output = assert_cmd::cargo::cargo_bin_cmd!("bi")
        .args(["status", "--server", "http://127.0.0.1:9"])
        .env("BI_DATA_DIR", empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach the control server at http://127.0.0.1:9: is `bi start` running? (set --server or BI_SERVER)"),
        "{stderr}"
    );
}

#[test]
fn completions_and_help_work_offline() {
    let output = assert_cmd::cargo::cargo_bin_cmd!("bi")
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("_bi()"));
    for args in [
        &["--help"][..],
        &["batteries", "install", "--help"],
        &["start", "--help"],
    ] {
        let output = assert_cmd::cargo::cargo_bin_cmd!("bi")
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
    }
    let output = assert_cmd::cargo::cargo_bin_cmd!("bi")
        .args(["start", "--kind", "--sandbox"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "--kind and --sandbox conflict"
    );
}

#[test]
fn start_prints_each_step_and_then_the_url() {
    start_story(None);
}

#[test]
fn start_on_a_real_api_server_prints_each_step_and_then_the_url() {
    let test = "start_on_a_real_api_server_prints_each_step_and_then_the_url";
    if let Some(real) = RealApiServer::fresh(test) {
        start_story(Some(&real.kubeconfig));
        real.stop_in_background();
    }
}

/// `bi start` on the sandbox, or on the cluster of `kubeconfig`: its steps,
/// then the URL of a server that answers.
fn start_story(kubeconfig: Option<&Path>) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_bi"));
    command.arg("start");
    match kubeconfig {
        Some(kubeconfig) => command.arg("--kubeconfig").arg(kubeconfig),
        None => command.arg("--sandbox"),
    };
    // NB: hermetic: no config file of the machine's user is read.
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env_remove("KUBECONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    // A new installation: the one line on standard output is the setup link.
    let link = match url::Url::parse(line.trim()) {
        Ok(link) => link,
        Err(err) => {
            // NB: say why bi did not start, not only that the line is no URL.
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "bi start printed {line:?} ({err}), {}; its standard error:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    };
    assert_eq!(link.path(), "/setup", "{link}");
    let token = link
        .query_pairs()
        .find(|(k, _)| k == "token")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data").join("setup-token")).unwrap(),
        token
    );
    let url = format!(
        "http://{}:{}",
        link.host_str().unwrap(),
        link.port().unwrap()
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
    let config = tempfile::tempdir().unwrap();
    let anonymous = bi_with(&url, config.path(), &["status"], "");
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&anonymous.stderr).contains("bi login"),
        "{anonymous:?}"
    );
    ok(&bi_with(
        &url,
        config.path(),
        &[
            "setup",
            "--token",
            &token,
            "--username",
            ADMIN,
            "--password-stdin",
        ],
        PASSWORD,
    ));
    let status = bi_with(&url, config.path(), &["status"], "");
    let whoami = bi_with(&url, config.path(), &["whoami"], "");
    child.kill().unwrap();
    let status = ok(&status);
    assert!(status.contains("battery_core"), "{status}");
    assert!(ok(&whoami).starts_with("admin (token cli@"), "{whoami:?}");
    let output = child.wait_with_output().unwrap();
    let steps = String::from_utf8_lossy(&output.stderr);
    for step in [
        "✔ data directory",
        "✔ cluster",
        "✔ first snapshot",
        "bi is running at http://",
    ] {
        assert!(steps.contains(step), "{step} missing from:\n{steps}");
    }
}

#[test]
fn start_kind_without_docker_and_kind_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let output = assert_cmd::cargo::cargo_bin_cmd!("bi")
        .args(["start", "--kind", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("PATH", dir.path())
        .env_remove("KUBECONFIG")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("needs `docker` and `kind` on PATH") && stderr.contains("install Docker"),
        "{stderr}"
    );
}

#[test]
fn without_a_server_the_desired_state_is_changed_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    drop(start_server(dir.path()));
    let offline = |args: &[&str]| {
        assert_cmd::cargo::cargo_bin_cmd!("bi")
            .args(args)
            .env("BI_SERVER", "http://127.0.0.1:9")
            .env("BI_DATA_DIR", dir.path())
            .env_remove("KUBECONFIG")
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap()
    };
    let installed = offline(&["batteries", "install", "grafana", "--set", "storage=7Gi"]);
    ok(&installed);
    assert!(
        String::from_utf8_lossy(&installed.stderr).contains("working on the data directory"),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let audit: Value = serde_json::from_str(&ok(&offline(&["audit", "-o", "json"]))).unwrap();
    assert!(audit.to_string().contains("install grafana"), "{audit}");
    let refused = offline(&["batteries", "install", "grafana", "--set", "storage=500"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("has no unit"));

    let plan = offline(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&plan.stderr);
    assert!(
        stderr.contains("needs it: start it with `bi start`"),
        "{stderr}"
    );

    // The server started again applies what was stored meanwhile.
    let server = start_server(dir.path());
    ok(&bi(&server, &["apply"]));
    let plan = bi(&server, &["plan", "--exit-code"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    let status = ok(&bi(
        &server,
        &["batteries", "show", "grafana", "-o", "json"],
    ));
    assert!(status.contains("7Gi"), "{status}");
}

#[tokio::test]
async fn settings_are_set_refused_kept_across_a_restart_and_reset() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = start_server(&data_dir);

    let shown = json(&server, &["settings", "show"]);
    assert_eq!(shown["intervals"]["recheck_every"], "5m", "{shown}");
    assert_eq!(shown["recheck_set_here"], false, "{shown}");

    let refused = bi(&server, &["settings", "set", "--recheck-every", "5"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("recheck_every"), "{stderr}");
    assert!(stderr.contains("no unit"), "{stderr}");
    let nothing = bi(&server, &["settings", "set"]);
    assert!(!nothing.status.success());

    let set = ok(&bi(&server, &["settings", "set", "--recheck-every", "2m"]));
    assert!(
        set.contains("2m") && set.contains("set (bi serve --recheck-every is 5m)"),
        "{set}"
    );
    assert!(set.contains("bi serve --drift-every"), "{set}");

    // The server restarts with the same options: the setting is kept.
    drop(server);
    let server = start_server(&data_dir);
    let shown = json(&server, &["settings", "show"]);
    assert_eq!(shown["intervals"]["recheck_every"], "2m", "{shown}");
    assert_eq!(shown["recheck_set_here"], true, "{shown}");

    let reset = ok(&bi(&server, &["settings", "reset"]));
    assert!(reset.contains("5m") && !reset.contains("set ("), "{reset}");
}

#[test]
fn configure_with_a_stale_expected_version_is_refused_naming_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path());
    ok(&bi(&server, &["batteries", "install", "loki"]));
    let read = json(&server, &["batteries", "show", "loki"]);
    let version = read["version"].as_i64().unwrap().to_string();
    assert!(
        ok(&bi(&server, &["batteries", "show", "loki"]))
            .contains(&format!("version:      {version}")),
    );
    ok(&bi(
        &server,
        &["batteries", "configure", "loki", "--set", "replicas=3"],
    ));

    let refused = bi(
        &server,
        &[
            "batteries",
            "configure",
            "loki",
            "--set",
            "storage=20Gi",
            "--expected-version",
            &version,
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("changed after version"), "{stderr}");
    assert!(stderr.contains("loki.replicas: was 1"), "{stderr}");
    let now = json(&server, &["batteries", "show", "loki"]);
    assert_eq!(
        now["config"]["storage"], read["config"]["storage"],
        "nothing was stored"
    );

    // Read again: the version that saw the change is accepted.
    let version = now["version"].as_i64().unwrap().to_string();
    ok(&bi(
        &server,
        &[
            "batteries",
            "configure",
            "loki",
            "--set",
            "storage=20Gi",
            "--expected-version",
            &version,
        ],
    ));
}

/// The addresses through `bi`: none without a gateway; with it, each UI and
/// exposed service at its hostname with its status in `bi status`, `bi
/// batteries show` and `bi services list`; and `bi ca`, which hands out
/// the Battery CA's certificate once cert-manager made it (the sandbox runs
/// no cert-manager, so the test writes its Secret).
#[tokio::test]
async fn the_cli_prints_the_addresses_and_hands_out_the_ca_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = start_server(&data_dir);

    let status = ok(&bi(&server, &["status"]));
    assert!(
        status.contains("open:            no ingress gateway installed"),
        "{status}"
    );
    ok(&bi(&server, &["batteries", "install", "grafana"]));
    let inside = ok(&bi(&server, &["batteries", "show", "grafana"]));
    assert!(
        inside.contains(
            "Grafana is reachable only inside the cluster: install Istio Ingress Gateway"
        ),
        "{inside}"
    );

    ok(&bi(&server, &["batteries", "install", "istio_gateway"]));
    ok(&bi(
        &server,
        &["batteries", "install", "traditional_services"],
    ));
    ok(&bi(&server, &["projects", "create", "shop"]));
    ok(&bi(
        &server,
        &[
            "services",
            "add",
            "web",
            "--image",
            "nginx:1.27",
            "--port",
            "80",
            "--project",
            "shop",
        ],
    ));
    assert!(ok(&bi(&server, &["apply"])).contains("succeeded"));

    let status = ok(&bi(&server, &["status"]));
    assert!(
        status.contains("domain:          bi.localhost (certificates from battery_ca"),
        "{status}"
    );
    // The sandbox runs no gateway controller: applied, not yet accepted.
    assert!(
        status.contains("https://grafana.bi.localhost/  pending, certificate "),
        "{status}"
    );
    assert!(
        status.contains("https://web.shop.bi.localhost/"),
        "{status}"
    );
    assert!(
        status.contains("kubectl port-forward -n battery-istio"),
        "{status}"
    );
    let shown = ok(&bi(&server, &["batteries", "show", "grafana"]));
    assert!(
        shown.contains("open:         https://grafana.bi.localhost/  pending"),
        "{shown}"
    );
    let services = json(&server, &["services", "list"]);
    assert_eq!(services[0]["name"], "web", "{services}");
    assert_eq!(
        services[0]["url"], "https://web.shop.bi.localhost/",
        "{services}"
    );
    assert_eq!(services[0]["route"], "pending", "{services}");

    let missing = bi(&server, &["ca"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no CA certificate yet"),
        "{missing:?}"
    );
    let cluster = kube_client(&data_dir.join("sandbox.kubeconfig")).await;
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": "battery-ca", "namespace": "battery-base" },
        "stringData": { "ca.crt": pem, "tls.key": "never handed out" },
    }))
    .unwrap();
    Api::<Secret>::namespaced(cluster, "battery-base")
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let file = dir.path().join("bi-ca.crt");
    ok(&bi(&server, &["ca", "-o", file.to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pem);
    assert_eq!(ok(&bi(&server, &["ca"])), pem);
}

#[test]
fn the_cli_keeps_single_sign_on_users_in_the_sandbox_keycloak() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("data"));

    let missing = bi(&server, &["sso", "initial-password"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("Single Sign-On is not installed"),
        "{missing:?}"
    );
    ok(&bi(&server, &["batteries", "install", "sso"]));
    assert!(ok(&bi(&server, &["apply"])).contains("succeeded"));

    // The engine created the realm, the first admin and bi's client in the
    // Keycloak `bi serve` started beside the sandbox.
    let password = ok(&bi(&server, &["sso", "initial-password"]));
    assert!(password.trim().len() >= 20, "{password:?}");
    let users = json(&server, &["sso", "users", "list"]);
    assert_eq!(users[0]["username"], "admin", "{users}");
    assert_eq!(users[0]["role"], "admin", "{users}");
    assert_eq!(users[0]["managed"], true, "{users}");
    let clients = ok(&bi(&server, &["sso", "clients"]));
    assert!(clients.contains("bi "), "{clients}");

    ok(&bi_with(
        &server.url,
        server.config.path(),
        &[
            "sso",
            "users",
            "add",
            "bob",
            "--role",
            "editor",
            "--password-stdin",
        ],
        "bob's first password\n",
    ));
    ok(&bi(
        &server,
        &[
            "sso",
            "users",
            "set",
            "bob",
            "--disable",
            "--role",
            "viewer",
        ],
    ));
    let listed = ok(&bi(&server, &["sso", "users", "list"]));
    let bob = listed.lines().find(|l| l.starts_with("bob")).unwrap();
    assert!(
        bob.contains("viewer") && bob.contains("disabled"),
        "{listed}"
    );
    assert!(bob.contains("UPDATE_PASSWORD"), "{listed}");
    let refused = bi_with(
        &server.url,
        server.config.path(),
        &["sso", "users", "add", "bob", "--password-stdin"],
        "another long password\n",
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already a user"),
        "{refused:?}"
    );
}

#[test]
fn the_cli_reads_a_batterys_logs_and_checks_drift() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("data"));
    ok(&bi(&server, &["batteries", "install", "redis"]));
    assert!(ok(&bi(&server, &["apply"])).contains("succeeded"));

    // The sandbox keeps the operator's pod and serves its log endpoint; the
    // pod is made a moment after the apply, and `bi logs` waits for it.
    let log = ok(&bi(&server, &["logs", "redis", "--tail", "2"]));
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.contains("bi sandbox"), "{log}");
    let previous = bi(&server, &["logs", "redis", "--previous"]);
    assert_eq!(previous.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&previous.stderr).contains("previous terminated container"),
        "{previous:?}"
    );
    let nothing = bi(&server, &["logs", "no-such-thing"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&nothing.stderr).contains("no-such-thing runs no pods"),
        "{nothing:?}"
    );

    // Drift: none after a fresh apply; report only, kept.
    let checked = json(&server, &["drift", "check"]);
    assert_eq!(checked["open"], serde_json::json!([]), "{checked}");
    assert!(
        checked["last_sweep"]["checked"].as_u64().unwrap() > 0,
        "{checked}"
    );
    assert!(ok(&bi(&server, &["drift", "mode", "report"])).contains("drift mode: report"));
    let shown = json(&server, &["drift"]);
    assert_eq!(shown["report_only"], true, "{shown}");
    let refused = bi(&server, &["drift", "mode", "sometimes"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "clap refuses an unknown mode"
    );
}
