//! Scrapes metrics from every monitored workload and ships them to VictoriaMetrics.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::units::Duration;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::VmAgent,
    id: "vm_agent",
    name: "vmagent",
    group: BatteryGroup::Monitoring,
    description: "Scrapes metrics from every monitored workload and ships them to VictoriaMetrics.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of vmagent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VmAgentConfig {
    /// vmagent.
    pub image: ImageRef,
    /// How often targets are scraped.
    pub scrape_interval: Duration,
}

impl Default for VmAgentConfig {
    fn default() -> Self {
        Self {
            image: image(images::VMAGENT),
            scrape_interval: Duration::seconds(30),
        }
    }
}

impl VmAgentConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::duration_range(
            &mut problems,
            "scrape_interval",
            self.scrape_interval,
            Duration::seconds(5),
            Duration::minutes(5),
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &VmAgentConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
