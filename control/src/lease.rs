//! One active control server per database: the lease.
//!
//! Two servers on one database would both apply and fight (each marking the
//! other's snapshot interrupted). The server that holds the lease applies;
//! another stands by, saying who holds it, and takes over within seconds of
//! the holder's end, however it ends (`kill -9` included: the operating
//! system or PostgreSQL lets go for it).
//!
//! - SQLite: an exclusive lock on `<database file>.lock`, which also names
//!   the holder.
//! - PostgreSQL: a session-level advisory lock on a connection of its own,
//!   named by `application_name`; a heartbeat checks that the session still
//!   holds it ([`Lease::check`]).

use std::fmt;
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::Duration;

use sea_orm::sqlx::{self, Connection, postgres::PgConnection};
use sha2::{Digest, Sha256};

use crate::db::DatabaseBackend;
use crate::error::{Error, Result};

/// The advisory lock's first key: "bi".
const LOCK_CLASS: i32 = 0x6269;

/// How often a standby tries again.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);

/// How often a standby says again who holds the lease.
const SAY_EVERY: Duration = Duration::from_secs(30);

/// Who holds a lease, as its holder described itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder(pub String);

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.trim().is_empty() {
            f.write_str("another control server")
        } else {
            f.write_str(self.0.trim())
        }
    }
}

/// The lease on a database, held until dropped (or the process ends).
#[derive(Debug)]
pub struct Lease {
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// The locked file (the lock goes with the descriptor).
    File { _file: std::fs::File, path: PathBuf },
    /// The session holding the advisory lock.
    Postgres {
        connection: tokio::sync::Mutex<PgConnection>,
        key: i32,
    },
    /// An in-memory database: nothing else can open it.
    Nothing,
}

impl Lease {
    /// Takes the lease of the database at `url` (its `schema`, for
    /// PostgreSQL), describing this server as `me`; or says who holds it.
    pub async fn try_acquire(
        url: &str,
        schema: Option<&str>,
        me: &str,
    ) -> Result<std::result::Result<Self, Holder>> {
        match DatabaseBackend::from_url(url)? {
            DatabaseBackend::Sqlite => match sqlite_file(url) {
                Some(path) => lock_file(path.with_extension(lock_extension(&path)), me),
                None => Ok(Ok(Self {
                    held: Held::Nothing,
                })),
            },
            DatabaseBackend::Postgres => advisory_lock(url, schema, me).await,
        }
    }

    /// Takes the lease, waiting while another server holds it: `standing_by`
    /// hears who, at once and every 30 s.
    pub async fn acquire(
        url: &str,
        schema: Option<&str>,
        me: &str,
        standing_by: impl Fn(&Holder),
    ) -> Result<Self> {
        let mut said: Option<tokio::time::Instant> = None;
        loop {
            match Self::try_acquire(url, schema, me).await? {
                Ok(lease) => return Ok(lease),
                Err(holder) => {
                    if said.is_none_or(|at| at.elapsed() >= SAY_EVERY) {
                        standing_by(&holder);
                        said = Some(tokio::time::Instant::now());
                    }
                    tokio::time::sleep(RETRY_EVERY).await;
                }
            }
        }
    }

    /// Whether this server still holds the lease. A file lock cannot be
    /// lost; PostgreSQL's goes with a session that ended (a restarted
    /// database, a cut connection): then it is lost for good, since another
    /// server may have taken it meanwhile.
    pub async fn check(&self) -> Result<bool> {
        match &self.held {
            Held::File { .. } | Held::Nothing => Ok(true),
            Held::Postgres { connection, key } => {
                let mut connection = connection.lock().await;
                let held: std::result::Result<bool, sqlx::Error> = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
                     AND classid = $1::oid AND objid = $2::oid AND objsubid = 2 \
                     AND granted AND pid = pg_backend_pid())",
                )
                .bind(i64::from(LOCK_CLASS))
                .bind(i64::from(*key))
                .fetch_one(&mut *connection)
                .await;
                Ok(held.unwrap_or(false))
            }
        }
    }

    /// Where the lease is kept, for messages.
    pub fn place(&self) -> String {
        match &self.held {
            Held::File { path, .. } => path.display().to_string(),
            Held::Postgres { key, .. } => format!("PostgreSQL advisory lock ({LOCK_CLASS}, {key})"),
            Held::Nothing => "nowhere (an in-memory database)".to_owned(),
        }
    }
}

/// The SQLite database's file, unless it lives in memory.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:") && !url.contains("mode=memory"))
        .then(|| PathBuf::from(path))
}

