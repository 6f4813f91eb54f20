//! Gives LoadBalancer services addresses from IP address pools on bare-metal and local clusters.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Metallb,
    id: "metallb",
    name: "MetalLB",
    group: BatteryGroup::NetSecurity,
    description: "Gives LoadBalancer services addresses from IP address pools on bare-metal and local clusters.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "speaker and controller metrics",
    }],
    removable: true,
    providers: &[
        ClusterProvider::Sandbox,
        ClusterProvider::Kind,
        ClusterProvider::Provided,
    ],
};

/// Configuration of MetalLB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetallbConfig {
    /// The controller.
    pub controller_image: ImageRef,
    /// The speaker (one per node).
    pub speaker_image: ImageRef,
}

impl Default for MetallbConfig {
    fn default() -> Self {
        Self {
            controller_image: image(images::METALLB_CONTROLLER),
            speaker_image: image(images::METALLB_SPEAKER),
        }
    }
}

impl MetallbConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "controller_image", &self.controller_image);
        checks::pinned(&mut problems, "speaker_image", &self.speaker_image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &MetallbConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
