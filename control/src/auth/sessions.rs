//! Browser sessions: the cookie carries a [`Secret`]; the database keeps
//! its SHA-256, whose account, and when it expires.

use bi_api::auth::Credential;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{Principal, Secret, accounts};
use crate::Database;
use crate::entities::account::Entity as Account;
use crate::entities::session::{self, Entity as Session};
use crate::error::{Error, Result, db_error};

/// How long a session lasts after sign-in.
pub const LIFETIME: TimeDelta = TimeDelta::hours(12);

/// Starts a session for `principal`'s account; returns the cookie's secret.
/// Expired sessions of every account are cleared on the way.
pub async fn start(db: &Database, principal: &Principal, now: DateTime<Utc>) -> Result<Secret> {
    let account_id = principal
        .account_id
        .ok_or_else(|| Error::Forbidden("only an account can sign in to the web UI".into()))?;
    let secret = Secret::generate("");
    Session::delete_many()
        .filter(session::Column::ExpiresAt.lte(now))
        .exec(db.connection())
        .await
        .map_err(db_error("clearing expired sessions"))?;
    session::ActiveModel {
        secret_hash: Set(secret.digest()),
        account_id: Set(account_id),
        created_at: Set(now),
        expires_at: Set(now + LIFETIME),
    }
    .insert(db.connection())
    .await
    .map_err(db_error("starting a session"))?;
    Ok(secret)
}

/// The caller a session cookie stands for: none when the session is
/// unknown, expired, or its account disabled or removed.
pub async fn resolve(
    db: &Database,
    secret: &Secret,
    now: DateTime<Utc>,
) -> Result<Option<Principal>> {
    let digest = secret.digest();
    if let Some(principal) = db.remembered().get(&digest, now) {
        return Ok(Some(principal));
    }
    let Some((row, account)) = Session::find_by_id(digest.clone())
        .find_also_related(Account)
        .one(db.connection())
        .await
        .map_err(db_error("reading a session"))?
    else {
        return Ok(None);
    };
    let Some(account) = account.filter(|account| !account.disabled) else {
        return Ok(None);
    };
    if row.expires_at <= now {
        return Ok(None);
    }
    let principal = accounts::principal(&account, Credential::Session)?;
    db.remembered()
        .put(digest, principal.clone(), now, Some(row.expires_at));
    Ok(Some(principal))
}

/// Ends the session of this cookie (signing out); unknown ones are ignored.
pub async fn end(db: &Database, secret: &Secret) -> Result<()> {
    Session::delete_by_id(secret.digest())
        .exec(db.connection())
        .await
        .map_err(db_error("ending a session"))?;
    db.remembered().forget();
    Ok(())
}
