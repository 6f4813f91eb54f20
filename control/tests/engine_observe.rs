//! Prepare on clusters that refuse some reads: a managed type bi may not
//! list (RBAC, an aggregated API that is down) does not stop the snapshot;
//! its objects are planned as absent and applied again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bi_control::Database;
use bi_control::desired_state;
use bi_control::engine::{Engine, Outcome, SnapshotStatus};
use bi_model::catalog::BatteryKind;
use bi_sandbox::{Fault, Sandbox, SandboxConfig};

#[tokio::test]
async fn a_type_the_cluster_refuses_to_list_is_reapplied_and_the_snapshot_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bi.db").display());
    let db = Database::connect(&url, None).await.unwrap();
    db.migrate().await.unwrap();
    desired_state::change(&db, "test", "install redis", |state| {
        state.install(&[BatteryKind::Redis]).unwrap();
        Ok(())
    })
    .await
    .unwrap();
    // NB: the sandbox injects the refusal; a real server would need a
    // second, less privileged identity to show the same.
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let engine = Engine::new(db, sandbox.client().unwrap()).await.unwrap();
    let first = engine.snapshot("test").await.unwrap();
    assert_eq!(first.status, SnapshotStatus::Succeeded);

    sandbox.inject(Fault {
        verb: "list".into(),
        resource: "secrets".into(),
        name: None,
        code: 403,
        message: "secrets is forbidden: User \"bi\" cannot list resource \"secrets\"".into(),
        times: 1,
        retry_after: None,
    });
    let second = engine
        .snapshot("test")
        .await
        .expect("one type bi cannot list does not stop the snapshot");
    assert_eq!(second.status, SnapshotStatus::Succeeded, "{second:#?}");
    let secrets: Vec<&Outcome> = second
        .outcomes
        .iter()
        .filter(|(path, _)| path.kind == "Secret")
        .map(|(_, outcome)| outcome)
        .collect();
    assert!(!secrets.is_empty());
    assert!(
        secrets.iter().all(|outcome| **outcome == Outcome::Created),
        "planned as absent, applied again: {secrets:?}"
    );
    assert!(
        second
            .outcomes
            .iter()
            .filter(|(path, _)| path.kind != "Secret")
            .all(|(_, outcome)| *outcome == Outcome::Unchanged)
    );
    sandbox.shutdown().await.unwrap();
}
