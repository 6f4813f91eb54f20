//! The snapshot-and-apply engine's record: one `snapshot` row per run, one
//! `snapshot_resource` row per planned object with what happened to it, and
//! `resource_body`, the applied bodies stored once per content hash.
//!
//! The inventory the next plan prunes from is read back from here: the paths
//! the last succeeded snapshot created, updated or found unchanged.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let count = |column: Snapshot| {
            ColumnDef::new(column)
                .integer()
                .not_null()
                .default(0)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Snapshot::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Snapshot::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Snapshot::DesiredVersion)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Snapshot::Trigger).string().not_null())
                    .col(ColumnDef::new(Snapshot::Status).string().not_null())
                    .col(
                        ColumnDef::new(Snapshot::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Snapshot::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(count(Snapshot::Created))
                    .col(count(Snapshot::Updated))
                    .col(count(Snapshot::Unchanged))
                    .col(count(Snapshot::Deleted))
                    .col(count(Snapshot::Failed))
                    .col(count(Snapshot::Skipped))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("snapshot_status")
                    .table(Snapshot::Table)
                    .col(Snapshot::Status)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SnapshotResource::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SnapshotResource::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SnapshotResource::SnapshotId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SnapshotResource::Path).text().not_null())
                    .col(ColumnDef::new(SnapshotResource::Action).string().not_null())
                    .col(ColumnDef::new(SnapshotResource::Hash).string().null())
                    .col(
                        ColumnDef::new(SnapshotResource::Outcome)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SnapshotResource::Message).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("snapshot_resource_snapshot")
                            .from(SnapshotResource::Table, SnapshotResource::SnapshotId)
                            .to(Snapshot::Table, Snapshot::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("snapshot_resource_snapshot_id")
                    .table(SnapshotResource::Table)
                    .col(SnapshotResource::SnapshotId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResourceBody::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ResourceBody::Hash)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ResourceBody::Body).text().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResourceBody::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SnapshotResource::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Snapshot::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Snapshot {
    Table,
    Id,
    DesiredVersion,
    Trigger,
    Status,
    StartedAt,
    FinishedAt,
    Created,
    Updated,
    Unchanged,
    Deleted,
    Failed,
    Skipped,
}

#[derive(DeriveIden)]
enum SnapshotResource {
    Table,
    Id,
    SnapshotId,
    Path,
    Action,
    Hash,
    Outcome,
    Message,
}

#[derive(DeriveIden)]
enum ResourceBody {
    Table,
    Hash,
    Body,
}
