//! The `timeline_event` table: what happened in the cluster and in bi,
//! searchable by battery, project and kind.

use sea_orm::entity::prelude::*;

/// A row of `timeline_event`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "timeline_event")]
pub struct Model {
    /// Row number: newer rows have larger ids.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What makes a repeat the same row: a cluster Event's uid; None for
    /// bi's own entries.
    #[sea_orm(unique)]
    pub key: Option<String>,
    /// When it (last) happened.
    pub at: ChronoDateTimeUtc,
    /// `cluster` or `bi`.
    pub source: String,
    /// `event`, `change`, `snapshot`, `drift`, `deletion` or `undelete`.
    pub category: String,
    /// A cluster Warning, a failed snapshot, drift, a deletion outside bi.
    pub warning: bool,
    /// The battery it concerns.
    pub battery: Option<String>,
    /// The project it concerns.
    pub project: Option<String>,
    /// The Kubernetes kind of the object it is about.
    pub kind: Option<String>,
    /// The object's namespace.
    pub namespace: Option<String>,
    /// The object's name.
    pub name: Option<String>,
    /// A short word: the Event's reason, `install`, `succeeded`, …
    pub reason: String,
    /// What happened, in words.
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// How many times (a repeated cluster Event counts up).
    pub count: i32,
}

/// `timeline_event` stands alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
