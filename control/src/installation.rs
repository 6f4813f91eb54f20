//! Queries on the installation row: create it on first start, read it, rename it.

use bi_model::{InstallationName, InstallationOverview};
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

/// What the dashboard shows: name, bi's version, database backend, creation time.
pub async fn overview(db: &Database) -> Result<InstallationOverview> {
    let row = ensure(db).await?;
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
