//! The `session` table: browsers signed in, by the hash of their cookie.

use sea_orm::entity::prelude::*;

/// A row of `session`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session")]
pub struct Model {
    /// The SHA-256 (hex) of the cookie's secret; the secret is not stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub secret_hash: String,
    /// Whose session it is.
    pub account_id: i64,
    /// When the user signed in.
    pub created_at: ChronoDateTimeUtc,
    /// When it stops working.
    pub expires_at: ChronoDateTimeUtc,
}

/// Each row belongs to an account.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The account it signs in as.
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AccountId",
        to = "super::account::Column::Id"
    )]
    Account,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
