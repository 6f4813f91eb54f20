//! A MongoDB-compatible API on top of a PostgreSQL cluster.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Ferretdb,
    id: "ferretdb",
    name: "FerretDB",
    group: BatteryGroup::Data,
    description: "A MongoDB-compatible API on top of a PostgreSQL cluster.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::CloudnativePg],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "metrics scraping of every FerretDB service",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of FerretDB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FerretdbConfig {
    /// FerretDB.
    pub image: ImageRef,
}

impl Default for FerretdbConfig {
    fn default() -> Self {
        Self {
            image: image(images::FERRETDB),
        }
    }
}

impl FerretdbConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &FerretdbConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
