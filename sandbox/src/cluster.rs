//! A running sandbox cluster: start (load, seed, bind, serve), the handles a
//! caller needs (URL, kube client, kubeconfig, request counts) and shutdown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{RwLock, watch as signal};
use tokio::task::JoinHandle;

use super::config::SandboxConfig;
use super::counter::{RequestCounter, RequestCounts};
use super::error::SandboxError;
use super::faults::{Fault, Faults};
use super::kubeconfig;
use super::nodes;
use super::persist::{self, Persister};
use super::server::{Shared, router};
use super::store::{ObjectKey, Store, now};
use super::workloads;

/// Namespaces every cluster has.
const DEFAULT_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// How long shutdown waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running sandbox cluster.
pub struct Sandbox {
    addr: SocketAddr,
    kubeconfig: Option<PathBuf>,
    shared: Arc<Shared>,
    shutdown: signal::Sender<bool>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("kubeconfig", &self.kubeconfig)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Binds, loads persisted objects, creates nodes, writes the kubeconfig, serves in a tokio task.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        if !config.listen.ip().is_loopback() {
            return Err(SandboxError::NotLoopback {
                addr: config.listen,
            });
        }
        if let Some(dir) = &config.data_dir {
            std::fs::create_dir_all(dir).map_err(|source| SandboxError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        let snapshot = match config.store_path() {
            Some(path) => persist::load(&path)?,
            None => None,
        };
        let mut store = Store::new(snapshot);
        seed(&mut store, &config)?;

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SandboxError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        let url = format!("http://{addr}");

        let (shutdown, shutdown_rx) = signal::channel(false);
        let shared = Arc::new(Shared {
            store: RwLock::new(store),
            counter: RequestCounter::default(),
            faults: Faults::default(),
            persister: config.store_path().map(Persister::new),
            ready_after: config.ready_after,
            addr,
            shutdown: shutdown_rx.clone(),
        });
        flush(&shared).await?;
        let kubeconfig = config.kubeconfig_path();
        if let Some(path) = &kubeconfig {
            kubeconfig::write(path, &url)?;
        }

        let app = router(Arc::clone(&shared));
        let mut stop = shutdown_rx;
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // NB: an Err means the Sandbox was dropped: stop too.
                    let _ = stop.wait_for(|stopping| *stopping).await;
                })
                .await
        });
        settle_workloads(&shared).await;

        tracing::info!(
            %url,
            kubeconfig = ?kubeconfig,
            "sandbox cluster listening on {url}: nothing runs in it; objects are only stored"
        );
        Ok(Sandbox {
            addr,
            kubeconfig,
            shared,
            shutdown,
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Path of the kubeconfig it wrote, if it has a data dir.
    pub fn kubeconfig_path(&self) -> Option<PathBuf> {
        self.kubeconfig.clone()
    }

    /// A kube client for it (kube::Config with cluster_url = url(), default namespace "default").
    pub fn client(&self) -> Result<kube::Client, SandboxError> {
        let url = self.url();
        let cluster_url = parse(&url).map_err(|reason| SandboxError::ClientUrl {
            url: url.clone(),
            reason,
        })?;
        let mut config = kube::Config::new(cluster_url);
        config.default_namespace = "default".into();
        Ok(kube::Client::try_from(config)?)
    }

    /// The values of the first Secret named `name` (in any namespace), as a
    /// pod mounting it reads them; None when there is none.
    pub async fn secret_values(&self, name: &str) -> Option<BTreeMap<String, String>> {
        secret_values(&self.shared, name).await
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Requests served so far, by verb and resource.
    pub fn requests(&self) -> RequestCounts {
        self.shared.counter.snapshot()
    }

    /// Answers the requests `fault` matches with its refusal.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.inject(fault);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Zero the counters.
    pub fn reset_requests(&self) {
        self.shared.counter.reset();
    }

    /// Stop serving; persisted state is flushed.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        self.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(error))) => return Err(SandboxError::Serve(error)),
                Ok(Err(join)) => return Err(SandboxError::Task(join.to_string())),
                Err(_) => {
                    tracing::warn!(
                        "sandbox: connections still open after {SHUTDOWN_GRACE:?}; closing them"
                    );
                    abort.abort();
                }
            }
        }
        flush(&self.shared).await?;
        tracing::info!(url = %self.url(), "sandbox cluster stopped");
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // NB: a dropped sandbox stops serving too; its last write is already on disk.
        self.shutdown.send_replace(true);
    }
}

/// Parses `text` as whatever the caller needs (here `http::Uri`, which kube takes).
fn parse<T>(text: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| e.to_string())
}

/// Creates the default namespaces (always) and the nodes (when there are none).
fn seed(store: &mut Store, config: &SandboxConfig) -> Result<(), SandboxError> {
    let seeding = |e: super::status::ApiError| SandboxError::Persist {
        path: config.store_path().unwrap_or_default(),
        reason: format!("cannot seed the sandbox: {}", e.message),
    };
    for name in DEFAULT_NAMESPACES {
        store
            .ensure(
                "",
                "namespaces",
                json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name } }),
            )
            .map_err(seeding)?;
    }
    if store.count("", "nodes") == 0 {
        let now = now();
        for index in 1..=config.nodes {
            let node = nodes::node(index, config.node_cpu, config.node_memory, &now);
            store.ensure("", "nodes", node).map_err(seeding)?;
        }
    }
    Ok(())
}

