//! History and rollback end to end: two snapshots with a changed exporter
//! image, listed, shown, compared field by field and rolled back, on the
//! embedded sandbox cluster and on a real kube-apiserver, with SQLite and
//! PostgreSQL as the record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::desired_state;
use bi_control::engine::history::{self, FieldChange};
use bi_control::engine::{Engine, Outcome, SnapshotReport, SnapshotStatus, rollback};
use bi_control::{Error, Result};
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::image::ImageRef;
use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::{Value, json};
use support::TestDb;
use support::cluster::{TestCluster, on_every_cluster};

const NEW_EXPORTER: &str = "quay.io/opstree/redis-exporter:v1.99.0";
const EXPORTER_POINTER: &str = "/spec/redisExporter/image";

/// An engine on `cluster`, snapshot 1 of redis with one instance and
/// snapshot 2 after the exporter image changed.
async fn two_snapshots(
    t: &TestDb,
    cluster: &TestCluster,
) -> (Engine, SnapshotReport, SnapshotReport) {
    t.db.migrate().await.unwrap();
    support::install_redis(&t.db).await;
    let engine = Engine::new(t.db.clone(), cluster.client()).await.unwrap();
    let first = engine.snapshot("test").await.unwrap();
    desired_state::change(&t.db, "test", "new exporter", |s| {
        if let Some(BatteryConfig::Redis(redis)) = s.batteries.get_mut(&BatteryKind::Redis) {
            redis.exporter_image = ImageRef::parse(NEW_EXPORTER).unwrap();
        }
        Ok(())
    })
    .await
    .unwrap();
    let second = engine.snapshot("test").await.unwrap();
    assert_eq!(first.status, SnapshotStatus::Succeeded, "{first:#?}");
    assert_eq!(second.status, SnapshotStatus::Succeeded, "{second:#?}");
    (engine, first, second)
}

/// The displayed path of the instance's Redis custom resource.
fn redis_cr_path(report: &SnapshotReport) -> String {
    report
        .outcomes
        .iter()
        .map(|(path, _)| path)
        .find(|path| path.kind == "Redis" && path.name == "cache")
        .expect("the instance's Redis CR is planned")
        .to_string()
}

/// The exporter image of the Redis CR `cache` in the cluster.
async fn cluster_exporter_image(cluster: &TestCluster, report: &SnapshotReport) -> Value {
    let path = report
        .outcomes
        .iter()
        .map(|(path, _)| path)
        .find(|path| path.kind == "Redis" && path.name == "cache")
        .unwrap();
    let (group, version) = path.api_version.split_once('/').unwrap();
    let resource = ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: path.api_version.clone(),
        kind: path.kind.clone(),
        plural: "redis".to_owned(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client(),
        path.namespace.as_deref().unwrap(),
        &resource,
    );
    let object = api.get(&path.name).await.unwrap();
    object.data["spec"]["redisExporter"]["image"].clone()
}

