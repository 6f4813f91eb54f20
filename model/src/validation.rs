//! Validation errors that name the field, the rule and what to do about it.
//!
//! Every config and object has a `validate()` that returns *every* problem at
//! once as [`Problems`]: the UI calls it in WASM on every keystroke and shows
//! each `message` next to the input whose path is `field`; the server calls
//! the same function before storing anything and returns the same errors.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of rule a value broke, for programs (the UI, the CLI's exit codes,
/// tests); people read [`FieldError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A value is missing or empty.
    Required,
    /// Not a DNS-1123 label (lowercase letters, digits, '-', ≤ 63 characters).
    DnsLabel,
    /// A number or quantity is outside its allowed range.
    Range,
    /// A size, CPU or duration is missing its unit or uses the wrong one.
    Unit,
    /// Text that does not parse as what it should be (image reference, CIDR, …).
    Format,
    /// Two things that must differ are the same (names, IP pools).
    Unique,
    /// Two ranges that must not overlap do.
    Overlap,
    /// A limit is lower than its request, or similar relations between fields.
    Consistency,
    /// A value that may be set once was changed, or would shrink what cannot shrink.
    Immutable,
    /// The cluster has not enough room left for what is asked.
    Capacity,
    /// A battery needs another one, or is needed by another one.
    Dependency,
    /// The value changed after the writer read it: another change came
    /// first, so this one was not stored.
    ChangedMeanwhile,
}

/// A value refused by validation: which field, which rule, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `redis.memory` or `users[1].name`.
    pub field: String,
    /// The rule that was broken.
    pub rule: Rule,
    /// Human sentence saying what is wrong and, where possible, how to fix it.
    pub message: String,
}

impl FieldError {
    /// An error for `field` that broke `rule`, explained by `message`.
    pub fn new(field: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule,
            message: message.into(),
        }
    }

    /// The same error, with its field path under `prefix` (`memory` → `redis.memory`).
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = join_path(prefix, &self.field);
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A parser's error has no field until its caller places it (`under`).
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for FieldError {}

/// Every problem found in one value, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` broke `rule`.
    pub fn push(&mut self, field: impl Into<String>, rule: Rule, message: impl Into<String>) {
        self.0.push(FieldError::new(field, rule, message));
    }

    /// Records an error built elsewhere (e.g. from a unit parser).
    pub fn add(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records every problem of a nested value, with its paths under `prefix`.
    pub fn extend_under(&mut self, prefix: &str, nested: Problems) {
        self.0
            .extend(nested.0.into_iter().map(|err| err.under(prefix)));
    }

    /// Records the problems of a nested `validate()` result under `prefix`.
    pub fn merge(&mut self, prefix: &str, nested: Result<(), Problems>) {
        if let Err(nested) = nested {
            self.extend_under(prefix, nested);
        }
    }

    /// Checks that `value` lies in `min..=max`, naming the bounds when not.
    pub fn range<T: PartialOrd + fmt::Display>(&mut self, field: &str, value: T, min: T, max: T) {
        if value < min || value > max {
            self.push(
                field,
                Rule::Range,
                format!("must be between {min} and {max}; {value} is not"),
            );
        }
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The problem recorded for `field`, if any (first one).
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|err| err.field == field)
    }

    /// `Ok(())` when there are none, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Problems> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl IntoIterator for Problems {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<FieldError> for Problems {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Joins field paths: `("redis", "memory")` → `redis.memory`; an index
/// segment (`[2].name`) or an empty side joins without a dot.
pub fn join_path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else if field.is_empty() {
        prefix.to_owned()
    } else if field.starts_with('[') {
        format!("{prefix}{field}")
    } else {
        format!("{prefix}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_problems_carry_the_full_path() {
        let mut inner = Problems::new();
        inner.push("memory", Rule::Unit, "has no unit");
        let mut users = Problems::new();
        users.push("[1].name", Rule::DnsLabel, "bad");
        let mut outer = Problems::new();
        outer.extend_under("redis", inner);
        outer.extend_under("users", users);
        let fields: Vec<_> = outer.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["redis.memory", "users[1].name"]);
        assert_eq!(
            outer.for_field("redis.memory").map(|e| e.rule),
            Some(Rule::Unit)
        );
    }

    #[test]
    fn range_names_the_bounds() {
        let mut problems = Problems::new();
        problems.range("replicas", 0, 1, 98);
        problems.range("instances", 3, 1, 9);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems.iter().next().map(|e| e.message.as_str()),
            Some("must be between 1 and 98; 0 is not")
        );
    }

    #[test]
    fn empty_problems_are_ok() {
        assert_eq!(Problems::new().into_result(), Ok(()));
        let mut problems = Problems::new();
        problems.push("x", Rule::Required, "must not be empty");
        assert_eq!(problems.clone().into_result(), Err(problems));
    }

    #[test]
    fn rules_serialize_in_snake_case() {
        let err = FieldError::new("a.b", Rule::DnsLabel, "m");
        let json = serde_json::to_string(&err).unwrap_or_default();
        assert_eq!(json, r#"{"field":"a.b","rule":"dns_label","message":"m"}"#);
    }
}
