//! The installation's own certificate authority, as a cert-manager ClusterIssuer.

use serde::{Deserialize, Serialize};

use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::BatteryCa,
    id: "battery_ca",
    name: "Battery CA",
    group: BatteryGroup::NetSecurity,
    description: "The installation's own certificate authority, as a cert-manager ClusterIssuer.",
    dependencies: &[BatteryKind::CertManager],
    integrations: &[
        Integration {
            partner: BatteryKind::Istio,
            what: "STRICT mutual TLS between workloads, with certificates from this CA",
        },
        Integration {
            partner: BatteryKind::TrustManager,
            what: "the CA bundle distributed to every namespace",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Battery CA: it has no settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatteryCaConfig {}

impl BatteryCaConfig {
    /// Every problem with this config (it has no rules of its own).
    pub fn validate(&self) -> Result<(), Problems> {
        Ok(())
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &BatteryCaConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
