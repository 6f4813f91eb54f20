//! The installation's reconcile intervals, set from the Settings page: the
//! periodic re-check and the drift sweep, in milliseconds; NULL means the
//! server's own option (`--recheck-every`, `--drift-every`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // NB: one column per ALTER: SQLite adds only one at a time.
        for column in [Installation::RecheckEveryMs, Installation::DriftEveryMs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Installation::Table)
                        .add_column(ColumnDef::new(column).big_integer().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Installation::RecheckEveryMs, Installation::DriftEveryMs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Installation::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Installation {
    Table,
    RecheckEveryMs,
    DriftEveryMs,
}
