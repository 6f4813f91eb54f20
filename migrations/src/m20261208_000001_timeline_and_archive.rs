//! The timeline and the archive of deleted objects.
//!
//! `timeline_event`: what happened, from the cluster (its Events) and from
//! bi (changes, snapshots, drift, deletions, undeletes), with the battery,
//! project and kind it concerns, kept for the `timeline` battery's
//! retention. A cluster Event is one row however often it repeats (`key`
//! is its uid; `count` and `at` follow it).
//!
//! `deleted_object`: the last body of every object bi manages that was
//! deleted, by bi or anyone, and whether it was restored. `uid` (the
//! deleted object's) is unique: bi's own deletion and the watch that sees
//! it make one row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TimelineEvent::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(TimelineEvent::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TimelineEvent::Key).string().null())
                    .col(
                        ColumnDef::new(TimelineEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TimelineEvent::Source).string().not_null())
                    .col(ColumnDef::new(TimelineEvent::Category).string().not_null())
                    .col(ColumnDef::new(TimelineEvent::Warning).boolean().not_null())
                    .col(ColumnDef::new(TimelineEvent::Battery).string().null())
                    .col(ColumnDef::new(TimelineEvent::Project).string().null())
                    .col(ColumnDef::new(TimelineEvent::Kind).string().null())
                    .col(ColumnDef::new(TimelineEvent::Namespace).string().null())
                    .col(ColumnDef::new(TimelineEvent::Name).string().null())
                    .col(ColumnDef::new(TimelineEvent::Reason).string().not_null())
                    .col(ColumnDef::new(TimelineEvent::Message).text().not_null())
                    .col(ColumnDef::new(TimelineEvent::Count).integer().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, column, unique) in [
            ("timeline_event_key", TimelineEvent::Key, true),
            ("timeline_event_at", TimelineEvent::At, false),
            ("timeline_event_battery", TimelineEvent::Battery, false),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(TimelineEvent::Table)
                .col(column)
                .if_not_exists();
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(DeletedObject::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(DeletedObject::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DeletedObject::Uid).string().not_null())
                    .col(ColumnDef::new(DeletedObject::Path).text().not_null())
                    .col(ColumnDef::new(DeletedObject::App).string().not_null())
                    .col(ColumnDef::new(DeletedObject::Body).text().not_null())
                    .col(
                        ColumnDef::new(DeletedObject::DeletedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(DeletedObject::DeletedBy).string().not_null())
                    .col(
                        ColumnDef::new(DeletedObject::SnapshotId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(DeletedObject::UndeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(DeletedObject::UndeletedBy).string().null())
                    .col(ColumnDef::new(DeletedObject::Restored).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deleted_object_uid")
                    .table(DeletedObject::Table)
                    .col(DeletedObject::Uid)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeletedObject::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TimelineEvent::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum TimelineEvent {
    Table,
    Id,
    Key,
    At,
    Source,
    Category,
    Warning,
    Battery,
    Project,
    Kind,
    Namespace,
    Name,
    Reason,
    Message,
    Count,
}

#[derive(DeriveIden, Clone, Copy)]
enum DeletedObject {
    Table,
    Id,
    Uid,
    Path,
    App,
    Body,
    DeletedAt,
    DeletedBy,
    SnapshotId,
    UndeletedAt,
    UndeletedBy,
    Restored,
}
