//! The server's own settings: facts the UI's Settings page and the CLI's
//! offline mode show, and the reconcile intervals as a client sends them.

use bi_model::{IntervalSettings, ReconcileIntervals};
use serde::{Deserialize, Serialize};

/// What the server was started with that the Settings page shows; the
/// server provides it to every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// The data directory (the SQLite file, the log, the sandbox's state).
    pub data_dir: String,
    /// The intervals of the server's options (`--recheck-every`, `--drift-every`).
    pub defaults: ReconcileIntervals,
}

/// The reconcile intervals wanted, as typed (`2m`, `1h`): the body of
/// `PUT /api/v1/settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intervals {
    /// The periodic re-check (10s–24h).
    pub recheck_every: String,
    /// The drift sweep (1m–168h).
    pub drift_every: String,
}

/// The system-wide settings as the page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemSettings {
    /// The reconcile intervals in force and where each comes from.
    pub reconcile: IntervalSettings,
    /// The server's data directory.
    pub data_dir: String,
}
