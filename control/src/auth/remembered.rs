//! Credentials resolved recently, remembered for a few seconds so that a
//! page's many requests (and a script's) do not each read the database to
//! find who sent them.
//!
//! Only credentials that worked are remembered (a new token or session works
//! at once), by the secret's SHA-256, never the secret. An entry is used
//! until the first of: its credential expires, [`FOR`] passes, or this
//! process changes any account, token or session ([`Remembered::forget`]
//! clears them all: a revoke, a sign-out, a role or password change, a
//! disabled or removed account take effect on the next request). Another
//! bi server sharing the database sees such a change within [`FOR`], as a
//! Kubernetes API server does a webhook's token review within its cache TTL.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use super::Principal;

/// How long a resolved credential is used without reading the database.
pub const FOR: TimeDelta = TimeDelta::seconds(10);

/// Entries kept at most; past this, expired ones are dropped and, if that
/// is not enough, all of them.
const MOST: usize = 10_000;

/// The remembered credentials of one database.
#[derive(Debug, Default)]
pub struct Remembered {
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    principal: Principal,
    /// When the entry stops being used: the credential's expiry or
    /// [`FOR`] after it was read, whichever is first.
    until: DateTime<Utc>,
}

impl Remembered {
    /// The caller `digest` stood for when last read, if still usable at `now`.
    pub(crate) fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<Principal> {
        let entries = self.lock();
        let entry = entries.get(digest)?;
        (now < entry.until).then(|| entry.principal.clone())
    }

    /// Remembers that `digest` stands for `principal`, read at `now`, its
    /// credential expiring at `expires` (never, for a token without expiry).
    pub(crate) fn put(
        &self,
        digest: String,
        principal: Principal,
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) {
        let until = expires.map_or(now + FOR, |expires| expires.min(now + FOR));
        let mut entries = self.lock();
        if entries.len() >= MOST {
            entries.retain(|_, entry| now < entry.until);
            if entries.len() >= MOST {
                entries.clear();
            }
        }
        entries.insert(digest, Entry { principal, until });
    }

    /// Forgets every credential: something about accounts, tokens or
    /// sessions changed.
    pub(crate) fn forget(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone() -> Principal {
        Principal::local("someone")
    }

    #[test]
    fn an_entry_lasts_until_its_credential_expires_or_the_time_passes() {
        let remembered = Remembered::default();
        let now = Utc::now();
        remembered.put("a".into(), someone(), now, None);
        remembered.put(
            "b".into(),
            someone(),
            now,
            Some(now + TimeDelta::seconds(2)),
        );
        assert_eq!(remembered.get("a", now), Some(someone()));
        assert_eq!(
            remembered.get("b", now + TimeDelta::seconds(1)),
            Some(someone())
        );
        assert_eq!(remembered.get("b", now + TimeDelta::seconds(2)), None);
        assert_eq!(
            remembered.get("a", now + FOR - TimeDelta::milliseconds(1)),
            Some(someone())
        );
        assert_eq!(remembered.get("a", now + FOR), None);
        assert_eq!(remembered.get("c", now), None);
    }

    #[test]
    fn forgetting_clears_every_entry() {
        let remembered = Remembered::default();
        let now = Utc::now();
        remembered.put("a".into(), someone(), now, None);
        remembered.forget();
        assert_eq!(remembered.get("a", now), None);
    }

    #[test]
    fn it_stays_bounded() {
        let remembered = Remembered::default();
        let now = Utc::now();
        for n in 0..MOST + 10 {
            remembered.put(n.to_string(), someone(), now, None);
        }
        assert!(remembered.lock().len() <= MOST);
        assert_eq!(
            remembered.get(&(MOST + 9).to_string(), now),
            Some(someone())
        );
    }
}
