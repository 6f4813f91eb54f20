//! Exposes NVIDIA GPUs to pods as nvidia.com/gpu resources.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::NvidiaDevicePlugin,
    id: "nvidia_device_plugin",
    name: "NVIDIA Device Plugin",
    group: BatteryGroup::Ai,
    description: "Exposes NVIDIA GPUs to pods as nvidia.com/gpu resources.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::NodeFeatureDiscovery],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of NVIDIA Device Plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NvidiaDevicePluginConfig {
    /// The device plugin.
    pub image: ImageRef,
}

impl Default for NvidiaDevicePluginConfig {
    fn default() -> Self {
        Self {
            image: image(images::NVIDIA_DEVICE_PLUGIN),
        }
    }
}

impl NvidiaDevicePluginConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &NvidiaDevicePluginConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
