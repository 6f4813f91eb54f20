//! Admission webhooks: writes a registered webhook intercepts wait until
//! its Service has a ready endpoint. On the sandbox the operator's workload
//! settles and its Service gets endpoints, so nothing waits; on a real API
//! server with no nodes the webhook never answers, so the objects it
//! intercepts are recorded as waiting for it (named), no request is sent for
//! them, everything else lands, and the reconciler retries them soon.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../sandbox/tests/realk8s/mod.rs"]
mod realk8s;

use std::sync::Arc;
use std::time::Duration;

use bi_control::Database;
use bi_control::desired_state;
use bi_control::engine::{Engine, EngineSettings, Outcome, SnapshotStatus};
use bi_control::events::{EventBus, Since};
use bi_control::reconciler::{Reconciler, ReconcilerSettings};
use bi_model::catalog::{BatteryKind, ClusterProvider};
use bi_model::events::Event;
use bi_sandbox::{Sandbox, SandboxConfig};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, PostParams};
use realk8s::RealApiServer;
use serde_json::json;

/// The webhook cert-manager registers, and the Service it calls.
const WEBHOOK: &str = "webhook.cert-manager.io";
const WEBHOOK_SERVICE: (&str, &str) = ("battery-base", "cert-manager-webhook");

fn settings(webhook_wait: Duration) -> EngineSettings {
    EngineSettings {
        webhook_wait,
        webhook_retry: Duration::from_secs(1),
        base_backoff: Duration::from_millis(20),
        max_attempts: 2,
        ..EngineSettings::default()
    }
}

/// A database with the Battery CA (and so cert-manager) installed.
async fn with_battery_ca(provider: ClusterProvider) -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bi.db").display());
    let db = Database::connect(&url, None).await.unwrap();
    db.migrate().await.unwrap();
    desired_state::change(&db, "test", "install the battery CA", |state| {
        state.provider = provider;
        state.install(&[BatteryKind::BatteryCa]).unwrap();
        Ok(())
    })
    .await
    .unwrap();
    (db, dir)
}

fn is_cert_manager(path: &bi_model::generate::ResourcePath) -> bool {
    path.api_version.starts_with("cert-manager.io/")
}

#[tokio::test]
async fn on_the_sandbox_a_webhook_answers_once_its_workload_is_ready() {
    let (db, _dir) = with_battery_ca(ClusterProvider::Sandbox).await;
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let client = sandbox.client().unwrap();
    // NB: a wait far longer than the test's own bound: were the webhook's
    // Service left without endpoints, the snapshot would hang and the test fail.
    let engine = Engine::with_settings(
        db,
        client.clone(),
        settings(Duration::from_secs(600)),
        EventBus::new(),
    )
    .await
    .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(60), engine.snapshot("test"))
        .await
        .expect("nothing waits for a webhook whose workload is ready")
        .unwrap();
    assert_eq!(report.status, SnapshotStatus::Succeeded, "{report:#?}");
    let intercepted: Vec<_> = report
        .outcomes
        .iter()
        .filter(|(path, _)| is_cert_manager(path))
        .collect();
    assert!(!intercepted.is_empty(), "{report:#?}");
    assert!(
        intercepted
            .iter()
            .all(|(_, outcome)| *outcome == Outcome::Created)
    );
    let slices: Api<EndpointSlice> = Api::namespaced(client, WEBHOOK_SERVICE.0);
    let found = slices
        .list(
            &ListParams::default()
                .labels(&format!("kubernetes.io/service-name={}", WEBHOOK_SERVICE.1)),
        )
        .await
        .unwrap();
    assert_eq!(
        found.items.len(),
        1,
        "the sandbox publishes the Service's endpoints"
    );
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn on_a_real_api_server_intercepted_objects_wait_for_the_named_webhook_and_are_retried_soon()
{
    let test =
        "on_a_real_api_server_intercepted_objects_wait_for_the_named_webhook_and_are_retried_soon";
    let Some(server) = RealApiServer::fresh(test) else {
        return;
    };
    let client = server.client().await;
    let (db, _dir) = with_battery_ca(ClusterProvider::Provided).await;
    let engine = Arc::new(
        Engine::with_settings(
            db,
            client.clone(),
            settings(Duration::from_secs(1)),
            EventBus::new(),
        )
        .await
        .unwrap(),
    );

    let before = server.write_requests(&client).await;
    let first = engine.snapshot("test").await.unwrap();
    let after = server.write_requests(&client).await;
    assert_eq!(first.status, SnapshotStatus::Waiting, "{first:#?}");
    let mut waiting = 0;
    for (path, outcome) in &first.outcomes {
        if is_cert_manager(path) {
            let Outcome::Waiting(message) = outcome else {
                panic!("{path} should wait for the webhook: {outcome}");
            };
            assert!(
                message.contains(WEBHOOK)
                    && message.contains(&format!("{}/{}", WEBHOOK_SERVICE.0, WEBHOOK_SERVICE.1)),
                "{message}"
            );
            waiting += 1;
        } else {
            assert_eq!(*outcome, Outcome::Created, "{path}");
        }
    }
    assert!(waiting > 0, "{first:#?}");
    assert_eq!(first.counts.waiting, waiting);
    let sent = after.since(&before, |resource| resource.starts_with("cert-manager.io/"));
    assert_eq!(
        sent.total(),
        0,
        "no request for a waiting object: {:?}",
        sent.0
    );

    // The reconciler retries soon, not at the next re-check.
    let mut events = engine.events().subscribe(Since::Now);
    let (_reconciler, task) = Reconciler::start(
        Arc::clone(&engine),
        ReconcilerSettings {
            recheck_every: Duration::from_secs(3600),
            drift_every: Duration::from_secs(3600),
        },
    );
    let triggers = tokio::time::timeout(Duration::from_secs(60), async {
        let mut triggers = Vec::new();
        loop {
            let envelope = events.live.recv().await.unwrap();
            if let Event::SnapshotStarted { trigger, .. } = &envelope.event {
                triggers.push(trigger.clone());
                if trigger == "webhook_retry" {
                    return triggers;
                }
            }
        }
    })
    .await
    .expect("a snapshot leaving objects waiting is retried within a minute");
    assert_eq!(triggers.first().map(String::as_str), Some("startup"));
    task.abort();

    // Once the Service has a ready endpoint, the write is sent; the API
    // server cannot reach the webhook here (no pod runs), and says so: the
    // object still waits, now with the server's own message.
    let slice: EndpointSlice = serde_json::from_value(json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "cert-manager-webhook-test",
            "labels": { "kubernetes.io/service-name": WEBHOOK_SERVICE.1 },
        },
        "addressType": "IPv4",
        "endpoints": [{ "addresses": ["10.96.99.1"], "conditions": { "ready": true } }],
        "ports": [{ "port": 10250, "protocol": "TCP" }],
    }))
    .unwrap();
    Api::<EndpointSlice>::namespaced(client.clone(), WEBHOOK_SERVICE.0)
        .create(&PostParams::default(), &slice)
        .await
        .unwrap();
    let third = engine.snapshot("test").await.unwrap();
    assert_eq!(third.status, SnapshotStatus::Waiting, "{third:#?}");
    let attempted: Vec<&String> = third
        .outcomes
        .iter()
        .filter_map(|(path, outcome)| match outcome {
            Outcome::Waiting(message) if is_cert_manager(path) => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(attempted.len(), waiting);
    assert!(
        attempted
            .iter()
            .all(|message| message.contains("failed calling webhook")),
        "{attempted:#?}"
    );
}
