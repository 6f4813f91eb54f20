//! A log store indexed by labels, queried from Grafana.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::units::{Duration, Storage};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Loki,
    id: "loki",
    name: "Loki",
    group: BatteryGroup::Monitoring,
    description: "A log store indexed by labels, queried from Grafana.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Loki.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LokiConfig {
    /// Loki.
    pub image: ImageRef,
    /// Loki replicas.
    pub replicas: u32,
    /// Volume of each replica.
    pub storage: Storage,
    /// How long logs are kept.
    pub retention: Duration,
}

impl Default for LokiConfig {
    fn default() -> Self {
        Self {
            image: image(images::LOKI),
            replicas: 1,
            storage: Storage::gibibytes(10),
            retention: Duration::hours(24 * 14),
        }
    }
}

impl LokiConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::replicas(&mut problems, "replicas", self.replicas, 98);
        checks::storage_at_least(
            &mut problems,
            "storage",
            self.storage,
            Storage::gibibytes(1),
        );
        checks::duration_range(
            &mut problems,
            "retention",
            self.retention,
            Duration::hours(24),
            Duration::hours(24 * 365),
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &LokiConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
