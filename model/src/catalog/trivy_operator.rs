//! Scans workloads' images and configuration and keeps vulnerability reports in the cluster.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::units::Duration;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::TrivyOperator,
    id: "trivy_operator",
    name: "Trivy Operator",
    group: BatteryGroup::NetSecurity,
    description: "Scans workloads' images and configuration and keeps vulnerability reports in the cluster.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "vulnerability metrics",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Trivy Operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrivyOperatorConfig {
    /// The Trivy operator.
    pub image: ImageRef,
    /// How often every workload is scanned again.
    pub scan_interval: Duration,
}

impl Default for TrivyOperatorConfig {
    fn default() -> Self {
        Self {
            image: image(images::TRIVY_OPERATOR),
            scan_interval: Duration::hours(24),
        }
    }
}

impl TrivyOperatorConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::duration_range(
            &mut problems,
            "scan_interval",
            self.scan_interval,
            Duration::hours(1),
            Duration::hours(24 * 30),
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &TrivyOperatorConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