#[tokio::test]
async fn diff_shows_the_exporter_image_change_field_by_field() {
    on_every_cluster(
        "diff_shows_the_exporter_image_change_field_by_field",
        |t, cluster| async move {
            let (_engine, first, second) = two_snapshots(&t, &cluster).await;
            let diff = history::diff(&t.db, first.id, second.id)
                .await
                .unwrap()
                .unwrap();
            eprintln!(
                "diff: {:?}",
                diff.changed.iter().map(|c| &c.path).collect::<Vec<_>>()
            );
            assert!(
                diff.added.is_empty() && diff.removed.is_empty(),
                "{diff:#?}"
            );
            let path = redis_cr_path(&first);
            let redis = diff
                .changed
                .iter()
                .find(|changed| changed.path == path)
                .unwrap_or_else(|| panic!("{path} changed: {diff:#?}"));
            let exporter: Vec<&FieldChange> = redis
                .fields
                .iter()
                .filter(|field| field.pointer == EXPORTER_POINTER)
                .collect();
            assert_eq!(exporter.len(), 1, "{redis:#?}");
            assert_eq!(exporter[0].after, Some(json!(NEW_EXPORTER)));
            assert!(exporter[0].before.is_some());
            assert_ne!(exporter[0].before, exporter[0].after);
            assert!(
                redis
                    .fields
                    .iter()
                    .all(|field| !field.pointer.contains("battery~1hash")),
                "{redis:#?}"
            );

            // Comparing a snapshot with itself finds nothing; a missing one is None.
            let same = history::diff(&t.db, second.id, second.id)
                .await
                .unwrap()
                .unwrap();
            assert!(same.added.is_empty() && same.removed.is_empty() && same.changed.is_empty());
            assert!(
                history::diff(&t.db, first.id, second.id + 100)
                    .await
                    .unwrap()
                    .is_none()
            );
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn list_is_newest_first_and_show_gives_every_outcome() {
    on_every_cluster(
        "list_is_newest_first_and_show_gives_every_outcome",
        |t, cluster| async move {
            let (_engine, first, second) = two_snapshots(&t, &cluster).await;
            let listed = history::list(&t.db, 10).await.unwrap();
            let ids: Vec<i64> = listed.iter().map(|s| s.id).collect();
            assert_eq!(ids, vec![second.id, first.id]);
            assert_eq!(listed[0].desired_version, second.desired_version);
            assert_eq!(listed[0].status, SnapshotStatus::Succeeded);
            assert_eq!(listed[0].trigger, "test");
            assert_eq!(listed[0].counts, second.counts);
            assert!(listed[0].finished_at.is_some());
            assert_eq!(history::list(&t.db, 1).await.unwrap().len(), 1);

            let shown = history::show(&t.db, second.id).await.unwrap().unwrap();
            assert_eq!(shown.summary, listed[0]);
            let outcomes: Vec<(String, String)> = shown
                .resources
                .iter()
                .map(|row| (row.path.clone(), row.outcome.clone()))
                .collect();
            let expected: Vec<(String, String)> = second
                .outcomes
                .iter()
                .map(|(path, outcome)| (path.to_string(), outcome.as_str().to_owned()))
                .collect();
            assert_eq!(outcomes, expected);
            let redis = shown
                .resources
                .iter()
                .find(|row| row.path == redis_cr_path(&second))
                .unwrap();
            assert_eq!(
                (redis.action.as_str(), redis.outcome.as_str()),
                ("update", "updated")
            );
            assert!(redis.hash.is_some() && redis.message.is_none());
            assert!(
                history::show(&t.db, second.id + 100)
                    .await
                    .unwrap()
                    .is_none()
            );
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn rollback_restores_desired_state_and_cluster_and_then_writes_nothing() {
    on_every_cluster(
        "rollback_restores_desired_state_and_cluster_and_then_writes_nothing",
        |t, cluster| async move {
            let (engine, first, second) = two_snapshots(&t, &cluster).await;
            let before = cluster_exporter_image(&cluster, &first).await;
            assert_eq!(before, json!(NEW_EXPORTER));

            let report = rollback(&engine, &t.db, first.id, "alice").await.unwrap();
            assert_eq!(report.status, SnapshotStatus::Succeeded, "{report:#?}");
            assert!(report.desired_version > second.desired_version);
            assert!(report.counts.updated > 0, "{report:#?}");

            // The desired state: a new, audited version equal to snapshot 1's.
            let (current, state) = desired_state::current(&t.db).await.unwrap();
            assert_eq!(current, report.desired_version);
            let old = desired_state::at_version(&t.db, first.desired_version)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(state, old);
            let newest = &desired_state::history(&t.db).await.unwrap()[0];
            assert_eq!(newest.version, current);
            assert_eq!(newest.author, "alice");
            assert_eq!(
                newest.summary,
                format!("rollback to version {}", first.desired_version)
            );
            let listed = history::list(&t.db, 1).await.unwrap();
            assert_eq!(listed[0].trigger, "rollback");

            // The cluster: the old exporter image again, exactly snapshot 1's bodies.
            let restored = cluster_exporter_image(&cluster, &first).await;
            assert_ne!(restored, json!(NEW_EXPORTER));
            let diff = history::diff(&t.db, first.id, report.id)
                .await
                .unwrap()
                .unwrap();
            assert!(
                diff.added.is_empty() && diff.removed.is_empty() && diff.changed.is_empty(),
                "{diff:#?}"
            );

            // The next ordinary snapshot finds nothing to change.
            let before = cluster.writes(&t.db).await;
            let next = engine.snapshot("test").await.unwrap();
            let writes = cluster.writes(&t.db).await.since(&before);
            assert_eq!(writes.total(), 0, "{writes:?}");
            assert!(
                next.outcomes
                    .iter()
                    .all(|(_, outcome)| *outcome == Outcome::Unchanged),
                "{next:#?}"
            );
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn rollback_to_a_missing_snapshot_is_refused_and_changes_nothing() {
    on_every_cluster(
        "rollback_to_a_missing_snapshot_is_refused_and_changes_nothing",
        |t, cluster| async move {
            let (engine, _first, second) = two_snapshots(&t, &cluster).await;
            let refused: Result<SnapshotReport> =
                rollback(&engine, &t.db, second.id + 100, "alice").await;
            assert!(matches!(refused, Err(Error::Rejected(_))), "{refused:?}");
            let restore = desired_state::restore(&t.db, 999, "alice").await;
            assert!(matches!(restore, Err(Error::Rejected(_))), "{restore:?}");
            let (current, _) = desired_state::current(&t.db).await.unwrap();
            assert_eq!(current, second.desired_version);
            assert_eq!(history::list(&t.db, 10).await.unwrap().len(), 2);
            cluster.shutdown().await;
        },
    )
    .await;
}
