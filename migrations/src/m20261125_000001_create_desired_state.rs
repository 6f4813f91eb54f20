//! The desired state's history and the stored secrets.
//!
//! `desired_state_version` keeps every version of what the user configured,
//! one JSON document per row, never updated in place: a change adds a row
//! with the next version number, its author and a summary (the audit trail).
//! `stored_secret` keeps every generated secret, created once and never
//! rewritten, so later versions keep using the same passwords.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DesiredStateVersion::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(DesiredStateVersion::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DesiredStateVersion::Version)
                            .integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(DesiredStateVersion::State).text().not_null())
                    .col(
                        ColumnDef::new(DesiredStateVersion::Author)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DesiredStateVersion::Summary)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DesiredStateVersion::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StoredSecret::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(StoredSecret::Key)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StoredSecret::Value).text().not_null())
                    .col(
                        ColumnDef::new(StoredSecret::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StoredSecret::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DesiredStateVersion::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DesiredStateVersion {
    Table,
    Id,
    Version,
    State,
    Author,
    Summary,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StoredSecret {
    Table,
    Key,
    Value,
    CreatedAt,
}
