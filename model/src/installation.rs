//! The installation: the one bi control server and the cluster it manages.
//!
//! Its name is shown in the top bar and will label generated resources, so it
//! follows the Kubernetes DNS-label rule (RFC 1123): people can type it, and
//! it is always safe to use as a label value or a namespace-like name.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::names::check_dns_label;

/// Dotted path of the installation name in validation errors.
const NAME_FIELD: &str = "installation.name";

/// The longest name a DNS label (and a Kubernetes label value) can hold.
pub const NAME_MAX_LEN: usize = crate::names::DNS_LABEL_MAX_LEN;

/// A validated installation name: 1–63 lowercase letters, digits or `-`,
/// starting with a letter and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstallationName(String);

impl InstallationName {
    /// The name a fresh installation gets before anyone renames it.
    pub fn default_name() -> Self {
        Self("bi".to_owned())
    }

    /// Validates what a person typed. Surrounding whitespace is ignored;
    /// anything else that breaks the rule is refused with the reason.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim();
        check_dns_label(name).map_err(|err| err.under(NAME_FIELD))?;
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InstallationName {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InstallationName> for String {
    fn from(name: InstallationName) -> Self {
        name.0
    }
}

impl fmt::Display for InstallationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the dashboard shows about the installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallationOverview {
    /// The installation's name.
    pub name: InstallationName,
    /// bi's version (the control server's crate version).
    pub version: String,
    /// Which database keeps the desired state: "SQLite" or "PostgreSQL".
    pub database_backend: String,
    /// When the installation was created, RFC 3339 in UTC.
    pub created_at: String,
    /// The cluster bi manages, when the server knows it.
    pub cluster: Option<ClusterSummary>,
}

/// The cluster the control server manages, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    /// True for bi's embedded sandbox: objects are stored, nothing runs.
    pub sandbox: bool,
    /// The API server's address.
    pub url: String,
    /// Where its kubeconfig is, for kubectl.
    pub kubeconfig: Option<String>,
    /// The kubeconfig context, when one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels_and_trims_whitespace() {
        for ok in ["bi", "prod-eu-1", "a", &"a".repeat(NAME_MAX_LEN)] {
            assert_eq!(InstallationName::parse(ok).map(|n| n.0), Ok(ok.to_owned()));
        }
        assert_eq!(
            InstallationName::parse("  staging \n").map(|n| n.0),
            Ok("staging".to_owned())
        );
    }

    #[test]
    fn rejects_empty_name() {
        let err = InstallationName::parse("   ").unwrap_err();
        assert_eq!(err.field, "installation.name");
        assert_eq!(err.message, "must not be empty");
    }

    #[test]
    fn rejects_uppercase_with_a_suggestion() {
        let err = InstallationName::parse("Prod").unwrap_err();
        assert!(err.message.contains("did you mean \"prod\""), "{err}");
    }

    #[test]
    fn rejects_bad_characters_starts_and_ends() {
        for (bad, says) in [
            ("my_cluster", "found '_'"),
            ("1st", "must start with a letter"),
            ("-x", "must start with a letter"),
            ("x-", "must end with a letter or digit"),
            ("héllo", "found 'é'"),
        ] {
            let err = InstallationName::parse(bad).unwrap_err();
            assert!(err.message.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_names_longer_than_a_dns_label() {
        let err = InstallationName::parse(&"a".repeat(64)).unwrap_err();
        assert!(err.message.contains("at most 63 characters"), "{err}");
    }

    #[test]
    fn deserializing_validates() {
        let bad: Result<InstallationName, _> = serde_json::from_str("\"Not OK\"");
        assert!(bad.is_err());
        let good: InstallationName = serde_json::from_str("\"ok\"").unwrap();
        assert_eq!(good.as_str(), "ok");
    }
}

/// How often the control server checks the cluster on its own: the periodic
/// re-check (a snapshot, counted from the last one) and the drift sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileIntervals {
    /// The periodic re-check.
    pub recheck_every: crate::units::Duration,
    /// The drift sweep.
    pub drift_every: crate::units::Duration,
}

impl ReconcileIntervals {
    /// The shortest re-check: more often only repeats work (each is a snapshot).
    pub const MIN_RECHECK: crate::units::Duration = crate::units::Duration::seconds(10);
    /// The longest re-check: a day.
    pub const MAX_RECHECK: crate::units::Duration = crate::units::Duration::days(1);
    /// The shortest drift sweep (a dry run per applied object).
    pub const MIN_DRIFT: crate::units::Duration = crate::units::Duration::minutes(1);
    /// The longest drift sweep: a week.
    pub const MAX_DRIFT: crate::units::Duration = crate::units::Duration::days(7);

    /// Reads the two intervals as typed (`5m`, `1h`); every problem names
    /// its field (`recheck_every`, `drift_every`) and the rule.
    pub fn parse(recheck_every: &str, drift_every: &str) -> Result<Self, crate::Problems> {
        let mut problems = crate::Problems::new();
        let mut read =
            |field: &str, text: &str, min: crate::units::Duration, max: crate::units::Duration| {
                match crate::units::Duration::parse(text) {
                    Ok(value) if value < min || value > max => {
                        problems.push(
                            field,
                            crate::Rule::Range,
                            format!("must be between {min} and {max}; {value} is not"),
                        );
                        None
                    }
                    Ok(value) => Some(value),
                    Err(err) => {
                        problems.add(err.at(field));
                        None
                    }
                }
            };
        let recheck = read(
            "recheck_every",
            recheck_every,
            Self::MIN_RECHECK,
            Self::MAX_RECHECK,
        );
        let drift = read("drift_every", drift_every, Self::MIN_DRIFT, Self::MAX_DRIFT);
        match (recheck, drift) {
            (Some(recheck_every), Some(drift_every)) => Ok(Self {
                recheck_every,
                drift_every,
            }),
            _ => Err(problems),
        }
    }
}

/// The reconcile intervals in force and where each comes from: set from
/// the Settings page (or `bi settings`), else the server's option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalSettings {
    /// The intervals in force.
    pub intervals: ReconcileIntervals,
    /// Whether the re-check was set there (else the server's option applies).
    pub recheck_set_here: bool,
    /// Whether the drift sweep was set there.
    pub drift_set_here: bool,
    /// The server's options (`--recheck-every`, `--drift-every`).
    pub defaults: ReconcileIntervals,
}

#[cfg(test)]
mod reconcile_tests {
    use super::*;
    use crate::units::Duration;

    #[test]
    fn reads_typed_intervals() {
        let intervals = ReconcileIntervals::parse("90s", "2h").unwrap();
        assert_eq!(intervals.recheck_every, Duration::seconds(90));
        assert_eq!(intervals.drift_every, Duration::hours(2));
    }

    #[test]
    fn names_each_bad_interval_and_its_rule() {
        let problems = ReconcileIntervals::parse("5", "10s").unwrap_err();
        let found: Vec<(&str, crate::Rule)> = problems
            .iter()
            .map(|p| (p.field.as_str(), p.rule))
            .collect();
        assert_eq!(found.len(), 2, "{problems:?}");
        assert_eq!(found[0].0, "recheck_every");
        assert!(problems.iter().next().unwrap().message.contains("no unit"));
        assert_eq!(found[1], ("drift_every", crate::Rule::Range));
        assert_eq!(
            problems.for_field("drift_every").unwrap().message,
            "must be between 1m and 168h; 10s is not"
        );
    }
}
