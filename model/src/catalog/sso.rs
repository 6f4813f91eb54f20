//! oauth2-proxy in front of bi's UIs (Grafana, notebooks, …) with Keycloak as the identity provider.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Sso,
    id: "sso",
    name: "Single Sign-On",
    group: BatteryGroup::NetSecurity,
    description: "oauth2-proxy in front of bi's UIs (Grafana, notebooks, …) with Keycloak as the identity provider.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::Keycloak],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Single Sign-On.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsoConfig {
    /// oauth2-proxy.
    pub oauth2_proxy_image: ImageRef,
    /// Require a second factor at sign-in.
    pub mfa: bool,
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            oauth2_proxy_image: image(images::OAUTH2_PROXY),
            mfa: false,
        }
    }
}

impl SsoConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(
            &mut problems,
            "oauth2_proxy_image",
            &self.oauth2_proxy_image,
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &SsoConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
