//! The control server's HTTP JSON API, `/api/v1/…`, used by the `bi` CLI
//! and the live plan viewer. Handlers are thin: validate, call
//! `bi-control`, map to a response. Every route is listed in
//! [`crate::router`]; bodies are JSON unless said otherwise.
//!
//! | Method | Route | Body | Response |
//! |---|---|---|---|
//! | GET | `/api/v1/status` | | [`status::Status`]: installation, cluster, installed batteries, desired version, last snapshot, drifted paths |
//! | GET | `/api/v1/batteries` | | every catalog battery ([`bi_control::operations::BatteryStatus`]) |
//! | GET | `/api/v1/batteries/{id}` | | [`bi_control::operations::BatteryDetail`] |
//! | GET | `/api/v1/batteries/{id}/install` | | what installing would do ([`bi_control::operations::InstallPreview`]) |
//! | POST | `/api/v1/batteries/{id}/install` | [`batteries::Settings`] `{"settings": ["memory=512Mi"]}` | [`bi_control::operations::InstallOutcome`] |
//! | POST | `/api/v1/batteries/{id}/configure` | [`batteries::Settings`] | [`Changed`] |
//! | DELETE | `/api/v1/batteries/{id}` | | [`bi_control::operations::UninstallOutcome`] |
//! | GET | `/api/v1/projects` | | [`bi_control::operations::ProjectSummary`] list |
//! | POST | `/api/v1/projects` | [`bi_model::objects::Project`] `{"name","description"}` | [`Changed`] |
//! | GET | `/api/v1/projects/{name}` | | [`bi_control::operations::ProjectDetail`] |
//! | POST | `/api/v1/projects/{name}/rename` | [`projects::Rename`] `{"new_name"}` | [`Changed`] |
//! | DELETE | `/api/v1/projects/{name}?cascade=true` | | [`Changed`] |
//! | GET | `/api/v1/objects?kind=redis_instance` | | [`bi_control::operations::ObjectRef`] list |
//! | POST | `/api/v1/objects` | [`bi_control::operations::ProjectObject`] `{"kind","project","object"}` | [`Changed`] |
//! | GET | `/api/v1/objects/{kind}/{name}` | | [`bi_control::operations::ProjectObject`] |
//! | PUT | `/api/v1/objects/{kind}/{name}` | [`bi_control::operations::ProjectObject`] | [`Changed`] |
//! | DELETE | `/api/v1/objects/{kind}/{name}` | | [`Changed`] |
//! | POST | `/api/v1/objects/{kind}/{name}/scale` | [`projects::Scale`] `{"replicas"}` or `{"min_scale","max_scale"}` | [`Changed`] |
//! | GET | `/api/v1/plan` | | what a snapshot would do now ([`bi_control::engine::PlanPreview`]) |
//! | POST | `/api/v1/snapshots` | | 202 [`snapshots::Requested`] `{"request"}`: follow it on `/api/v1/events` |
//! | GET | `/api/v1/snapshots?limit=20` | | [`bi_control::engine::history::SnapshotSummary`] list, newest first |
//! | GET | `/api/v1/snapshots/{id}` | | [`bi_control::engine::history::SnapshotDetail`] |
//! | GET | `/api/v1/snapshots/diff?a=1&b=2` | | [`bi_control::engine::history::SnapshotDiff`] |
//! | POST | `/api/v1/rollback` | [`snapshots::RollbackRequest`] `{"snapshot"}` | [`snapshots::RollbackDone`] (after the rollback's snapshot ran) |
//! | GET | `/api/v1/export` | | the desired resources as one YAML stream (`application/yaml`), secrets as placeholders |
//! | GET | `/api/v1/audit` | | [`desired_state::AuditEntry`] list: who changed what, when, newest first |
//! | GET | `/api/v1/settings` | | [`bi_control::operations::settings::IntervalSettings`]: the re-check and drift intervals in force |
//! | PUT | `/api/v1/settings` | [`settings::Intervals`] `{"recheck_every":"2m","drift_every":"1h"}` | [`bi_control::operations::settings::IntervalSettings`] |
//! | DELETE | `/api/v1/settings` | | back to the server's options: [`bi_control::operations::settings::IntervalSettings`] |
//! | GET | `/api/v1/events?since=latest\|now\|N` | | websocket of [`bi_model::events::EventEnvelope`] (see [`events`]) |
//!
//! Errors are [`error::ApiError`]: a refused change is 422 with
//! `{"error":{"message":…,"problems":[{"field","rule","message"}]}}`, an
//! unknown battery, project or snapshot 404, a malformed request 400, and
//! anything else 500; each with `{"error":{"message":…}}`.

pub mod batteries;
pub mod desired_state;
pub mod error;
pub mod events;
pub mod projects;
pub mod settings;
pub mod snapshots;
pub mod status;

use serde::{Deserialize, Serialize};

pub use error::{ApiError, ErrorBody, ErrorDetail};

/// Who the audit trail names for changes made through this API.
pub const AUTHOR: &str = "api";

/// A stored change: the desired-state version it created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// The new desired-state version.
    pub version: i32,
}
