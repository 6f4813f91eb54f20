//! Deletes objects labelled battery/managed that no snapshot claims any more, after a grace period.

use serde::{Deserialize, Serialize};

use super::checks;
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::build;
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

/// The ConfigMap holding this battery's settings.
pub const SETTINGS: &str = "stale-resource-cleaner";

/// The cleaner runs inside the control server; its settings reach it as a
/// ConfigMap in the core namespace (`grace_period` as a Go duration such as
/// `15m`, and `grace_period_seconds`). It reads no stored secrets.
pub fn generate(
    config: &StaleResourceCleanerConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let settings = build::duration_settings(
        ctx.core_namespace(),
        SETTINGS,
        "grace_period",
        config.grace_period,
    );
    Ok(vec![Resource::new(INFO.id, &settings)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DesiredState, Secrets};

    #[test]
    fn publishes_its_settings_in_the_core_namespace() {
        let state = DesiredState::with_batteries(&[BatteryKind::StaleResourceCleaner]).unwrap();
        let config = StaleResourceCleanerConfig::default();
        let resources = generate(&config, &Context::new(&state, Secrets::Preview)).unwrap();
        assert_eq!(resources.len(), 1);
        let settings = &resources[0];
        assert_eq!(
            settings.path.to_string(),
            "v1/ConfigMap/battery-core/stale-resource-cleaner"
        );
        assert_eq!(settings.app, INFO.id);
        assert_eq!(settings.body["data"]["grace_period"], "15m");
        assert_eq!(settings.body["data"]["grace_period_seconds"], "900");
    }
}
