//! A moment in time as it crosses the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A moment in UTC as RFC 3339 text (`2026-11-24T23:47:05.123Z`), as
/// chrono writes it: the JSON API's form is unchanged, and the browser can
/// show it without linking a date library.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// A moment the cluster wrote as RFC 3339 text (`2026-11-24T23:47:05Z`).
    pub fn from_rfc3339(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The RFC 3339 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `2026-11-24 23:47:05 UTC`: to the second, for people.
    pub fn readable(&self) -> String {
        match self.0.get(..19) {
            Some(seconds) if self.0.ends_with('Z') => {
                format!("{} UTC", seconds.replacen('T', " ", 1))
            }
            _ => self.0.clone(),
        }
    }

    /// `2026-11-24 23:47:05`: to the second, for tables whose heading says
    /// the zone.
    pub fn readable_without_zone(&self) -> String {
        let readable = self.readable();
        readable
            .strip_suffix(" UTC")
            .map_or(readable.clone(), str::to_owned)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "chrono")]
impl From<chrono::DateTime<chrono::Utc>> for Timestamp {
    fn from(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_to_the_second_in_utc() {
        let at = Timestamp("2026-11-24T23:47:05.123456Z".into());
        assert_eq!(at.readable(), "2026-11-24 23:47:05 UTC");
        assert_eq!(at.readable_without_zone(), "2026-11-24 23:47:05");
        assert_eq!(
            serde_json::to_string(&at).unwrap_or_default(),
            "\"2026-11-24T23:47:05.123456Z\""
        );
    }

    #[test]
    fn text_it_cannot_read_is_shown_as_it_is() {
        let at = Timestamp("yesterday".into());
        assert_eq!(at.readable(), "yesterday");
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn writes_what_chrono_serializes() {
        use chrono::TimeZone;
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 24, 23, 47, 5)
            .single()
            .map(|at| at + chrono::Duration::microseconds(123_456));
        let Some(at) = at else {
            panic!("a valid date");
        };
        let ours = serde_json::to_value(Timestamp::from(at)).unwrap_or_default();
        let chronos = serde_json::to_value(at).unwrap_or_default();
        assert_eq!(ours, chronos);
    }
}
