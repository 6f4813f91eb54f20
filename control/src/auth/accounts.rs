//! Accounts: create, list, change, remove; the first admin; sign-in with
//! lock-out.
//!
//! Rules kept here, whichever way the request came: a username is 1–64 of
//! `a-z 0-9 . _ -` starting with a letter or digit; a password has 12–1024
//! characters; the last enabled admin can be neither demoted, disabled nor
//! removed; after [`MAX_FAILED_SIGN_INS`] wrong passwords in a row an
//! account is locked for [`LOCKOUT`].

use bi_api::Timestamp;
use bi_api::auth::{AccountChange, AccountView, NewAccount, PasswordChange, Role};
use bi_model::{Problems, Rule};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use super::{Principal, Secret, password};
use crate::Database;
use crate::entities::account::{self, Entity as Account, PasswordHash};
use crate::entities::{api_token, session};
use crate::error::{Error, Result, db_error};

/// Wrong passwords in a row before an account is locked.
pub const MAX_FAILED_SIGN_INS: i32 = 5;

/// How long a locked account stays locked (an admin may unlock it sooner).
pub const LOCKOUT: TimeDelta = TimeDelta::minutes(15);

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// The longest password accepted (argon2 hashes anything, but a megabyte
/// password is an attack on the CPU, not a password).
pub const MAX_PASSWORD: usize = 1024;

/// How many accounts exist.
pub async fn count(db: &Database) -> Result<u64> {
    Account::find()
        .count(db.connection())
        .await
        .map_err(db_error("counting accounts"))
}

/// Every account, by name.
pub async fn list(db: &Database) -> Result<Vec<AccountView>> {
    let rows = Account::find()
        .order_by_asc(account::Column::Username)
        .all(db.connection())
        .await
        .map_err(db_error("listing accounts"))?;
    Ok(rows.into_iter().map(view).collect())
}

/// One account by name.
pub async fn find(db: &Database, username: &str) -> Result<account::Model> {
    find_in(db.connection(), username)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no account {username:?}")))
}

async fn find_in(conn: &impl ConnectionTrait, username: &str) -> Result<Option<account::Model>> {
    Account::find()
        .filter(account::Column::Username.eq(username))
        .one(conn)
        .await
        .map_err(db_error("reading an account"))
}

/// Creates an account; refused when a field breaks its rule or the name is
/// taken.
pub async fn create(db: &Database, new: NewAccount) -> Result<AccountView> {
    let mut problems = Problems::new();
    check_username(&new.username, &mut problems);
    check_password(&new.password, "password", &mut problems);
    if !problems.is_empty() {
        return Err(Error::Rejected(problems));
    }
    let hash = password::hash(new.password).await?;
    let txn = db.begin_write().await?;
    if find_in(&txn, &new.username).await?.is_some() {
        let mut problems = Problems::new();
        problems.push(
            "username",
            Rule::Unique,
            format!("there is already an account {:?}", new.username),
        );
        return Err(Error::Rejected(problems));
    }
    let row = insert(&txn, &new.username, hash, new.role).await?;
    txn.commit()
        .await
        .map_err(db_error("storing a new account"))?;
    tracing::info!(username = %row.username, role = %row.role, "created an account");
    Ok(view(row))
}

/// Creates the first admin; refused (409) once any account exists, so a
/// setup token is good for one account only.
pub async fn create_first_admin(
    db: &Database,
    username: &str,
    password: &str,
) -> Result<AccountView> {
    let mut problems = Problems::new();
    check_username(username, &mut problems);
    check_password(password, "password", &mut problems);
    if !problems.is_empty() {
        return Err(Error::Rejected(problems));
    }
    let hash = password::hash(password.to_owned()).await?;
    let txn = db.begin_write().await?;
    let existing = Account::find()
        .count(&txn)
        .await
        .map_err(db_error("counting accounts"))?;
    if existing > 0 {
        return Err(Error::Conflict(
            "bi is already set up: sign in, or ask an admin for an account".into(),
        ));
    }
    let row = insert(&txn, username, hash, Role::Admin).await?;
    txn.commit()
        .await
        .map_err(db_error("storing the first admin"))?;
    tracing::info!(username = %row.username, "created the first admin");
    Ok(view(row))
}

