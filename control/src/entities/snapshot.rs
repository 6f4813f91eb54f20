//! The `snapshot` table: one row per run of the snapshot-and-apply engine,
//! inserted as `running` before anything is applied and finished with its
//! status and outcome counts.

use sea_orm::entity::prelude::*;

/// A row of `snapshot`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "snapshot")]
pub struct Model {
    /// Increasing snapshot number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The desired-state version that was applied.
    pub desired_version: i32,
    /// What started it, e.g. `start-up` or `desired state changed`.
    pub trigger: String,
    /// `running`, `succeeded`, `failed` or `interrupted`.
    pub status: String,
    /// When it started.
    pub started_at: ChronoDateTimeUtc,
    /// When it finished; None while running (or if interrupted).
    pub finished_at: Option<ChronoDateTimeUtc>,
    /// Objects created.
    pub created: i32,
    /// Objects updated.
    pub updated: i32,
    /// Objects already as desired.
    pub unchanged: i32,
    /// Objects deleted.
    pub deleted: i32,
    /// Objects the API server refused.
    pub failed: i32,
    /// Objects waiting for an admission webhook (the name is older than
    /// its meaning: it counted writes skipped after a failure).
    pub skipped: i32,
    /// The `inventory_set` of the objects it left applied, with their
    /// hashes; None before it finished (and for snapshots recorded before
    /// sets existed, whose rows list every object).
    pub applied_set: Option<String>,
    /// The `inventory_set` of every object bi may have in the cluster after
    /// it (what the next plan prunes from); None as for `applied_set`.
    pub owned_set: Option<String>,
    /// Objects not attempted because something they depend on was refused.
    pub held_back: i32,
}

/// A snapshot has many resource outcomes.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Its `snapshot_resource` rows.
    #[sea_orm(has_many = "super::snapshot_resource::Entity")]
    SnapshotResource,
}

impl Related<super::snapshot_resource::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SnapshotResource.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
