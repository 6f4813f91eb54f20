//! The cluster connection: which Kubernetes API bi manages and how it is
//! reached, with the conventions kubectl users expect.
//!
//! A kubeconfig file (`--kubeconfig`, else `$KUBECONFIG` — several paths
//! merge, as in kubectl — else `~/.kube/config`) with an optional
//! `--context`; the in-cluster service account when bi runs in a pod; or
//! bi's embedded sandbox. Whatever the source, the engine gets a plain
//! `kube::Client`: one code path to every cluster.

use std::path::PathBuf;

use bi_model::ClusterSummary;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::{Error, Result};

/// Where the cluster's API server and credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterSource {
    /// A kubeconfig: `path`, else `$KUBECONFIG`, else `~/.kube/config`;
    /// `context`, else the file's current context.
    Kubeconfig {
        /// The file, when given explicitly.
        path: Option<PathBuf>,
        /// The context, when not the current one.
        context: Option<String>,
    },
    /// The service account of the pod bi runs in.
    InCluster,
}

/// A connected cluster: the client and how the UI describes it.
#[derive(Clone)]
pub struct ClusterConnection {
    /// The client every request goes through.
    pub client: Client,
    /// What the UI and `bi status` show.
    pub summary: ClusterSummary,
}

impl std::fmt::Debug for ClusterConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConnection")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// Connects to the cluster of `source` and checks that its API server
/// answers (`/version`), so a wrong context fails at start, not at the first
/// snapshot.
pub async fn connect(source: &ClusterSource) -> Result<ClusterConnection> {
    let (config, described) = match source {
        ClusterSource::Kubeconfig { path, context } => {
            let options = KubeConfigOptions {
                context: context.clone(),
                ..KubeConfigOptions::default()
            };
            let file = match path {
                Some(path) => path.display().to_string(),
                None => std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".to_owned()),
            };
            let loaded = match path {
                Some(path) => match Kubeconfig::read_from(path) {
                    Ok(kubeconfig) => Config::from_custom_kubeconfig(kubeconfig, &options).await,
                    Err(err) => Err(err),
                },
                None => Config::from_kubeconfig(&options).await,
            };
            let config = loaded.map_err(|err| Error::ClusterConfig {
                source_description: describe(&file, context.as_deref()),
                reason: err.to_string(),
            })?;
            (config, (Some(file), context.clone()))
        }
        ClusterSource::InCluster => {
            let config = Config::incluster().map_err(|err| Error::ClusterConfig {
                source_description: "the in-cluster service account".to_owned(),
                reason: err.to_string(),
            })?;
            (config, (None, None))
        }
    };
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|source| Error::Cluster {
        action: format!("creating a client for {url}"),
        source,
    })?;
    let version = client
        .apiserver_version()
        .await
        .map_err(|source| Error::Cluster {
            action: format!(
                "reaching the API server at {url} ({})",
                match &described {
                    (Some(file), context) => describe(file, context.as_deref()),
                    (None, _) => "in-cluster".to_owned(),
                }
            ),
            source,
        })?;
    tracing::info!(url, version = %version.git_version, "connected to the cluster");
    let (kubeconfig, context) = described;
    Ok(ClusterConnection {
        client,
        summary: ClusterSummary {
            sandbox: false,
            url,
            kubeconfig,
            context,
        },
    })
}

/// "kubeconfig FILE (context NAME)".
fn describe(file: &str, context: Option<&str>) -> String {
    match context {
        Some(context) => format!("kubeconfig {file}, context {context}"),
        None => format!("kubeconfig {file}, current context"),
    }
}