/// Writes the whole store now (at start and at shutdown).
async fn flush(shared: &Shared) -> Result<(), SandboxError> {
    let pending = {
        let store = shared.store.read().await;
        shared.snapshot_for_persist(&store)
    };
    shared.persist(pending).await
}

/// Workloads that were not ready when the sandbox last stopped become ready now.
async fn settle_workloads(shared: &Arc<Shared>) {
    let pending: Vec<(ObjectKey, serde_json::Value)> = {
        let store = shared.store.read().await;
        workloads::WORKLOADS
            .into_iter()
            .flat_map(|(group, plural)| store.keys_of(group, plural))
            .filter_map(|key| store.object(&key).cloned().map(|object| (key, object)))
            .filter(|(_, object)| !workloads::is_settled(object))
            .collect()
    };
    for (key, object) in pending {
        workloads::schedule(shared, key, &object).await;
    }
}

/// See [`Sandbox::secret_values`].
pub(crate) async fn secret_values(shared: &Shared, name: &str) -> Option<BTreeMap<String, String>> {
    use base64::Engine as _;
    let secret = shared.store.read().await.find_named("", "secrets", name)?;
    let mut values = BTreeMap::new();
    if let Some(data) = secret.get("data").and_then(Value::as_object) {
        for (key, value) in data {
            let decoded = value
                .as_str()
                .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok());
            if let Some(decoded) = decoded {
                values.insert(key.clone(), decoded);
            }
        }
    }
    if let Some(data) = secret.get("stringData").and_then(Value::as_object) {
        for (key, value) in data {
            if let Some(text) = value.as_str() {
                values.insert(key.clone(), text.to_owned());
            }
        }
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, TryStreamExt};
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{ConfigMap, Node};
    use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
    use kube::runtime::{WatchStreamExt, watcher};

    use super::*;

    fn config_map(name: &str) -> ConfigMap {
        serde_json::from_value(json!({
            "metadata": { "name": name, "labels": { "app": "demo" } },
            "data": { "k": "v" },
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn kube_client_creates_lists_and_deletes() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let client = sandbox.client().unwrap();
        let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
        api.create(&PostParams::default(), &config_map("a"))
            .await
            .unwrap();
        let error = api
            .create(&PostParams::default(), &config_map("a"))
            .await
            .unwrap_err();
        assert!(matches!(error, kube::Error::Api(s) if s.code == 409));
        let listed = api
            .list(&ListParams::default().labels("app=demo"))
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        api.delete("a", &DeleteParams::default()).await.unwrap();
        assert!(api.get_opt("a").await.unwrap().is_none());
        let nodes: Api<Node> = Api::all(client);
        assert_eq!(
            nodes
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len(),
            3
        );
        let counts = sandbox.requests();
        assert_eq!(counts.get("create", "configmaps"), 2);
        assert_eq!(counts.writes(), 3);
        sandbox.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn watcher_sees_changes_and_deployments_become_ready() {
        let config = SandboxConfig {
            ready_after: Duration::from_millis(20),
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(config).await.unwrap();
        let client = sandbox.client().unwrap();
        let api: Api<Deployment> = Api::default_namespaced(client);
        let mut events = watcher(api.clone(), watcher::Config::default())
            .applied_objects()
            .boxed();
        let deployment: Deployment = serde_json::from_value(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": { "name": "web" },
            "spec": {
                "replicas": 2,
                "selector": { "matchLabels": { "app": "web" } },
                "template": { "metadata": { "labels": { "app": "web" } }, "spec": { "containers": [{ "name": "web", "image": "nginx" }] } },
            },
        }))
        .unwrap();
        let params = PatchParams::apply("test").force();
        api.patch("web", &params, &Patch::Apply(&deployment))
            .await
            .unwrap();
        let ready = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(seen) = events.try_next().await.unwrap() {
                let ready = seen.status.as_ref().and_then(|s| s.ready_replicas);
                if ready == Some(2) {
                    return seen;
                }
            }
            panic!("the watch ended");
        })
        .await
        .unwrap();
        assert_eq!(ready.metadata.name.as_deref(), Some("web"));
        sandbox.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn objects_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = SandboxConfig {
            data_dir: Some(dir.path().to_owned()),
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(config.clone()).await.unwrap();
        assert!(sandbox.kubeconfig_path().unwrap().exists());
        let api: Api<ConfigMap> = Api::default_namespaced(sandbox.client().unwrap());
        let created = api
            .create(&PostParams::default(), &config_map("kept"))
            .await
            .unwrap();
        sandbox.shutdown().await.unwrap();
        let sandbox = Sandbox::start(config).await.unwrap();
        let api: Api<ConfigMap> = Api::default_namespaced(sandbox.client().unwrap());
        let found = api.get("kept").await.unwrap();
        assert_eq!(found.metadata.uid, created.metadata.uid);
        sandbox.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn refuses_non_loopback_addresses() {
        let config = SandboxConfig {
            listen: "0.0.0.0:0".parse().unwrap(),
            ..SandboxConfig::default()
        };
        assert!(matches!(
            Sandbox::start(config).await,
            Err(SandboxError::NotLoopback { .. })
        ));
    }
}
