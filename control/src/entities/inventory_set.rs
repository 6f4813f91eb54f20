//! The `inventory_set` table: a set of objects a snapshot left in the
//! cluster, named by the hash of its entries and stored once
//! however many snapshots refer to it.

use sea_orm::entity::prelude::*;

/// A row of `inventory_set`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inventory_set")]
pub struct Model {
    /// Its `ContentHash`: sha256 hex of its entries' canonical JSON
    /// (`{path: hash or null}`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// How many entries it has.
    pub entries: i32,
}

/// A set has many entries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Its `inventory_entry` rows.
    #[sea_orm(has_many = "super::inventory_entry::Entity")]
    InventoryEntry,
}

impl Related<super::inventory_entry::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::InventoryEntry.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
