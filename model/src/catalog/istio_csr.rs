//! Issues Istio workload certificates through cert-manager from the Battery CA.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::IstioCsr,
    id: "istio_csr",
    name: "istio-csr",
    group: BatteryGroup::NetSecurity,
    description: "Issues Istio workload certificates through cert-manager from the Battery CA.",
    dependencies: &[BatteryKind::Istio, BatteryKind::BatteryCa],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of istio-csr.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IstioCsrConfig {
    /// istio-csr.
    pub image: ImageRef,
}

impl Default for IstioCsrConfig {
    fn default() -> Self {
        Self {
            image: image(images::ISTIO_CSR),
        }
    }
}

impl IstioCsrConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &IstioCsrConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
