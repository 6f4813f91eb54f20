//! The operations layer on batteries and projects, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::operations::{ObjectKind, ProjectObject, batteries, projects};
use bi_control::{Database, Error, desired_state};
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::generate::Owned;
use bi_model::image::ImageRef;
use bi_model::objects::{PostgresCluster, Project, RedisInstance, TraditionalService};
use bi_model::units::Storage;
use bi_model::{FieldError, Problems, Rule};
use support::on_every_backend;

const AUTHOR: &str = "alice";

fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// The default config of `kind` with `key=value` settings applied by the
/// input layer, as the JSON API makes it before installing.
fn with_settings(kind: BatteryKind, pairs: &[(&str, &str)]) -> Result<BatteryConfig, Problems> {
    bi_model::input::apply_settings(&BatteryConfig::default_for(kind), &settings(pairs))
}

/// The problems of a refusal; panics on any other outcome.
fn rejected<T: std::fmt::Debug>(result: Result<T, Error>) -> Problems {
    match result {
        Err(Error::Rejected(problems)) => problems,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn only<'a>(problems: &'a Problems, field: &str) -> &'a FieldError {
    problems
        .for_field(field)
        .unwrap_or_else(|| panic!("no problem on {field}: {problems}"))
}

async fn versions(db: &Database) -> usize {
    desired_state::history(db).await.unwrap().len()
}

fn project(name: &str) -> Project {
    Project {
        name: name.to_owned(),
        description: String::new(),
    }
}

fn redis(name: &str, project: Option<&str>) -> ProjectObject {
    ProjectObject::RedisInstance(Owned {
        project: project.map(str::to_owned),
        object: RedisInstance {
            name: name.to_owned(),
            ..RedisInstance::default()
        },
    })
}

fn postgres(name: &str, project: Option<&str>) -> ProjectObject {
    ProjectObject::PostgresCluster(Owned {
        project: project.map(str::to_owned),
        object: PostgresCluster {
            name: name.to_owned(),
            ..PostgresCluster::default()
        },
    })
}

fn web(name: &str) -> ProjectObject {
    ProjectObject::TraditionalService(Owned::unowned(TraditionalService::new(
        name,
        ImageRef::parse("nginx:1.27").unwrap(),
    )))
}

#[tokio::test]
async fn install_brings_dependencies_in_order() {
    on_every_backend("install_brings_dependencies_in_order", |t| async move {
        t.db.migrate().await.unwrap();
        let preview = batteries::preview_install(&t.db, BatteryKind::Sso)
            .await
            .unwrap();
        let order = [
            BatteryKind::CloudnativePg,
            BatteryKind::Keycloak,
            BatteryKind::Sso,
        ];
        assert_eq!(preview.to_install, order);

        let outcome =
            batteries::install(&t.db, AUTHOR, BatteryConfig::default_for(BatteryKind::Sso))
                .await
                .unwrap();
        assert_eq!(outcome.version, 1);
        assert_eq!(outcome.installed, order);
        let (_, state) = desired_state::current(&t.db).await.unwrap();
        for kind in order {
            assert_eq!(
                state.batteries.get(&kind),
                Some(&BatteryConfig::default_for(kind))
            );
        }
        let history = desired_state::history(&t.db).await.unwrap();
        assert_eq!(
            history[0].summary,
            "install sso (with cloudnative_pg, keycloak)"
        );
        assert_eq!(history[0].author, AUTHOR);

        let keycloak = batteries::show(&t.db, BatteryKind::Keycloak).await.unwrap();
        assert!(keycloak.installed);
        assert_eq!(keycloak.dependents, [BatteryKind::Sso]);
        let listed = batteries::list(&t.db).await.unwrap();
        assert_eq!(listed.len(), BatteryKind::ALL.len());
        assert_eq!(listed[0].kind, BatteryKind::BatteryCore);
        let installed: Vec<_> = listed
            .iter()
            .filter(|b| b.installed)
            .map(|b| b.kind)
            .collect();
        assert_eq!(installed.len(), 4, "{installed:?}");
        // The dashboard's list: the same batteries, in catalog order, named.
        let dashboard = batteries::list_installed(&t.db).await.unwrap();
        let kinds: Vec<_> = dashboard.iter().map(|b| b.kind).collect();
        assert_eq!(kinds, installed);
        assert_eq!(dashboard[0].name, BatteryKind::BatteryCore.info().name);
    })
    .await;
}

