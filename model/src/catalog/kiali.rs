//! A console for the Istio mesh: topology, traffic and configuration checks.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Kiali,
    id: "kiali",
    name: "Kiali",
    group: BatteryGroup::NetSecurity,
    description: "A console for the Istio mesh: topology, traffic and configuration checks.",
    dependencies: &[BatteryKind::Istio, BatteryKind::VictoriaMetrics],
    integrations: &[Integration {
        partner: BatteryKind::Grafana,
        what: "links from Kiali graphs to Grafana dashboards",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Kiali.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KialiConfig {
    /// Kiali.
    pub image: ImageRef,
}

impl Default for KialiConfig {
    fn default() -> Self {
        Self {
            image: image(images::KIALI),
        }
    }
}

impl KialiConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &KialiConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
