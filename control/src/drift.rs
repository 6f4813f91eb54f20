//! Drift kept in the database: what each sweep found changed behind bi's
//! back, from when, and how it ended, so the dashboard, the battery pages
//! and `bi drift` show it across restarts.
//!
//! A finding opens when a sweep first sees an object differ and stays one
//! row while later sweeps still see it (its fields and `last_seen_at`
//! follow). It closes as `repaired` when a snapshot re-applies the object,
//! `reverted` when a sweep finds the object as bi wants it again without
//! bi writing it, and `gone` when bi no longer wants the object.
//!
//! The installation's drift mode says whether sweeps lead to repairs on
//! their own or only report (`report_only`), in which case bi re-applies
//! drifted objects only when someone asks it to.

use std::collections::{BTreeMap, BTreeSet};

use bi_model::events::Drift;
use bi_model::generate::ResourcePath;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::db::Database;
use crate::entities::drift_finding::{self, Entity as Finding};
use crate::entities::installation;
use crate::error::{Error, Result, db_error};

pub use bi_api::drift::{DriftFinding, DriftMode, DriftView, SweepSummary};

/// How many closed findings the view shows, newest first.
pub const CLOSED_SHOWN: u64 = 20;

/// How a finding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// A snapshot re-applied the object.
    Repaired,
    /// A sweep found it as bi wants it, without bi writing it.
    Reverted,
    /// bi no longer wants the object.
    Gone,
}

impl Resolution {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Repaired => "repaired",
            Self::Reverted => "reverted",
            Self::Gone => "gone",
        }
    }
}

/// Records a sweep at `at`: `found` opens or refreshes findings (`apps`
/// names each object's battery or object), and open findings of `clean`
/// objects (compared and equal) close as reverted.
pub async fn record_sweep(
    db: &Database,
    found: &[Drift],
    clean: &[ResourcePath],
    apps: &BTreeMap<ResourcePath, String>,
    at: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin_write().await?;
    let open: BTreeMap<String, drift_finding::Model> = Finding::find()
        .filter(drift_finding::Column::ClosedAt.is_null())
        .all(&txn)
        .await
        .map_err(db_error("reading open drift findings"))?
        .into_iter()
        .map(|row| (row.path.clone(), row))
        .collect();
    for drift in found {
        let path = drift.path.to_string();
        let fields = serde_json::to_string(&drift.fields).map_err(|source| Error::Encode {
            what: "drifted fields",
            source,
        })?;
        match open.get(&path) {
            Some(row) => {
                let mut active: drift_finding::ActiveModel = row.clone().into();
                active.fields = Set(fields);
                active.last_seen_at = Set(at);
                active.update(&txn).await
            }
            None => {
                drift_finding::ActiveModel {
                    path: Set(path),
                    app: Set(apps.get(&drift.path).cloned().unwrap_or_default()),
                    fields: Set(fields),
                    found_at: Set(at),
                    last_seen_at: Set(at),
                    closed_at: Set(None),
                    resolution: Set(None),
                    snapshot_id: Set(None),
                    ..Default::default()
                }
                .insert(&txn)
                .await
            }
        }
        .map_err(db_error("recording a drift finding"))?;
    }
    let clean: Vec<String> = clean.iter().map(ToString::to_string).collect();
    close(&txn, &clean, Resolution::Reverted, None, at).await?;
    txn.commit()
        .await
        .map_err(db_error("committing drift findings"))
}

/// After snapshot `snapshot`: open findings of `applied` objects close as
/// repaired, and those of objects bi no longer wants (not in `desired`) as
/// gone.
pub async fn settle(
    db: &Database,
    snapshot: i64,
    applied: &[ResourcePath],
    desired: &BTreeSet<ResourcePath>,
    at: DateTime<Utc>,
) -> Result<()> {
    let open = open_findings(db).await?;
    if open.is_empty() {
        return Ok(());
    }
    let applied: BTreeSet<String> = applied.iter().map(ToString::to_string).collect();
    let desired: BTreeSet<String> = desired.iter().map(ToString::to_string).collect();
    let repaired: Vec<String> = open
        .iter()
        .filter(|row| applied.contains(&row.path))
        .map(|row| row.path.clone())
        .collect();
    let gone: Vec<String> = open
        .iter()
        .filter(|row| !desired.contains(&row.path))
        .map(|row| row.path.clone())
        .collect();
    if repaired.is_empty() && gone.is_empty() {
        return Ok(());
    }
    let txn = db.begin_write().await?;
    close(&txn, &repaired, Resolution::Repaired, Some(snapshot), at).await?;
    close(&txn, &gone, Resolution::Gone, None, at).await?;
    txn.commit()
        .await
        .map_err(db_error("committing drift repairs"))
}

