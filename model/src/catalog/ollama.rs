//! Serves open-weight language and embedding models as model instances.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Ollama,
    id: "ollama",
    name: "Ollama",
    group: BatteryGroup::Ai,
    description: "Serves open-weight language and embedding models as model instances.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::NvidiaDevicePlugin,
        what: "GPU-backed model instances",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Ollama.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OllamaConfig {
    /// Ollama.
    pub image: ImageRef,
}

impl Default for OllamaConfig {
    fn default() -> Self {
        Self {
            image: image(images::OLLAMA),
        }
    }
}

impl OllamaConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &OllamaConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
