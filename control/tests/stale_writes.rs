//! No lost updates: a write that says which version it was read at is
//! refused when its battery, object or project changed since, naming what
//! changed and who changed it, and stores nothing; a change elsewhere is no
//! conflict. On SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::operations::{ObjectKind, ProjectObject, batteries, projects};
use bi_control::{Database, Error, desired_state};
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::generate::Owned;
use bi_model::image::ImageRef;
use bi_model::objects::{PostgresCluster, Project, TraditionalService};
use bi_model::{Problems, Rule};
use support::on_every_backend;

const ALICE: &str = "alice";
const BOB: &str = "bob";

fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

async fn versions(db: &Database) -> usize {
    desired_state::history(db).await.unwrap().len()
}

/// The message and changed fields of a changed-meanwhile refusal; panics
/// on any other outcome.
fn changed_meanwhile<T: std::fmt::Debug>(result: Result<T, Error>) -> (String, Problems) {
    match result {
        Err(Error::ChangedMeanwhile { message, changes }) => (message, changes),
        other => panic!("expected a changed-meanwhile refusal, got {other:?}"),
    }
}

fn web(name: &str, project: Option<&str>) -> ProjectObject {
    ProjectObject::TraditionalService(Owned {
        project: project.map(str::to_owned),
        object: TraditionalService::new(name, ImageRef::parse("nginx:1.27").unwrap()),
    })
}

/// The Loki config as stored now.
async fn loki(db: &Database) -> bi_model::catalog::loki::LokiConfig {
    let (_, state) = desired_state::current(db).await.unwrap();
    match state.batteries.get(&BatteryKind::Loki) {
        Some(BatteryConfig::Loki(loki)) => loki.clone(),
        other => panic!("loki is not installed: {other:?}"),
    }
}

#[tokio::test]
async fn a_stale_battery_form_is_refused_naming_the_field_and_who_changed_it() {
    on_every_backend(
        "a_stale_battery_form_is_refused_naming_the_field_and_who_changed_it",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(&t.db, ALICE, BatteryConfig::default_for(BatteryKind::Loki))
                .await
                .unwrap();
            // Alice opens the form; Bob changes the storage meanwhile.
            let read = batteries::show(&t.db, BatteryKind::Loki).await.unwrap();
            let mut form = loki(&t.db).await;
            batteries::configure(
                &t.db,
                BOB,
                BatteryKind::Loki,
                &settings(&[("storage", "40Gi")]),
                None,
            )
            .await
            .unwrap();
            let before = versions(&t.db).await;

            form.replicas = 2;
            let (message, changes) = changed_meanwhile(
                batteries::replace_config(
                    &t.db,
                    ALICE,
                    BatteryConfig::Loki(form.clone()),
                    Some(read.version),
                )
                .await,
            );
            let change = changes.for_field("loki.storage").expect("loki.storage");
            assert_eq!(change.rule, Rule::ChangedMeanwhile);
            assert!(change.message.contains("40Gi"), "{}", change.message);
            assert_eq!(changes.len(), 1, "{changes}");
            assert!(message.contains("by bob"), "{message}");
            assert!(
                message.contains("configure loki: storage=40Gi"),
                "{message}"
            );
            assert_eq!(versions(&t.db).await, before, "nothing was stored");
            assert_eq!(loki(&t.db).await.replicas, 1);

            // Without a version the last writer still wins, as before.
            batteries::replace_config(&t.db, ALICE, BatteryConfig::Loki(form), None)
                .await
                .unwrap();
            assert_eq!(versions(&t.db).await, before + 1);
        },
    )
    .await;
}

#[tokio::test]
async fn key_value_settings_and_uninstall_are_refused_when_stale_too() {
    on_every_backend(
        "key_value_settings_and_uninstall_are_refused_when_stale_too",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(&t.db, ALICE, BatteryConfig::default_for(BatteryKind::Loki))
                .await
                .unwrap();
            let read = batteries::show(&t.db, BatteryKind::Loki).await.unwrap();
            batteries::configure(
                &t.db,
                BOB,
                BatteryKind::Loki,
                &settings(&[("replicas", "3")]),
                None,
            )
            .await
            .unwrap();
            let before = versions(&t.db).await;
            let (_, changes) = changed_meanwhile(
                batteries::configure(
                    &t.db,
                    ALICE,
                    BatteryKind::Loki,
                    &settings(&[("storage", "20Gi")]),
                    Some(read.version),
                )
                .await,
            );
            assert!(changes.for_field("loki.replicas").is_some(), "{changes}");
            changed_meanwhile(
                batteries::uninstall(&t.db, ALICE, BatteryKind::Loki, Some(read.version)).await,
            );
            assert_eq!(versions(&t.db).await, before);
        },
    )
    .await;
}

#[tokio::test]
async fn a_change_to_another_battery_does_not_make_a_form_stale() {
    on_every_backend(
        "a_change_to_another_battery_does_not_make_a_form_stale",
        |t| async move {
            t.db.migrate().await.unwrap();
            for kind in [BatteryKind::Loki, BatteryKind::Grafana] {
                batteries::install(&t.db, ALICE, BatteryConfig::default_for(kind))
                    .await
                    .unwrap();
            }
            let read = batteries::show(&t.db, BatteryKind::Loki).await.unwrap();
            let mut form = loki(&t.db).await;
            batteries::configure(
                &t.db,
                BOB,
                BatteryKind::Grafana,
                &settings(&[("storage", "20Gi")]),
                None,
            )
            .await
            .unwrap();
            form.replicas = 2;
            let version = batteries::replace_config(
                &t.db,
                ALICE,
                BatteryConfig::Loki(form),
                Some(read.version),
            )
            .await
            .unwrap();
            assert_eq!(version, read.version + 2);
            assert_eq!(loki(&t.db).await.replicas, 2);
        },
    )
    .await;
}

