//! What every request can reach: the Leptos options, the database, the
//! cluster's description, the reconciler and the sign-in settings.

use axum::extract::FromRef;
use bi_api::server::ServerFacts;
use bi_control::Database;
use bi_control::reconciler::Reconciler;
use bi_model::ClusterSummary;
use leptos::config::LeptosOptions;

use crate::auth::AuthConfig;

/// The axum state of the control server.
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    /// Where the web UI's files are and how they are named.
    pub leptos_options: LeptosOptions,
    /// bi's database.
    pub db: Database,
    /// The cluster bi manages, as the UI shows it.
    pub cluster: ClusterSummary,
    /// Asks for snapshots; holds the engine and its event bus.
    pub reconciler: Reconciler,
    /// What the Settings page shows of the server's own options.
    pub facts: ServerFacts,
    /// Hosts served, the pending setup token, the sign-in limiter.
    pub auth: AuthConfig,
    /// Places for clients of the events websocket (`--max-event-clients`).
    pub event_clients: std::sync::Arc<tokio::sync::Semaphore>,
    /// How many places `event_clients` started with.
    pub event_client_limit: usize,
    /// What `/metrics` exports.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}
