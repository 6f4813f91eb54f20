//! Redis instances (standalone, replicated or clustered) managed by the Redis operator.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Redis,
    id: "redis",
    name: "Redis",
    group: BatteryGroup::Data,
    description: "Redis instances (standalone, replicated or clustered) managed by the Redis operator.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "metrics scraping of every Redis instance through its exporter",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Redis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// The Redis operator.
    pub operator_image: ImageRef,
    /// Redis itself.
    pub redis_image: ImageRef,
    /// The metrics exporter sidecar.
    pub exporter_image: ImageRef,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            operator_image: image(images::REDIS_OPERATOR),
            redis_image: image(images::REDIS),
            exporter_image: image(images::REDIS_EXPORTER),
        }
    }
}

impl RedisConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "operator_image", &self.operator_image);
        checks::pinned(&mut problems, "redis_image", &self.redis_image);
        checks::pinned(&mut problems, "exporter_image", &self.exporter_image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &RedisConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
