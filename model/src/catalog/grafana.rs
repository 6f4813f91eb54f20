//! Dashboards, with datasources for VictoriaMetrics and Loki added automatically when they are installed.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::units::Storage;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Grafana,
    id: "grafana",
    name: "Grafana",
    group: BatteryGroup::Monitoring,
    description: "Dashboards, with datasources for VictoriaMetrics and Loki added automatically when they are installed.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "a VictoriaMetrics datasource",
        },
        Integration {
            partner: BatteryKind::Loki,
            what: "a Loki datasource",
        },
        Integration {
            partner: BatteryKind::Sso,
            what: "sign-in through Keycloak via oauth2-proxy",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Grafana.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrafanaConfig {
    /// Grafana.
    pub image: ImageRef,
    /// Loads dashboards and datasources from ConfigMaps.
    pub sidecar_image: ImageRef,
    /// Volume for Grafana's own database.
    pub storage: Storage,
}

impl Default for GrafanaConfig {
    fn default() -> Self {
        Self {
            image: image(images::GRAFANA),
            sidecar_image: image(images::GRAFANA_SIDECAR),
            storage: Storage::gibibytes(1),
        }
    }
}

impl GrafanaConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::pinned(&mut problems, "sidecar_image", &self.sidecar_image);
        checks::storage_at_least(
            &mut problems,
            "storage",
            self.storage,
            Storage::mebibytes(256),
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &GrafanaConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
