//! The sandbox's kubeconfig, and `kubectl` (a second, independent client that
//! no one here wrote) driving the sandbox through it.
//!
//! Where `kubectl` is not installed the kubectl tests print `SKIPPED …` and
//! pass, unless `BI_REQUIRE_KUBECTL=1` (as in CI), which makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod realk8s;
#[macro_use]
mod sandbox_support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bi_sandbox::{Sandbox, SandboxConfig};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, ResourceExt};
use sandbox_support::{Cluster, bounded, create_namespace, data, names, start_with};

/// The longest one kubectl invocation may take.
const KUBECTL_WAIT: Duration = Duration::from_secs(30);

/// What a finished kubectl run printed.
#[derive(Debug)]
struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// kubectl's path, or None (after printing why) when the test should be skipped.
fn kubectl_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("kubectl"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("BI_REQUIRE_KUBECTL").as_deref() != Ok("1"),
            "{test}: kubectl is not on PATH and BI_REQUIRE_KUBECTL=1"
        );
        eprintln!("SKIPPED {test}: kubectl not installed");
    }
    found
}

/// The client's minor version (`kubectl version --client -o json`).
fn kubectl_minor(kubectl: &Path) -> Option<u32> {
    let output = std::process::Command::new(kubectl)
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()?;
    let version: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    version["clientVersion"]["minor"]
        .as_str()?
        .trim_end_matches('+')
        .parse()
        .ok()
}

/// `kubectl apply --server-side -f <manifest>`. kubectl before 1.27
/// (Debian 12's kubernetes-client is 1.20) validates against OpenAPI v2 in
/// protobuf, which the sandbox does not serve; for those, validation is left
/// to the server with `--validate=false`, and the test says so.
fn apply_args<'a>(kubectl: &Path, manifest: &'a str) -> Vec<&'a str> {
    let mut args = vec!["apply", "--server-side", "-f", manifest];
    if let Some(minor) = kubectl_minor(kubectl).filter(|minor| *minor < 27) {
        eprintln!(
            "kubectl 1.{minor} needs OpenAPI v2 for client-side validation: using --validate=false"
        );
        args.push("--validate=false");
    }
    args
}

/// Starts a sandbox with a data dir (so it writes its kubeconfig).
async fn start_in(dir: &Path) -> (Sandbox, Client) {
    start_with(SandboxConfig {
        data_dir: Some(dir.to_path_buf()),
        ..SandboxConfig::default()
    })
    .await
}

/// Runs kubectl against `kubeconfig` on a blocking thread (the sandbox serves
/// on this runtime), killing it after [`KUBECTL_WAIT`].
async fn kubectl(kubectl: &Path, kubeconfig: &Path, cache: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(kubectl);
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--request-timeout=10s")
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("kubectl {}", args.join(" "));
    tokio::task::spawn_blocking(move || run_bounded(command, &shown))
        .await
        .expect("the kubectl thread does not panic")
}

fn run_bounded(mut command: Command, shown: &str) -> Output {
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{shown} starts: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).ok();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).ok();
        text
    });
    let deadline = Instant::now() + KUBECTL_WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for kubectl") {
            break status;
        }
        if Instant::now() >= deadline {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "{shown} did not finish within {KUBECTL_WAIT:?}; stderr so far: {}",
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        success: status.success(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Runs kubectl and fails the test, showing its output, unless it succeeds.
async fn kubectl_ok(kubectl_path: &Path, kubeconfig: &Path, cache: &Path, args: &[&str]) -> String {
    let output = kubectl(kubectl_path, kubeconfig, cache, args).await;
    assert!(
        output.success,
        "kubectl {} failed\nstdout: {}\nstderr: {}",
        args.join(" "),
        output.stdout,
        output.stderr
    );
    output.stdout
}

#[tokio::test]
async fn sandbox_writes_its_kubeconfig_into_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (sandbox, _client) = start_in(dir.path()).await;
    let path = sandbox
        .kubeconfig_path()
        .expect("a kubeconfig path with a data dir");
    assert_eq!(path, dir.path().join("sandbox.kubeconfig"));
    assert!(path.is_file(), "{} exists", path.display());

    let kubeconfig = Kubeconfig::read_from(&path).expect("the kubeconfig parses");
    let servers: Vec<Option<String>> = kubeconfig
        .clusters
        .iter()
        .map(|c| c.cluster.as_ref().and_then(|c| c.server.clone()))
        .collect();
    assert_eq!(servers, [Some(sandbox.url())], "one cluster: the sandbox");
    // What a user sees in `kubectl config get-contexts` says it is a sandbox.
    let context = kubeconfig
        .current_context
        .as_deref()
        .expect("the kubeconfig names a current context");
    assert!(context.contains("sandbox"), "context {context:?}");
    let cluster_names: Vec<&str> = kubeconfig
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        cluster_names.iter().all(|name| name.contains("sandbox")),
        "{cluster_names:?}"
    );
}

