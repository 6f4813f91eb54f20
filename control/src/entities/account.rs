//! The `account` table: bi's local users.

use sea_orm::entity::prelude::*;

/// A row of `account`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The name the user signs in with.
    #[sea_orm(unique)]
    pub username: String,
    /// The argon2id hash of the password, as a PHC string.
    #[sea_orm(column_type = "Text")]
    pub password_hash: PasswordHash,
    /// `admin`, `editor` or `viewer`.
    pub role: String,
    /// A disabled account cannot sign in, and its sessions and tokens stop
    /// working.
    pub disabled: bool,
    /// Failed sign-ins since the last successful one.
    pub failed_sign_ins: i32,
    /// Until when sign-in is refused after too many failures.
    pub locked_until: Option<ChronoDateTimeUtc>,
    /// When the user last signed in (or logged in from the CLI).
    pub last_sign_in_at: Option<ChronoDateTimeUtc>,
    /// When the account was created.
    pub created_at: ChronoDateTimeUtc,
}

/// A password hash. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// `account` has no relations SeaORM needs to know of.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
