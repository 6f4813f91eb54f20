//! Labels nodes with their hardware features (GPUs, CPU flags) so workloads land on the right nodes.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::NodeFeatureDiscovery,
    id: "node_feature_discovery",
    name: "Node Feature Discovery",
    group: BatteryGroup::Ai,
    description: "Labels nodes with their hardware features (GPUs, CPU flags) so workloads land on the right nodes.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Node Feature Discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeFeatureDiscoveryConfig {
    /// node-feature-discovery.
    pub image: ImageRef,
}

impl Default for NodeFeatureDiscoveryConfig {
    fn default() -> Self {
        Self {
            image: image(images::NODE_FEATURE_DISCOVERY),
        }
    }
}

impl NodeFeatureDiscoveryConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &NodeFeatureDiscoveryConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
