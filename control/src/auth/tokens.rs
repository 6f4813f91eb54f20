//! API tokens for the CLI and scripts: `bi_` and 256 random bits, sent as
//! `Authorization: Bearer`. Shown once when created; stored as their
//! SHA-256 with the first characters to recognise them by. A token acts
//! with its owner's role, and stops working when it is revoked, expires,
//! or its owner is disabled or removed.

use bi_api::Timestamp;
use bi_api::auth::{CreatedToken, Credential, Login, NewToken, Role, TokenView};
use bi_model::{Problems, Rule};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Principal, Secret, accounts};
use crate::Database;
use crate::entities::account::{self, Entity as Account};
use crate::entities::api_token::{self, Entity as ApiToken};
use crate::error::{Error, Result, db_error};

/// What every token starts with, so a leaked one is recognisable (secret
/// scanners look for such prefixes).
pub const PREFIX: &str = "bi_";

/// How many characters of a token are kept to recognise it by.
const SHOWN: usize = 8;

/// How stale `last_used_at` may get before a use writes it again.
const LAST_USED_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// Creates a token for `owner` (the caller's own account unless an admin
/// names another one).
pub async fn create(
    db: &Database,
    by: &Principal,
    new: NewToken,
    now: DateTime<Utc>,
) -> Result<CreatedToken> {
    let owner = match &new.owner {
        Some(owner) if Some(owner) != Some(&by.me.username) => {
            by.require(Role::Admin)?;
            accounts::find(db, owner).await?
        }
        _ => {
            let id = by.account_id.ok_or_else(|| {
                Error::Forbidden("say whose token it is: --owner <username>".into())
            })?;
            Account::find_by_id(id)
                .one(db.connection())
                .await
                .map_err(db_error("reading an account"))?
                .ok_or_else(|| Error::NotFound("the account is gone".into()))?
        }
    };
    let mut problems = Problems::new();
    check_name(&new.name, &mut problems);
    if let Some(days) = new.expires_in_days
        && !(1..=3650).contains(&days)
    {
        problems.push(
            "expires_in_days",
            Rule::Range,
            "a token lasts 1 to 3650 days",
        );
    }
    if !problems.is_empty() {
        return Err(Error::Rejected(problems));
    }
    let txn = db.begin_write().await?;
    let taken = ApiToken::find()
        .filter(api_token::Column::AccountId.eq(owner.id))
        .filter(api_token::Column::Name.eq(&new.name))
        .one(&txn)
        .await
        .map_err(db_error("reading a token"))?;
    if taken.is_some() {
        let mut problems = Problems::new();
        problems.push(
            "name",
            Rule::Unique,
            format!(
                "{} already has a token {:?}: revoke it or pick another name",
                owner.username, new.name
            ),
        );
        return Err(Error::Rejected(problems));
    }
    let (secret, row) = insert(&txn, &owner, &new.name, new.expires_in_days, now).await?;
    txn.commit().await.map_err(db_error("storing a token"))?;
    tracing::info!(owner = %owner.username, name = %row.name, "created an API token");
    Ok(CreatedToken {
        token: secret.expose().to_owned(),
        view: view(row, &owner.username),
    })
}

async fn insert(
    conn: &impl sea_orm::ConnectionTrait,
    owner: &account::Model,
    name: &str,
    expires_in_days: Option<u32>,
    now: DateTime<Utc>,
) -> Result<(Secret, api_token::Model)> {
    let secret = Secret::generate(PREFIX);
    let row = api_token::ActiveModel {
        account_id: Set(owner.id),
        name: Set(name.to_owned()),
        prefix: Set(secret.expose().chars().take(SHOWN).collect()),
        secret_hash: Set(secret.digest()),
        created_at: Set(now),
        expires_at: Set(expires_in_days.map(|days| now + TimeDelta::days(i64::from(days)))),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db_error("storing a token"))?;
    Ok((secret, row))
}

/// `bi login`: a username and password exchanged for a token named
/// `token_name`, replacing the owner's token of that name (logging in again
/// from the same machine does not pile tokens up).
pub async fn login(db: &Database, login: Login, now: DateTime<Utc>) -> Result<CreatedToken> {
    let mut problems = Problems::new();
    check_name(&login.token_name, &mut problems);
    if !problems.is_empty() {
        return Err(Error::Rejected(problems));
    }
    let principal = accounts::sign_in(db, &login.username, &login.password, now).await?;
    let owner = accounts::find(db, &principal.me.username).await?;
    let txn = db.begin_write().await?;
    ApiToken::delete_many()
        .filter(api_token::Column::AccountId.eq(owner.id))
        .filter(api_token::Column::Name.eq(&login.token_name))
        .exec(&txn)
        .await
        .map_err(db_error("replacing a token"))?;
    let (secret, row) = insert(&txn, &owner, &login.token_name, None, now).await?;
    txn.commit().await.map_err(db_error("storing a token"))?;
    tracing::info!(owner = %owner.username, name = %row.name, "logged in from the CLI");
    Ok(CreatedToken {
        token: secret.expose().to_owned(),
        view: view(row, &owner.username),
    })
}

