//! VictoriaMetrics in cluster mode: a long-term, PromQL-compatible metrics store.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::units::{Duration, Storage};
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::VictoriaMetrics,
    id: "victoria_metrics",
    name: "VictoriaMetrics",
    group: BatteryGroup::Monitoring,
    description: "VictoriaMetrics in cluster mode: a long-term, PromQL-compatible metrics store.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::VmAgent],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of VictoriaMetrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VictoriaMetricsConfig {
    /// The VictoriaMetrics operator.
    pub operator_image: ImageRef,
    /// Version tag of the vminsert/vmselect/vmstorage images.
    pub cluster_version: String,
    /// Copies of every sample kept across vmstorage nodes.
    pub replication_factor: u32,
    /// vminsert replicas.
    pub vminsert_replicas: u32,
    /// vmselect replicas.
    pub vmselect_replicas: u32,
    /// vmstorage replicas.
    pub vmstorage_replicas: u32,
    /// Volume of each vmstorage replica.
    pub vmstorage_volume: Storage,
    /// Cache volume of each vmselect replica.
    pub vmselect_volume: Storage,
    /// How long samples are kept.
    pub retention: Duration,
}

impl Default for VictoriaMetricsConfig {
    fn default() -> Self {
        Self {
            operator_image: image(images::VM_OPERATOR),
            cluster_version: images::VM_CLUSTER_VERSION.to_owned(),
            replication_factor: 1,
            vminsert_replicas: 1,
            vmselect_replicas: 1,
            vmstorage_replicas: 1,
            vmstorage_volume: Storage::gibibytes(10),
            vmselect_volume: Storage::gibibytes(2),
            retention: Duration::hours(24 * 30),
        }
    }
}

impl VictoriaMetricsConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "operator_image", &self.operator_image);
        version_tag(&mut problems, "cluster_version", &self.cluster_version);
        checks::replicas(
            &mut problems,
            "replication_factor",
            self.replication_factor,
            98,
        );
        checks::replicas(
            &mut problems,
            "vminsert_replicas",
            self.vminsert_replicas,
            98,
        );
        checks::replicas(
            &mut problems,
            "vmselect_replicas",
            self.vmselect_replicas,
            98,
        );
        checks::replicas(
            &mut problems,
            "vmstorage_replicas",
            self.vmstorage_replicas,
            98,
        );
        checks::storage_at_least(
            &mut problems,
            "vmstorage_volume",
            self.vmstorage_volume,
            Storage::gibibytes(1),
        );
        checks::storage_at_least(
            &mut problems,
            "vmselect_volume",
            self.vmselect_volume,
            Storage::mebibytes(512),
        );
        checks::duration_range(
            &mut problems,
            "retention",
            self.retention,
            Duration::hours(24),
            Duration::hours(24 * 3650),
        );
        if self.replication_factor > self.vmstorage_replicas {
            problems.push(
                "replication_factor",
                Rule::Consistency,
                format!(
                    "cannot keep {} copies on {} vmstorage replica(s); raise vmstorage_replicas or lower the factor",
                    self.replication_factor, self.vmstorage_replicas
                ),
            );
        }
        problems.into_result()
    }
}

/// A container image tag: 1–128 of letters, digits, '_', '.', '-', not starting with '.' or '-'.
fn version_tag(problems: &mut Problems, field: &str, tag: &str) {
    let valid = (1..=128).contains(&tag.len())
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid || tag == "latest" {
        problems.push(
            field,
            Rule::Format,
            format!(
                "{tag:?} is not a pinned image tag (e.g. {})",
                images::VM_CLUSTER_VERSION
            ),
        );
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &VictoriaMetricsConfig,
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
    fn replication_factor_cannot_exceed_storage_replicas() {
        let config = VictoriaMetricsConfig {
            replication_factor: 3,
            vmstorage_replicas: 2,
            ..VictoriaMetricsConfig::default()
        };
        let err = config.validate().unwrap_err();
        let err = err.for_field("replication_factor").unwrap();
        assert_eq!(err.rule, Rule::Consistency);
        assert!(
            err.message
                .starts_with("cannot keep 3 copies on 2 vmstorage replica(s)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let config = VictoriaMetricsConfig {
            vminsert_replicas: 0,
            vmselect_replicas: 99,
            vmstorage_volume: Storage::mebibytes(10),
            cluster_version: "latest".to_owned(),
            ..VictoriaMetricsConfig::default()
        };
        let problems = config.validate().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "cluster_version",
                "vminsert_replicas",
                "vmselect_replicas",
                "vmstorage_volume"
            ]
        );
    }
}