async fn insert(
    conn: &impl ConnectionTrait,
    username: &str,
    hash: String,
    role: Role,
) -> Result<account::Model> {
    account::ActiveModel {
        username: Set(username.to_owned()),
        password_hash: Set(PasswordHash(hash)),
        role: Set(role.as_str().to_owned()),
        disabled: Set(false),
        failed_sign_ins: Set(0),
        locked_until: Set(None),
        last_sign_in_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db_error("storing an account"))
}

/// Changes an account's role, enabled state, password or lock-out. A new
/// password or disabling ends its sessions (and disabling stops its tokens,
/// which check the account on every use).
pub async fn change(db: &Database, username: &str, change: AccountChange) -> Result<AccountView> {
    let mut problems = Problems::new();
    if let Some(password) = &change.password {
        check_password(password, "password", &mut problems);
    }
    if !problems.is_empty() {
        return Err(Error::Rejected(problems));
    }
    let hash = match change.password.clone() {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let txn = db.begin_write().await?;
    let row = find_in(&txn, username)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no account {username:?}")))?;
    let loses_admin = role_of(&row)? == Role::Admin
        && !row.disabled
        && (change.role.is_some_and(|role| role != Role::Admin) || change.disabled == Some(true));
    if loses_admin {
        refuse_last_admin(&txn, row.id, "demote or disable").await?;
    }
    let ends_sessions = hash.is_some() || change.disabled == Some(true);
    let id = row.id;
    let mut active: account::ActiveModel = row.into();
    if let Some(role) = change.role {
        active.role = Set(role.as_str().to_owned());
    }
    if let Some(disabled) = change.disabled {
        active.disabled = Set(disabled);
    }
    if let Some(hash) = hash {
        active.password_hash = Set(PasswordHash(hash));
    }
    if change.unlock {
        active.failed_sign_ins = Set(0);
        active.locked_until = Set(None);
    }
    let row = active
        .update(&txn)
        .await
        .map_err(db_error("changing an account"))?;
    if ends_sessions {
        session::Entity::delete_many()
            .filter(session::Column::AccountId.eq(id))
            .exec(&txn)
            .await
            .map_err(db_error("ending an account's sessions"))?;
    }
    txn.commit()
        .await
        .map_err(db_error("changing an account"))?;
    db.remembered().forget();
    tracing::info!(username = %row.username, role = %row.role, disabled = row.disabled, "changed an account");
    Ok(view(row))
}

/// Removes an account with its sessions and tokens; the last enabled admin
/// stays.
pub async fn remove(db: &Database, username: &str) -> Result<()> {
    let txn = db.begin_write().await?;
    let row = find_in(&txn, username)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no account {username:?}")))?;
    if role_of(&row)? == Role::Admin && !row.disabled {
        refuse_last_admin(&txn, row.id, "remove").await?;
    }
    session::Entity::delete_many()
        .filter(session::Column::AccountId.eq(row.id))
        .exec(&txn)
        .await
        .map_err(db_error("ending an account's sessions"))?;
    api_token::Entity::delete_many()
        .filter(api_token::Column::AccountId.eq(row.id))
        .exec(&txn)
        .await
        .map_err(db_error("removing an account's tokens"))?;
    Account::delete_by_id(row.id)
        .exec(&txn)
        .await
        .map_err(db_error("removing an account"))?;
    txn.commit()
        .await
        .map_err(db_error("removing an account"))?;
    db.remembered().forget();
    tracing::info!(username, "removed an account");
    Ok(())
}

async fn refuse_last_admin(conn: &impl ConnectionTrait, id: i64, what: &str) -> Result<()> {
    let others = Account::find()
        .filter(account::Column::Role.eq(Role::Admin.as_str()))
        .filter(account::Column::Disabled.eq(false))
        .filter(account::Column::Id.ne(id))
        .count(conn)
        .await
        .map_err(db_error("counting admins"))?;
    if others == 0 {
        return Err(Error::Conflict(format!(
            "cannot {what} the last admin: make another account an admin first"
        )));
    }
    Ok(())
}

/// Changes the caller's own password once the current one checks out (a
/// wrong one counts towards the lock-out, as at sign-in). Every session of
/// the account ends but `keep` (the browser the change came from); API
/// tokens stay.
pub async fn change_own_password(
    db: &Database,
    caller: &Principal,
    change: &PasswordChange,
    keep: Option<&Secret>,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(id) = caller.account_id else {
        return Err(Error::Forbidden(
            "the local operator has no password; set an account's with `bi users set <name> --password`"
                .into(),
        ));
    };
    let mut problems = Problems::new();
    check_password(&change.new_password, "new_password", &mut problems);
    if change.new_password == change.current_password {
        problems.push(
            "new_password",
            Rule::Consistency,
            "the new password is the current one",
        );
    }
    if !problems.is_empty() {
        return Err(Error::Rejected(problems));
    }
    sign_in(db, &caller.me.username, &change.current_password, now)
        .await
        .map_err(|err| match err {
            Error::Unauthenticated(_) => {
                let mut problems = Problems::new();
                problems.push(
                    "current_password",
                    Rule::Consistency,
                    "that is not your current password",
                );
                Error::Rejected(problems)
            }
            other => other,
        })?;
    let hash = password::hash(change.new_password.clone()).await?;
    let txn = db.begin_write().await?;
    let row = Account::find_by_id(id)
        .one(&txn)
        .await
        .map_err(db_error("reading an account"))?
        .ok_or_else(|| Error::NotFound("your account is gone".into()))?;
    let mut active: account::ActiveModel = row.into();
    active.password_hash = Set(PasswordHash(hash));
    active
        .update(&txn)
        .await
        .map_err(db_error("changing a password"))?;
    let mut others = session::Entity::delete_many().filter(session::Column::AccountId.eq(id));
    if let Some(keep) = keep {
        others = others.filter(session::Column::SecretHash.ne(keep.digest()));
    }
    others
        .exec(&txn)
        .await
        .map_err(db_error("ending the account's other sessions"))?;
    txn.commit()
        .await
        .map_err(db_error("changing a password"))?;
    db.remembered().forget();
    tracing::info!(username = %caller.me.username, "changed their own password");
    Ok(())
}

/// Checks a username and password. A wrong password counts towards the
/// lock-out; a locked or disabled account is refused even with the right
/// one. Unknown names and wrong passwords get the same answer, in the same
/// time.
pub async fn sign_in(
    db: &Database,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Principal> {
    let wrong = || Error::Unauthenticated("wrong username or password".into());
    let row = find_in(db.connection(), username).await?;
    if let Some(row) = &row
        && let Some(until) = row.locked_until
        && until > now
    {
        return Err(Error::Locked(format!(
            "too many failed sign-ins: {username} is locked until {}; an admin can unlock it sooner",
            Timestamp::from(until).readable()
        )));
    }
    let stored = row.as_ref().map(|row| row.password_hash.0.clone());
    let matches = password::verify(password.to_owned(), stored).await;
    let Some(row) = row else {
        return Err(wrong());
    };
    let txn = db.begin_write().await?;
    let mut active: account::ActiveModel = row.clone().into();
    if !matches {
        let failed = row.failed_sign_ins + 1;
        active.failed_sign_ins = Set(failed);
        if failed >= MAX_FAILED_SIGN_INS {
            active.failed_sign_ins = Set(0);
            active.locked_until = Set(Some(now + LOCKOUT));
            tracing::warn!(username, "locked an account after repeated failed sign-ins");
        }
        active
            .update(&txn)
            .await
            .map_err(db_error("counting a failed sign-in"))?;
        txn.commit()
            .await
            .map_err(db_error("counting a failed sign-in"))?;
        return Err(wrong());
    }
    if row.disabled {
        return Err(Error::Forbidden(format!(
            "the account {username} is disabled"
        )));
    }
    active.failed_sign_ins = Set(0);
    active.locked_until = Set(None);
    active.last_sign_in_at = Set(Some(now));
    let row = active
        .update(&txn)
        .await
        .map_err(db_error("recording a sign-in"))?;
    txn.commit()
        .await
        .map_err(db_error("recording a sign-in"))?;
    principal(&row, bi_api::auth::Credential::Session)
}

/// The prefix of the accounts of people who sign in through Single
/// Sign-On: `sso:alice` (a local username cannot hold `:`, so neither kind
/// can take the other's name).
pub const SSO_PREFIX: &str = "sso:";

/// Signs in `username`, whom Keycloak vouched for, with `role` (from their
/// Keycloak groups): their account `sso:<username>` is created at the first
/// sign-in and takes the role their groups give at each; an account an
/// admin disabled in bi stays refused. Such an account has no password bi
/// knows: it cannot sign in with one.
pub async fn sign_in_sso(
    db: &Database,
    username: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Principal> {
    let name = format!("{SSO_PREFIX}{username}");
    let row = match find_in(db.connection(), &name).await? {
        Some(row) => row,
        None => {
            // NB: a password nobody knows, hashed like any other, so the
            // password sign-in has nothing to match.
            let unknown = Secret::generate("").expose().to_owned();
            let hash = password::hash(unknown).await?;
            let txn = db.begin_write().await?;
            let row = insert(&txn, &name, hash, role).await?;
            txn.commit()
                .await
                .map_err(db_error("storing a single sign-on account"))?;
            tracing::info!(username = %name, %role, "created an account at its first single sign-on");
            row
        }
    };
    if row.disabled {
        return Err(Error::Forbidden(format!("the account {name} is disabled")));
    }
    let mut active: account::ActiveModel = row.into();
    active.role = Set(role.as_str().to_owned());
    active.last_sign_in_at = Set(Some(now));
    let row = active
        .update(db.connection())
        .await
        .map_err(db_error("recording a single sign-on"))?;
    db.remembered().forget();
    principal(&row, bi_api::auth::Credential::Session)
}

/// The caller an account row stands for.
pub(crate) fn principal(
    row: &account::Model,
    credential: bi_api::auth::Credential,
) -> Result<Principal> {
    Ok(Principal {
        account_id: Some(row.id),
        me: bi_api::auth::Me {
            username: row.username.clone(),
            role: role_of(row)?,
            credential,
        },
    })
}

fn role_of(row: &account::Model) -> Result<Role> {
    row.role.parse().map_err(|reason| Error::Corrupt {
        what: "account role",
        reason,
    })
}

fn view(row: account::Model) -> AccountView {
    AccountView {
        role: row.role.parse().unwrap_or(Role::Viewer),
        username: row.username,
        disabled: row.disabled,
        locked_until: row.locked_until.map(Timestamp::from),
        last_sign_in_at: row.last_sign_in_at.map(Timestamp::from),
        created_at: Timestamp::from(row.created_at),
    }
}

/// A username: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_username(username: &str, problems: &mut Problems) {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
    if username.is_empty() {
        problems.push("username", Rule::Required, "say a username");
    } else if username.len() > 64 {
        problems.push(
            "username",
            Rule::Range,
            "a username has at most 64 characters",
        );
    } else if !username.chars().all(valid_char)
        || !username.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        problems.push(
            "username",
            Rule::Format,
            "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit",
        );
    }
}

/// A password: 12–1024 characters.
pub fn check_password(password: &str, field: &str, problems: &mut Problems) {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        problems.push(
            field,
            Rule::Range,
            format!("a password needs at least {MIN_PASSWORD} characters"),
        );
    } else if length > MAX_PASSWORD {
        problems.push(
            field,
            Rule::Range,
            format!("a password has at most {MAX_PASSWORD} characters"),
        );
    }
}