/// Closes the open findings of `paths` as `resolution`.
async fn close(
    txn: &sea_orm::DatabaseTransaction,
    paths: &[String],
    resolution: Resolution,
    snapshot: Option<i64>,
    at: DateTime<Utc>,
) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    Finding::update_many()
        .col_expr(
            drift_finding::Column::ClosedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .col_expr(
            drift_finding::Column::Resolution,
            sea_orm::sea_query::Expr::value(resolution.as_str()),
        )
        .col_expr(
            drift_finding::Column::SnapshotId,
            sea_orm::sea_query::Expr::value(snapshot),
        )
        .filter(drift_finding::Column::ClosedAt.is_null())
        .filter(drift_finding::Column::Path.is_in(paths.iter().cloned()))
        .exec(txn)
        .await
        .map_err(db_error("closing drift findings"))?;
    Ok(())
}

async fn open_findings(db: &Database) -> Result<Vec<drift_finding::Model>> {
    db.shared(
        "drift/open",
        |db| async move { open_findings_now(&db).await },
    )
    .await
}

async fn open_findings_now(db: &Database) -> Result<Vec<drift_finding::Model>> {
    Finding::find()
        .filter(drift_finding::Column::ClosedAt.is_null())
        .order_by_desc(drift_finding::Column::Id)
        .all(db.connection())
        .await
        .map_err(db_error("reading open drift findings"))
}

/// The paths of open findings, as shown (`bi status`, `/metrics`).
pub async fn open_path_names(db: &Database) -> Result<Vec<String>> {
    Ok(open_findings(db)
        .await?
        .into_iter()
        .map(|row| row.path)
        .collect())
}

/// The objects of open findings: what a repair re-applies.
pub async fn open_paths(db: &Database) -> Result<Vec<ResourcePath>> {
    open_findings(db)
        .await?
        .iter()
        .map(|row| crate::engine::parse_path(&row.path))
        .collect()
}

/// Open findings and the latest closed ones, with `last_sweep` and the mode.
pub async fn view(db: &Database, last_sweep: Option<SweepSummary>) -> Result<DriftView> {
    let stored = db
        .shared("drift/view", |db| async move { stored_view(&db).await })
        .await?;
    Ok(DriftView {
        last_sweep,
        ..stored
    })
}

/// [`view`] without the last sweep, which the engine keeps in memory.
async fn stored_view(db: &Database) -> Result<DriftView> {
    let open = open_findings(db).await?;
    let closed = Finding::find()
        .filter(drift_finding::Column::ClosedAt.is_not_null())
        .order_by_desc(drift_finding::Column::ClosedAt)
        .order_by_desc(drift_finding::Column::Id)
        .limit(CLOSED_SHOWN)
        .all(db.connection())
        .await
        .map_err(db_error("reading closed drift findings"))?;
    Ok(DriftView {
        report_only: report_only(db).await?,
        open: open.into_iter().map(finding).collect(),
        closed: closed.into_iter().map(finding).collect(),
        last_sweep: None,
    })
}

fn finding(row: drift_finding::Model) -> DriftFinding {
    DriftFinding {
        id: row.id,
        // NB: written by record_sweep from a Vec<String>.
        fields: serde_json::from_str(&row.fields).unwrap_or_default(),
        path: row.path,
        app: row.app,
        found_at: row.found_at.into(),
        last_seen_at: row.last_seen_at.into(),
        closed_at: row.closed_at.map(Into::into),
        resolution: row.resolution,
        snapshot: row.snapshot_id,
    }
}

/// Whether sweeps only report.
pub async fn report_only(db: &Database) -> Result<bool> {
    let row = installation::Entity::find()
        .order_by_asc(installation::Column::CreatedAt)
        .one(db.connection())
        .await
        .map_err(db_error("reading the drift mode"))?;
    Ok(row.is_some_and(|row| row.drift_report_only))
}

/// Sets whether sweeps only report.
pub async fn set_report_only(db: &Database, report_only: bool) -> Result<()> {
    let row = crate::installation::ensure(db).await?;
    let mut active: installation::ActiveModel = row.into();
    active.drift_report_only = Set(report_only);
    active.updated_at = Set(Utc::now());
    active
        .update(db.connection())
        .await
        .map_err(db_error("storing the drift mode"))?;
    tracing::info!(report_only, "stored the drift mode");
    Ok(())
}
