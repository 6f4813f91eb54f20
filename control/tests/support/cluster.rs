//! Test clusters: the engine's stories run on the embedded sandbox and on a
//! real kube-apiserver (`../shared/realk8s`), as the database stories run on
//! SQLite and PostgreSQL.
//!
//! [`on_every_cluster`] runs a story as (SQLite, sandbox), (PostgreSQL,
//! sandbox) and (SQLite, real API server): the database dimension is covered
//! on the sandbox already, so the real server pairs with SQLite only. Every
//! real run gets a cluster of its own ([`RealApiServer::fresh`], about 6 s):
//! the batteries' cluster-scoped objects (CRDs, ClusterRoles, namespaces)
//! would collide on a shared one.
//!
//! Writes are counted on both: the sandbox counts every request it serves;
//! the real server's own `apiserver_request_total` is filtered to the
//! resource types the desired state generates, because the controller
//! manager writes pods, ReplicaSets, Events and Leases of its own, which bi
//! never does.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bi_control::{Database, desired_state};
use bi_model::generate::{Secrets, generate};
use bi_sandbox::{RequestCounts, Sandbox, SandboxConfig};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use kube::core::GroupVersionKind;
use kube::discovery::pinned_kind;

use super::realk8s::{RealApiServer, WriteCount};
use super::{TestDb, on_every_backend, sqlite};

/// The cluster a story runs against.
pub enum TestCluster {
    /// bi's embedded sandbox: stores objects, runs nothing, can inject faults.
    Sandbox(Sandbox),
    /// A real kube-apiserver with etcd and a controller manager, no nodes.
    Real {
        server: RealApiServer,
        client: kube::Client,
    },
}

impl TestCluster {
    /// A fresh sandbox.
    pub async fn sandbox() -> TestCluster {
        TestCluster::sandbox_with(SandboxConfig::default()).await
    }

    /// A fresh sandbox started with `config`.
    pub async fn sandbox_with(config: SandboxConfig) -> TestCluster {
        TestCluster::Sandbox(Sandbox::start(config).await.expect("starting a sandbox"))
    }

    /// A real API server of `test`'s own, or None (skipped loudly).
    pub async fn real(test: &str) -> Option<TestCluster> {
        let server = RealApiServer::fresh(test)?;
        let client = server.client().await;
        Some(TestCluster::Real { server, client })
    }

    /// A client for it.
    pub fn client(&self) -> kube::Client {
        match self {
            TestCluster::Sandbox(sandbox) => sandbox.client().expect("a sandbox client"),
            TestCluster::Real { client, .. } => client.clone(),
        }
    }

    /// Its name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            TestCluster::Sandbox(_) => "sandbox",
            TestCluster::Real { .. } => "real API server",
        }
    }

    /// The sandbox, for what only the sandbox can do (fault injection).
    pub fn as_sandbox(&self) -> Option<&Sandbox> {
        match self {
            TestCluster::Sandbox(sandbox) => Some(sandbox),
            TestCluster::Real { .. } => None,
        }
    }

    /// Whether it is a real API server.
    pub fn is_real(&self) -> bool {
        matches!(self, TestCluster::Real { .. })
    }

    /// Its kubeconfig file, where it has one (a sandbox started with a data
    /// directory, or a real server).
    pub fn kubeconfig(&self) -> Option<PathBuf> {
        match self {
            TestCluster::Sandbox(sandbox) => sandbox.kubeconfig_path(),
            TestCluster::Real { server, .. } => Some(server.kubeconfig.clone()),
        }
    }

    /// The writes counted so far, to compare with a later count by
    /// [`Writes::since`]. On a real server only the resource types that
    /// `db`'s current desired state generates are counted.
    pub async fn writes(&self, db: &Database) -> Writes {
        match self {
            TestCluster::Sandbox(sandbox) => Writes::Sandbox(sandbox.requests()),
            TestCluster::Real { server, client } => {
                settle(client).await;
                let types = generated_types(db, client).await;
                Writes::Real {
                    count: server.write_requests(client).await,
                    types,
                }
            }
        }
    }

    /// Waits until a real server's controller manager has done what it does
    /// on its own after bi's writes (see [`settle`]); the sandbox has
    /// nothing to wait for.
    pub async fn settle(&self) {
        if let TestCluster::Real { client, .. } = self {
            settle(client).await;
        }
    }

    /// Stops it.
    pub async fn shutdown(self) {
        match self {
            TestCluster::Sandbox(sandbox) => {
                sandbox.shutdown().await.expect("stopping the sandbox");
            }
            TestCluster::Real { server, client } => {
                drop(client);
                server.stop_in_background();
            }
        }
    }
}

