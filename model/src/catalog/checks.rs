//! Checks that many battery configs share.

use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::units::{Duration, Storage};
use crate::validation::{Problems, Rule};

/// Replica counts: at least one, at most `max`.
pub fn replicas(problems: &mut Problems, field: &str, value: u32, max: u32) {
    problems.range(field, value, 1, max);
}

/// Images must be pinned so that the same desired state always runs the same code.
pub fn pinned(problems: &mut Problems, field: &str, image: &ImageRef) {
    if !image.is_pinned() {
        problems.push(
            field,
            Rule::Format,
            format!(
                "{image} is not pinned: use a version tag or a digest (not `latest`), \
                 so every snapshot runs the same code"
            ),
        );
    }
}

/// Namespaces a battery creates must differ from each other.
pub fn distinct_namespaces(problems: &mut Problems, namespaces: &[(&str, &DnsLabel)]) {
    for (i, (field, namespace)) in namespaces.iter().enumerate() {
        if let Some((other, _)) = namespaces[..i].iter().find(|(_, seen)| seen == namespace) {
            problems.push(
                *field,
                Rule::Unique,
                format!("namespace {namespace} is already used by {other}"),
            );
        }
    }
}

/// A DNS label from a catalog constant.
///
/// # Panics
/// Never for the catalog's constants: `defaults_are_valid` in each battery
/// module builds its default config.
pub fn label(constant: &'static str) -> DnsLabel {
    match DnsLabel::parse(constant) {
        Ok(label) => label,
        Err(err) => panic!("catalog constant {constant:?} is not a DNS label: {err}"),
    }
}

/// A duration within `min..=max`.
pub fn duration_range(
    problems: &mut Problems,
    field: &str,
    value: Duration,
    min: Duration,
    max: Duration,
) {
    if value < min || value > max {
        problems.push(
            field,
            Rule::Range,
            format!("must be between {min} and {max}; {value} is not"),
        );
    }
}

/// A volume of at least `min`.
pub fn storage_at_least(problems: &mut Problems, field: &str, value: Storage, min: Storage) {
    if value < min {
        problems.push(
            field,
            Rule::Range,
            format!(
                "must be at least {}; {} is too small",
                min.human(),
                value.human()
            ),
        );
    }
}
