//! Test databases: every DB test runs once on SQLite and once on PostgreSQL.
//!
//! PostgreSQL is found at `BI_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets a fresh schema
//! that is dropped afterwards, so runs never see each other's rows. Where the
//! server is absent the PostgreSQL half is skipped with a printed reason,
//! unless `BI_REQUIRE_POSTGRES=1`, which turns the skip into a failure.
//!
//! Stories that talk to a cluster run on the sandbox and on a real API
//! server too: see [`cluster::on_every_cluster`].

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod cluster;
#[path = "../../../sandbox/tests/realk8s/mod.rs"]
pub mod realk8s;

use std::future::Future;

use bi_control::{Database, DatabaseBackend};
use sea_orm::ConnectionTrait;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database for one test, and how to reach it again.
pub struct TestDb {
    pub db: Database,
    pub url: String,
    pub schema: Option<String>,
}

impl TestDb {
    /// Opens a second, independent pool on the same database (a "restart").
    pub async fn reconnect(&self) -> Database {
        Database::connect(&self.url, self.schema.as_deref())
            .await
            .expect("reconnecting")
    }
}

/// A SQLite database in a temporary directory. The directory is returned
/// apart: a story's `async move` block captures only the fields it uses, so a
/// directory inside `TestDb` could be deleted before the story runs.
async fn sqlite() -> (TestDb, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bi.db").display());
    let db = Database::connect(&url, None).await.expect("sqlite connect");
    (
        TestDb {
            db,
            url,
            schema: None,
        },
        dir,
    )
}

async fn postgres(test: &str) -> Option<(TestDb, Database)> {
    let url = std::env::var("BI_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let admin = match Database::connect(&url, None).await {
        Ok(admin) => admin,
        Err(err) => {
            let reason = format!("PostgreSQL at {url} is unreachable: {err}");
            if std::env::var("BI_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("{test}: BI_REQUIRE_POSTGRES=1 but {reason}");
            }
            eprintln!(
                "SKIPPED {test} on PostgreSQL: {reason} (set BI_REQUIRE_POSTGRES=1 to fail instead)"
            );
            return None;
        }
    };
    let schema = format!("bi_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .connection()
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create test schema");
    let db = Database::connect(&url, Some(&schema))
        .await
        .expect("postgres connect");
    Some((
        TestDb {
            db,
            url,
            schema: Some(schema),
        },
        admin,
    ))
}

/// Stores redis (with its dependencies) and one Redis instance, `cache`,
/// as the next desired-state version.
pub async fn install_redis(db: &Database) {
    use bi_model::catalog::BatteryKind;
    use bi_model::generate::Owned;
    use bi_model::objects::RedisInstance;

    bi_control::desired_state::change(db, "test", "install redis", |s| {
        s.install(&[BatteryKind::Redis])
            .expect("the catalog's dependencies have no cycle");
        s.redis_instances.push(Owned::unowned(RedisInstance {
            name: "cache".to_owned(),
            ..RedisInstance::default()
        }));
        Ok(())
    })
    .await
    .expect("redis is a valid change");
}

/// Runs `story` on SQLite, then on PostgreSQL (or skips that loudly).
pub async fn on_every_backend<F, Fut>(test: &str, story: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let (db, dir) = sqlite().await;
    assert_eq!(db.db.backend(), DatabaseBackend::Sqlite);
    story(db).await;
    drop(dir);

    if let Some((db, admin)) = postgres(test).await {
        assert_eq!(db.db.backend(), DatabaseBackend::Postgres);
        let schema = db.schema.clone().expect("postgres test schema");
        story(db).await;
        admin
            .connection()
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .expect("drop test schema");
    }
}
