//! The `api_token` table: tokens for the CLI and scripts, by the hash of
//! their secret.

use sea_orm::entity::prelude::*;

/// A row of `api_token`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    /// Surrogate key; what `bi tokens revoke` names.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whose token it is; it acts with this account's role.
    pub account_id: i64,
    /// The owner's name for it (unique per owner), e.g. `cli@laptop`.
    pub name: String,
    /// The token's first characters, to recognise it by (`bi_AbC1…`).
    pub prefix: String,
    /// The SHA-256 (hex) of the token; the token itself is not stored.
    #[sea_orm(unique)]
    pub secret_hash: String,
    /// When it was created.
    pub created_at: ChronoDateTimeUtc,
    /// When it stops working, if ever.
    pub expires_at: Option<ChronoDateTimeUtc>,
    /// When it was last used.
    pub last_used_at: Option<ChronoDateTimeUtc>,
    /// When it was revoked; a revoked token never works again.
    pub revoked_at: Option<ChronoDateTimeUtc>,
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
