//! The `snapshot_resource` table: what one snapshot planned for one object
//! and what came of it.

use sea_orm::entity::prelude::*;

/// A row of `snapshot_resource`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "snapshot_resource")]
pub struct Model {
    /// Row number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The snapshot it belongs to.
    pub snapshot_id: i64,
    /// The object's `ResourcePath`, as displayed (`apps/v1/Deployment/ns/name`).
    #[sea_orm(column_type = "Text")]
    pub path: String,
    /// The planned action: `create`, `update`, `unchanged` or `delete`.
    pub action: String,
    /// The desired content hash (its body is in `resource_body`); None for deletions.
    pub hash: Option<String>,
    /// `created`, `updated`, `unchanged`, `deleted`, `failed` or `waiting`.
    pub outcome: String,
    /// The API server's message when it failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
}

/// Each outcome belongs to one snapshot.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The snapshot it belongs to.
    #[sea_orm(
        belongs_to = "super::snapshot::Entity",
        from = "Column::SnapshotId",
        to = "super::snapshot::Column::Id",
        on_delete = "Cascade"
    )]
    Snapshot,
}

impl Related<super::snapshot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Snapshot.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
