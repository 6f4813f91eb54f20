//! The ingress gateway that exposes services, notebooks and UIs outside the cluster.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::IstioGateway,
    id: "istio_gateway",
    name: "Istio Ingress Gateway",
    group: BatteryGroup::NetSecurity,
    description: "The ingress gateway that exposes services, notebooks and UIs outside the cluster.",
    dependencies: &[BatteryKind::Istio],
    integrations: &[Integration {
        partner: BatteryKind::Metallb,
        what: "a load-balancer IP from a MetalLB pool",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Istio Ingress Gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IstioGatewayConfig {
    /// The gateway proxy.
    pub proxy_image: ImageRef,
    /// Gateway replicas.
    pub replicas: u32,
}

impl Default for IstioGatewayConfig {
    fn default() -> Self {
        Self {
            proxy_image: image(images::ISTIO_PROXY),
            replicas: 1,
        }
    }
}

impl IstioGatewayConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "proxy_image", &self.proxy_image);
        checks::replicas(&mut problems, "replicas", self.replicas, 10);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &IstioGatewayConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
