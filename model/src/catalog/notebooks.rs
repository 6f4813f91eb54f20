//! JupyterLab notebooks with persistent storage, optionally behind single sign-on.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Notebooks,
    id: "notebooks",
    name: "Jupyter Notebooks",
    group: BatteryGroup::Ai,
    description: "JupyterLab notebooks with persistent storage, optionally behind single sign-on.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::Sso,
            what: "sign-in through Keycloak via oauth2-proxy",
        },
        Integration {
            partner: BatteryKind::NvidiaDevicePlugin,
            what: "GPU notebooks",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Jupyter Notebooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotebooksConfig {
    /// Image for new notebooks.
    pub default_image: ImageRef,
}

impl Default for NotebooksConfig {
    fn default() -> Self {
        Self {
            default_image: image(images::JUPYTER),
        }
    }
}

impl NotebooksConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "default_image", &self.default_image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &NotebooksConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