/// The caller a bearer token stands for: none when it is unknown, revoked,
/// expired, or its owner disabled or removed.
pub async fn resolve(
    db: &Database,
    secret: &Secret,
    now: DateTime<Utc>,
) -> Result<Option<Principal>> {
    if !secret.expose().starts_with(PREFIX) {
        return Ok(None);
    }
    let digest = secret.digest();
    if let Some(principal) = db.remembered().get(&digest, now) {
        return Ok(Some(principal));
    }
    let Some((row, owner)) = ApiToken::find()
        .filter(api_token::Column::SecretHash.eq(digest.clone()))
        .find_also_related(Account)
        .one(db.connection())
        .await
        .map_err(db_error("reading a token"))?
    else {
        return Ok(None);
    };
    let Some(owner) = owner.filter(|owner| !owner.disabled) else {
        return Ok(None);
    };
    if row.revoked_at.is_some() || row.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let credential = Credential::Token {
        name: row.name.clone(),
    };
    let expires = row.expires_at;
    if row
        .last_used_at
        .is_none_or(|at| now - at > LAST_USED_PRECISION)
    {
        let mut active: api_token::ActiveModel = row.into();
        active.last_used_at = Set(Some(now));
        active
            .update(db.connection())
            .await
            .map_err(db_error("recording a token's use"))?;
    }
    let principal = accounts::principal(&owner, credential)?;
    db.remembered().put(digest, principal.clone(), now, expires);
    Ok(Some(principal))
}

/// The tokens `by` may see: an admin every account's, others their own.
pub async fn list(db: &Database, by: &Principal) -> Result<Vec<TokenView>> {
    let mut query = ApiToken::find()
        .find_also_related(Account)
        .order_by_asc(api_token::Column::Id);
    if !by.me.may(Role::Admin) {
        query = query.filter(api_token::Column::AccountId.eq(by.account_id.unwrap_or(-1)));
    }
    let rows = query
        .all(db.connection())
        .await
        .map_err(db_error("listing tokens"))?;
    Ok(rows
        .into_iter()
        .map(|(row, owner)| {
            let owner = owner.map(|owner| owner.username).unwrap_or_default();
            view(row, &owner)
        })
        .collect())
}

/// Revokes token `id`: the owner may revoke their own, an admin any.
pub async fn revoke(
    db: &Database,
    by: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<TokenView> {
    let not_found = || Error::NotFound(format!("there is no token {id}"));
    let (row, owner) = ApiToken::find_by_id(id)
        .find_also_related(Account)
        .one(db.connection())
        .await
        .map_err(db_error("reading a token"))?
        .ok_or_else(not_found)?;
    let owner = owner.map(|owner| owner.username).unwrap_or_default();
    if Some(row.account_id) != by.account_id && !by.me.may(Role::Admin) {
        // NB: someone else's token is as good as absent to a non-admin.
        return Err(not_found());
    }
    if row.revoked_at.is_some() {
        return Ok(view(row, &owner));
    }
    let mut active: api_token::ActiveModel = row.into();
    active.revoked_at = Set(Some(now));
    let row = active
        .update(db.connection())
        .await
        .map_err(db_error("revoking a token"))?;
    db.remembered().forget();
    tracing::info!(owner = %owner, name = %row.name, "revoked an API token");
    Ok(view(row, &owner))
}

/// A token's name: 1–64 characters, no control characters.
fn check_name(name: &str, problems: &mut Problems) {
    if name.trim().is_empty() {
        problems.push(
            "name",
            Rule::Required,
            "say a name for the token, e.g. ci or cli@laptop",
        );
    } else if name.chars().count() > 64 {
        problems.push(
            "name",
            Rule::Range,
            "a token's name has at most 64 characters",
        );
    } else if name.chars().any(char::is_control) {
        problems.push(
            "name",
            Rule::Format,
            "a token's name has no control characters",
        );
    }
}

fn view(row: api_token::Model, owner: &str) -> TokenView {
    TokenView {
        id: row.id,
        name: row.name,
        owner: owner.to_owned(),
        prefix: row.prefix,
        created_at: Timestamp::from(row.created_at),
        expires_at: row.expires_at.map(Timestamp::from),
        last_used_at: row.last_used_at.map(Timestamp::from),
        revoked_at: row.revoked_at.map(Timestamp::from),
    }
}
