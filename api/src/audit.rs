//! The audit trail: who changed the desired state, what, and when.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// One stored desired-state version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The desired-state version the change created.
    pub version: i32,
    /// Who made it.
    pub author: String,
    /// What changed, in words.
    pub summary: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// A stored change: the desired-state version it created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// The new desired-state version.
    pub version: i32,
}
