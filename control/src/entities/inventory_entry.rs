//! The `inventory_entry` table: one object of an `inventory_set`.

use sea_orm::entity::prelude::*;

/// A row of `inventory_entry`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inventory_entry")]
pub struct Model {
    /// Row number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The set it belongs to.
    pub set_hash: String,
    /// The object's `ResourcePath`, as displayed.
    #[sea_orm(column_type = "Text")]
    pub path: String,
    /// The content hash it was applied with (its body is in
    /// `resource_body`); None in an owned set, which lists paths only.
    pub hash: Option<String>,
}

/// Each entry belongs to one set.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The set it belongs to.
    #[sea_orm(
        belongs_to = "super::inventory_set::Entity",
        from = "Column::SetHash",
        to = "super::inventory_set::Column::Hash",
        on_delete = "Cascade"
    )]
    InventorySet,
}

impl Related<super::inventory_set::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::InventorySet.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
