//! What the sandbox integration tests share: a sandbox with a client, the
//! same story on a real API server ([`Cluster`], [`on_both!`]), bounded waits,
//! object builders, and raw requests for what the typed API cannot send.
//!
//! A story is an `async fn(&Cluster)`; `on_both!(story)` makes two tests of
//! it, `story::sandbox` and `story::real` (on the shared cluster of
//! `../realk8s`, skipped loudly where there is none). Each story gets a
//! namespace of its own on both, and [`Cluster::name`] / [`Cluster::group`]
//! give cluster-scoped objects (namespaces, CRDs) names no other story uses.
//!
//! Every wait here is bounded so that a sandbox that hangs fails the test
//! quickly instead of stalling the whole run.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use axum::http::{self, Method};
use bi_sandbox::{Sandbox, SandboxConfig};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Status;
use kube::core::response::StatusSummary;
use kube::{Client, Config, Resource, ResourceExt};
use serde_json::{Value, json};

use crate::realk8s::RealApiServer;

/// The longest any single request or stream read may take.
pub const REQUEST_WAIT: Duration = Duration::from_secs(10);

/// The longest a condition may take to become true (readiness, deletion, …).
pub const CONDITION_WAIT: Duration = Duration::from_secs(5);

/// The longest a condition may take on a real API server, whose controllers
/// (namespace deletion, garbage collection) take seconds.
pub const REAL_CONDITION_WAIT: Duration = Duration::from_secs(60);

/// Makes two tests of each story `async fn story(cluster: &Cluster)`:
/// `story::sandbox` and `story::real`.
#[allow(unused_macros)]
macro_rules! on_both {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test]
            async fn sandbox() {
                let cluster = crate::sandbox_support::Cluster::on_sandbox(stringify!($story)).await;
                super::$story(&cluster).await;
            }

            #[tokio::test]
            async fn real() {
                if let Some(cluster) = crate::sandbox_support::Cluster::on_real(stringify!($story)).await {
                    super::$story(&cluster).await;
                }
            }
        }
    )*};
}

/// Where a story runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// bi's embedded sandbox.
    Sandbox,
    /// A real kube-apiserver (`../realk8s`).
    Real,
}

/// A cluster a story runs on, with a namespace of the story's own that is
/// also its client's default namespace.
pub struct Cluster {
    /// A client whose default namespace is [`Cluster::namespace`].
    pub client: Client,
    /// The story's namespace (it exists).
    pub namespace: String,
    /// Sandbox or real.
    pub target: Target,
    /// The sandbox, when the story runs on one.
    pub sandbox: Option<Sandbox>,
    /// Short, unique to the story: suffix of cluster-scoped names.
    id: String,
    _real: Option<RealApiServer>,
}

impl Cluster {
    /// A fresh sandbox with the story's namespace.
    pub async fn on_sandbox(story: &str) -> Cluster {
        let (sandbox, client) = start().await;
        let cluster = Cluster::new(story, Target::Sandbox, client, Some(sandbox), None);
        cluster.create_own_namespace().await;
        cluster
    }

    /// The shared real API server with the story's namespace, or None (skipped loudly).
    pub async fn on_real(story: &str) -> Option<Cluster> {
        let real = RealApiServer::shared(story)?;
        let kubeconfig = Kubeconfig::read_from(&real.kubeconfig).expect("realk8s's kubeconfig");
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("a client configuration for realk8s");
        config.default_namespace = namespace_of(story);
        let client = Client::try_from(config).expect("a client for realk8s");
        let cluster = Cluster::new(story, Target::Real, client, None, Some(real));
        cluster.create_own_namespace().await;
        Some(cluster)
    }

    fn new(
        story: &str,
        target: Target,
        client: Client,
        sandbox: Option<Sandbox>,
        real: Option<RealApiServer>,
    ) -> Cluster {
        let namespace = namespace_of(story);
        let client = match target {
            Target::Real => client,
            Target::Sandbox => {
                let url = sandbox.as_ref().expect("a sandbox").url();
                let mut config = Config::new(url.parse().expect("the sandbox URL"));
                config.default_namespace = namespace.clone();
                Client::try_from(config).expect("a client for the sandbox")
            }
        };
        Cluster {
            client,
            id: format!("{:08x}", fnv(story)),
            namespace,
            target,
            sandbox,
            _real: real,
        }
    }

    async fn create_own_namespace(&self) {
        create_namespace(&self.client, &self.namespace).await;
    }

    /// Short and unique to the story (a label value, a name suffix).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether this is the real API server.
    pub fn is_real(&self) -> bool {
        self.target == Target::Real
    }

