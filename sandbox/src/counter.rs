//! The request counter: every request the sandbox serves, by Kubernetes verb
//! and resource, so tests and the benchmark can prove "no writes".
//!
//! Verbs are Kubernetes' request verbs: `get`, `list`, `watch`, `create`,
//! `update`, `patch`, `delete`, `deletecollection`. The resource is the plural
//! (`deployments`), with `/status` appended for the status subresource
//! (`deployments/status`). Discovery and other non-resource requests
//! (`/version`, `/api`, `/apis`, `/apis/{g}/{v}`, `/openapi/…`, `/healthz`) count as
//! verb `get`, resource `discovery`.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// The verbs that write (dry runs included).
const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// A snapshot of the request counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    counts: BTreeMap<(String, String), u64>,
}

impl RequestCounts {
    /// Count for (verb, resource), e.g. ("create", "deployments"). Verbs are Kubernetes'
    /// request verbs: get, list, watch, create, update, patch, delete, deletecollection.
    pub fn get(&self, verb: &str, resource: &str) -> u64 {
        self.counts
            .get(&(verb.to_owned(), resource.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// All writes (create, update, patch, delete, deletecollection), on any resource.
    /// Dry runs (`dryRun=All`) are counted too: they are write requests even though
    /// nothing is stored.
    pub fn writes(&self) -> u64 {
        self.counts
            .iter()
            .filter(|((verb, _), _)| WRITE_VERBS.contains(&verb.as_str()))
            .map(|(_, count)| count)
            .sum()
    }

    /// Every request, discovery included.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Every (verb, resource) pair seen, with its count, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&(String, String), &u64)> {
        self.counts.iter()
    }
}

/// The live counter the server increments.
#[derive(Debug, Default)]
pub(crate) struct RequestCounter {
    counts: Mutex<BTreeMap<(String, String), u64>>,
}

impl RequestCounter {
    /// Counts one request.
    pub(crate) fn record(&self, verb: &str, resource: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts
            .entry((verb.to_owned(), resource.to_owned()))
            .or_insert(0) += 1;
    }

    /// The counts so far.
    pub(crate) fn snapshot(&self) -> RequestCounts {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        RequestCounts {
            counts: counts.clone(),
        }
    }

    /// Zeroes every count.
    pub(crate) fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_writes_apart_from_reads() {
        let counter = RequestCounter::default();
        counter.record("get", "discovery");
        counter.record("list", "deployments");
        counter.record("create", "deployments");
        counter.record("patch", "deployments/status");
        counter.record("create", "deployments");
        let counts = counter.snapshot();
        assert_eq!(counts.get("create", "deployments"), 2);
        assert_eq!(counts.get("delete", "deployments"), 0);
        assert_eq!(counts.writes(), 3);
        assert_eq!(counts.total(), 5);
        counter.reset();
        assert_eq!(counter.snapshot(), RequestCounts::default());
    }
}