#[tokio::test]
async fn the_written_kubeconfig_works_for_kube_rs() {
    let dir = tempfile::tempdir().unwrap();
    let (sandbox, client) = start_in(dir.path()).await;
    create_namespace(&client, "seen-through-kubeconfig").await;
    let path = sandbox.kubeconfig_path().unwrap();
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let config = bounded(
        "loading the kubeconfig",
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()),
    )
    .await
    .expect("kube-rs accepts the kubeconfig");
    let from_file = Client::try_from(config).expect("a client from the kubeconfig");
    let namespaces = bounded(
        "listing namespaces",
        Api::<Namespace>::all(from_file).list(&ListParams::default()),
    )
    .await
    .expect("the kubeconfig's client reaches the sandbox");
    assert!(names(&namespaces.items).contains(&"seen-through-kubeconfig".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_lists_the_sandbox_namespaces() {
    let Some(kubectl_path) = kubectl_or_skip("kubectl_lists_the_sandbox_namespaces") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (sandbox, client) = start_in(dir.path()).await;
    create_namespace(&client, "from-kube-rs").await;
    let kubeconfig = sandbox.kubeconfig_path().unwrap();

    let stdout = kubectl_ok(
        &kubectl_path,
        &kubeconfig,
        cache.path(),
        &["get", "namespaces", "-o", "name"],
    )
    .await;
    let listed: Vec<&str> = stdout.lines().collect();
    assert!(listed.contains(&"namespace/default"), "{stdout}");
    assert!(listed.contains(&"namespace/from-kube-rs"), "{stdout}");
}

/// kubectl's server-side apply, get and delete, and its strict field
/// validation (the default since kubectl 1.27), on both.
async fn kubectl_applies_server_side_gets_and_deletes_a_configmap(c: &Cluster) {
    let Some(kubectl_path) =
        kubectl_or_skip("kubectl_applies_server_side_gets_and_deletes_a_configmap")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let kubeconfig = c.kubeconfig_in(dir.path());
    let configmaps = Api::<ConfigMap>::default_namespaced(c.client.clone());
    let namespace = c.namespace.as_str();
    let in_namespace = |args: &[&'static str]| -> Vec<String> {
        let mut all: Vec<String> = vec!["--namespace".into(), namespace.to_owned()];
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        all
    };

    let manifest = dir.path().join("x.yaml");
    let write_manifest = |value: &str| {
        std::fs::write(
            &manifest,
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: {value}\n"),
        )
        .unwrap();
    };
    write_manifest("v");
    let manifest_arg = manifest.to_str().unwrap();
    let mut apply: Vec<String> = vec!["--namespace".into(), namespace.to_owned()];
    apply.extend(
        apply_args(&kubectl_path, manifest_arg)
            .iter()
            .map(|a| (*a).to_owned()),
    );
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    if let Some(sandbox) = &c.sandbox {
        sandbox.reset_requests();
    }
    let stdout = kubectl_ok(&kubectl_path, &kubeconfig, cache.path(), &apply).await;
    assert!(stdout.contains("configmap/x"), "{stdout}");
    // Sandbox only: request counters are a sandbox extra.
    if let Some(sandbox) = &c.sandbox {
        assert!(
            sandbox.requests().get("patch", "configmaps") >= 1,
            "server-side apply is a PATCH: {:?}",
            sandbox.requests()
        );
    }
    let created = bounded("getting x", configmaps.get("x"))
        .await
        .expect("kubectl created x");
    assert_eq!(data(&created, "k").as_deref(), Some("v"));

    let get = in_namespace(&["get", "configmap", "x", "-o", "jsonpath={.data.k}"]);
    let get: Vec<&str> = get.iter().map(String::as_str).collect();
    let value = kubectl_ok(&kubectl_path, &kubeconfig, cache.path(), &get).await;
    assert_eq!(value, "v");

    // Applying again updates in place.
    write_manifest("w");
    kubectl_ok(&kubectl_path, &kubeconfig, cache.path(), &apply).await;
    let updated = bounded("getting x", configmaps.get("x")).await.unwrap();
    assert_eq!(data(&updated, "k").as_deref(), Some("w"));
    assert_eq!(updated.uid(), created.uid(), "the same object, updated");

    // kubectl validates strictly: an undeclared field is refused by the server.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\nspec:\n  x: 1\n",
    )
    .unwrap();
    let create = in_namespace(&["create", "-f"]);
    let mut create: Vec<&str> = create.iter().map(String::as_str).collect();
    create.push(bad.to_str().unwrap());
    let output = kubectl(&kubectl_path, &kubeconfig, cache.path(), &create).await;
    assert!(!output.success, "{output:?}");
    assert!(
        output
            .stderr
            .contains("strict decoding error: unknown field \"spec\""),
        "{output:?}"
    );

    let delete = in_namespace(&["delete", "configmap", "x"]);
    let delete: Vec<&str> = delete.iter().map(String::as_str).collect();
    let stdout = kubectl_ok(&kubectl_path, &kubeconfig, cache.path(), &delete).await;
    assert!(stdout.contains("deleted"), "{stdout}");
    assert_eq!(
        bounded("getting x", configmaps.get_opt("x")).await.unwrap(),
        None,
        "kubectl deleted x"
    );
    let get = in_namespace(&["get", "configmap", "x"]);
    let get: Vec<&str> = get.iter().map(String::as_str).collect();
    let output = kubectl(&kubectl_path, &kubeconfig, cache.path(), &get).await;
    assert!(!output.success, "x is gone for kubectl too");
    assert!(
        output.stderr.contains("NotFound") || output.stderr.contains("not found"),
        "{output:?}"
    );
}

on_both!(kubectl_applies_server_side_gets_and_deletes_a_configmap);