/// A count of write requests at one moment.
#[derive(Debug, Clone)]
pub enum Writes {
    /// The sandbox's own counter: every request it served.
    Sandbox(RequestCounts),
    /// `apiserver_request_total`, and the resource types bi's desired state
    /// generates (`group/plural`).
    Real {
        count: WriteCount,
        types: BTreeSet<String>,
    },
}

/// The write verbs of the sandbox's counter.
const SANDBOX_WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

impl Writes {
    /// The writes made after `before`, by `(resource, verb)`.
    pub fn since(&self, before: &Writes) -> WriteDelta {
        match (self, before) {
            (Writes::Sandbox(now), Writes::Sandbox(then)) => WriteDelta(
                now.iter()
                    .filter(|((verb, _), _)| SANDBOX_WRITE_VERBS.contains(&verb.as_str()))
                    .filter_map(|((verb, resource), count)| {
                        let earlier = then.get(verb, resource);
                        (*count > earlier)
                            .then(|| ((resource.clone(), verb.clone()), count - earlier))
                    })
                    .collect(),
            ),
            (
                Writes::Real { count: now, types },
                Writes::Real {
                    count: then,
                    types: earlier_types,
                },
            ) => WriteDelta(
                now.since(then, |resource| {
                    types.contains(resource) || earlier_types.contains(resource)
                })
                .0,
            ),
            _ => panic!("write counts of two different clusters"),
        }
    }
}

/// Writes between two counts, by `(resource, verb)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteDelta(pub BTreeMap<(String, String), u64>);