#[tokio::test]
async fn a_stale_object_update_is_refused_and_stores_nothing() {
    on_every_backend(
        "a_stale_object_update_is_refused_and_stores_nothing",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                ALICE,
                BatteryConfig::default_for(BatteryKind::CloudnativePg),
            )
            .await
            .unwrap();
            projects::add_object(
                &t.db,
                ALICE,
                ProjectObject::PostgresCluster(Owned::unowned(PostgresCluster {
                    name: "main".into(),
                    ..PostgresCluster::default()
                })),
            )
            .await
            .unwrap();
            let read = projects::object(&t.db, ObjectKind::PostgresCluster, "main")
                .await
                .unwrap();
            let ProjectObject::PostgresCluster(mut theirs) = read.object.clone() else {
                panic!("not a postgres cluster");
            };
            theirs.object.instances = 3;
            projects::update_object(&t.db, BOB, ProjectObject::PostgresCluster(theirs), None)
                .await
                .unwrap();
            let before = versions(&t.db).await;

            let ProjectObject::PostgresCluster(mut mine) = read.object else {
                panic!("not a postgres cluster");
            };
            mine.object.instances = 2;
            let (message, changes) = changed_meanwhile(
                projects::update_object(
                    &t.db,
                    ALICE,
                    ProjectObject::PostgresCluster(mine),
                    Some(read.version),
                )
                .await,
            );
            assert_eq!(
                changes
                    .for_field("object.instances")
                    .map(|c| c.message.as_str()),
                Some(format!("was 1 at version {}, is 3 now", read.version).as_str())
            );
            assert!(message.contains("postgres cluster main"), "{message}");
            assert!(message.contains("by bob"), "{message}");
            assert_eq!(versions(&t.db).await, before);
            changed_meanwhile(
                projects::remove_object(
                    &t.db,
                    ALICE,
                    ObjectKind::PostgresCluster,
                    "main",
                    Some(read.version),
                )
                .await,
            );
            assert_eq!(versions(&t.db).await, before);
        },
    )
    .await;
}

#[tokio::test]
async fn a_stale_scale_is_refused_but_a_change_to_another_service_is_not() {
    on_every_backend(
        "a_stale_scale_is_refused_but_a_change_to_another_service_is_not",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                ALICE,
                BatteryConfig::default_for(BatteryKind::TraditionalServices),
            )
            .await
            .unwrap();
            for name in ["web", "api"] {
                projects::add_object(&t.db, ALICE, web(name, None))
                    .await
                    .unwrap();
            }
            let read = projects::object(&t.db, ObjectKind::TraditionalService, "web")
                .await
                .unwrap();
            projects::scale_service(&t.db, BOB, "web", 4, None)
                .await
                .unwrap();
            let before = versions(&t.db).await;
            let (_, changes) = changed_meanwhile(
                projects::scale_service(&t.db, ALICE, "web", 2, Some(read.version)).await,
            );
            assert!(
                changes
                    .for_field("object.replicas")
                    .is_some_and(|c| c.message.ends_with("is 4 now")),
                "{changes}"
            );
            assert_eq!(versions(&t.db).await, before);

            // Read api at the same old version: only web changed since.
            projects::scale_service(&t.db, ALICE, "api", 2, Some(read.version))
                .await
                .unwrap();
            assert_eq!(versions(&t.db).await, before + 1);
        },
    )
    .await;
}

#[tokio::test]
async fn renaming_a_project_whose_objects_changed_meanwhile_is_refused() {
    on_every_backend(
        "renaming_a_project_whose_objects_changed_meanwhile_is_refused",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                ALICE,
                BatteryConfig::default_for(BatteryKind::TraditionalServices),
            )
            .await
            .unwrap();
            projects::create(
                &t.db,
                ALICE,
                Project {
                    name: "shop".into(),
                    description: String::new(),
                },
            )
            .await
            .unwrap();
            let read = projects::show(&t.db, "shop").await.unwrap();
            projects::add_object(&t.db, BOB, web("web", Some("shop")))
                .await
                .unwrap();
            let before = versions(&t.db).await;
            let (message, _) = changed_meanwhile(
                projects::rename(&t.db, ALICE, "shop", "store", Some(read.version)).await,
            );
            assert!(message.contains("project shop"), "{message}");
            changed_meanwhile(
                projects::delete(&t.db, ALICE, "shop", true, Some(read.version)).await,
            );
            assert_eq!(versions(&t.db).await, before);
        },
    )
    .await;
}

#[tokio::test]
async fn an_expected_version_that_is_no_version_is_refused_by_name() {
    on_every_backend(
        "an_expected_version_that_is_no_version_is_refused_by_name",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(&t.db, ALICE, BatteryConfig::default_for(BatteryKind::Loki))
                .await
                .unwrap();
            let form = loki(&t.db).await;
            for expected in [2, -1] {
                let result = batteries::replace_config(
                    &t.db,
                    ALICE,
                    BatteryConfig::Loki(form.clone()),
                    Some(expected),
                )
                .await;
                let Err(Error::Rejected(problems)) = result else {
                    panic!("{expected} was not refused: {result:?}");
                };
                let problem = problems.for_field("expected_version").expect("named");
                assert_eq!(problem.rule, Rule::Range);
            }
            assert_eq!(versions(&t.db).await, 1);
            // Version 0 (before the first change) exists: loki was not
            // installed then, so a form read there is stale now.
            changed_meanwhile(
                batteries::replace_config(&t.db, ALICE, BatteryConfig::Loki(form), Some(0)).await,
            );
        },
    )
    .await;
}
