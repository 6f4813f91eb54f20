//! No lost updates: a write that says which desired-state version it was
//! read at is refused when what it is about changed since.
//!
//! A form, the CLI or a script reads a battery, an object or a project at
//! some version and later sends a whole new value. [`ReadAt`] carries that
//! version and how to cut the write's *target* out of a state (that
//! battery's config, that object, that project with its objects), so the
//! check is per target: a change to Redis never makes a Grafana form stale.
//! [`crate::desired_state::change_based_on`] compares the target at the read
//! version with the newest inside the change's transaction; when they
//! differ, [`changed_meanwhile`] names the fields and the versions (with
//! their authors) that changed it, and nothing is stored.

use bi_api::audit::AuditEntry;
use bi_model::generate::{DesiredState, changed_fields, value_text};
use bi_model::{Problems, Rule};
use serde_json::Value;

use crate::error::{Error, Result};

/// The JSON field clients send the version they read in.
pub const EXPECTED_VERSION: &str = "expected_version";

/// Cuts a write's target out of a state, as JSON; `Null` when the state
/// does not hold it.
pub type Part<'a> = Box<dyn Fn(&DesiredState) -> Result<Value> + Send + Sync + 'a>;

/// What a write was based on: the desired-state version its caller read,
/// and the part of the state the write is about.
pub struct ReadAt<'a> {
    /// The version the caller read (its `expected_version`).
    pub version: i32,
    /// The target in words, for messages: `redis`, `traditional service web`.
    pub what: String,
    /// The field that names the target as a whole (`redis`, `object`,
    /// `project`): where its appearing or disappearing is reported.
    pub field: String,
    /// Prepended to the dotted path of a changed field inside the target
    /// (`redis` → `redis.memory`); empty for none.
    pub prefix: String,
    /// The target in a state.
    pub part: Part<'a>,
}

impl std::fmt::Debug for ReadAt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // NB: `part` is a closure; what it cuts out is named by `what`.
        f.debug_struct("ReadAt")
            .field("version", &self.version)
            .field("what", &self.what)
            .field("field", &self.field)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ReadAt<'_> {
    /// The field name of the JSON pointer `pointer` inside the target:
    /// `/memory` → `redis.memory`, `/object/env/1/name` → `object.env[1].name`.
    fn field_at(&self, pointer: &str) -> String {
        let mut path = self.prefix.clone();
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            if token.parse::<usize>().is_ok() {
                path.push_str(&format!("[{token}]"));
            } else {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&token);
            }
        }
        if path.is_empty() {
            self.field.clone()
        } else {
            path
        }
    }
}

/// Refuses an `expected_version` that is no version: below 0, or newer
/// than `newest` (0 is the state before the first change).
pub fn check_version(expected: i32, newest: i32) -> Result<()> {
    let mut problems = Problems::new();
    if expected < 0 {
        problems.push(
            EXPECTED_VERSION,
            Rule::Range,
            format!(
                "must be a desired-state version (0 or more), the one the change was read at; {expected} is not"
            ),
        );
    } else if expected > newest {
        problems.push(
            EXPECTED_VERSION,
            Rule::Range,
            format!(
                "there is no desired-state version {expected} yet; the newest is {newest}: read again and send the version you read"
            ),
        );
    }
    problems.into_result().map_err(Error::Rejected)
}

