//! The metrics scrape token: a stored secret the generator hands to
//! VictoriaMetrics (a Secret its `VMServiceScrape` names), and that admits
//! `GET /metrics` alone. It is created with the other secrets when
//! VictoriaMetrics is installed, never shown, and rotated by deleting the
//! stored secret (the next change creates a new one).

use sea_orm::EntityTrait;

use crate::Database;
use crate::entities::stored_secret::Entity as StoredSecret;
use crate::error::{Result, db_error};

/// The stored secret's key, as the generator asks for it.
pub const KEY: &str = bi_model::catalog::battery_core::METRICS_TOKEN_SECRET;

/// Whether `offered` is the installation's scrape token (false while
/// there is none), compared in constant time.
pub async fn matches(db: &Database, offered: &str) -> Result<bool> {
    use subtle::ConstantTimeEq;
    let stored = StoredSecret::find_by_id(KEY.to_owned())
        .one(db.connection())
        .await
        .map_err(db_error("reading the metrics scrape token"))?;
    Ok(stored.is_some_and(|row| {
        let ours = super::digest(row.value.expose());
        let theirs = super::digest(offered);
        ours.as_bytes().ct_eq(theirs.as_bytes()).into()
    }))
}
