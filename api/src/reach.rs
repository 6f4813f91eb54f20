//! How people open what bi installs: each address (a battery's UI, a
//! notebook, an exposed service) with its route's and its certificate's
//! status, the gateway they all go through, and the UIs that cannot be
//! reached yet and why. The dashboard, the battery, project and service
//! pages, `bi status`, `bi batteries show` and `bi services list` show it.

use bi_model::catalog::BatteryKind;
use bi_model::reach::{CertificateIssuer, Owner};
use serde::{Deserialize, Serialize};

/// How far along one part of an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Done: the route is accepted by the gateway, the certificate issued.
    Done,
    /// Applied, waiting for the gateway controller or cert-manager.
    Pending,
    /// Refused by the gateway controller or cert-manager (see the words).
    Failed,
    /// Not in the cluster yet: the next snapshot applies it.
    Missing,
}

impl Progress {
    /// One word for tables: `routed`, `pending`, `failed`, `not applied`.
    pub fn word(self, done: &'static str) -> &'static str {
        match self {
            Self::Done => done,
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Missing => "not applied",
        }
    }
}

/// One part's status in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartStatus {
    /// How far along it is.
    pub progress: Progress,
    /// What the cluster says, in a sentence.
    pub words: String,
}

/// One address people open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// What it opens.
    pub owner: Owner,
    /// What it opens, in words (`Grafana`, `traditional service web`).
    pub label: String,
    /// The link (`https://grafana.bi.localhost/`).
    pub url: String,
    /// Its hostname.
    pub host: String,
    /// Whether SSO signs people in before it.
    pub signed_in: bool,
    /// The route to it (bi's HTTPRoute, or Knative's for Knative services).
    pub route: PartStatus,
    /// The certificate its listener serves.
    pub certificate: PartStatus,
}

/// The gateway every address goes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayView {
    /// The installation domain.
    pub domain: String,
    /// Who signs the certificates.
    pub issuer: CertificateIssuer,
    /// The load balancer's address, once the cluster gave it one.
    pub address: Option<String>,
    /// How to open the addresses from this machine, in a sentence.
    pub how_to_open: String,
}

/// A battery with a UI that nothing routes to, and what to install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreachable {
    /// The battery.
    pub battery: BatteryKind,
    /// The sentence the UI and the CLI show.
    pub words: String,
}

/// Everything about reaching the installation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReachView {
    /// The gateway, when one is installed.
    pub gateway: Option<GatewayView>,
    /// Every address, by host and path.
    pub addresses: Vec<Address>,
    /// Installed UIs nothing routes to.
    pub unreachable: Vec<Unreachable>,
    /// Why the cluster's side could not be read (the statuses then say
    /// "unknown"); the details are in the server log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_error: Option<String>,
}

impl ReachView {
    /// The addresses of `battery`'s UI.
    pub fn of_battery(&self, battery: BatteryKind) -> impl Iterator<Item = &Address> {
        self.addresses
            .iter()
            .filter(move |a| matches!(a.owner, Owner::Battery { battery: b } if b == battery))
    }

    /// The address of the object `name` (a service or notebook).
    pub fn of_object(&self, name: &str) -> Option<&Address> {
        self.addresses
            .iter()
            .find(|a| matches!(&a.owner, Owner::Object { name: n, .. } if n == name))
    }

    /// The addresses of the objects of `project`.
    pub fn of_project<'a>(&'a self, project: &'a str) -> impl Iterator<Item = &'a Address> {
        self.addresses.iter().filter(
            move |a| matches!(&a.owner, Owner::Object { project: Some(p), .. } if p == project),
        )
    }
}
