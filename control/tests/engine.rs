//! The snapshot-and-apply engine end to end: the embedded sandbox cluster as
//! the cluster, SQLite and PostgreSQL as the record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Instant;

use bi_control::desired_state;
use bi_control::engine::{Engine, Outcome, SnapshotReport, SnapshotStatus};
use bi_control::entities::snapshot;
use bi_control::sandbox::{Sandbox, SandboxConfig};
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::generate::{Stage, stage_of};
use bi_model::image::ImageRef;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::PostParams;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use support::{TestDb, on_every_backend};

/// A sandbox, an engine over `t`'s database, and redis (with one instance)
/// in the desired state.
async fn redis_installed(t: &TestDb) -> (Sandbox, Engine) {
    t.db.migrate().await.unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    support::install_redis(&t.db).await;
    let engine = Engine::new(t.db.clone(), sandbox.client().unwrap())
        .await
        .unwrap();
    (sandbox, engine)
}

fn all(report: &SnapshotReport, outcome: &Outcome) -> bool {
    report.outcomes.iter().all(|(_, found)| found == outcome)
}

async fn operator(sandbox: &Sandbox) -> Option<Deployment> {
    Api::<Deployment>::namespaced(sandbox.client().unwrap(), "battery-base")
        .get_opt("redis-operator")
        .await
        .unwrap()
}

#[tokio::test]
async fn first_snapshot_creates_everything_in_stage_order() {
    on_every_backend(
        "first_snapshot_creates_everything_in_stage_order",
        |t| async move {
            let (sandbox, engine) = redis_installed(&t).await;
            let started = Instant::now();
            let report = engine.snapshot("test").await.unwrap();
            eprintln!(
                "first snapshot: {} objects in {:?}",
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

            assert!(operator(&sandbox).await.is_some());
            let row = snapshot::Entity::find_by_id(report.id)
                .one(t.db.connection())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.status, "succeeded");
            assert_eq!(row.created as usize, report.outcomes.len());
            assert!(row.finished_at.is_some());
            sandbox.shutdown().await.unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn second_snapshot_of_an_unchanged_state_writes_nothing() {
    on_every_backend(
        "second_snapshot_of_an_unchanged_state_writes_nothing",
        |t| async move {
            let (sandbox, engine) = redis_installed(&t).await;
            let first = engine.snapshot("test").await.unwrap();
            sandbox.reset_requests();
            let started = Instant::now();
            let second = engine.snapshot("test").await.unwrap();
            eprintln!(
                "no-op snapshot: {} objects in {:?}, {} requests",
                second.outcomes.len(),
                started.elapsed(),
                sandbox.requests().total()
            );
            assert_eq!(sandbox.requests().writes(), 0);
            assert_eq!(second.status, SnapshotStatus::Succeeded);
            assert!(all(&second, &Outcome::Unchanged), "{second:#?}");
            assert_eq!(second.outcomes.len(), first.outcomes.len());
            assert!(second.id > first.id);
            sandbox.shutdown().await.unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn changing_one_config_updates_only_affected_objects() {
    on_every_backend(
        "changing_one_config_updates_only_affected_objects",
        |t| async move {
            let (sandbox, engine) = redis_installed(&t).await;
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
            sandbox.reset_requests();
            let report = engine.snapshot("test").await.unwrap();
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
            assert_eq!(sandbox.requests().writes(), report.counts.updated as u64);
            sandbox.shutdown().await.unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn uninstalling_deletes_its_objects_and_leaves_unmanaged_alone() {
    on_every_backend(
        "uninstalling_deletes_its_objects_and_leaves_unmanaged_alone",
        |t| async move {
            let (sandbox, engine) = redis_installed(&t).await;
            let installed = engine.snapshot("test").await.unwrap();
            let maps: Api<ConfigMap> = Api::namespaced(sandbox.client().unwrap(), "battery-base");
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
            assert_eq!(
                report.counts.deleted + report.counts.unchanged,
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
            assert!(operator(&sandbox).await.is_none());
            assert!(maps.get_opt("hand-made").await.unwrap().is_some());

            // The next snapshot prunes nothing more.
            let again = engine.snapshot("test").await.unwrap();
            assert!(all(&again, &Outcome::Unchanged), "{again:#?}");
            sandbox.shutdown().await.unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn an_interrupted_snapshot_is_marked_and_the_next_converges() {
    on_every_backend(
        "an_interrupted_snapshot_is_marked_and_the_next_converges",
        |t| async move {
            let (sandbox, engine) = redis_installed(&t).await;
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

            let engine = Engine::new(t.db.clone(), sandbox.client().unwrap())
                .await
                .unwrap();
            let row = snapshot::Entity::find_by_id(left.id)
                .one(t.db.connection())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.status, "interrupted");

            let report = engine.snapshot("start-up").await.unwrap();
            assert_eq!(report.status, SnapshotStatus::Succeeded);
            assert!(all(&report, &Outcome::Created));
            assert!(operator(&sandbox).await.is_some());
            sandbox.shutdown().await.unwrap();
        },
    )
    .await;
}
