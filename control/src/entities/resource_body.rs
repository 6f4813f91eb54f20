//! The `resource_body` table: generated bodies by content hash, inserted
//! once and never rewritten, so every snapshot can say exactly what it
//! applied without storing the same body twice.

use sea_orm::entity::prelude::*;

/// A row of `resource_body`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_body")]
pub struct Model {
    /// The body's `ContentHash` (sha256 hex).
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// The JSON body as applied (Secret values redacted).
    #[sea_orm(column_type = "Text")]
    pub body: String,
}

/// `resource_body` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
