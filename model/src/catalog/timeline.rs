//! Records cluster events, battery installs and deploys as a searchable history.

use serde::{Deserialize, Serialize};

use super::checks;
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::units::Duration;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Timeline,
    id: "timeline",
    name: "Timeline",
    group: BatteryGroup::Core,
    description: "Records cluster events, battery installs and deploys as a searchable history.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimelineConfig {
    /// How long events are kept.
    pub retention: Duration,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        Self {
            retention: Duration::hours(24 * 30),
        }
    }
}

impl TimelineConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::duration_range(
            &mut problems,
            "retention",
            self.retention,
            Duration::hours(1),
            Duration::hours(24 * 365),
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &TimelineConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
