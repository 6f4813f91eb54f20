//! Records cluster events, battery installs and deploys as a searchable history.

use serde::{Deserialize, Serialize};

use super::checks;
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::build;
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

/// The ConfigMap holding this battery's settings.
pub const SETTINGS: &str = "timeline";

/// The timeline runs inside the control server; its settings reach it as a
/// ConfigMap in the core namespace (`retention` as a Go duration such as
/// `720h`, and `retention_seconds`). It reads no stored secrets.
pub fn generate(
    config: &TimelineConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let settings = build::duration_settings(
        ctx.core_namespace(),
        SETTINGS,
        "retention",
        config.retention,
    );
    Ok(vec![Resource::new(INFO.id, &settings)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DesiredState, Secrets};

    #[test]
    fn publishes_its_settings_in_the_core_namespace() {
        let state = DesiredState::with_batteries(&[BatteryKind::Timeline]).unwrap();
        let config = TimelineConfig::default();
        let resources = generate(&config, &Context::new(&state, Secrets::Preview)).unwrap();
        assert_eq!(resources.len(), 1);
        let settings = &resources[0];
        assert_eq!(
            settings.path.to_string(),
            "v1/ConfigMap/battery-core/timeline"
        );
        assert_eq!(settings.app, INFO.id);
        assert_eq!(settings.body["data"]["retention"], "720h");
        assert_eq!(settings.body["data"]["retention_seconds"], "2592000");
    }
}