/// The refusal of a write based on `read_at` whose target was `was` at the
/// read version and is `is` now; `touched` are the versions since that
/// changed it, oldest first.
pub fn changed_meanwhile(
    read_at: &ReadAt<'_>,
    was: &Value,
    is: &Value,
    touched: &[AuditEntry],
) -> Error {
    let mut changes = Problems::new();
    let read = read_at.version;
    match (was, is) {
        (Value::Null, _) => changes.push(
            read_at.field.as_str(),
            Rule::ChangedMeanwhile,
            format!("was added after version {read}"),
        ),
        (_, Value::Null) => changes.push(
            read_at.field.as_str(),
            Rule::ChangedMeanwhile,
            format!("was removed after version {read}"),
        ),
        _ => {
            for change in changed_fields(was, is) {
                let text =
                    |value: Option<&Value>| value.map_or_else(|| "(none)".into(), value_text);
                changes.push(
                    read_at.field_at(&change.pointer),
                    Rule::ChangedMeanwhile,
                    format!(
                        "was {} at version {read}, is {} now",
                        text(change.before.as_ref()),
                        text(change.after.as_ref())
                    ),
                );
            }
        }
    }
    // NB: the parts differ, so a diff is never empty; this keeps the
    // promise that a changed-meanwhile error always names a field.
    if changes.is_empty() {
        changes.push(
            read_at.field.as_str(),
            Rule::ChangedMeanwhile,
            format!("changed after version {read}"),
        );
    }
    let by: Vec<String> = touched
        .iter()
        .map(|entry| {
            format!(
                "version {} by {} ({})",
                entry.version, entry.author, entry.summary
            )
        })
        .collect();
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    let message = format!(
        "{} changed after version {read}, which this change was based on: {} changed {}. Nothing was stored; reload to see the current values, then make your change again",
        read_at.what,
        if by.is_empty() {
            "another change".to_owned()
        } else {
            by.join(", ")
        },
        fields.join(", "),
    );
    Error::ChangedMeanwhile { message, changes }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    fn read_at(prefix: &str) -> ReadAt<'static> {
        ReadAt {
            version: 3,
            what: "redis".into(),
            field: "redis".into(),
            prefix: prefix.into(),
            part: Box::new(|_| Ok(Value::Null)),
        }
    }

    fn entry(version: i32, author: &str, summary: &str) -> AuditEntry {
        AuditEntry {
            version,
            author: author.into(),
            summary: summary.into(),
            created_at: chrono::Utc::now().into(),
        }
    }

    #[test]
    fn fields_are_named_as_forms_name_them() {
        assert_eq!(read_at("redis").field_at("/memory"), "redis.memory");
        assert_eq!(
            read_at("").field_at("/object/env/1/name"),
            "object.env[1].name"
        );
        assert_eq!(read_at("").field_at(""), "redis");
    }

    #[test]
    fn a_change_meanwhile_names_fields_values_versions_and_authors() {
        let err = changed_meanwhile(
            &read_at("redis"),
            &json!({ "memory": "512Mi", "replicas": 1 }),
            &json!({ "memory": "1Gi", "replicas": 1 }),
            &[entry(4, "bob", "configure redis: memory=1Gi")],
        );
        let Error::ChangedMeanwhile { message, changes } = err else {
            panic!("not a changed-meanwhile error");
        };
        let change = changes.for_field("redis.memory").unwrap();
        assert_eq!(change.rule, Rule::ChangedMeanwhile);
        assert_eq!(change.message, "was 512Mi at version 3, is 1Gi now");
        assert_eq!(changes.len(), 1);
        assert!(message.contains("version 4 by bob"), "{message}");
        assert!(message.contains("redis.memory"), "{message}");
    }

    #[test]
    fn a_removal_meanwhile_is_reported_on_the_whole_target() {
        let err = changed_meanwhile(&read_at(""), &json!({ "a": 1 }), &Value::Null, &[]);
        let Error::ChangedMeanwhile { changes, .. } = err else {
            panic!("not a changed-meanwhile error");
        };
        assert_eq!(
            changes.for_field("redis").map(|c| c.message.as_str()),
            Some("was removed after version 3")
        );
    }

    #[test]
    fn versions_that_do_not_exist_are_refused_by_name() {
        assert!(check_version(0, 0).is_ok());
        assert!(check_version(5, 7).is_ok());
        for (expected, newest) in [(8, 7), (-1, 7)] {
            let Err(Error::Rejected(problems)) = check_version(expected, newest) else {
                panic!("{expected} was accepted");
            };
            assert_eq!(
                problems.for_field(EXPECTED_VERSION).map(|p| p.rule),
                Some(Rule::Range)
            );
        }
    }
}
