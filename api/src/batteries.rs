//! Batteries as clients see them: the catalog, one battery, what an
//! install would bring, and what an install or uninstall stored.

use bi_model::catalog::{BatteryConfig, BatteryGroup, BatteryKind};
use bi_model::dependencies::IntegrationChange;
use serde::{Deserialize, Serialize};

/// One catalog battery and whether it is installed, for lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatteryStatus {
    /// Which battery.
    pub kind: BatteryKind,
    /// Its display name.
    pub name: String,
    /// The catalog group it is listed under.
    pub group: BatteryGroup,
    /// What it does.
    pub description: String,
    /// Whether it is offered where this cluster runs.
    pub offered: bool,
    /// Whether it is installed.
    pub installed: bool,
    /// Its config, when installed.
    pub config: Option<BatteryConfig>,
}

/// An optional integration between two batteries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationNote {
    /// The battery that declares the integration.
    pub battery: BatteryKind,
    /// The partner whose presence switches it on.
    pub partner: BatteryKind,
    /// What it does.
    pub what: String,
}

impl From<&IntegrationChange> for IntegrationNote {
    fn from(change: &IntegrationChange) -> Self {
        Self {
            battery: change.battery,
            partner: change.partner,
            what: change.what.to_owned(),
        }
    }
}

/// One integration a battery declares, and whether it works right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationStatus {
    /// The partner battery.
    pub partner: BatteryKind,
    /// What the integration does.
    pub what: String,
    /// True when both batteries are installed.
    pub active: bool,
}

/// Everything about one battery, for its detail page and `bi battery show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatteryDetail {
    /// Which battery.
    pub kind: BatteryKind,
    /// Its display name.
    pub name: String,
    /// The catalog group it is listed under.
    pub group: BatteryGroup,
    /// What it does.
    pub description: String,
    /// The batteries it needs, as the catalog declares them.
    pub dependencies: Vec<BatteryKind>,
    /// Its optional integrations.
    pub integrations: Vec<IntegrationStatus>,
    /// False when bi cannot run without it.
    pub removable: bool,
    /// Whether it is offered where this cluster runs.
    pub offered: bool,
    /// Whether it is installed.
    pub installed: bool,
    /// The fields of its config (installed config, else the defaults), as
    /// `key=value` settings address them.
    pub config: serde_json::Value,
    /// The keys `--set` accepts, dotted.
    pub settings: Vec<String>,
    /// Installed batteries that need it, directly or through others.
    pub dependents: Vec<BatteryKind>,
    /// The desired-state version this was read at: what a form built from
    /// it sends back as `expected_version`.
    pub version: i32,
}

/// What installing a battery would do, shown before confirming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallPreview {
    /// The battery asked for.
    pub battery: BatteryKind,
    /// Batteries to install, dependencies first, the battery last.
    pub to_install: Vec<BatteryKind>,
    /// Integrations that start working.
    pub integrations_on: Vec<IntegrationNote>,
}

/// What an install stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallOutcome {
    /// The new desired-state version.
    pub version: i32,
    /// The batteries installed, dependencies first, the battery last.
    pub installed: Vec<BatteryKind>,
    /// Integrations that started working.
    pub integrations: Vec<IntegrationNote>,
}

/// What an uninstall stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UninstallOutcome {
    /// The new desired-state version.
    pub version: i32,
    /// The battery removed.
    pub battery: BatteryKind,
    /// Integrations that stopped working.
    pub integrations_off: Vec<IntegrationNote>,
}

/// `key=value` settings, e.g. `["memory=512Mi", "replicas=2"]`: the body of
/// the JSON API's install and configure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The settings, applied in order.
    #[serde(default)]
    pub settings: Vec<String>,
    /// The desired-state version the caller read the battery at: refused
    /// with 409 when the battery changed since. None: last writer wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i32>,
}

/// An installed battery, for the dashboard: the first page the browser
/// loads, which must not carry the catalog or every config's decoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledBattery {
    /// Which battery.
    pub kind: BatteryKind,
    /// Its display name.
    pub name: String,
}
