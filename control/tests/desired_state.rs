//! The desired state's history and secrets, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::Error;
use bi_control::desired_state::{self, SECRET_LENGTH};
use bi_model::Rule;
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::generate::Owned;
use bi_model::objects::RedisInstance;
use support::on_every_backend;

fn install(state: &mut bi_model::generate::DesiredState, kind: BatteryKind) {
    state
        .install(&[kind])
        .expect("the catalog's dependencies have no cycle");
}

fn redis(name: &str) -> Owned<RedisInstance> {
    Owned::unowned(RedisInstance {
        name: name.to_owned(),
        ..RedisInstance::default()
    })
}

#[tokio::test]
async fn changes_create_numbered_versions_listed_newest_first() {
    on_every_backend(
        "changes_create_numbered_versions_listed_newest_first",
        |t| async move {
            t.db.migrate().await.unwrap();
            let (version, initial) = desired_state::current(&t.db).await.unwrap();
            assert_eq!(version, 0);
            assert!(initial.batteries.contains_key(&BatteryKind::BatteryCore));
            assert!(desired_state::history(&t.db).await.unwrap().is_empty());

            let first = desired_state::change(&t.db, "alice", "rename the installation", |s| {
                s.installation = bi_model::InstallationName::parse("prod").unwrap();
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(first, 1);

            let second = desired_state::change(&t.db, "bob", "install grafana", |s| {
                install(s, BatteryKind::Grafana);
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(second, 2);

            let (version, state) = desired_state::current(&t.db).await.unwrap();
            assert_eq!(version, 2);
            assert!(state.batteries.contains_key(&BatteryKind::Grafana));
            assert_eq!(state.installation.to_string(), "prod");

            let history = desired_state::history(&t.db).await.unwrap();
            let entries: Vec<_> = history
                .iter()
                .map(|v| (v.version, v.author.as_str(), v.summary.as_str()))
                .collect();
            assert_eq!(
                entries,
                [
                    (2, "bob", "install grafana"),
                    (1, "alice", "rename the installation")
                ]
            );
            assert!(history[0].created_at >= history[1].created_at);

            let old = desired_state::at_version(&t.db, 1).await.unwrap().unwrap();
            assert!(!old.batteries.contains_key(&BatteryKind::Grafana));
            assert_eq!(old.installation.to_string(), "prod");
            assert_eq!(desired_state::at_version(&t.db, 3).await.unwrap(), None);

            // A restart sees the same history.
            let restarted = t.reconnect().await;
            assert_eq!(
                desired_state::current(&restarted).await.unwrap(),
                (2, state)
            );
            restarted.close().await.unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn an_invalid_change_returns_every_problem_and_stores_nothing() {
    on_every_backend(
        "an_invalid_change_returns_every_problem_and_stores_nothing",
        |t| async move {
            t.db.migrate().await.unwrap();
            desired_state::change(&t.db, "alice", "install grafana", |s| {
                install(s, BatteryKind::Grafana);
                Ok(())
            })
            .await
            .unwrap();
            let secrets_before = desired_state::secrets(&t.db).await.unwrap();

            let err = desired_state::change(&t.db, "mallory", "break things", |s| {
                install(s, BatteryKind::Loki);
                if let Some(BatteryConfig::Loki(loki)) = s.batteries.get_mut(&BatteryKind::Loki) {
                    loki.replicas = 0;
                }
                // Every battery needs battery_core (and bi cannot run without it).
                s.batteries.remove(&BatteryKind::BatteryCore);
                // A redis instance with a bad name, without the redis battery.
                s.redis_instances.push(redis("Not_A_Label"));
                Ok(())
            })
            .await
            .unwrap_err();
            let Error::Rejected(problems) = err else {
                panic!("expected a rejection, got {err}");
            };
            let found: Vec<_> = problems
                .iter()
                .map(|p| (p.field.as_str(), p.rule))
                .collect();
            for expected in [
                ("batteries", Rule::Dependency),
                ("batteries.loki.replicas", Rule::Range),
                ("batteries.grafana", Rule::Dependency),
                ("batteries.loki", Rule::Dependency),
                ("redis_instances[0].name", Rule::DnsLabel),
                ("redis_instances", Rule::Dependency),
            ] {
                assert!(
                    found.contains(&expected),
                    "{expected:?} missing in {found:?}"
                );
            }
            let missing_core = problems.for_field("batteries.grafana").unwrap();
            assert!(
                missing_core.message.contains("battery_core"),
                "{missing_core}"
            );

            let (version, state) = desired_state::current(&t.db).await.unwrap();
            assert_eq!(version, 1, "nothing was stored");
            assert!(!state.batteries.contains_key(&BatteryKind::Loki));
            assert_eq!(desired_state::history(&t.db).await.unwrap().len(), 1);
            assert_eq!(desired_state::secrets(&t.db).await.unwrap(), secrets_before);

            // An edit that refuses by itself stores nothing either.
            let err = desired_state::change(&t.db, "alice", "refused", |_| {
                Err(bi_model::FieldError::new("x", Rule::Required, "no").into())
            })
            .await
            .unwrap_err();
            assert!(matches!(err, Error::Rejected(_)), "{err}");
            let err = desired_state::change(&t.db, " ", "no author", |_| Ok(()))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Rejected(_)), "{err}");
            assert_eq!(desired_state::current(&t.db).await.unwrap().0, 1);
        },
    )
    .await;
}

#[tokio::test]
async fn secrets_are_created_once_and_never_regenerated() {
    on_every_backend(
        "secrets_are_created_once_and_never_regenerated",
        |t| async move {
            t.db.migrate().await.unwrap();
            desired_state::change(&t.db, "alice", "grafana and a redis", |s| {
                install(s, BatteryKind::Grafana);
                install(s, BatteryKind::Redis);
                s.redis_instances.push(redis("cache"));
                Ok(())
            })
            .await
            .unwrap();
            let first = desired_state::secrets(&t.db).await.unwrap();
            let grafana = first.get("grafana/admin-password").unwrap().to_owned();
            let cache = first.get("redis/cache").unwrap().to_owned();
            for value in [&grafana, &cache] {
                assert_eq!(value.len(), SECRET_LENGTH);
                assert!(value.chars().all(|c| c.is_ascii_alphanumeric()));
            }
            assert_ne!(grafana, cache, "each key gets its own random value");
            let shown = format!("{first:?}");
            assert!(
                shown.contains("redis/cache") && !shown.contains(&cache),
                "{shown}"
            );

            desired_state::change(&t.db, "bob", "a second redis", |s| {
                s.redis_instances.push(redis("sessions"));
                Ok(())
            })
            .await
            .unwrap();
            desired_state::change(&t.db, "bob", "no-op", |_| Ok(()))
                .await
                .unwrap();
            let later = desired_state::secrets(&t.db).await.unwrap();
            assert_eq!(later.get("grafana/admin-password"), Some(grafana.as_str()));
            assert_eq!(later.get("redis/cache"), Some(cache.as_str()));
            let sessions = later.get("redis/sessions").unwrap();
            assert_ne!(sessions, cache);
            assert_eq!(later.len(), first.len() + 1);
        },
    )
    .await;
}

#[tokio::test]
async fn concurrent_changes_all_land_as_consecutive_versions() {
    on_every_backend(
        "concurrent_changes_all_land_as_consecutive_versions",
        |t| async move {
            t.db.migrate().await.unwrap();
            // NB: each change reads the newest version, then writes the next;
            // without a write lock taken up front, racing writers fail with
            // "database is locked" (SQLite) or a duplicate version (PostgreSQL).
            let writers = (0..4).map(|writer| {
                let db = t.db.clone();
                tokio::spawn(async move {
                    for n in 0..5 {
                        desired_state::change(
                            &db,
                            &format!("writer-{writer}"),
                            &format!("change {n}"),
                            |s| {
                                s.redis_instances.clear();
                                Ok(())
                            },
                        )
                        .await
                        .unwrap();
                    }
                })
            });
            for writer in writers.collect::<Vec<_>>() {
                writer.await.unwrap();
            }
            let versions: Vec<i32> = desired_state::history(&t.db)
                .await
                .unwrap()
                .iter()
                .map(|entry| entry.version)
                .collect();
            assert_eq!(versions, (1..=20).rev().collect::<Vec<_>>());
        },
    )
    .await;
}

#[tokio::test]
async fn version_zero_is_the_state_before_the_first_change_so_it_can_be_restored() {
    on_every_backend(
        "version_zero_is_the_state_before_the_first_change_so_it_can_be_restored",
        |t| async move {
            t.db.migrate().await.unwrap();
            let (_, initial) = desired_state::current(&t.db).await.unwrap();
            desired_state::change(&t.db, "test", "install redis", |s| {
                install(s, BatteryKind::Redis);
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(
                desired_state::at_version(&t.db, 0).await.unwrap(),
                Some(initial.clone())
            );
            let restored = desired_state::restore(&t.db, 0, "test").await.unwrap();
            assert_eq!(restored, 2);
            assert_eq!(desired_state::current(&t.db).await.unwrap(), (2, initial));
        },
    )
    .await;
}

#[tokio::test]
async fn a_state_whose_generators_need_a_new_secret_gets_it_once_at_the_snapshot() {
    on_every_backend(
        "a_state_whose_generators_need_a_new_secret_gets_it_once",
        |t| async move {
            t.db.migrate().await.unwrap();
            // Nothing was ever changed: version 0, and no secret stored.
            assert!(desired_state::secrets(&t.db).await.unwrap().is_empty());
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            let first = desired_state::secrets_for(&t.db, &state).await.unwrap();
            let token = first.get("battery_core/setup-token").unwrap().to_owned();
            assert_eq!(token.len(), SECRET_LENGTH);
            let again = desired_state::secrets_for(&t.db, &state).await.unwrap();
            assert_eq!(again.get("battery_core/setup-token"), Some(token.as_str()));
            assert_eq!(again.len(), first.len());
        },
    )
    .await;
}

#[tokio::test]
async fn an_empty_installation_starts_from_a_seed_once() {
    on_every_backend(
        "an_empty_installation_starts_from_a_seed_once",
        |t| async move {
            t.db.migrate().await.unwrap();
            let mut state = bi_model::generate::DesiredState::with_batteries(&[
                BatteryKind::BatteryCore,
                BatteryKind::Redis,
            ])
            .unwrap();
            state.redis_instances.push(redis("cache"));
            let seed = bi_model::generate::Seed {
                state: state.clone(),
                secrets: [
                    (
                        "battery_core/setup-token",
                        "the installing bi's setup token",
                    ),
                    ("redis/cache", "the cache's password from the seed"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            };
            // NB: an interrupted earlier start may have made its own.
            desired_state::secrets_for(&t.db, &desired_state::current(&t.db).await.unwrap().1)
                .await
                .unwrap();
            // A seed that is not a valid state is refused, whole.
            let mut broken = seed.clone();
            broken.state.batteries.remove(&BatteryKind::Redis);
            let err = desired_state::seed(&t.db, &broken).await.unwrap_err();
            assert!(matches!(err, Error::Rejected(_)), "{err}");
            assert_eq!(desired_state::current(&t.db).await.unwrap().0, 0);

            assert!(desired_state::seed(&t.db, &seed).await.unwrap());
            let (version, seeded) = desired_state::current(&t.db).await.unwrap();
            assert_eq!((version, &seeded), (1, &state));
            let history = desired_state::history(&t.db).await.unwrap();
            assert_eq!(history[0].author, desired_state::SEED_AUTHOR);
            let secrets = desired_state::secrets_for(&t.db, &seeded).await.unwrap();
            for (key, value) in &seed.secrets {
                assert_eq!(secrets.get(key), Some(value.as_str()), "{key}");
            }

            // Once there is a desired state, a seed changes nothing.
            let mut other = seed.clone();
            other.state.redis_instances.clear();
            assert!(!desired_state::seed(&t.db, &other).await.unwrap());
            assert_eq!(desired_state::current(&t.db).await.unwrap(), (1, state));
        },
    )
    .await;
}
