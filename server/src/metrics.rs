//! `/metrics`: bi's own figures in the Prometheus text format (OpenMetrics),
//! for VictoriaMetrics (which bi points at itself when installed) or any
//! Prometheus.
//!
//! Counters follow the engine's events (snapshots by status and duration,
//! objects by outcome, writes, drift sweeps and what they found) and every
//! HTTP request (by route pattern, method and status, with its duration).
//! Gauges are read when scraped: the reconciler's queue, websocket clients,
//! the database pool, open drift findings and the cluster cache's objects by
//! kind.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bi_control::events::Since;
use bi_model::events::Event;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::sync::broadcast::error::RecvError;

use crate::state::AppState;

/// A request's labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// A route's labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// One label, named by the family.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

type Seconds = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn request_seconds() -> Histogram {
    // NB: 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Every metric bi exports, and the registry that writes them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Seconds,
    snapshots: Family<StatusLabels, Counter>,
    snapshot_seconds: Histogram,
    objects: Family<OutcomeLabels, Counter>,
    writes: Counter,
    drift_sweeps: Counter,
    drift_found: Counter,
    queue: Gauge<i64, AtomicI64>,
    event_clients: Gauge<i64, AtomicI64>,
    pool: Family<PoolLabels, Gauge<i64, AtomicI64>>,
    drift_open: Gauge<i64, AtomicI64>,
    cached: Family<KindLabels, Gauge<i64, AtomicI64>>,
    cache_changes: Gauge<i64, AtomicI64>,
    page_renders: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under `bi_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("bi");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route pattern, method and status",
            requests.clone(),
        );
        let request_seconds = Seconds::new_with_constructor(request_seconds);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            request_seconds.clone(),
        );
        let snapshots = Family::<StatusLabels, Counter>::default();
        registry.register(
            "snapshots",
            "Snapshots finished, by status",
            snapshots.clone(),
        );
        let snapshot_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "snapshot_duration_seconds",
            "Time from a snapshot's start to its end",
            snapshot_seconds.clone(),
        );
        let objects = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "snapshot_objects",
            "Objects of finished snapshots, by outcome",
            objects.clone(),
        );
        let writes = Counter::default();
        registry.register(
            "cluster_writes",
            "Objects snapshots created, updated or deleted",
            writes.clone(),
        );
        let drift_sweeps = Counter::default();
        registry.register("drift_sweeps", "Drift sweeps run", drift_sweeps.clone());
        let drift_found = Counter::default();
        registry.register(
            "drift_found",
            "Objects drift sweeps found changed behind bi's back",
            drift_found.clone(),
        );
        let queue = Gauge::default();
        registry.register(
            "reconciler_queue",
            "Snapshot requests waiting for the reconciler",
            queue.clone(),
        );
        let event_clients = Gauge::default();
        registry.register(
            "websocket_clients",
            "Clients following the live events websocket",
            event_clients.clone(),
        );
        let pool = Family::<PoolLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "db_pool_connections",
            "The database pool's connections, by state (idle, in_use)",
            pool.clone(),
        );
        let drift_open = Gauge::default();
        registry.register(
            "drift_open",
            "Drift findings not yet repaired, reverted or gone",
            drift_open.clone(),
        );
        let cached = Family::<KindLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "cluster_cache_objects",
            "Objects the cluster cache holds, by kind",
            cached.clone(),
        );
        let cache_changes = Gauge::default();
        registry.register(
            "cluster_cache_changes",
            "Changes the cluster cache's watches saw since start",
            cache_changes.clone(),
        );
        let page_renders = Counter::default();
        registry.register(
            "page_renders",
            "Pages rendered; identical requests arriving during a render share the next one",
            page_renders.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            snapshots,
            snapshot_seconds,
            objects,
            writes,
            drift_sweeps,
            drift_found,
            queue,
            event_clients,
            pool,
            drift_open,
            cached,
            cache_changes,
            page_renders,
        }
    }

    /// A page was rendered (once for every request sharing it).
    pub fn page_rendered(&self) {
        self.page_renders.inc();
    }

    /// Counts what an engine event says.
    fn observe(&self, event: &Event) {
        match event {
            Event::SnapshotFinished {
                status,
                counts,
                elapsed_ms,
                ..
            } => {
                self.snapshots
                    .get_or_create(&StatusLabels {
                        status: status.clone(),
                    })
                    .inc();
                #[allow(clippy::cast_precision_loss)]
                self.snapshot_seconds.observe(*elapsed_ms as f64 / 1000.0);
                for (outcome, count) in [
                    ("created", counts.created),
                    ("updated", counts.updated),
                    ("unchanged", counts.unchanged),
                    ("deleted", counts.deleted),
                    ("failed", counts.failed),
                    ("waiting", counts.waiting),
                    ("held_back", counts.held_back),
                ] {
                    self.objects
                        .get_or_create(&OutcomeLabels {
                            outcome: outcome.to_owned(),
                        })
                        .inc_by(count as u64);
                }
                self.writes
                    .inc_by((counts.created + counts.updated + counts.deleted) as u64);
            }
            Event::DriftChecked { drifted, .. } => {
                self.drift_sweeps.inc();
                self.drift_found.inc_by(drifted.len() as u64);
            }
            _ => {}
        }
    }

    /// The text a scrape gets, with the gauges read now.
    async fn render(&self, state: &AppState) -> Result<String, bi_control::Error> {
        self.queue
            .set(i64::try_from(state.reconciler.queued()).unwrap_or(i64::MAX));
        let free = state.event_clients.available_permits();
        self.event_clients
            .set(i64::try_from(state.event_client_limit.saturating_sub(free)).unwrap_or(i64::MAX));
        let (size, idle) = state.db.pool_connections();
        for (label, count) in [("idle", idle), ("in_use", size.saturating_sub(idle))] {
            self.pool
                .get_or_create(&PoolLabels {
                    state: label.to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let open = bi_control::drift::open_path_names(&state.db).await?;
        self.drift_open
            .set(i64::try_from(open.len()).unwrap_or(i64::MAX));
        let cache = state.reconciler.engine().cache();
        for (kind, _, objects) in cache.watches() {
            self.cached
                .get_or_create(&KindLabels {
                    kind: kind.to_string(),
                })
                .set(i64::try_from(objects).unwrap_or(i64::MAX));
        }
        self.cache_changes
            .set(i64::try_from(cache.changes_seen()).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|err| bi_control::Error::Internal(format!("writing the metrics: {err}")))?;
        Ok(text)
    }
}

/// Follows the engine's events into `metrics` for the life of the server.
pub fn follow_events(state: &AppState) -> tokio::task::JoinHandle<()> {
    let metrics = Arc::clone(&state.metrics);
    let mut live = state.reconciler.events().subscribe(Since::Now).live;
    tokio::spawn(async move {
        loop {
            match live.recv().await {
                Ok(envelope) => metrics.observe(&envelope.event),
                // NB: a burst the task could not keep up with is lost to
                // the counters, not to the engine.
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "metrics: missed engine events");
                }
                Err(RecvError::Closed) => break,
            }
        }
    })
}

/// Counts every request by route pattern, method and status.
pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // NB: the pattern (`/api/v1/batteries/{id}`), never the path: one
    // series per route, whatever the ids.
    let path = request.uri().path();
    let route = match request.extensions().get::<MatchedPath>() {
        // NB: server functions share one wildcard route; their endpoints
        // are a fixed set, so each gets its own series.
        Some(matched)
            if matched.as_str().contains("{*")
                && path.starts_with("/api/")
                && !path.starts_with("/api/v1/") =>
        {
            path.to_owned()
        }
        Some(matched) => matched.as_str().to_owned(),
        None => "unmatched".to_owned(),
    };
    let response = next.run(request).await;
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method,
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .request_seconds
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state).await {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
        }
        Err(err) => bi_api::ApiError::from(err).into_response(),
    }
}
