//! Continuous backups of PostgreSQL clusters to object storage (S3-compatible) with the barman-cloud plugin.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::units::Duration;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::CloudnativePgBarman,
    id: "cloudnative_pg_barman",
    name: "PostgreSQL Backups",
    group: BatteryGroup::Data,
    description: "Continuous backups of PostgreSQL clusters to object storage (S3-compatible) with the barman-cloud plugin.",
    dependencies: &[BatteryKind::CloudnativePg, BatteryKind::CertManager],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of PostgreSQL Backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudnativePgBarmanConfig {
    /// The barman-cloud plugin.
    pub plugin_image: ImageRef,
    /// S3 bucket that receives the backups.
    pub bucket: String,
    /// S3 endpoint for non-AWS object stores (e.g. `https://minio.example:9000`).
    pub endpoint_url: Option<String>,
    /// How long backups are kept.
    pub retention: Duration,
}

impl Default for CloudnativePgBarmanConfig {
    fn default() -> Self {
        Self {
            plugin_image: image(images::BARMAN_CLOUD_PLUGIN),
            bucket: "bi-postgres-backups".to_owned(),
            endpoint_url: None,
            retention: Duration::hours(24 * 30),
        }
    }
}

impl CloudnativePgBarmanConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "plugin_image", &self.plugin_image);
        bucket_name(&mut problems, "bucket", &self.bucket);
        endpoint(&mut problems, "endpoint_url", self.endpoint_url.as_deref());
        checks::duration_range(
            &mut problems,
            "retention",
            self.retention,
            Duration::hours(24),
            Duration::hours(24 * 3650),
        );
        problems.into_result()
    }
}

/// S3 bucket naming rules: 3–63 characters of lowercase letters, digits, '.'
/// and '-', starting and ending with a letter or digit.
fn bucket_name(problems: &mut Problems, field: &str, bucket: &str) {
    let len = bucket.len();
    let allowed = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let edges = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !(3..=63).contains(&len) || !allowed || !edges {
        problems.push(
            field,
            Rule::Format,
            format!(
                "{bucket:?} is not a valid bucket name: 3–63 lowercase letters, digits, '.' or '-', \
                 starting and ending with a letter or digit"
            ),
        );
    }
}

/// An optional endpoint must be an http(s) URL.
fn endpoint(problems: &mut Problems, field: &str, url: Option<&str>) {
    if let Some(url) = url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|host| host.is_empty() || host.contains(char::is_whitespace)) {
            problems.push(
                field,
                Rule::Format,
                format!("{url:?} is not an http:// or https:// URL"),
            );
        }
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &CloudnativePgBarmanConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_bucket_and_endpoint_together() {
        let config = CloudnativePgBarmanConfig {
            bucket: "My_Bucket".to_owned(),
            endpoint_url: Some("minio:9000".to_owned()),
            ..CloudnativePgBarmanConfig::default()
        };
        let problems = config.validate().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems}");
        assert_eq!(
            problems.for_field("bucket").map(|e| e.rule),
            Some(Rule::Format)
        );
        assert!(problems.for_field("endpoint_url").is_some());
    }
}
