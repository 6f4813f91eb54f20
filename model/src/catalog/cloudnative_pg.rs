//! The CloudNativePG operator: highly available PostgreSQL clusters with failover, users and databases.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::CloudnativePg,
    id: "cloudnative_pg",
    name: "CloudNativePG",
    group: BatteryGroup::Data,
    description: "The CloudNativePG operator: highly available PostgreSQL clusters with failover, users and databases.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "metrics scraping of every PostgreSQL cluster",
        },
        Integration {
            partner: BatteryKind::CloudnativePgBarman,
            what: "object-storage backups of every PostgreSQL cluster",
        },
    ],
    removable: false,
    providers: &[],
};

/// Configuration of CloudNativePG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudnativePgConfig {
    /// The operator.
    pub operator_image: ImageRef,
    /// PostgreSQL for new clusters.
    pub postgres_image: ImageRef,
}

impl Default for CloudnativePgConfig {
    fn default() -> Self {
        Self {
            operator_image: image(images::CLOUDNATIVE_PG),
            postgres_image: image(images::POSTGRES),
        }
    }
}

impl CloudnativePgConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "operator_image", &self.operator_image);
        checks::pinned(&mut problems, "postgres_image", &self.postgres_image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &CloudnativePgConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
