//! The `desired_state_version` table: every version of the desired state,
//! append-only, with who changed it, when and why.

use sea_orm::entity::prelude::*;

/// A row of `desired_state_version`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "desired_state_version")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The version number: 1, 2, 3… in the order changes were stored.
    #[sea_orm(unique)]
    pub version: i32,
    /// The [`bi_model::generate::DesiredState`] as JSON.
    #[sea_orm(column_type = "Text")]
    pub state: String,
    /// Who made the change.
    pub author: String,
    /// What changed, in words.
    pub summary: String,
    /// When the change was stored.
    pub created_at: ChronoDateTimeUtc,
}

/// `desired_state_version` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
