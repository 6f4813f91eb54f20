//! Queries on the installation row: create it on first start, read it,
//! rename it, and keep the reconcile intervals set from the Settings page.

use bi_model::units::Duration;
use bi_model::{InstallationName, InstallationOverview, ReconcileIntervals};
use chrono::{SecondsFormat, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};

use crate::Database;
use crate::entities::installation::{self, Entity as Installation};
use crate::error::{Error, Result, db_error};

/// Returns the installation row, creating it with the default name on first start.
pub async fn ensure(db: &Database) -> Result<installation::Model> {
    let txn = db.begin_write().await?;
    let existing = Installation::find()
        .order_by_asc(installation::Column::CreatedAt)
        .one(&txn)
        .await
        .map_err(db_error("reading the installation"))?;
    let row = match existing {
        Some(row) => row,
        None => {
            let now = Utc::now();
            let row = installation::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                name: Set(InstallationName::default_name().to_string()),
                created_at: Set(now),
                updated_at: Set(now),
                recheck_every_ms: Set(None),
                drift_every_ms: Set(None),
                drift_report_only: Set(false),
            }
            .insert(&txn)
            .await
            .map_err(db_error("creating the installation"))?;
            tracing::info!(id = %row.id, name = %row.name, "created the installation");
            row
        }
    };
    txn.commit()
        .await
        .map_err(db_error("committing the installation"))?;
    Ok(row)
}

/// Renames the installation. The name is validated by its type, so an
/// invalid name never reaches this function, let alone the database.
pub async fn rename(db: &Database, name: &InstallationName) -> Result<installation::Model> {
    let row = ensure(db).await?;
    let mut active: installation::ActiveModel = row.into();
    active.name = Set(name.to_string());
    active.updated_at = Set(Utc::now());
    let row = active
        .update(db.connection())
        .await
        .map_err(db_error("renaming the installation"))?;
    tracing::info!(id = %row.id, name = %row.name, "renamed the installation");
    Ok(row)
}

/// The installation row, read without taking the write lock (every page
/// reads it); created through [`ensure`] only when it is not there yet.
pub async fn row(db: &Database) -> Result<installation::Model> {
    let existing = Installation::find()
        .order_by_asc(installation::Column::CreatedAt)
        .one(db.connection())
        .await
        .map_err(db_error("reading the installation"))?;
    match existing {
        Some(row) => Ok(row),
        None => ensure(db).await,
    }
}

/// What the dashboard shows: name, bi's version, database backend, creation time.
pub async fn overview(db: &Database) -> Result<InstallationOverview> {
    db.shared("installation", |db| async move { overview_now(&db).await })
        .await
}

async fn overview_now(db: &Database) -> Result<InstallationOverview> {
    let row = row(db).await?;
    let name = InstallationName::parse(&row.name).map_err(|err| Error::Corrupt {
        what: "installation name",
        reason: err.to_string(),
    })?;
    Ok(InstallationOverview {
        name,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database_backend: db.backend().to_string(),
        created_at: row.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        cluster: None,
    })
}

/// The reconcile intervals stored from the Settings page: each None when
/// the server's own option applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredIntervals {
    /// The periodic re-check.
    pub recheck_every: Option<Duration>,
    /// The drift sweep.
    pub drift_every: Option<Duration>,
}

impl StoredIntervals {
    /// The intervals in force: the stored ones, else `defaults` (the server's options).
    pub fn or(self, defaults: ReconcileIntervals) -> ReconcileIntervals {
        ReconcileIntervals {
            recheck_every: self.recheck_every.unwrap_or(defaults.recheck_every),
            drift_every: self.drift_every.unwrap_or(defaults.drift_every),
        }
    }
}

fn from_millis(what: &'static str, millis: Option<i64>) -> Result<Option<Duration>> {
    millis
        .map(|millis| {
            u64::try_from(millis)
                .map(Duration::milliseconds)
                .map_err(|_| Error::Corrupt {
                    what,
                    reason: format!("{millis} ms is negative"),
                })
        })
        .transpose()
}

fn to_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The reconcile intervals stored from the Settings page.
pub async fn intervals(db: &Database) -> Result<StoredIntervals> {
    let row = row(db).await?;
    Ok(StoredIntervals {
        recheck_every: from_millis("re-check interval", row.recheck_every_ms)?,
        drift_every: from_millis("drift sweep interval", row.drift_every_ms)?,
    })
}

/// Stores the reconcile intervals (None: back to the server's option).
/// The values come validated ([`ReconcileIntervals::parse`]).
pub async fn set_intervals(db: &Database, stored: StoredIntervals) -> Result<()> {
    let row = ensure(db).await?;
    let mut active: installation::ActiveModel = row.into();
    active.recheck_every_ms = Set(stored.recheck_every.map(to_millis));
    active.drift_every_ms = Set(stored.drift_every.map(to_millis));
    active.updated_at = Set(Utc::now());
    active
        .update(db.connection())
        .await
        .map_err(db_error("storing the reconcile intervals"))?;
    tracing::info!(
        recheck_every = ?stored.recheck_every.map(|d| d.to_string()),
        drift_every = ?stored.drift_every.map(|d| d.to_string()),
        "stored the reconcile intervals"
    );
    Ok(())
}
