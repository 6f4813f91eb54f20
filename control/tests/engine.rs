//! The snapshot-and-apply engine end to end: the embedded sandbox cluster and
//! a real kube-apiserver as the cluster, SQLite and PostgreSQL as the record.
//! Redis registers no admission webhook, so on the real server too every
//! object is applied (none waits).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Instant;

use bi_control::desired_state;
use bi_control::engine::{Engine, Outcome, SnapshotReport, SnapshotStatus};
use bi_control::entities::snapshot;
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::generate::{Stage, stage_of};
use bi_model::image::ImageRef;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::PostParams;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use support::TestDb;
use support::cluster::{TestCluster, on_every_cluster};

/// An engine over `t`'s database and `cluster`, and redis (with one
/// instance) in the desired state.
async fn redis_installed(t: &TestDb, cluster: &TestCluster) -> Engine {
    t.db.migrate().await.unwrap();
    support::install_redis(&t.db).await;
    Engine::new(t.db.clone(), cluster.client()).await.unwrap()
}

fn all(report: &SnapshotReport, outcome: &Outcome) -> bool {
    report.outcomes.iter().all(|(_, found)| found == outcome)
}

#[tokio::test]
async fn first_snapshot_creates_everything_in_stage_order() {
    on_every_cluster(
        "first_snapshot_creates_everything_in_stage_order",
        |t, cluster| async move {
            let engine = redis_installed(&t, &cluster).await;
            let started = Instant::now();
            let report = engine.snapshot("test").await.unwrap();
            eprintln!(
                "first snapshot on the {}: {} objects in {:?}",
                cluster.name(),
                report.outcomes.len(),
                started.elapsed()
            );
            assert_eq!(report.status, SnapshotStatus::Succeeded, "{report:#?}");
            assert!(all(&report, &Outcome::Created), "{report:#?}");
            assert_eq!(report.counts.created, report.outcomes.len());
            let stages: Vec<Stage> = report.outcomes.iter().map(|(p, _)| stage_of(p)).collect();
            let mut per_stage = std::collections::BTreeMap::<Stage, usize>::new();
            for stage in &stages {
                *per_stage.entry(*stage).or_default() += 1;
            }
            eprintln!("first snapshot by stage: {per_stage:?}");
            assert!(stages.is_sorted(), "{stages:?}");
            assert_eq!(stages.first(), Some(&Stage::Namespaces));
            assert!(stages.contains(&Stage::Crds) && stages.contains(&Stage::CustomResources));

            assert!(support::cluster::redis_operator(&cluster).await.is_some());
            let row = snapshot::Entity::find_by_id(report.id)
                .one(t.db.connection())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.status, "succeeded");
            assert_eq!(row.created as usize, report.outcomes.len());
            assert!(row.finished_at.is_some());
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn second_snapshot_of_an_unchanged_state_writes_nothing() {
    on_every_cluster(
        "second_snapshot_of_an_unchanged_state_writes_nothing",
        |t, cluster| async move {
            let engine = redis_installed(&t, &cluster).await;
            let first = engine.snapshot("test").await.unwrap();
            let before = cluster.writes(&t.db).await;
            let started = Instant::now();
            let second = engine.snapshot("test").await.unwrap();
            let writes = cluster.writes(&t.db).await.since(&before);
            eprintln!(
                "no-op snapshot on the {}: {} objects in {:?}",
                cluster.name(),
                second.outcomes.len(),
                started.elapsed(),
            );
            assert_eq!(writes.total(), 0, "{writes:?}");
            assert_eq!(second.status, SnapshotStatus::Succeeded);
            assert!(all(&second, &Outcome::Unchanged), "{second:#?}");
            assert_eq!(second.outcomes.len(), first.outcomes.len());
            assert!(second.id > first.id);
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn changing_one_config_updates_only_affected_objects() {
    on_every_cluster(
        "changing_one_config_updates_only_affected_objects",
        |t, cluster| async move {
            let engine = redis_installed(&t, &cluster).await;
            engine.snapshot("test").await.unwrap();
            desired_state::change(&t.db, "test", "new exporter", |s| {
                if let Some(BatteryConfig::Redis(redis)) = s.batteries.get_mut(&BatteryKind::Redis)
                {
                    redis.exporter_image =
                        ImageRef::parse("quay.io/opstree/redis-exporter:v1.99.0").unwrap();
                }
                Ok(())
            })
            .await
            .unwrap();
            let before = cluster.writes(&t.db).await;
            let report = engine.snapshot("test").await.unwrap();
            let writes = cluster.writes(&t.db).await.since(&before);
            let updated: Vec<String> = report
                .outcomes
                .iter()
                .filter(|(_, outcome)| *outcome == Outcome::Updated)
                .map(|(path, _)| path.to_string())
                .collect();
            eprintln!("exporter change updated {updated:?}");
            assert_eq!(report.status, SnapshotStatus::Succeeded);
            assert!(report.counts.updated > 0);
            assert!(
                report.counts.updated * 4 < report.outcomes.len(),
                "{updated:?}"
            );
            assert_eq!(
                report.counts.updated + report.counts.unchanged,
                report.outcomes.len()
            );
            assert_eq!(
                writes.total(),
                report.counts.updated as u64,
                "one write per updated object: {writes:?}"
            );
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn uninstalling_deletes_its_objects_and_leaves_unmanaged_alone() {
    on_every_cluster(
        "uninstalling_deletes_its_objects_and_leaves_unmanaged_alone",
        |t, cluster| async move {
            let engine = redis_installed(&t, &cluster).await;
            let installed = engine.snapshot("test").await.unwrap();
            let maps: Api<ConfigMap> = Api::namespaced(cluster.client(), "battery-base");
            let mut unmanaged = ConfigMap::default();
            unmanaged.metadata.name = Some("hand-made".to_owned());
            maps.create(&PostParams::default(), &unmanaged)
                .await
                .unwrap();

            desired_state::change(&t.db, "test", "uninstall redis", |s| {
                s.batteries.remove(&BatteryKind::Redis);
                s.redis_instances.clear();
                Ok(())
            })
            .await
            .unwrap();
            let report = engine.snapshot("test").await.unwrap();
            assert_eq!(report.status, SnapshotStatus::Succeeded, "{report:#?}");
            assert!(report.counts.deleted > 0);
            // NB: the one update is battery_core's seed, which holds the state.
            assert_eq!(report.counts.updated, 1, "{report:#?}");
            assert_eq!(
                report.counts.deleted + report.counts.unchanged + report.counts.updated,
                installed.outcomes.len(),
                "{report:#?}"
            );
            let deleted: Vec<_> = report
                .outcomes
                .iter()
                .filter(|(_, outcome)| *outcome == Outcome::Deleted)
                .map(|(path, _)| stage_of(path))
                .collect();
            assert!(deleted.is_sorted_by(|a, b| a >= b), "{deleted:?}");
            assert!(support::cluster::redis_operator(&cluster).await.is_none());
            assert!(maps.get_opt("hand-made").await.unwrap().is_some());

            // The next snapshot prunes nothing more.
            let again = engine.snapshot("test").await.unwrap();
            assert!(all(&again, &Outcome::Unchanged), "{again:#?}");
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn an_interrupted_snapshot_is_marked_and_the_next_converges() {
    on_every_cluster(
        "an_interrupted_snapshot_is_marked_and_the_next_converges",
        |t, cluster| async move {
            let engine = redis_installed(&t, &cluster).await;
            drop(engine);
            let left = snapshot::ActiveModel {
                desired_version: Set(1),
                trigger: Set("crashed".to_owned()),
                status: Set("running".to_owned()),
                started_at: Set(chrono::Utc::now()),
                finished_at: Set(None),
                created: Set(0),
                updated: Set(0),
                unchanged: Set(0),
                deleted: Set(0),
                failed: Set(0),
                skipped: Set(0),
                ..Default::default()
            }
            .insert(t.db.connection())
            .await
            .unwrap();

            let engine = Engine::new(t.db.clone(), cluster.client()).await.unwrap();
            let row = snapshot::Entity::find_by_id(left.id)
                .one(t.db.connection())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.status, "interrupted");

            let report = engine.snapshot("start-up").await.unwrap();
            assert_eq!(report.status, SnapshotStatus::Succeeded);
            assert!(all(&report, &Outcome::Created));
            assert!(support::cluster::redis_operator(&cluster).await.is_some());
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn what_a_killed_snapshot_wrote_is_pruned_once_it_is_not_desired() {
    on_every_cluster(
        "what_a_killed_snapshot_wrote_is_pruned_once_it_is_not_desired",
        |t, cluster| async move {
            use bi_control::engine::EngineSettings;
            use bi_control::events::{EventBus, Since};
            use bi_model::events::{Event, ResourceState};

            t.db.migrate().await.unwrap();
            let first = Engine::new(t.db.clone(), cluster.client()).await.unwrap();
            first.snapshot("test").await.unwrap();
            drop(first);
            support::install_redis(&t.db).await;
            // Slow writes, so the snapshot is cut in the middle.
            let slow = EngineSettings {
                max_in_flight: 1,
                writes_per_second: Some(4.0),
                burst: 1,
                ..EngineSettings::default()
            };
            let bus = EventBus::new();
            let engine = std::sync::Arc::new(
                Engine::with_settings(t.db.clone(), cluster.client(), slow, bus.clone())
                    .await
                    .unwrap(),
            );
            let mut events = bus.subscribe(Since::Now).live;
            let running = tokio::spawn({
                let engine = engine.clone();
                async move { engine.snapshot("test").await }
            });
            let mut created = Vec::new();
            while created.len() < 3 {
                let envelope = events.recv().await.unwrap();
                if let Event::ResourceApplied {
                    path,
                    outcome: ResourceState::Created,
                    ..
                } = &envelope.event
                {
                    created.push(path.clone());
                }
            }
            // As if the process were killed: nothing after this point is
            // written, the snapshot stays `running`.
            running.abort();
            let _ = running.await;
            drop(engine);

            // The next process marks it interrupted; redis goes away.
            let next = Engine::new(t.db.clone(), cluster.client()).await.unwrap();
            desired_state::change(&t.db, "test", "uninstall redis", |s| {
                s.batteries.remove(&BatteryKind::Redis);
                s.redis_instances.clear();
                Ok(())
            })
            .await
            .unwrap();
            let report = next.snapshot("test").await.unwrap();
            assert_eq!(report.status, SnapshotStatus::Succeeded, "{report:#?}");
            let deleted: Vec<_> = report
                .outcomes
                .iter()
                .filter(|(_, outcome)| *outcome == Outcome::Deleted)
                .map(|(path, _)| path.clone())
                .collect();
            for path in &created {
                assert!(
                    deleted.contains(path),
                    "{} left {path} behind: deleted only {deleted:?}",
                    cluster.name()
                );
            }
            // And it is gone from the cluster: a second look finds nothing to prune.
            let again = next.snapshot("test").await.unwrap();
            assert_eq!(again.counts.deleted, 0, "{again:#?}");
        },
    )
    .await;
}