#[tokio::test]
async fn installing_twice_is_refused_pointing_to_configure() {
    on_every_backend(
        "installing_twice_is_refused_pointing_to_configure",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::Redis),
            )
            .await
            .unwrap();
            let problems = rejected(
                batteries::install(
                    &t.db,
                    AUTHOR,
                    BatteryConfig::default_for(BatteryKind::Redis),
                )
                .await,
            );
            let error = only(&problems, "battery");
            assert_eq!(error.rule, Rule::Consistency);
            assert_eq!(
                error.message,
                "redis is already installed; use configure to change it"
            );
            assert_eq!(versions(&t.db).await, 1);
        },
    )
    .await;
}

#[tokio::test]
async fn install_with_a_size_setting_stores_it() {
    on_every_backend("install_with_a_size_setting_stores_it", |t| async move {
        t.db.migrate().await.unwrap();
        let outcome = batteries::install(
            &t.db,
            AUTHOR,
            with_settings(BatteryKind::Grafana, &[("storage", "512Mi")]).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.installed, [BatteryKind::Grafana]);
        let (_, state) = desired_state::current(&t.db).await.unwrap();
        let Some(BatteryConfig::Grafana(grafana)) = state.batteries.get(&BatteryKind::Grafana)
        else {
            panic!("grafana is not installed");
        };
        assert_eq!(grafana.storage, Storage::mebibytes(512));
        let history = desired_state::history(&t.db).await.unwrap();
        assert_eq!(history[0].summary, "install grafana: storage=512Mi");
    })
    .await;
}

#[tokio::test]
async fn install_refuses_an_invalid_config_and_stores_nothing() {
    on_every_backend(
        "install_refuses_an_invalid_config_and_stores_nothing",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::Redis),
            )
            .await
            .unwrap();
            let before = versions(&t.db).await;
            let BatteryConfig::Grafana(mut grafana) =
                BatteryConfig::default_for(BatteryKind::Grafana)
            else {
                panic!("not grafana");
            };
            grafana.storage = Storage::mebibytes(1);
            let problems =
                rejected(batteries::install(&t.db, AUTHOR, BatteryConfig::Grafana(grafana)).await);
            assert_eq!(only(&problems, "grafana.storage").rule, Rule::Range);
            assert_eq!(versions(&t.db).await, before);
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            assert!(!state.batteries.contains_key(&BatteryKind::Grafana));
        },
    )
    .await;
}

#[tokio::test]
async fn configure_refuses_a_size_without_unit_and_an_unknown_key_and_stores_nothing() {
    on_every_backend(
        "configure_refuses_a_size_without_unit_and_an_unknown_key_and_stores_nothing",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::Grafana),
            )
            .await
            .unwrap();
            let before = versions(&t.db).await;
            let problems = rejected(
                batteries::configure(
                    &t.db,
                    AUTHOR,
                    BatteryKind::Grafana,
                    &settings(&[("storage", "500"), ("memory", "512Mi")]),
                    None,
                )
                .await,
            );
            let error = only(&problems, "grafana.storage");
            assert_eq!(error.message, "\"500\" has no unit: did you mean 500 GiB?");
            assert_eq!(error.rule, Rule::Unit);
            assert_eq!(
                only(&problems, "grafana.memory").message,
                "grafana has no setting \"memory\"; valid keys: image, sidecar_image, storage"
            );
            assert_eq!(versions(&t.db).await, before);
        },
    )
    .await;
}

#[tokio::test]
async fn configure_applies_settings_and_replace_config_stores_a_whole_config() {
    on_every_backend(
        "configure_applies_settings_and_replace_config_stores_a_whole_config",
        |t| async move {
            t.db.migrate().await.unwrap();
            let problems = rejected(
                batteries::configure(
                    &t.db,
                    AUTHOR,
                    BatteryKind::Loki,
                    &settings(&[("replicas", "3")]),
                    None,
                )
                .await,
            );
            assert_eq!(
                only(&problems, "battery").message,
                "loki is not installed; install it first"
            );

            batteries::install(&t.db, AUTHOR, BatteryConfig::default_for(BatteryKind::Loki))
                .await
                .unwrap();
            let version = batteries::configure(
                &t.db,
                AUTHOR,
                BatteryKind::Loki,
                &settings(&[("replicas", "3"), ("storage", "20Gi")]),
                None,
            )
            .await
            .unwrap();
            assert_eq!(version, 2);
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            let Some(BatteryConfig::Loki(loki)) = state.batteries.get(&BatteryKind::Loki).cloned()
            else {
                panic!("loki is not installed");
            };
            assert_eq!(loki.replicas, 3);
            assert_eq!(loki.storage, Storage::gibibytes(20));
            let history = desired_state::history(&t.db).await.unwrap();
            assert_eq!(
                history[0].summary,
                "configure loki: replicas=3, storage=20Gi"
            );

            let problems = rejected(
                batteries::configure(
                    &t.db,
                    AUTHOR,
                    BatteryKind::Loki,
                    &settings(&[("replicas", "many"), ("storage", "500")]),
                    None,
                )
                .await,
            );
            assert_eq!(problems.len(), 2, "{problems}");
            assert_eq!(versions(&t.db).await, 2);

            let mut edited = loki.clone();
            edited.replicas = 2;
            batteries::replace_config(&t.db, AUTHOR, BatteryConfig::Loki(edited.clone()), None)
                .await
                .unwrap();
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            assert_eq!(
                state.batteries.get(&BatteryKind::Loki),
                Some(&BatteryConfig::Loki(edited))
            );
            let history = desired_state::history(&t.db).await.unwrap();
            assert_eq!(history[0].summary, "configure loki: replicas=2");
        },
    )
    .await;
}

