//! The Kubernetes Gateway API CRDs, used by Istio and Knative for ingress.

use serde::{Deserialize, Serialize};

use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::GatewayApi,
    id: "gateway_api",
    name: "Gateway API",
    group: BatteryGroup::NetSecurity,
    description: "The Kubernetes Gateway API CRDs, used by Istio and Knative for ingress.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Gateway API: it has no settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayApiConfig {}

impl GatewayApiConfig {
    /// Every problem with this config (it has no rules of its own).
    pub fn validate(&self) -> Result<(), Problems> {
        Ok(())
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &GatewayApiConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