impl WriteDelta {
    /// How many writes in all.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// Waits (at most 30 s) until the controller manager has made what it makes
/// in every namespace — its `default` ServiceAccount and `kube-root-ca.crt`
/// ConfigMap —, has aggregated every aggregated ClusterRole (it applies
/// `admin`, `edit`, `view`, … after it starts and whenever a ClusterRole
/// with their labels appears) and has seen every Deployment (it annotates
/// each with `deployment.kubernetes.io/revision`), so that those writes, of
/// types bi generates too, are neither counted as bi's nor land in the
/// middle of a drift sweep.
async fn settle(client: &kube::Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut missing = Vec::new();
        for namespace in namespaces.list(&ListParams::default()).await.unwrap() {
            if namespace.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let name = namespace.metadata.name.unwrap_or_default();
            let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
            let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &name);
            if accounts.get_opt("default").await.unwrap().is_none()
                || maps.get_opt("kube-root-ca.crt").await.unwrap().is_none()
            {
                missing.push(name);
            }
        }
        missing.extend(unaggregated(client).await);
        missing.extend(unobserved(client).await);
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the controller manager never filled the namespaces {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The Deployments the controller manager has not annotated with their
/// revision yet, or whose latest generation it has not observed.
async fn unobserved(client: &kube::Client) -> Vec<String> {
    let deployments: Api<Deployment> = Api::all(client.clone());
    deployments
        .list(&ListParams::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|deployment| {
            let revised = deployment
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key("deployment.kubernetes.io/revision"));
            let observed = deployment
                .status
                .as_ref()
                .and_then(|s| s.observed_generation);
            !revised || observed != deployment.metadata.generation
        })
        .map(|deployment| {
            format!(
                "Deployment {}",
                deployment.metadata.name.unwrap_or_default()
            )
        })
        .collect()
}

/// The aggregated ClusterRoles that lack a rule of a ClusterRole their
/// selectors match.
async fn unaggregated(client: &kube::Client) -> Vec<String> {
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let mut behind = Vec::new();
    for role in roles.list(&ListParams::default()).await.unwrap() {
        let Some(rule) = &role.aggregation_rule else {
            continue;
        };
        let has = role.rules.clone().unwrap_or_default();
        for selector in rule.cluster_role_selectors.iter().flatten() {
            let matching = roles
                .list(&ListParams::default().labels(&selector_text(selector)))
                .await
                .unwrap();
            let missing = matching
                .into_iter()
                .flat_map(|found| found.rules.unwrap_or_default())
                .any(|wanted| !has.contains(&wanted));
            if missing {
                behind.push(format!(
                    "ClusterRole {}",
                    role.metadata.name.clone().unwrap_or_default()
                ));
                break;
            }
        }
    }
    behind
}

/// A label selector as a list request's `labelSelector` text.
fn selector_text(selector: &LabelSelector) -> String {
    let mut terms: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    for requirement in selector.match_expressions.iter().flatten() {
        let values = requirement.values.clone().unwrap_or_default().join(",");
        let key = &requirement.key;
        terms.push(match requirement.operator.as_str() {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.clone(),
            _ => format!("!{key}"),
        });
    }
    terms.join(",")
}

/// `group/plural` of every type `db`'s current desired state generates, as
/// the API server's metrics name them (types not served yet are left out).
async fn generated_types(db: &Database, client: &kube::Client) -> BTreeSet<String> {
    let (_, state) = desired_state::current(db).await.expect("the desired state");
    let secrets = desired_state::secrets(db)
        .await
        .expect("the stored secrets");
    let resources =
        generate(&state, Secrets::Stored(secrets.as_map())).expect("the desired state generates");
    let kinds: BTreeSet<(String, String)> = resources
        .iter()
        .map(|r| (r.path.api_version.clone(), r.path.kind.clone()))
        .collect();
    let mut types = BTreeSet::new();
    for (api_version, kind) in kinds {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
        let gvk = GroupVersionKind::gvk(group, version, &kind);
        if let Ok((found, _)) = pinned_kind(client, &gvk).await {
            types.insert(format!("{group}/{}", found.plural));
        }
    }
    types
}

/// Runs `story` on (SQLite, sandbox), (PostgreSQL, sandbox) and (SQLite, a
/// real API server of its own); a missing PostgreSQL or real server is
/// skipped loudly (see `on_every_backend` and `realk8s`).
/// The redis operator's Deployment, unless it is gone or being deleted.
pub async fn redis_operator(cluster: &TestCluster) -> Option<Deployment> {
    Api::<Deployment>::namespaced(cluster.client(), "battery-base")
        .get_opt("redis-operator")
        .await
        .unwrap()
        .filter(|deployment| deployment.metadata.deletion_timestamp.is_none())
}

pub async fn on_every_cluster<F, Fut>(test: &str, story: F)
where
    F: Fn(TestDb, TestCluster) -> Fut,
    Fut: Future<Output = ()>,
{
    let story = &story;
    on_every_backend(test, |t| async move {
        story(t, TestCluster::sandbox().await).await;
    })
    .await;
    if let Some(cluster) = TestCluster::real(test).await {
        let (db, dir) = sqlite().await;
        story(db, cluster).await;
        drop(dir);
    }
}

/// Runs `story` on (SQLite, sandbox) and (SQLite, a real API server), for
/// stories about the cluster alone; `on_every_backend` covers the database.
pub async fn on_sandbox_and_real<F, Fut>(test: &str, story: F)
where
    F: Fn(TestDb, TestCluster) -> Fut,
    Fut: Future<Output = ()>,
{
    let (db, dir) = sqlite().await;
    story(db, TestCluster::sandbox().await).await;
    drop(dir);
    if let Some(cluster) = TestCluster::real(test).await {
        let (db, dir) = sqlite().await;
        story(db, cluster).await;
        drop(dir);
    }
}

/// Runs `story` on (SQLite, a real API server of its own) only, for what
/// only a cluster without nodes shows; skipped loudly without one.
pub async fn on_real<F, Fut>(test: &str, story: F)
where
    F: FnOnce(TestDb, TestCluster) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(cluster) = TestCluster::real(test).await {
        let (db, dir) = sqlite().await;
        story(db, cluster).await;
        drop(dir);
    }
}
