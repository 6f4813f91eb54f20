//! Apply through the throttle end to end: an engine built with explicit
//! settings applies a whole plan concurrently, in stage order, on the
//! embedded sandbox cluster and a real kube-apiserver, and on every database
//! backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Instant;

use bi_control::engine::{Engine, Outcome, SnapshotStatus};
use bi_control::events::EventBus;
use bi_model::generate::{Stage, stage_of};
use support::cluster::on_every_cluster;

#[tokio::test]
async fn concurrent_apply_creates_everything_in_stage_order_and_then_writes_nothing() {
    on_every_cluster(
        "concurrent_apply_creates_everything_in_stage_order_and_then_writes_nothing",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            support::install_redis(&t.db).await;
            let engine = Engine::with_settings(
                t.db.clone(),
                cluster.client(),
                Default::default(),
                EventBus::new(),
            )
            .await
            .unwrap();

            let started = Instant::now();
            let first = engine.snapshot("test").await.unwrap();
            eprintln!(
                "concurrent first snapshot on the {}: {} objects in {:?}",
                cluster.name(),
                first.outcomes.len(),
                started.elapsed()
            );
            assert_eq!(first.status, SnapshotStatus::Succeeded, "{first:#?}");
            assert!(
                first.outcomes.iter().all(|(_, o)| *o == Outcome::Created),
                "{first:#?}"
            );
            let stages: Vec<Stage> = first.outcomes.iter().map(|(p, _)| stage_of(p)).collect();
            assert!(stages.is_sorted(), "outcomes keep plan order: {stages:?}");

            let before = cluster.writes(&t.db).await;
            let second = engine.snapshot("test").await.unwrap();
            let writes = cluster.writes(&t.db).await.since(&before);
            assert_eq!(writes.total(), 0, "{writes:?}");
            assert_eq!(second.status, SnapshotStatus::Succeeded);
            assert!(
                second
                    .outcomes
                    .iter()
                    .all(|(_, o)| *o == Outcome::Unchanged),
                "{second:#?}"
            );
            cluster.shutdown().await;
        },
    )
    .await;
}
