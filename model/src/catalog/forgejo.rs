//! Self-hosted git with issues and pull requests; its database is a PostgreSQL cluster.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::units::Storage;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Forgejo,
    id: "forgejo",
    name: "Forgejo",
    group: BatteryGroup::Devtools,
    description: "Self-hosted git with issues and pull requests; its database is a PostgreSQL cluster.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::CloudnativePg],
    integrations: &[Integration {
        partner: BatteryKind::Sso,
        what: "sign-in through Keycloak",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Forgejo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForgejoConfig {
    /// Forgejo.
    pub image: ImageRef,
    /// Name of the initial administrator.
    pub admin_username: DnsLabel,
    /// Volume for repositories.
    pub storage: Storage,
}

impl Default for ForgejoConfig {
    fn default() -> Self {
        Self {
            image: image(images::FORGEJO),
            admin_username: checks::label("battery-forgejo-admin"),
            storage: Storage::gibibytes(10),
        }
    }
}

impl ForgejoConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::storage_at_least(
            &mut problems,
            "storage",
            self.storage,
            Storage::gibibytes(1),
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &ForgejoConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
