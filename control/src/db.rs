//! The database connection: SQLite (the embedded default) or PostgreSQL.
//!
//! One pool per process, shared by every request; migrations run once at
//! start-up through [`Database::migrate`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bi_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::watch;

use crate::coalesce::Coalescer;
use crate::error::{Error, Result, db_error};

/// The key of bi's PostgreSQL advisory lock for writes ("bi" in ASCII).
const WRITE_LOCK: i64 = 0x6269;

/// Which database engine keeps bi's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseBackend {
    /// A SQLite file in the data directory (the embedded default).
    Sqlite,
    /// A PostgreSQL server (for real deployments).
    Postgres,
}

impl DatabaseBackend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            other => Err(Error::UnsupportedDatabase {
                scheme: other.to_owned(),
            }),
        }
    }
}

impl fmt::Display for DatabaseBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        })
    }
}

/// A pooled connection to bi's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    conn: DatabaseConnection,
    backend: DatabaseBackend,
    /// The newest desired-state version this process stored, for whoever
    /// reacts to changes (the reconciler).
    desired_version: Arc<watch::Sender<i32>>,
    /// Credentials resolved recently (see [`crate::auth::remembered`]).
    remembered: Arc<crate::auth::remembered::Remembered>,
    /// Reads shared by concurrent callers (see [`crate::coalesce`]).
    coalescer: Coalescer,
    /// Bumped each time this process writes the timeline or the archive of
    /// deleted objects, for the pages that follow them.
    timeline_revision: Arc<watch::Sender<u64>>,
}

impl Database {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`).
    /// `schema`, when given, becomes PostgreSQL's search path, so tests and
    /// side-by-side installations can share one database without meeting.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let backend = DatabaseBackend::from_url(url)?;
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            // NB: sqlx logs every statement at INFO; bi logs what it does itself.
            .sqlx_logging(false);
        if backend == DatabaseBackend::Sqlite {
            // NB: SQLite allows one writer; a small pool avoids "database is locked" churn.
            // WAL lets the UI read while the engine writes. Set per connection at
            // connect time: switching the journal mode on one pooled connection
            // while others are open makes them fail with "disk I/O error".
            options
                .max_connections(4)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|sqlite| {
                    sqlite
                        .journal_mode(SqliteJournalMode::Wal)
                        .busy_timeout(Duration::from_secs(5))
                        .foreign_keys(true)
                });
        } else {
            options.max_connections(16);
        }
        if let Some(schema) = schema {
            options.set_schema_search_path(schema.to_owned());
        }
        let conn = sea_orm::Database::connect(options)
            .await
            .map_err(db_error("connecting to the database"))?;
        Ok(Self {
            conn,
            backend,
            desired_version: Arc::new(watch::channel(0).0),
            remembered: Arc::default(),
            coalescer: Coalescer::default(),
            timeline_revision: Arc::new(watch::channel(0).0),
        })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.conn, None)
            .await
            .map_err(db_error("running migrations"))
    }

    /// How many migrations are known but not yet applied.
    pub async fn pending_migrations(&self) -> Result<usize> {
        Migrator::get_pending_migrations_read_only(&self.conn)
            .await
            .map(|pending| pending.len())
            .map_err(db_error("listing pending migrations"))
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.conn
            .ping()
            .await
            .map_err(db_error("pinging the database"))
    }

    /// The pool's connections: (open, idle).
    pub fn pool_connections(&self) -> (usize, usize) {
        match self.backend {
            DatabaseBackend::Sqlite => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
            DatabaseBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
        }
    }

    /// Which engine this is.
    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// The SeaORM connection, for queries.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Starts a transaction that will write, holding the write lock from its
    /// first statement: SQLite's `BEGIN IMMEDIATE`, or a transaction-scoped
    /// advisory lock on PostgreSQL.
    // NB: a deferred SQLite transaction that reads and then writes fails
    // with SQLITE_BUSY_SNAPSHOT (no busy timeout helps) when another writer
    // committed in between; two PostgreSQL transactions reading the same
    // newest version would both try to store the next one.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction> {
        match self.backend {
            DatabaseBackend::Sqlite => self
                .conn
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await
                .map_err(db_error("starting a write transaction")),
            DatabaseBackend::Postgres => {
                let txn = self
                    .conn
                    .begin()
                    .await
                    .map_err(db_error("starting a write transaction"))?;
                txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
                    .await
                    .map_err(db_error("taking the write lock"))?;
                Ok(txn)
            }
        }
    }

    /// Follows the desired-state versions this process stores: the value
    /// changes after each change commits.
    pub fn watch_desired_versions(&self) -> watch::Receiver<i32> {
        self.desired_version.subscribe()
    }

    /// Tells the watchers that `version` was stored.
    pub(crate) fn stored_desired_version(&self, version: i32) {
        self.desired_version.send_replace(version);
    }

    /// Follows the writes of the timeline and the archive of deleted
    /// objects this process makes: the value grows after each.
    pub fn watch_timeline(&self) -> watch::Receiver<u64> {
        self.timeline_revision.subscribe()
    }

    /// Tells the followers that the timeline or the archive was written.
    pub(crate) fn wrote_timeline(&self) {
        self.timeline_revision
            .send_modify(|revision| *revision += 1);
    }

    /// The credentials resolved recently, used for a few seconds.
    pub(crate) fn remembered(&self) -> &crate::auth::remembered::Remembered {
        &self.remembered
    }

    /// What `read` answers for `key`, shared with every caller asking for
    /// `key` meanwhile and never read before this call (see
    /// [`crate::coalesce`]): for the reads every page and `bi status` make.
    /// `read` is given its own handle on this database.
    pub async fn shared<T, F, Fut>(&self, key: &str, read: F) -> Result<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce(Database) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let db = self.clone();
        let value = self.coalescer.read(key, move || read(db)).await?;
        Ok((*value).clone())
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(self) -> Result<()> {
        self.conn
            .close()
            .await
            .map_err(db_error("closing the database"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            DatabaseBackend::from_url("sqlite:///tmp/x.db?mode=rwc").ok(),
            Some(DatabaseBackend::Sqlite)
        );
        assert_eq!(
            DatabaseBackend::from_url("postgres://u@h/db").ok(),
            Some(DatabaseBackend::Postgres)
        );
        assert_eq!(
            DatabaseBackend::from_url("postgresql://u@h/db").ok(),
            Some(DatabaseBackend::Postgres)
        );
        let err = DatabaseBackend::from_url("mysql://u@h/db").unwrap_err();
        assert!(err.to_string().contains("\"mysql\""), "{err}");
    }
}