    /// The sandbox, for the sandbox-only parts of a story.
    pub fn sandbox(&self) -> &Sandbox {
        self.sandbox
            .as_ref()
            .expect("this story part runs on the sandbox only")
    }

    /// `base` made unique to this story, for cluster-scoped objects (namespaces).
    pub fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.id)
    }

    /// An API group of this story's own, for its CRDs.
    pub fn group(&self) -> String {
        format!("s{}.{WIDGET_GROUP}", self.id)
    }

    /// The namespaced Widget CRD in [`Cluster::group`].
    pub fn widget_crd(&self) -> CustomResourceDefinition {
        crd_in(&self.group(), "Widget", "widgets", "Namespaced")
    }

    /// A kubeconfig for kubectl: the real server's own, or one written into
    /// `dir` for the sandbox (whose memory-only start writes none).
    pub fn kubeconfig_in(&self, dir: &std::path::Path) -> std::path::PathBuf {
        if let Some(real) = &self._real {
            return real.kubeconfig.clone();
        }
        let path = dir.join("sandbox.kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster: {{server: \"{}\"}}\nusers:\n- name: sandbox\n  user: {{}}\ncontexts:\n- name: sandbox\n  context: {{cluster: sandbox, user: sandbox}}\ncurrent-context: sandbox\n",
            self.sandbox().url()
        );
        std::fs::write(&path, text).expect("writing a kubeconfig for the sandbox");
        path
    }

    /// How long a condition may take here.
    pub fn condition_wait(&self) -> Duration {
        match self.target {
            Target::Sandbox => CONDITION_WAIT,
            Target::Real => REAL_CONDITION_WAIT,
        }
    }

    /// Polls `check` until it yields a value, failing after [`Cluster::condition_wait`].
    pub async fn eventually<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        eventually_within(self.condition_wait(), what, check).await
    }

    /// Asserts `newer` is a later version of an object than `older`: a larger
    /// integer on the sandbox (an extra: its resourceVersions are integers),
    /// a different one on a real server (opaque strings there).
    pub fn assert_newer<K: Resource>(&self, newer: &K, older: &K) {
        let (new, old) = (raw_version(newer), raw_version(older));
        match self.target {
            Target::Sandbox => assert!(
                resource_version(newer) > resource_version(older),
                "resourceVersion {new} follows {old}"
            ),
            Target::Real => assert_ne!(new, old, "a write gives a new resourceVersion"),
        }
    }
}

/// A namespace name for `story`: readable, at most 63 characters, unique.
fn namespace_of(story: &str) -> String {
    let readable: String = story
        .chars()
        .take(50)
        .map(|c| if c == '_' { '-' } else { c })
        .collect();
    format!("{}-{:08x}", readable.trim_end_matches('-'), fnv(story))
}

/// FNV-1a, for short stable ids.
fn fnv(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |hash, b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn raw_version<K: Resource>(object: &K) -> String {
    object
        .meta()
        .resource_version
        .clone()
        .expect("the server sets metadata.resourceVersion")
}

/// Asserts `result` is the plain-text `404 page not found` a real API server
/// sends for a path no API group serves (kube-rs cannot parse it as a Status).
pub fn assert_page_not_found<T: Debug>(result: Result<T, kube::Error>) {
    let status = api_status(result);
    assert_eq!(
        (status.code, status.message.as_str()),
        (404, "404 page not found"),
        "a plain-text 404: {status:?}"
    );
}

/// Starts a memory-only sandbox on a free port, with a client for it.
pub async fn start() -> (Sandbox, Client) {
    start_with(SandboxConfig::default()).await
}

/// Starts a sandbox with `config`, with a client for it.
pub async fn start_with(config: SandboxConfig) -> (Sandbox, Client) {
    let sandbox = bounded("starting the sandbox", Sandbox::start(config))
        .await
        .expect("the sandbox starts");
    let client = sandbox.client().expect("a client for the sandbox");
    (sandbox, client)
}

/// Awaits `future`, failing the test if it takes longer than [`REQUEST_WAIT`].
pub async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(REQUEST_WAIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {REQUEST_WAIT:?} while {what}"),
    }
}

/// Polls `check` until it yields a value, failing after [`CONDITION_WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(CONDITION_WAIT, what, check).await
}

/// Polls `check` until it yields a value, failing after `wait`.
pub async fn eventually_within<T, F, Fut>(wait: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(value) = bounded(what, check()).await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("not true after {wait:?}: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The Kubernetes `Status` inside an API error; panics on any other outcome.
pub fn api_status<T: Debug>(result: Result<T, kube::Error>) -> Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        Err(other) => panic!("expected an API error (a Status), got another error: {other:?}"),
        Ok(value) => panic!("expected an API error, got success: {value:?}"),
    }
}

