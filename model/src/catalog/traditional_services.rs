//! Long-running services as Deployments or StatefulSets, with ports, environment and volumes.

use serde::{Deserialize, Serialize};

use super::checks;
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::names::DnsLabel;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::TraditionalServices,
    id: "traditional_services",
    name: "Traditional Services",
    group: BatteryGroup::Devtools,
    description: "Long-running services as Deployments or StatefulSets, with ports, environment and volumes.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::Istio,
            what: "mesh membership and mutual TLS",
        },
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "metrics scraping of annotated services",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Traditional Services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraditionalServicesConfig {
    /// Where traditional services run.
    pub namespace: DnsLabel,
}

impl Default for TraditionalServicesConfig {
    fn default() -> Self {
        Self {
            namespace: checks::label("battery-traditional"),
        }
    }
}

impl TraditionalServicesConfig {
    /// Every problem with this config (it has no rules of its own).
    pub fn validate(&self) -> Result<(), Problems> {
        Ok(())
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &TraditionalServicesConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
