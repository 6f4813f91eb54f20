//! Identity and access management: realms, users, OIDC clients; its database is a PostgreSQL cluster.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Keycloak,
    id: "keycloak",
    name: "Keycloak",
    group: BatteryGroup::NetSecurity,
    description: "Identity and access management: realms, users, OIDC clients; its database is a PostgreSQL cluster.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::CloudnativePg],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Keycloak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeycloakConfig {
    /// Keycloak.
    pub image: ImageRef,
    /// Name of the initial administrator (its password is generated and stored once).
    pub admin_username: DnsLabel,
    /// Keycloak replicas.
    pub replicas: u32,
    /// Keycloak's log level.
    pub log_level: LogLevel,
}

impl Default for KeycloakConfig {
    fn default() -> Self {
        Self {
            image: image(images::KEYCLOAK),
            admin_username: checks::label("batteryadmin"),
            replicas: 1,
            log_level: LogLevel::Info,
        }
    }
}

impl KeycloakConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::replicas(&mut problems, "replicas", self.replicas, 5);
        problems.into_result()
    }
}

/// Keycloak's log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Very detailed.
    Debug,
    /// The default.
    #[default]
    Info,
    /// Problems only.
    Warn,
    /// Errors only.
    Error,
}

/// The resources this battery needs.
pub fn generate(
    config: &KeycloakConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
