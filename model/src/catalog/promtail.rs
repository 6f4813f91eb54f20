//! Ships every pod's logs to Loki.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Promtail,
    id: "promtail",
    name: "Promtail",
    group: BatteryGroup::Monitoring,
    description: "Ships every pod's logs to Loki.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::Loki],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Promtail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromtailConfig {
    /// Promtail.
    pub image: ImageRef,
}

impl Default for PromtailConfig {
    fn default() -> Self {
        Self {
            image: image(images::PROMTAIL),
        }
    }
}

impl PromtailConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &PromtailConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
