//! The sandbox's objects on disk: one JSON file (`<data-dir>/sandbox.json`)
//! holding every object and the resourceVersion counter, so a restarted bi
//! finds the cluster as it left it.
//!
//! The file is rewritten after every write (temp file + rename, so a crash
//! leaves the old or the new file, never half of one). Writes are ordered by
//! resourceVersion: a snapshot older than the one already on disk is skipped.
//! Watch history is not kept; after a restart, watches from an older
//! resourceVersion get 410 Expired and clients list again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;

use super::error::SandboxError;

/// The format version written into the file.
const FORMAT: u32 = 1;

/// Everything persisted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// File format version.
    pub(crate) format: u32,
    /// The last resourceVersion handed out.
    #[serde(rename = "resourceVersion")]
    pub(crate) resource_version: u64,
    /// Every object.
    pub(crate) objects: Vec<SnapshotObject>,
}

/// One stored object and where it lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotObject {
    /// API group ("" for core).
    pub(crate) group: String,
    /// Plural resource name.
    pub(crate) plural: String,
    /// Namespace ("" when cluster-scoped).
    pub(crate) namespace: String,
    /// Object name.
    pub(crate) name: String,
    /// The object.
    pub(crate) object: Value,
    /// Last applied configuration per server-side-apply field manager.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) applied: BTreeMap<String, Value>,
}

impl Snapshot {
    /// A snapshot of the given objects at `resource_version`.
    pub(crate) fn new(resource_version: u64, objects: Vec<SnapshotObject>) -> Self {
        Self {
            format: FORMAT,
            resource_version,
            objects,
        }
    }
}

/// Reads the store file; `None` when there is none yet.
pub(crate) fn load(path: &Path) -> Result<Option<Snapshot>, SandboxError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SandboxError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| SandboxError::Persist {
        path: path.to_owned(),
        reason: format!("not a sandbox store: {e}"),
    })?;
    if snapshot.format != FORMAT {
        return Err(SandboxError::Persist {
            path: path.to_owned(),
            reason: format!(
                "written in format {}, this bi reads format {FORMAT}",
                snapshot.format
            ),
        });
    }
    Ok(Some(snapshot))
}

/// Writes snapshots to the store file, newest wins.
#[derive(Debug)]
pub(crate) struct Persister {
    path: PathBuf,
    /// The resourceVersion of the snapshot on disk.
    written: Mutex<Option<u64>>,
}

impl Persister {
    /// A persister for `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            written: Mutex::new(None),
        }
    }

    /// The store file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` (a serialized snapshot at `resource_version`) unless a newer one is on disk.
    pub(crate) async fn write(
        &self,
        resource_version: u64,
        bytes: Vec<u8>,
    ) -> Result<(), SandboxError> {
        // NB: the lock orders concurrent writers; a stale snapshot must not overwrite a newer one.
        let mut written = self.written.lock().await;
        if written.is_some_and(|done| done > resource_version) {
            return Ok(());
        }
        let temp = self.path.with_extension("json.tmp");
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| SandboxError::Io { path, source }
        };
        tokio::fs::write(&temp, &bytes).await.map_err(io(&temp))?;
        tokio::fs::rename(&temp, &self.path)
            .await
            .map_err(io(&self.path))?;
        *written = Some(resource_version);
        Ok(())
    }
}

/// Serializes a snapshot for [`Persister::write`].
pub(crate) fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(snapshot)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn snapshots_round_trip_and_stale_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.json");
        assert!(load(&path).unwrap().is_none());
        let persister = Persister::new(path.clone());
        let object = SnapshotObject {
            group: String::new(),
            plural: "configmaps".into(),
            namespace: "default".into(),
            name: "a".into(),
            object: json!({ "metadata": { "name": "a" } }),
            applied: BTreeMap::new(),
        };
        let newer = Snapshot::new(7, vec![object]);
        persister.write(7, encode(&newer).unwrap()).await.unwrap();
        let older = Snapshot::new(5, Vec::new());
        persister.write(5, encode(&older).unwrap()).await.unwrap();
        let loaded = load(&path).unwrap().unwrap();
        assert_eq!(loaded.resource_version, 7);
        assert_eq!(loaded.objects.len(), 1);
    }

    #[test]
    fn a_corrupt_store_is_an_error_not_an_empty_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.json");
        std::fs::write(&path, b"{ nope").unwrap();
        assert!(matches!(load(&path), Err(SandboxError::Persist { .. })));
    }
}
