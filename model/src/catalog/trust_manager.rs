//! Distributes the Battery CA's bundle to every namespace so workloads trust it.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::TrustManager,
    id: "trust_manager",
    name: "trust-manager",
    group: BatteryGroup::NetSecurity,
    description: "Distributes the Battery CA's bundle to every namespace so workloads trust it.",
    dependencies: &[BatteryKind::CertManager, BatteryKind::BatteryCa],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of trust-manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustManagerConfig {
    /// trust-manager.
    pub image: ImageRef,
}

impl Default for TrustManagerConfig {
    fn default() -> Self {
        Self {
            image: image(images::TRUST_MANAGER),
        }
    }
}

impl TrustManagerConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &TrustManagerConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
