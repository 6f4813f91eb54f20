//! The audit trail: who changed the desired state, what, and when; and the
//! versions a change names (the one it created, the one it was read at).

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

/// The query of a removal that has no other options (an object, a
/// battery): `?expected_version=N`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedVersion {
    /// The desired-state version the caller read the thing at: refused
    /// with 409 when it changed since. None: last writer wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i32>,
}