/// Asserts `result` is an API error with this HTTP code and reason, sent as a
/// real `Status` object (status "Failure"), and returns the status.
pub fn assert_api_error<T: Debug>(
    result: Result<T, kube::Error>,
    code: u16,
    reason: &str,
) -> Status {
    let status = api_status(result);
    assert_eq!(
        (status.code, status.reason.as_str()),
        (code, reason),
        "unexpected error status: {status:?}"
    );
    assert_eq!(
        status.status,
        Some(StatusSummary::Failure),
        "an error is a Status with status \"Failure\": {status:?}"
    );
    status
}

/// A ConfigMap with these labels and data, for the client's default namespace.
pub fn configmap(name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> ConfigMap {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": name, "labels": labels },
        "data": data,
    }))
    .expect("a valid ConfigMap")
}

/// A Deployment of `replicas` pods of a small image.
pub fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name, "labels": { "app": name } },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{ "name": "main", "image": "busybox:1.36" }] }
            }
        }
    }))
    .expect("a valid Deployment")
}

/// A StatefulSet of `replicas` pods of a small image.
pub fn statefulset(name: &str, replicas: i32) -> StatefulSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": { "name": name },
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{ "name": "main", "image": "busybox:1.36" }] }
            }
        }
    }))
    .expect("a valid StatefulSet")
}

/// Creates the namespace `name`.
pub async fn create_namespace(client: &Client, name: &str) -> Namespace {
    let namespace: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": name },
    }))
    .expect("a valid Namespace");
    bounded(
        "creating a namespace",
        Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &namespace),
    )
    .await
    .expect("the namespace is created")
}

/// The group of the test CRD.
pub const WIDGET_GROUP: &str = "example.bi.dev";

/// A namespaced CRD `widgets.example.bi.dev` (kind `Widget`, version `v1`).
pub fn widget_crd() -> CustomResourceDefinition {
    crd("Widget", "widgets", "Namespaced")
}

/// A CRD in [`WIDGET_GROUP`] with this kind, plural and scope.
pub fn crd(kind: &str, plural: &str, scope: &str) -> CustomResourceDefinition {
    crd_in(WIDGET_GROUP, kind, plural, scope)
}

/// A CRD in `group` with this kind, plural and scope; its `spec` keeps any field.
pub fn crd_in(group: &str, kind: &str, plural: &str, scope: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("{plural}.{group}") },
        "spec": {
            "group": group,
            "scope": scope,
            "names": {
                "kind": kind,
                "listKind": format!("{kind}List"),
                "plural": plural,
                "singular": kind.to_lowercase(),
            },
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": { "openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
                    }
                }}
            }]
        }
    }))
    .expect("a valid CRD")
}

/// Whether the CRD reports the condition `Established` = "True".
pub fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

/// Creates `crd` and waits until it is established.
pub async fn create_established_crd(client: &Client, crd: &CustomResourceDefinition) {
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    bounded("creating a CRD", crds.create(&PostParams::default(), crd))
        .await
        .expect("the CRD is created");
    let name = crd.name_any();
    eventually_within(REAL_CONDITION_WAIT, "the CRD reports Established", || {
        let crds = crds.clone();
        let name = name.clone();
        async move {
            let crd = crds.get(&name).await.expect("the CRD can be read");
            is_established(&crd).then_some(())
        }
    })
    .await;
}

/// The names of `objects`, sorted.
pub fn names<K: Resource>(objects: &[K]) -> Vec<String> {
    let mut names: Vec<String> = objects.iter().map(ResourceExt::name_any).collect();
    names.sort();
    names
}

/// The object's resourceVersion as a number (the sandbox's are monotonic integers).
pub fn resource_version<K: Resource>(object: &K) -> u64 {
    let rv = object
        .meta()
        .resource_version
        .as_deref()
        .expect("the server sets metadata.resourceVersion");
    rv.parse()
        .unwrap_or_else(|_| panic!("resourceVersion {rv:?} is not an integer"))
}

/// Sends a raw request (path relative to the server) and decodes the JSON answer.
pub async fn raw(
    client: &Client,
    method: Method,
    path: &str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> Result<Value, kube::Error> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::ACCEPT, "application/json")
        .body(body.into())
        .expect("a valid raw request");
    bounded(
        &format!("sending a raw request to {path}"),
        client.request::<Value>(request),
    )
    .await
}

/// The value of `key` in a ConfigMap's data.
pub fn data(configmap: &ConfigMap, key: &str) -> Option<String> {
    configmap.data.as_ref().and_then(|d| d.get(key).cloned())
}
