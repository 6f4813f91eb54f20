//! The `deleted_object` table: the last body of an object bi managed that
//! was deleted, by bi or anyone, and whether it was restored.

use sea_orm::entity::prelude::*;

/// A row of `deleted_object`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deleted_object")]
pub struct Model {
    /// Row number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The deleted object's uid: bi's deletion and the watch that sees it
    /// make one row.
    #[sea_orm(unique)]
    pub uid: String,
    /// The object's `ResourcePath`, as displayed.
    #[sea_orm(column_type = "Text")]
    pub path: String,
    /// The battery or user object it belonged to (`battery/app`).
    pub app: String,
    /// Its body as the cluster last held it (without managedFields), JSON.
    /// Secret values are kept, to restore them, and never shown.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// When it was deleted.
    pub deleted_at: ChronoDateTimeUtc,
    /// `bi` (a snapshot deleted it) or `outside bi`.
    pub deleted_by: String,
    /// The snapshot that deleted it.
    pub snapshot_id: Option<i64>,
    /// When it was restored; None while deleted.
    pub undeleted_at: Option<ChronoDateTimeUtc>,
    /// Who restored it.
    pub undeleted_by: Option<String>,
    /// How: `snapshot N` (still desired) or `as an unmanaged object`.
    pub restored: Option<String>,
}

/// `deleted_object` stands alone: snapshots are pruned, the archive kept.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
