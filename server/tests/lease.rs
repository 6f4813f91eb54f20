//! One active control server per database: a second `bi serve` on the same
//! database says who holds it and stands by; when the holder is killed
//! (`kill -9`, nothing cleaned up) it takes over within seconds. On SQLite
//! (a file lock) and on PostgreSQL (an advisory lock; skipped loudly when
//! PostgreSQL is absent, unless `BI_REQUIRE_POSTGRES=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serving;

use std::path::Path;
use std::time::{Duration, Instant};

use bi_control::Database;
use sea_orm::ConnectionTrait;
use serving::Serving;

fn takes_over(first_dir: &Path, second_dir: &Path, database: &[&str], backend: &str) {
    let mut first = Serving::start(first_dir, None, database);
    first
        .wait_for("bi is listening on", Duration::from_secs(60))
        .expect("the first server did not start");
    let pid = first.child.id();

    let second = Serving::start(second_dir, None, database);
    let seen = second
        .wait_for("standing by", Duration::from_secs(60))
        .expect("the second server did not stand by");
    assert!(
        !seen.iter().any(|line| line.contains("bi is listening on")),
        "a second server started while the first held the database: {seen:#?}"
    );
    let standing_by = seen.last().unwrap();
    assert!(
        standing_by.contains(&format!("pid {pid} ")),
        "{backend}: the standby does not say who holds the database: {standing_by}"
    );
    // It stays standing by while the first runs.
    assert!(
        second
            .wait_for("bi is listening on", Duration::from_secs(3))
            .is_none()
    );

    first.kill(); // SIGKILL: nothing is released by bi itself
    let killed = Instant::now();
    let line = second
        .wait_for("bi is listening on", Duration::from_secs(60))
        .expect("the standby did not take over")
        .pop()
        .unwrap();
    let took = killed.elapsed();
    eprintln!(
        "{backend}: the standby took over {:.1} s after kill -9 ({line})",
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn on_sqlite_a_second_server_stands_by_until_the_first_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    // NB: one data directory: one SQLite file, one sandbox file.
    takes_over(dir.path(), dir.path(), &[], "SQLite");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_postgres_a_second_server_stands_by_until_the_first_is_killed() {
    let url = std::env::var("BI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = match Database::connect(&url, None).await {
        Ok(admin) => admin,
        Err(err) => {
            let reason = format!("PostgreSQL at {url} is unreachable: {err}");
            assert!(
                !std::env::var("BI_REQUIRE_POSTGRES").is_ok_and(|v| v == "1"),
                "BI_REQUIRE_POSTGRES=1 but {reason}"
            );
            eprintln!(
                "SKIPPED the lease on PostgreSQL: {reason} (set BI_REQUIRE_POSTGRES=1 to fail instead)"
            );
            return;
        }
    };
    let schema = format!("bi_lease_{}", std::process::id());
    admin
        .connection()
        .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .await
        .unwrap();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let database = [
        "--database-url",
        url.as_str(),
        "--database-schema",
        schema.as_str(),
    ];
    let (first_dir, second_dir) = (first.path().to_owned(), second.path().to_owned());
    let database: Vec<String> = database.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let database: Vec<&str> = database.iter().map(String::as_str).collect();
        takes_over(&first_dir, &second_dir, &database, "PostgreSQL");
    })
    .await
    .unwrap();
    admin
        .connection()
        .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}