#[tokio::test]
async fn uninstall_is_refused_naming_dependents_and_then_succeeds() {
    on_every_backend(
        "uninstall_is_refused_naming_dependents_and_then_succeeds",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(&t.db, AUTHOR, BatteryConfig::default_for(BatteryKind::Sso))
                .await
                .unwrap();
            let problems =
                rejected(batteries::uninstall(&t.db, AUTHOR, BatteryKind::Keycloak, None).await);
            let error = only(&problems, "battery");
            assert_eq!(error.rule, Rule::Dependency);
            assert_eq!(
                error.message,
                "cannot uninstall keycloak: sso depend(s) on it; uninstall them first"
            );
            assert_eq!(versions(&t.db).await, 1);

            let outcome = batteries::uninstall(&t.db, AUTHOR, BatteryKind::Sso, None)
                .await
                .unwrap();
            assert_eq!(outcome.version, 2);
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            assert!(!state.batteries.contains_key(&BatteryKind::Sso));
            assert!(state.batteries.contains_key(&BatteryKind::Keycloak));
            let history = desired_state::history(&t.db).await.unwrap();
            assert_eq!(history[0].summary, "uninstall sso");
        },
    )
    .await;
}

#[tokio::test]
async fn uninstall_reports_integrations_turning_off() {
    on_every_backend(
        "uninstall_reports_integrations_turning_off",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::Grafana),
            )
            .await
            .unwrap();
            let installed =
                batteries::install(&t.db, AUTHOR, BatteryConfig::default_for(BatteryKind::Loki))
                    .await
                    .unwrap();
            let on: Vec<_> = installed
                .integrations
                .iter()
                .map(|i| (i.battery, i.partner))
                .collect();
            assert_eq!(on, [(BatteryKind::Grafana, BatteryKind::Loki)]);
            let outcome = batteries::uninstall(&t.db, AUTHOR, BatteryKind::Loki, None)
                .await
                .unwrap();
            let off: Vec<_> = outcome
                .integrations_off
                .iter()
                .map(|i| (i.battery, i.partner))
                .collect();
            assert_eq!(off, [(BatteryKind::Grafana, BatteryKind::Loki)]);
        },
    )
    .await;
}

