//! Bounded history: what a snapshot left in the cluster is stored once per
//! distinct set and referenced, so a snapshot that changes nothing costs one
//! `snapshot` row.
//!
//! - `inventory_set`: a set of objects, named by the content hash of its
//!   entries (as resource bodies are), stored once however many snapshots
//!   refer to it.
//! - `inventory_entry`: its members: the object's path and, in an applied
//!   set, the content hash it was applied with (its body is in
//!   `resource_body`).
//! - `snapshot.applied_set`: the objects the snapshot left applied
//!   (created, updated or found unchanged), with their hashes; unchanged
//!   objects get no `snapshot_resource` row any more.
//! - `snapshot.owned_set`: every object bi may have in the cluster after it
//!   and has not pruned (its inventory, which the next plan prunes from).
//!
//! - `snapshot.held_back`: objects not attempted because something they
//!   depend on was refused.
//!
//! Snapshots recorded before this migration have no sets (NULL) and keep a
//! row per object; readers take both forms.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InventorySet::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(InventorySet::Hash)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(InventorySet::Entries).integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryEntry::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(InventoryEntry::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(InventoryEntry::SetHash).string().not_null())
                    .col(ColumnDef::new(InventoryEntry::Path).text().not_null())
                    .col(ColumnDef::new(InventoryEntry::Hash).string().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("inventory_entry_set")
                            .from(InventoryEntry::Table, InventoryEntry::SetHash)
                            .to(InventorySet::Table, InventorySet::Hash)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_entry_set_hash")
                    .table(InventoryEntry::Table)
                    .col(InventoryEntry::SetHash)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // NB: one column per ALTER: SQLite adds only one at a time.
        for column in [Snapshot::AppliedSet, Snapshot::OwnedSet] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Snapshot::Table)
                        .add_column(ColumnDef::new(column).string().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Snapshot::Table)
                    .add_column(
                        ColumnDef::new(Snapshot::HeldBack)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("snapshot_resource_hash")
                    .table(SnapshotResource::Table)
                    .col(SnapshotResource::Hash)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("snapshot_resource_hash")
                    .table(SnapshotResource::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Snapshot::AppliedSet, Snapshot::OwnedSet, Snapshot::HeldBack] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Snapshot::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(InventoryEntry::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(InventorySet::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum InventorySet {
    Table,
    Hash,
    Entries,
}

#[derive(DeriveIden, Clone, Copy)]
enum InventoryEntry {
    Table,
    Id,
    SetHash,
    Path,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum Snapshot {
    Table,
    AppliedSet,
    OwnedSet,
    HeldBack,
}

#[derive(DeriveIden, Clone, Copy)]
enum SnapshotResource {
    Table,
    Hash,
}