/// `bi.db` → `db.lock` (so the file is `bi.db.lock`).
fn lock_extension(path: &std::path::Path) -> String {
    match path.extension() {
        Some(extension) => format!("{}.lock", extension.to_string_lossy()),
        None => "lock".to_owned(),
    }
}

fn lock_file(path: PathBuf, me: &str) -> Result<std::result::Result<Lease, Holder>> {
    let io =
        |err: std::io::Error| Error::Internal(format!("the lease file {}: {err}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(io)?;
            file.rewind().map_err(io)?;
            file.write_all(me.as_bytes()).map_err(io)?;
            file.flush().map_err(io)?;
            Ok(Ok(Lease {
                held: Held::File { _file: file, path },
            }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Ok(Err(Holder(holder)))
        }
        Err(std::fs::TryLockError::Error(err)) => Err(io(err)),
    }
}

/// The advisory lock's second key: the schema's, so that installations in
/// schemas of one database each have theirs.
fn schema_key(schema: Option<&str>) -> i32 {
    let digest = Sha256::digest(schema.unwrap_or("public").as_bytes());
    i32::from_be_bytes([digest[0] & 0x7f, digest[1], digest[2], digest[3]])
}

async fn advisory_lock(
    url: &str,
    schema: Option<&str>,
    me: &str,
) -> Result<std::result::Result<Lease, Holder>> {
    let db = |what: &'static str| move |err: sqlx::Error| Error::Internal(format!("{what}: {err}"));
    let mut connection = PgConnection::connect(url)
        .await
        .map_err(db("connecting for the lease"))?;
    // NB: the session's name is how a standby learns who holds the lease
    // (PostgreSQL keeps 63 bytes of it).
    let name: String = me.chars().filter(char::is_ascii).take(63).collect();
    sqlx::query("SELECT set_config('application_name', $1, false)")
        .bind(&name)
        .execute(&mut connection)
        .await
        .map_err(db("naming the lease's session"))?;
    let key = schema_key(schema);
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(LOCK_CLASS)
        .bind(key)
        .fetch_one(&mut connection)
        .await
        .map_err(db("taking the lease"))?;
    if taken {
        return Ok(Ok(Lease {
            held: Held::Postgres {
                connection: tokio::sync::Mutex::new(connection),
                key,
            },
        }));
    }
    let holder: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT a.application_name, a.backend_start::text FROM pg_locks l \
         JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = $2::oid \
         AND l.objsubid = 2 AND l.granted LIMIT 1",
    )
    .bind(i64::from(LOCK_CLASS))
    .bind(i64::from(key))
    .fetch_optional(&mut connection)
    .await
    .map_err(db("asking who holds the lease"))?;
    let _ = connection.close().await;
    Ok(Err(Holder(match holder {
        Some((name, since)) => format!(
            "{}{}",
            name.unwrap_or_default(),
            since
                .map(|since| format!(", connected since {since}"))
                .unwrap_or_default()
        ),
        None => String::new(),
    })))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn finds_the_sqlite_file_of_a_url() {
        assert_eq!(
            sqlite_file("sqlite:///srv/bi/bi.db?mode=rwc"),
            Some(PathBuf::from("/srv/bi/bi.db"))
        );
        assert_eq!(sqlite_file("sqlite:bi.db"), Some(PathBuf::from("bi.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x?mode=memory"), None);
        assert_eq!(lock_extension(std::path::Path::new("/a/bi.db")), "db.lock");
    }

    #[tokio::test]
    async fn a_second_holder_waits_and_hears_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("bi.db").display());
        let first = Lease::try_acquire(&url, None, "bi 1@here 127.0.0.1:3000")
            .await
            .unwrap()
            .unwrap();
        assert!(first.place().ends_with("bi.db.lock"), "{}", first.place());
        let holder = Lease::try_acquire(&url, None, "bi 2@here")
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(holder.to_string(), "bi 1@here 127.0.0.1:3000");
        assert!(first.check().await.unwrap());
        drop(first);
        let second = Lease::try_acquire(&url, None, "bi 2@here").await.unwrap();
        assert!(second.is_ok(), "the lease outlived its holder");
    }

    #[test]
    fn schemas_have_keys_of_their_own() {
        assert_ne!(schema_key(None), schema_key(Some("team_b")));
        assert_eq!(schema_key(None), schema_key(Some("public")));
        assert!(schema_key(Some("x")) >= 0);
    }
}