#[tokio::test]
async fn a_battery_bi_needs_cannot_be_uninstalled() {
    on_every_backend("a_battery_bi_needs_cannot_be_uninstalled", |t| async move {
        t.db.migrate().await.unwrap();
        batteries::install(
            &t.db,
            AUTHOR,
            BatteryConfig::default_for(BatteryKind::CloudnativePg),
        )
        .await
        .unwrap();
        for kind in [BatteryKind::CloudnativePg, BatteryKind::BatteryCore] {
            let problems = rejected(batteries::uninstall(&t.db, AUTHOR, kind, None).await);
            assert_eq!(
                only(&problems, "battery").message,
                format!("{kind} cannot be uninstalled: bi needs it")
            );
        }
        let problems =
            rejected(batteries::uninstall(&t.db, AUTHOR, BatteryKind::Redis, None).await);
        assert_eq!(only(&problems, "battery").message, "redis is not installed");
        assert_eq!(versions(&t.db).await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_control_server_moves_to_postgres_only_with_cloudnative_pg() {
    on_every_backend(
        "the_control_server_moves_to_postgres_only_with_cloudnative_pg",
        |t| async move {
            t.db.migrate().await.unwrap();
            let postgres = [("database".to_owned(), "postgres".to_owned())];
            let problems = rejected(
                batteries::configure(&t.db, AUTHOR, BatteryKind::BatteryCore, &postgres, None)
                    .await,
            );
            let error = only(&problems, "batteries.battery_core.database");
            assert_eq!(error.rule, Rule::Dependency);
            assert!(
                error.message.contains("needs cloudnative_pg"),
                "{}",
                error.message
            );
            assert_eq!(versions(&t.db).await, 0);
            let problems = rejected(
                batteries::configure(
                    &t.db,
                    AUTHOR,
                    BatteryKind::BatteryCore,
                    &[("database".to_owned(), "mysql".to_owned())],
                    None,
                )
                .await,
            );
            assert!(
                problems.for_field("battery_core.database").is_some(),
                "{problems:?}"
            );

            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::CloudnativePg),
            )
            .await
            .unwrap();
            batteries::configure(&t.db, AUTHOR, BatteryKind::BatteryCore, &postgres, None)
                .await
                .unwrap();
            // The secrets its database needs exist once a snapshot asks.
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            let secrets = desired_state::secrets_for(&t.db, &state).await.unwrap();
            assert!(secrets.get("postgres/control-server/bi").is_some());
        },
    )
    .await;
}

#[tokio::test]
async fn uninstall_is_refused_while_objects_run_on_the_battery() {
    on_every_backend(
        "uninstall_is_refused_while_objects_run_on_the_battery",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::Redis),
            )
            .await
            .unwrap();
            projects::add_object(&t.db, AUTHOR, redis("cache", None))
                .await
                .unwrap();
            let problems =
                rejected(batteries::uninstall(&t.db, AUTHOR, BatteryKind::Redis, None).await);
            assert_eq!(
                only(&problems, "battery").message,
                "cannot uninstall redis: redis instance cache need(s) it; remove them first"
            );
            projects::remove_object(&t.db, AUTHOR, ObjectKind::RedisInstance, "cache", None)
                .await
                .unwrap();
            batteries::uninstall(&t.db, AUTHOR, BatteryKind::Redis, None)
                .await
                .unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn projects_are_created_renamed_with_their_objects_and_deleted() {
    on_every_backend(
        "projects_are_created_renamed_with_their_objects_and_deleted",
        |t| async move {
            t.db.migrate().await.unwrap();
            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::Redis),
            )
            .await
            .unwrap();
            projects::create(&t.db, AUTHOR, project("shop"))
                .await
                .unwrap();
            let problems = rejected(projects::create(&t.db, AUTHOR, project("shop")).await);
            assert_eq!(only(&problems, "name").rule, Rule::Unique);
            let problems = rejected(projects::create(&t.db, AUTHOR, project("My Shop")).await);
            assert_eq!(only(&problems, "name").rule, Rule::DnsLabel);

            projects::add_object(&t.db, AUTHOR, redis("cache", Some("shop")))
                .await
                .unwrap();
            projects::add_object(&t.db, AUTHOR, redis("loose", None))
                .await
                .unwrap();

            projects::rename(&t.db, AUTHOR, "shop", "store", None)
                .await
                .unwrap();
            let detail = projects::show(&t.db, "store").await.unwrap();
            let names: Vec<_> = detail
                .objects
                .iter()
                .map(|o| (o.kind, o.name.as_str()))
                .collect();
            assert_eq!(names, [(ObjectKind::RedisInstance, "cache")]);
            let problems = rejected(projects::show(&t.db, "shop").await);
            assert_eq!(
                only(&problems, "project").message,
                "there is no project \"shop\""
            );
            let listed = projects::list(&t.db).await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].project.name, "store");
            assert_eq!(listed[0].object_count, 1);

            let before = versions(&t.db).await;
            let problems = rejected(projects::delete(&t.db, AUTHOR, "store", false, None).await);
            assert_eq!(
                only(&problems, "project").message,
                "project store still holds redis instance cache; \
                 remove them first or delete with cascade"
            );
            assert_eq!(versions(&t.db).await, before);

            projects::delete(&t.db, AUTHOR, "store", true, None)
                .await
                .unwrap();
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            assert!(state.projects.is_empty());
            let left: Vec<_> = state
                .redis_instances
                .iter()
                .map(|o| o.object.name.as_str())
                .collect();
            assert_eq!(left, ["loose"]);
            let history = desired_state::history(&t.db).await.unwrap();
            assert_eq!(
                history[0].summary,
                "delete project store with redis instance cache"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_postgres_cluster_without_its_battery_is_refused() {
    on_every_backend(
        "a_postgres_cluster_without_its_battery_is_refused",
        |t| async move {
            t.db.migrate().await.unwrap();
            let problems =
                rejected(projects::add_object(&t.db, AUTHOR, postgres("main", None)).await);
            let error = only(&problems, "battery");
            assert_eq!(error.rule, Rule::Dependency);
            assert_eq!(
                error.message,
                "postgres clusters need the cloudnative_pg battery; install it first"
            );
            assert_eq!(versions(&t.db).await, 0);

            batteries::install(
                &t.db,
                AUTHOR,
                BatteryConfig::default_for(BatteryKind::CloudnativePg),
            )
            .await
            .unwrap();
            projects::add_object(&t.db, AUTHOR, postgres("main", None))
                .await
                .unwrap();
            let problems = rejected(
                projects::add_object(&t.db, AUTHOR, postgres("other", Some("nope"))).await,
            );
            assert_eq!(
                only(&problems, "project").message,
                "there is no project \"nope\"; create it first"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn duplicate_names_are_refused_per_kind() {
    on_every_backend("duplicate_names_are_refused_per_kind", |t| async move {
        t.db.migrate().await.unwrap();
        batteries::install(
            &t.db,
            AUTHOR,
            BatteryConfig::default_for(BatteryKind::Redis),
        )
        .await
        .unwrap();
        batteries::install(
            &t.db,
            AUTHOR,
            BatteryConfig::default_for(BatteryKind::CloudnativePg),
        )
        .await
        .unwrap();
        projects::add_object(&t.db, AUTHOR, redis("main", None))
            .await
            .unwrap();
        let before = versions(&t.db).await;
        let problems = rejected(projects::add_object(&t.db, AUTHOR, redis("main", None)).await);
        let error = only(&problems, "object.name");
        assert_eq!(error.rule, Rule::Unique);
        assert_eq!(
            error.message,
            "a redis instance named \"main\" already exists"
        );
        assert_eq!(versions(&t.db).await, before);
        // Another kind may use the same name.
        projects::add_object(&t.db, AUTHOR, postgres("main", None))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn objects_are_updated_scaled_and_removed() {
    on_every_backend("objects_are_updated_scaled_and_removed", |t| async move {
        t.db.migrate().await.unwrap();
        batteries::install(
            &t.db,
            AUTHOR,
            BatteryConfig::default_for(BatteryKind::TraditionalServices),
        )
        .await
        .unwrap();
        batteries::install(
            &t.db,
            AUTHOR,
            BatteryConfig::default_for(BatteryKind::CloudnativePg),
        )
        .await
        .unwrap();
        projects::add_object(&t.db, AUTHOR, web("web"))
            .await
            .unwrap();
        projects::scale_service(&t.db, AUTHOR, "web", 3, None)
            .await
            .unwrap();
        let ProjectObject::TraditionalService(service) =
            projects::object(&t.db, ObjectKind::TraditionalService, "web")
                .await
                .unwrap()
                .object
        else {
            panic!("not a traditional service");
        };
        assert_eq!(service.object.replicas, 3);
        let problems = rejected(projects::scale_service(&t.db, AUTHOR, "web", 1000, None).await);
        assert_eq!(only(&problems, "replicas").rule, Rule::Range);
        let problems = rejected(projects::scale_service(&t.db, AUTHOR, "api", 1, None).await);
        assert_eq!(
            only(&problems, "name").message,
            "there is no traditional service named \"api\""
        );

        projects::add_object(&t.db, AUTHOR, postgres("main", None))
            .await
            .unwrap();
        let ProjectObject::PostgresCluster(mut cluster) =
            projects::object(&t.db, ObjectKind::PostgresCluster, "main")
                .await
                .unwrap()
                .object
        else {
            panic!("not a postgres cluster");
        };
        cluster.object.instances = 3;
        projects::update_object(
            &t.db,
            AUTHOR,
            ProjectObject::PostgresCluster(cluster.clone()),
            None,
        )
        .await
        .unwrap();
        cluster.object.storage = Storage::mebibytes(1);
        let problems = rejected(
            projects::update_object(&t.db, AUTHOR, ProjectObject::PostgresCluster(cluster), None)
                .await,
        );
        assert!(
            problems.iter().any(|p| p.field == "object.storage"),
            "{problems}"
        );

        projects::remove_object(&t.db, AUTHOR, ObjectKind::TraditionalService, "web", None)
            .await
            .unwrap();
        let problems = rejected(
            projects::remove_object(&t.db, AUTHOR, ObjectKind::TraditionalService, "web", None)
                .await,
        );
        assert_eq!(only(&problems, "name").rule, Rule::Consistency);
        let objects = projects::objects(&t.db).await.unwrap();
        let names: Vec<_> = objects.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["postgres cluster main"]);
        let history = desired_state::history(&t.db).await.unwrap();
        assert_eq!(history[0].summary, "remove traditional service web");
    })
    .await;
}
