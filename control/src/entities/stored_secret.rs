//! The `stored_secret` table: generated secrets by key
//! (`grafana/admin-password`), created once and never rewritten.

use std::fmt;

use sea_orm::entity::prelude::*;

/// A secret's value. Its `Debug` never shows it, so a logged row or error
/// cannot leak it.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct SecretValue(pub String);

impl SecretValue {
    /// The value itself, for generation.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// A row of `stored_secret`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stored_secret")]
pub struct Model {
    /// The key generation asks for, e.g. `redis/cache`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The value, created with a CSPRNG.
    #[sea_orm(column_type = "Text")]
    pub value: SecretValue,
    /// When it was created.
    pub created_at: ChronoDateTimeUtc,
}

/// `stored_secret` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
