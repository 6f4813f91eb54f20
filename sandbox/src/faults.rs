//! Injected faults: refusals a test asks the sandbox to answer with, so the
//! engine's handling of a real API server's errors (a 422 that must be
//! recorded, a 500 or 429 that must be retried) is tested over the wire.
//!
//! A fault matches requests by Kubernetes verb, resource plural and,
//! optionally, object name; it answers the next `times` of them with a
//! `Status` of its code and message instead of serving them. The request
//! is still counted.

use std::sync::{Mutex, PoisonError};

use super::status::ApiError;

/// A refusal the sandbox answers matching requests with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The Kubernetes verb: `patch`, `create`, `delete`, `get`, `list`…
    pub verb: String,
    /// The resource's plural, e.g. `configmaps`.
    pub resource: String,
    /// Only requests for this object's name; any object when None.
    pub name: Option<String>,
    /// The HTTP status: 422, 429, 500, 503…
    pub code: u16,
    /// The `Status` message.
    pub message: String,
    /// How many matching requests it answers before it is used up.
    pub times: u32,
    /// Answer as API Priority and Fairness rejects a request: 429 in plain
    /// text with this `Retry-After` (seconds); `code` and `message` unused.
    pub retry_after: Option<u32>,
}

/// The faults waiting for their requests.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Adds `fault`.
    pub(crate) fn inject(&self, fault: Fault) {
        self.lock().push(fault);
    }

    /// Removes every fault.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The refusal for this request, if a fault matches it (using it once).
    pub(crate) fn answer(
        &self,
        verb: &str,
        resource: &str,
        name: Option<&str>,
    ) -> Option<ApiError> {
        let mut pending = self.lock();
        let index = pending.iter().position(|fault| {
            fault.times > 0
                && fault.verb == verb
                && fault.resource == resource
                && fault
                    .name
                    .as_deref()
                    .is_none_or(|wanted| Some(wanted) == name)
        })?;
        let fault = &mut pending[index];
        fault.times -= 1;
        let error = match fault.retry_after {
            Some(seconds) => ApiError::throttled(seconds),
            None => ApiError::injected(fault.code, fault.message.clone()),
        };
        if fault.times == 0 {
            pending.remove(index);
        }
        Some(error)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        // NB: a Vec is consistent after every statement.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
