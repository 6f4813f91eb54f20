//! The installation story, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::installation;
use bi_model::InstallationName;
use support::on_every_backend;

#[tokio::test]
async fn migrations_apply_once_and_report_none_pending() {
    on_every_backend(
        "migrations_apply_once_and_report_none_pending",
        |t| async move {
            assert!(
                t.db.pending_migrations().await.unwrap() > 0,
                "fresh DB has pending migrations"
            );
            t.db.migrate().await.unwrap();
            assert_eq!(t.db.pending_migrations().await.unwrap(), 0);
            // Running again is a no-op, as at every restart.
            t.db.migrate().await.unwrap();
            assert_eq!(t.db.pending_migrations().await.unwrap(), 0);
            t.db.ping().await.unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn first_start_creates_one_installation_and_restarts_keep_it() {
    on_every_backend(
        "first_start_creates_one_installation_and_restarts_keep_it",
        |t| async move {
            t.db.migrate().await.unwrap();
            let first = installation::ensure(&t.db).await.unwrap();
            assert_eq!(first.name, "bi");
            let again = installation::ensure(&t.db).await.unwrap();
            assert_eq!(again.id, first.id, "ensure must not create a second row");

            let restarted = t.reconnect().await;
            let after_restart = installation::ensure(&restarted).await.unwrap();
            assert_eq!(after_restart.id, first.id);
            restarted.close().await.unwrap();
        },
    )
    .await;
}

#[tokio::test]
async fn rename_persists_and_shows_in_the_overview() {
    on_every_backend(
        "rename_persists_and_shows_in_the_overview",
        |t| async move {
            t.db.migrate().await.unwrap();
            let before = installation::ensure(&t.db).await.unwrap();
            let name = InstallationName::parse("prod-eu-1").unwrap();
            let renamed = installation::rename(&t.db, &name).await.unwrap();
            assert_eq!(renamed.id, before.id);
            assert_eq!(renamed.name, "prod-eu-1");
            assert!(renamed.updated_at >= before.updated_at);

            let overview = installation::overview(&t.reconnect().await).await.unwrap();
            assert_eq!(overview.name.as_str(), "prod-eu-1");
            assert_eq!(overview.version, env!("CARGO_PKG_VERSION"));
            assert_eq!(overview.database_backend, t.db.backend().to_string());
            assert!(
                overview.created_at.ends_with('Z'),
                "{}",
                overview.created_at
            );
        },
    )
    .await;
}

#[tokio::test]
async fn reconcile_intervals_set_on_the_settings_page_are_kept_and_can_be_cleared() {
    use bi_control::installation::StoredIntervals;
    use bi_model::ReconcileIntervals;
    use bi_model::units::Duration;

    on_every_backend(
        "reconcile_intervals_set_on_the_settings_page_are_kept_and_can_be_cleared",
        |t| async move {
            t.db.migrate().await.unwrap();
            let defaults = ReconcileIntervals {
                recheck_every: Duration::minutes(5),
                drift_every: Duration::hours(1),
            };
            let stored = installation::intervals(&t.db).await.unwrap();
            assert_eq!(stored, StoredIntervals::default());
            assert_eq!(stored.or(defaults), defaults);

            let set = StoredIntervals {
                recheck_every: Some(Duration::seconds(90)),
                drift_every: None,
            };
            installation::set_intervals(&t.db, set).await.unwrap();
            // A restart reads them back from the database.
            let again = installation::intervals(&t.reconnect().await).await.unwrap();
            assert_eq!(again, set);
            assert_eq!(
                again.or(defaults),
                ReconcileIntervals {
                    recheck_every: Duration::seconds(90),
                    drift_every: Duration::hours(1),
                }
            );

            installation::set_intervals(&t.db, StoredIntervals::default())
                .await
                .unwrap();
            assert_eq!(
                installation::intervals(&t.db).await.unwrap(),
                StoredIntervals::default()
            );
        },
    )
    .await;
}
