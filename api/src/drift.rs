//! Drift as people see it: objects changed behind bi's back, kept across
//! restarts, with what became of them, and whether bi repairs drift on its
//! own or only reports it.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// One object a sweep found changed behind bi's back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftFinding {
    /// Its number.
    pub id: i64,
    /// The object (`apps/v1/Deployment/battery-data/redis`).
    pub path: String,
    /// The battery or user object it belongs to (`battery/app`).
    pub app: String,
    /// The fields bi manages that held other values, as JSON pointers.
    pub fields: Vec<String>,
    /// When a sweep first found it.
    pub found_at: Timestamp,
    /// When a sweep last found it.
    pub last_seen_at: Timestamp,
    /// When it ended; None while open.
    pub closed_at: Option<Timestamp>,
    /// How it ended: `repaired` (bi re-applied it), `reverted` (a later
    /// sweep found it as bi wants it) or `gone` (bi no longer wants it).
    pub resolution: Option<String>,
    /// The snapshot that repaired it.
    pub snapshot: Option<i64>,
}

/// The last sweep's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// When it ran.
    pub at: Timestamp,
    /// Objects compared.
    pub checked: usize,
    /// Objects that differed.
    pub drifted: usize,
    /// Objects that could not be compared, with why.
    pub errors: Vec<String>,
}

impl SweepSummary {
    /// `2026-12-05 10:00:00 UTC: 187 objects compared, 1 drifted, 2 could
    /// not be compared`.
    pub fn words(&self) -> String {
        let errors = if self.errors.is_empty() {
            String::new()
        } else {
            format!(", {} could not be compared", self.errors.len())
        };
        format!(
            "{}: {} objects compared, {} drifted{errors}",
            self.at.readable(),
            self.checked,
            self.drifted
        )
    }
}

/// Drift now and lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftView {
    /// True: sweeps only report, bi repairs when asked; false: the next
    /// snapshot after a sweep repairs what it found.
    pub report_only: bool,
    /// Findings still open, newest first.
    pub open: Vec<DriftFinding>,
    /// Findings closed lately, newest first.
    pub closed: Vec<DriftFinding>,
    /// The last sweep this server ran, if any since it started.
    pub last_sweep: Option<SweepSummary>,
}

impl DriftView {
    /// The findings (open and closed) of the battery or object `app`.
    pub fn of_app<'a>(&'a self, app: &'a str) -> impl Iterator<Item = &'a DriftFinding> + 'a {
        self.open
            .iter()
            .chain(&self.closed)
            .filter(move |finding| finding.app == app)
    }
}

/// Whether drift is repaired on its own or only reported
/// (`POST /api/v1/drift/mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftMode {
    /// True: sweeps only report.
    pub report_only: bool,
}
