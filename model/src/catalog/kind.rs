//! What a battery is, independent of its configuration: its kind, group,
//! description, hard dependencies and optional integrations.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use super::BatteryKind;

impl BatteryKind {
    /// The stable identifier (`cloudnative_pg`).
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// What the catalog says about this battery.
    pub fn info(self) -> &'static BatteryInfo {
        super::info(self)
    }
}

impl fmt::Display for BatteryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A battery identifier that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown battery {0:?}; the catalog has {list}", list = known_ids())]
pub struct UnknownBattery(pub String);

fn known_ids() -> String {
    BatteryKind::ALL.map(BatteryKind::id).join(", ")
}

impl FromStr for BatteryKind {
    type Err = UnknownBattery;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace('-', "_");
        BatteryKind::ALL
            .into_iter()
            .find(|kind| kind.id() == wanted)
            .ok_or_else(|| UnknownBattery(s.to_owned()))
    }
}

/// How the catalog is grouped in the UI's navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatteryGroup {
    /// What bi itself needs.
    Core,
    /// Databases and caches.
    Data,
    /// Metrics, dashboards and logs.
    Monitoring,
    /// Notebooks, models and GPUs.
    Ai,
    /// Certificates, mesh, identity, load balancing, scanning.
    NetSecurity,
    /// Running your own code.
    Devtools,
    /// Automation that depends on where the cluster runs.
    Magic,
}

impl BatteryGroup {
    /// Every group, in navigation order.
    pub const ALL: [BatteryGroup; 7] = [
        Self::Core,
        Self::Data,
        Self::Monitoring,
        Self::Ai,
        Self::NetSecurity,
        Self::Devtools,
        Self::Magic,
    ];

    /// The group's name for people.
    pub fn title(self) -> &'static str {
        match self {
            Self::Core => "Core",
            Self::Data => "Data",
            Self::Monitoring => "Monitoring",
            Self::Ai => "AI",
            Self::NetSecurity => "Net/Security",
            Self::Devtools => "Devtools",
            Self::Magic => "Magic",
        }
    }
}

/// Where a cluster runs; some batteries only make sense on one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterProvider {
    /// bi's embedded sandbox cluster.
    Sandbox,
    /// A local kind cluster.
    Kind,
    /// Amazon EKS.
    Aws,
    /// Any other existing cluster.
    Provided,
}

/// An optional integration: extra resources that appear only while the
/// partner battery is installed too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integration {
    /// The battery that must also be installed.
    pub partner: BatteryKind,
    /// What turns on, in a sentence fragment ("metrics scraping of every Redis").
    pub what: &'static str,
}

/// The catalog entry of one battery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatteryInfo {
    /// Which battery.
    pub kind: BatteryKind,
    /// Stable snake_case identifier.
    pub id: &'static str,
    /// Name for people.
    pub name: &'static str,
    /// Navigation group.
    pub group: BatteryGroup,
    /// One or two sentences for the catalog page.
    pub description: &'static str,
    /// Batteries that must be installed first.
    pub dependencies: &'static [BatteryKind],
    /// Extras that turn on when a partner is installed.
    pub integrations: &'static [Integration],
    /// False for batteries bi cannot run without.
    pub removable: bool,
    /// Providers this battery is offered on; empty means every provider.
    pub providers: &'static [ClusterProvider],
}

impl BatteryInfo {
    /// Whether this battery is offered on clusters of `provider`.
    pub fn offered_on(&self, provider: ClusterProvider) -> bool {
        self.providers.is_empty() || self.providers.contains(&provider)
    }
}
