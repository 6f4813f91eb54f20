//! Server functions about who uses bi: the signed-in user, accounts
//! (admins only, by [`super::ACCESS`]) and API tokens.

pub use bi_api::auth::{
    AccountChange, AccountView, CreatedToken, Me, NewAccount, NewToken, PasswordChange, Role,
    TokenView,
};
use leptos::prelude::*;

use crate::ApiError;

/// Who is signed in, and with which role: what the UI shows and hides.
#[server(prefix = "/api", endpoint = "auth/me", client = crate::csrf::Client)]
pub async fn current_user() -> Result<Me, ApiError> {
    Ok(crate::api::caller()?.me)
}

/// Changes the signed-in user's own password once the current one checks
/// out; their other sessions end, this browser's stays.
#[server(prefix = "/api", endpoint = "auth/password", client = crate::csrf::Client)]
pub async fn change_own_password(
    current_password: String,
    new_password: String,
) -> Result<(), ApiError> {
    let db = crate::api::database()?;
    let keep = crate::csrf::session_cookie();
    bi_control::auth::accounts::change_own_password(
        &db,
        &crate::api::caller()?,
        &PasswordChange {
            current_password,
            new_password,
        },
        keep.as_ref(),
        chrono_now(),
    )
    .await?;
    Ok(())
}

/// Every account.
#[server(prefix = "/api", endpoint = "users/list", client = crate::csrf::Client)]
pub async fn list_users() -> Result<Vec<AccountView>, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::auth::accounts::list(&db).await?)
}

/// Creates an account.
#[server(prefix = "/api", endpoint = "users/create", client = crate::csrf::Client)]
pub async fn create_user(
    username: String,
    password: String,
    role: Role,
) -> Result<AccountView, ApiError> {
    let db = crate::api::database()?;
    let by = crate::api::author()?;
    let created = bi_control::auth::accounts::create(
        &db,
        NewAccount {
            username,
            password,
            role,
        },
    )
    .await?;
    tracing::info!(%by, username = %created.username, "account created");
    Ok(created)
}

/// Changes an account's role, enabled state, password or lock-out.
#[server(prefix = "/api", endpoint = "users/change", client = crate::csrf::Client)]
pub async fn change_user(username: String, change: AccountChange) -> Result<AccountView, ApiError> {
    let db = crate::api::database()?;
    let by = crate::api::author()?;
    let changed = bi_control::auth::accounts::change(&db, &username, change).await?;
    tracing::info!(%by, %username, "account changed");
    Ok(changed)
}

/// Removes an account with its sessions and tokens.
#[server(prefix = "/api", endpoint = "users/remove", client = crate::csrf::Client)]
pub async fn remove_user(username: String) -> Result<(), ApiError> {
    let db = crate::api::database()?;
    let by = crate::api::author()?;
    bi_control::auth::accounts::remove(&db, &username).await?;
    tracing::info!(%by, %username, "account removed");
    Ok(())
}

/// The caller's tokens (an admin's: everyone's).
#[server(prefix = "/api", endpoint = "tokens/list", client = crate::csrf::Client)]
pub async fn list_tokens() -> Result<Vec<TokenView>, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::auth::tokens::list(&db, &crate::api::caller()?).await?)
}

/// Creates a token for the caller; its secret is in the answer only.
#[server(prefix = "/api", endpoint = "tokens/create", client = crate::csrf::Client)]
pub async fn create_token(
    name: String,
    expires_in_days: Option<u32>,
) -> Result<CreatedToken, ApiError> {
    let db = crate::api::database()?;
    let new = NewToken {
        name,
        expires_in_days,
        owner: None,
    };
    Ok(bi_control::auth::tokens::create(&db, &crate::api::caller()?, new, chrono_now()).await?)
}

/// Revokes a token (the caller's own; an admin's: any).
#[server(prefix = "/api", endpoint = "tokens/revoke", client = crate::csrf::Client)]
pub async fn revoke_token(id: i64) -> Result<TokenView, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::auth::tokens::revoke(&db, &crate::api::caller()?, id, chrono_now()).await?)
}

#[cfg(feature = "ssr")]
fn chrono_now() -> bi_control::auth::Now {
    bi_control::auth::now()
}
