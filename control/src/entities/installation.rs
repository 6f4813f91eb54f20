//! The `installation` table: the one row naming this bi installation.

use sea_orm::entity::prelude::*;

/// A row of `installation`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "installation")]
pub struct Model {
    /// Stable identity of the installation, created on first start.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The validated [`bi_model::InstallationName`], as text.
    pub name: String,
    /// When bi first started against this database.
    pub created_at: ChronoDateTimeUtc,
    /// When the row last changed.
    pub updated_at: ChronoDateTimeUtc,
    /// The periodic re-check set from the Settings page, in milliseconds;
    /// None: the server's `--recheck-every`.
    pub recheck_every_ms: Option<i64>,
    /// The drift sweep set from the Settings page, in milliseconds; None:
    /// the server's `--drift-every`.
    pub drift_every_ms: Option<i64>,
    /// When true, drift sweeps only report: bi re-applies drifted objects
    /// only when asked.
    pub drift_report_only: bool,
}

/// `installation` has no relations yet.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
