//! Deletes objects labelled battery/managed that no snapshot claims any more, after a grace period.

use serde::{Deserialize, Serialize};

use super::checks;
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::units::Duration;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::StaleResourceCleaner,
    id: "stale_resource_cleaner",
    name: "Stale Resource Cleaner",
    group: BatteryGroup::Core,
    description: "Deletes objects labelled battery/managed that no snapshot claims any more, after a grace period.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Stale Resource Cleaner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaleResourceCleanerConfig {
    /// How long an orphan must stay unclaimed before it is deleted.
    pub grace_period: Duration,
}

impl Default for StaleResourceCleanerConfig {
    fn default() -> Self {
        Self {
            grace_period: Duration::minutes(15),
        }
    }
}

impl StaleResourceCleanerConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::duration_range(
            &mut problems,
            "grace_period",
            self.grace_period,
            Duration::minutes(1),
            Duration::hours(24 * 7),
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &StaleResourceCleanerConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
