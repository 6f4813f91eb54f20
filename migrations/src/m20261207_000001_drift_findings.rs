//! Drift kept across restarts: every object a sweep found changed behind
//! bi's back, with the fields, when it was found and last seen, and how it
//! ended (`repaired` by a snapshot, `reverted` by whoever changed it, or
//! `gone` when bi no longer wants the object). An open finding has no
//! `closed_at`.
//!
//! `installation.drift_report_only`: when true, sweeps only report; bi
//! re-applies drifted objects only when someone asks it to.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DriftFinding::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(DriftFinding::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DriftFinding::Path).text().not_null())
                    .col(ColumnDef::new(DriftFinding::App).string().not_null())
                    .col(ColumnDef::new(DriftFinding::Fields).text().not_null())
                    .col(
                        ColumnDef::new(DriftFinding::FoundAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DriftFinding::LastSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DriftFinding::ClosedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(DriftFinding::Resolution).string().null())
                    .col(
                        ColumnDef::new(DriftFinding::SnapshotId)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("drift_finding_path")
                    .table(DriftFinding::Table)
                    .col(DriftFinding::Path)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Installation::Table)
                    .add_column(
                        ColumnDef::new(Installation::DriftReportOnly)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Installation::Table)
                    .drop_column(Installation::DriftReportOnly)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(DriftFinding::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DriftFinding {
    Table,
    Id,
    Path,
    App,
    Fields,
    FoundAt,
    LastSeenAt,
    ClosedAt,
    Resolution,
    SnapshotId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Installation {
    Table,
    DriftReportOnly,
}
