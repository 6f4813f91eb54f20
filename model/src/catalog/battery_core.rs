//! battery-core: the control server itself and the namespaces every other
//! battery lives in. Always installed.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::BatteryCore,
    id: "battery_core",
    name: "Battery Core",
    group: BatteryGroup::Core,
    description: "The bi control server and the base namespaces every other battery runs in.",
    dependencies: &[],
    integrations: &[],
    removable: false,
    providers: &[],
};

/// Configuration of battery-core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatteryCoreConfig {
    /// Where the control server runs.
    pub core_namespace: DnsLabel,
    /// Shared infrastructure (operators, CRD webhooks).
    pub base_namespace: DnsLabel,
    /// Databases and caches.
    pub data_namespace: DnsLabel,
    /// Notebooks and model instances.
    pub ai_namespace: DnsLabel,
    /// Metrics, dashboards and logs.
    pub monitoring_namespace: DnsLabel,
    /// The control server's image.
    pub control_server_image: ImageRef,
}

impl Default for BatteryCoreConfig {
    fn default() -> Self {
        Self {
            core_namespace: checks::label("battery-core"),
            base_namespace: checks::label("battery-base"),
            data_namespace: checks::label("battery-data"),
            ai_namespace: checks::label("battery-ai"),
            monitoring_namespace: checks::label("battery-monitoring"),
            control_server_image: image(images::CONTROL_SERVER),
        }
    }
}

impl BatteryCoreConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::distinct_namespaces(
            &mut problems,
            &[
                ("core_namespace", &self.core_namespace),
                ("base_namespace", &self.base_namespace),
                ("data_namespace", &self.data_namespace),
                ("ai_namespace", &self.ai_namespace),
                ("monitoring_namespace", &self.monitoring_namespace),
            ],
        );
        checks::pinned(
            &mut problems,
            "control_server_image",
            &self.control_server_image,
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &BatteryCoreConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(BatteryCoreConfig::default().validate(), Ok(()));
    }

    #[test]
    fn refuses_a_namespace_used_twice() {
        let config = BatteryCoreConfig {
            ai_namespace: checks::label("battery-data"),
            ..BatteryCoreConfig::default()
        };
        let problems = config.validate().unwrap_err();
        let err = problems.for_field("ai_namespace").unwrap();
        assert_eq!(
            err.message,
            "namespace battery-data is already used by data_namespace"
        );
    }
}
