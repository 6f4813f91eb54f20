//! Health from the cluster: each app's workloads against what the sandbox
//! reports ready, and capacity from its nodes against the desired requests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::engine::Engine;
use bi_control::health::{self, Readiness};
use bi_control::sandbox::{Sandbox, SandboxConfig};
use bi_model::catalog::BatteryKind;
use bi_model::units::{Cpu, Memory};
use support::on_every_backend;

#[tokio::test]
async fn batteries_are_missing_until_applied_then_ready_with_capacity_counted() {
    on_every_backend(
        "batteries_are_missing_until_applied_then_ready_with_capacity_counted",
        |t| async move {
            t.db.migrate().await.unwrap();
            support::install_redis(&t.db).await;
            let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
            let client = sandbox.client().unwrap();

            let before = health::read(&t.db, &client).await.unwrap();
            let redis = before
                .apps
                .iter()
                .find(|app| app.battery == Some(BatteryKind::Redis))
                .unwrap();
            assert_eq!(redis.readiness, Readiness::Missing);
            assert_eq!(before.nodes, 3);
            assert_eq!(before.capacity.allocatable_cpu, Cpu::millicores(12_000));
            assert_eq!(before.capacity.allocatable_memory, Memory::gibibytes(48));
            assert!(before.capacity.requested_memory > Memory::ZERO);
            assert_eq!(
                health::capacity(&t.db, &client).await.unwrap(),
                before.capacity,
                "the forms' capacity is the dashboard's"
            );

            Engine::new(t.db.clone(), client.clone())
                .await
                .unwrap()
                .snapshot("test")
                .await
                .unwrap();
            let mut after = health::read(&t.db, &client).await.unwrap();
            for _ in 0..50 {
                if after
                    .apps
                    .iter()
                    .all(|app| app.readiness != Readiness::Progressing)
                {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                after = health::read(&t.db, &client).await.unwrap();
            }
            let redis = after
                .apps
                .iter()
                .find(|app| app.battery == Some(BatteryKind::Redis))
                .unwrap();
            assert_eq!(redis.readiness, Readiness::Ready, "{redis:#?}");
            assert!(!redis.workloads.is_empty());
            assert_eq!(after.apps[0].battery, Some(BatteryKind::BatteryCore));
            sandbox.shutdown().await.unwrap();
        },
    )
    .await;
}
