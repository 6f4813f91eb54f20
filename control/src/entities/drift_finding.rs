//! The `drift_finding` table: an object a drift sweep found changed behind
//! bi's back, and how that ended.

use sea_orm::entity::prelude::*;

/// A row of `drift_finding`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drift_finding")]
pub struct Model {
    /// Row number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The object's `ResourcePath`, as displayed.
    #[sea_orm(column_type = "Text")]
    pub path: String,
    /// The battery or user object it belongs to (`battery/app`).
    pub app: String,
    /// The drifted fields, a JSON array of JSON pointers.
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    /// The sweep that first found it.
    pub found_at: ChronoDateTimeUtc,
    /// The last sweep that still found it.
    pub last_seen_at: ChronoDateTimeUtc,
    /// When it ended; None while open.
    pub closed_at: Option<ChronoDateTimeUtc>,
    /// `repaired`, `reverted` or `gone`; None while open.
    pub resolution: Option<String>,
    /// The snapshot that repaired it.
    pub snapshot_id: Option<i64>,
}

/// `drift_finding` stands alone: snapshots are pruned, findings kept.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
