//! Service mesh: mutual TLS, traffic policy and telemetry between workloads.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Istio,
    id: "istio",
    name: "Istio",
    group: BatteryGroup::NetSecurity,
    description: "Service mesh: mutual TLS, traffic policy and telemetry between workloads.",
    dependencies: &[BatteryKind::GatewayApi],
    integrations: &[
        Integration {
            partner: BatteryKind::BatteryCa,
            what: "STRICT mutual TLS with certificates from the Battery CA",
        },
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "mesh metrics",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Istio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IstioConfig {
    /// Where istiod runs.
    pub namespace: DnsLabel,
    /// istiod.
    pub pilot_image: ImageRef,
    /// The sidecar proxy.
    pub proxy_image: ImageRef,
}

impl Default for IstioConfig {
    fn default() -> Self {
        Self {
            namespace: checks::label("battery-istio"),
            pilot_image: image(images::ISTIO_PILOT),
            proxy_image: image(images::ISTIO_PROXY),
        }
    }
}

impl IstioConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "pilot_image", &self.pilot_image);
        checks::pinned(&mut problems, "proxy_image", &self.proxy_image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &IstioConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
