//! Health from the cluster: each app's workloads against what the cluster
//! reports ready, and capacity from its nodes against the desired requests —
//! on the sandbox (three nodes, workloads ready shortly after they are
//! applied) and on a real kube-apiserver (no nodes, so no pod ever runs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::cache::Cache;
use bi_control::engine::Engine;
use bi_control::health::{self, Readiness};
use bi_model::catalog::BatteryKind;
use bi_model::units::{Cpu, Memory};
use support::cluster::on_every_cluster;

#[tokio::test]
async fn batteries_are_missing_until_applied_then_ready_with_capacity_counted() {
    on_every_cluster(
        "batteries_are_missing_until_applied_then_ready_with_capacity_counted",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            support::install_redis(&t.db).await;
            let client = cluster.client();
            let cache = Cache::new(client.clone());

            let before = health::read(&t.db, &cache).await.unwrap();
            let redis = before
                .apps
                .iter()
                .find(|app| app.battery == Some(BatteryKind::Redis))
                .unwrap();
            assert_eq!(redis.readiness, Readiness::Missing);
            if cluster.is_real() {
                // NB: realk8s runs no kubelet, so no node registers.
                assert_eq!(before.nodes, 0);
                assert_eq!(before.capacity.allocatable_cpu, Cpu::ZERO);
                assert_eq!(before.capacity.allocatable_memory, Memory::ZERO);
            } else {
                assert_eq!(before.nodes, 3);
                assert_eq!(before.capacity.allocatable_cpu, Cpu::millicores(12_000));
                assert_eq!(before.capacity.allocatable_memory, Memory::gibibytes(48));
            }
            assert!(before.capacity.requested_memory > Memory::ZERO);
            assert_eq!(
                health::capacity(&t.db, &cache).await.unwrap(),
                before.capacity,
                "the forms' capacity is the dashboard's"
            );

            Engine::new(t.db.clone(), client.clone())
                .await
                .unwrap()
                .snapshot("test")
                .await
                .unwrap();
            // NB: the cache follows the cluster by its watches: what the
            // snapshot applied shows a moment later. On a real server
            // without nodes a workload stays progressing for ever.
            let settled = |readiness: Readiness| {
                readiness != Readiness::Missing
                    && (cluster.is_real() || readiness != Readiness::Progressing)
            };
            let mut after = health::read(&t.db, &cache).await.unwrap();
            for _ in 0..50 {
                if after.apps.iter().all(|app| settled(app.readiness)) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                after = health::read(&t.db, &cache).await.unwrap();
            }
            let redis = after
                .apps
                .iter()
                .find(|app| app.battery == Some(BatteryKind::Redis))
                .unwrap();
            assert!(!redis.workloads.is_empty());
            if cluster.is_real() {
                // Applied, so present, but with no node no replica is ready:
                // only a cluster with nodes (or the sandbox) shows it ready.
                assert_eq!(redis.readiness, Readiness::Progressing, "{redis:#?}");
                assert!(
                    redis.workloads.iter().all(|w| w.ready == Some(0)),
                    "{redis:#?}"
                );
            } else {
                assert_eq!(redis.readiness, Readiness::Ready, "{redis:#?}");
            }
            assert_eq!(after.apps[0].battery, Some(BatteryKind::BatteryCore));
            cluster.shutdown().await;
        },
    )
    .await;
}
