//! Offline mode: when no control server answers, client commands that only
//! read or change the desired state run against the data directory
//! directly, through the very same `/api/v1` handlers served in this
//! process (no second implementation of any command).
//!
//! That is safe because every change is one transaction that holds the
//! database's write lock, and a server started later applies what was
//! stored. What needs the cluster — a plan, a snapshot, a rollback, the live
//! events — is refused with a message saying to start the server; the
//! in-process API never touches the cluster, and never marks a running
//! server's snapshot as interrupted.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::body::Body;
use bi_api::server::ServerFacts;
use bi_control::DatabaseBackend;
use bi_control::engine::{Engine, EngineSettings};
use bi_control::events::EventBus;
use bi_control::reconciler::Reconciler;
use bi_model::ClusterSummary;
use http_body_util::BodyExt;
use reqwest::{Method, StatusCode};
use tower::ServiceExt;

use super::ClientError;
use crate::config::Settings;
use crate::router::router;
use crate::serve::{leptos_options, open_database};
use crate::state::AppState;

/// The API served in this process over a data directory.
#[derive(Debug, Clone)]
pub struct LocalApi {
    router: axum::Router,
    data_dir: String,
}

/// What the cluster is, as far as an offline command knows.
const OFFLINE: &str = "unknown: the control server is not running";

impl LocalApi {
    /// The API over the installation in `settings`' data directory (or
    /// database), if there is one: None when bi never ran there.
    pub async fn open(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let sqlite_file = settings.data_dir.join("bi.db");
        let is_sqlite = matches!(
            DatabaseBackend::from_url(settings.database_url.expose()),
            Ok(DatabaseBackend::Sqlite)
        );
        if is_sqlite && !sqlite_file.is_file() {
            return Ok(None);
        }
        let db = open_database(settings).await?;
        // NB: a client that points nowhere: nothing offline may reach the
        // cluster, and the routes that would are refused before they run.
        let nowhere: http::Uri = "http://127.0.0.1:9"
            .parse()
            .context("while building the offline client")?;
        let client = kube::Client::try_from(kube::Config::new(nowhere))
            .context("while building the offline client")?;
        let engine = Engine::detached(
            db.clone(),
            client,
            EngineSettings::default(),
            EventBus::new(),
        );
        let state = AppState {
            leptos_options: leptos_options(settings, SocketAddr::from(([127, 0, 0, 1], 0))),
            db,
            cluster: ClusterSummary {
                sandbox: false,
                url: OFFLINE.to_owned(),
                kubeconfig: None,
                context: None,
            },
            reconciler: Reconciler::idle(Arc::new(engine)),
            facts: ServerFacts {
                data_dir: settings.data_dir.display().to_string(),
                defaults: crate::serve::default_intervals(settings),
            },
            // NB: offline, nothing is served to the network; requests come
            // from this process only, as the local operator.
            auth: crate::auth::AuthConfig {
                setup: Arc::default(),
                setup_file: None,
                hosts: Arc::default(),
                tls: false,
                limiter: Arc::default(),
                oidc: Arc::new(
                    crate::auth::oidc::Oidc::new().context("while building the offline client")?,
                ),
                public_url: None,
            },
            event_clients: Arc::new(tokio::sync::Semaphore::new(0)),
            event_client_limit: 0,
            metrics: Arc::default(),
        };
        Ok(Some(Self {
            router: router(state),
            data_dir: settings.data_dir.display().to_string(),
        }))
    }

    /// Where the data lives, for messages.
    pub fn describe(&self) -> String {
        format!("data directory {}", self.data_dir)
    }

    /// Answers `method path` with `body` in this process; the routes that
    /// need the cluster are refused with what to do instead.
    pub(crate) async fn call(
        &self,
        method: &Method,
        path: &str,
        body: Option<Vec<u8>>,
        server: &str,
    ) -> Result<(StatusCode, Vec<u8>), ClientError> {
        if let Some(what) = needs_cluster(method, path) {
            return Err(ClientError::NeedsServer {
                server: server.to_owned(),
                what: what.to_owned(),
            });
        }
        let mut request = http::Request::builder().method(method.clone()).uri(path);
        if body.is_some() {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
        }
        let mut request = request
            .body(Body::from(body.unwrap_or_default()))
            .map_err(|err| offline_failure(path, &err.to_string()))?;
        // NB: whoever can open the data directory owns the installation;
        // the audit trail names them by their OS user.
        request
            .extensions_mut()
            .insert(bi_control::auth::Principal::local(&os_user()));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|err| offline_failure(path, &err.to_string()))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|err| offline_failure(path, &err.to_string()))?
            .to_bytes();
        Ok((status, bytes.to_vec()))
    }
}

/// The name of the OS user running the CLI.
fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown user".to_owned())
}

/// What a route does that needs the cluster (and so a running server).
fn needs_cluster(method: &Method, path: &str) -> Option<&'static str> {
    let route = path.split('?').next().unwrap_or(path);
    match (method.as_str(), route) {
        (_, "/api/v1/plan") => Some("a plan (it compares with the cluster)"),
        ("POST", "/api/v1/snapshots") => Some("applying a snapshot"),
        ("POST", "/api/v1/rollback") => Some("a rollback (it applies to the cluster)"),
        (_, route) if route.starts_with("/api/v1/cluster/") => {
            Some("reading the cluster (pods, logs, the explorer)")
        }
        ("POST", "/api/v1/drift/sweep") => Some("a drift sweep (it compares with the cluster)"),
        ("POST", "/api/v1/drift/repair") => Some("repairing drift (it applies to the cluster)"),
        (_, "/api/v1/events") => Some("following live events"),
        ("POST", route) if route.starts_with("/api/v1/deleted/") => {
            Some("undeleting (it writes to the cluster)")
        }
        _ => None,
    }
}

fn offline_failure(path: &str, reason: &str) -> ClientError {
    ClientError::Failed {
        status: 500,
        message: format!("offline request {path} failed: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_touches_the_cluster_needs_the_server() {
        assert!(needs_cluster(&Method::GET, "/api/v1/plan").is_some());
        assert!(needs_cluster(&Method::POST, "/api/v1/snapshots").is_some());
        assert!(needs_cluster(&Method::POST, "/api/v1/rollback").is_some());
        assert!(needs_cluster(&Method::GET, "/api/v1/snapshots?limit=5").is_none());
        assert!(needs_cluster(&Method::POST, "/api/v1/batteries/grafana/install").is_none());
        assert!(needs_cluster(&Method::GET, "/api/v1/audit").is_none());
        assert!(needs_cluster(&Method::POST, "/api/v1/deleted/3/undelete").is_some());
        assert!(needs_cluster(&Method::GET, "/api/v1/timeline").is_none());
    }
}
