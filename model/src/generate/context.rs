//! What a generator can see: the desired state, the secrets, and the
//! installation's namespaces.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::error::GenerateError;
use super::state::DesiredState;
use crate::catalog::battery_core::BatteryCoreConfig;
use crate::catalog::{BatteryConfig, BatteryKind};

/// Where secret values come from.
#[derive(Debug, Clone, Copy)]
pub enum Secrets<'a> {
    /// The stored secrets, by key (`grafana/admin-password`, `postgres/app/alice`).
    Stored(&'a BTreeMap<String, String>),
    /// A preview (in the browser, or a dry run): every secret reads as a fixed
    /// placeholder; real values never leave the server.
    Preview,
    /// Like a preview, and notes every key asked for (see `required_secrets`).
    Recording(&'a RefCell<BTreeSet<String>>),
}

/// The placeholder a preview shows for every secret value.
pub const SECRET_PLACEHOLDER: &str = "<secret>";

/// The generation context handed to every generator.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The desired state being generated.
    pub state: &'a DesiredState,
    secrets: Secrets<'a>,
    core: BatteryCoreConfig,
}

impl<'a> Context<'a> {
    /// A context over `state` reading secrets from `secrets`.
    pub fn new(state: &'a DesiredState, secrets: Secrets<'a>) -> Self {
        let core = match state.batteries.get(&BatteryKind::BatteryCore) {
            Some(BatteryConfig::BatteryCore(core)) => core.clone(),
            _ => BatteryCoreConfig::default(),
        };
        Self {
            state,
            secrets,
            core,
        }
    }

    /// Whether `kind` is installed.
    pub fn installed(&self, kind: BatteryKind) -> bool {
        self.state.batteries.contains_key(&kind)
    }

    /// The value of the stored secret `key`.
    pub fn secret(&self, key: &str) -> Result<String, GenerateError> {
        match self.secrets {
            Secrets::Stored(stored) => stored
                .get(key)
                .cloned()
                .ok_or_else(|| GenerateError::MissingSecret(key.to_owned())),
            Secrets::Preview => Ok(SECRET_PLACEHOLDER.to_owned()),
            Secrets::Recording(keys) => {
                keys.borrow_mut().insert(key.to_owned());
                Ok(SECRET_PLACEHOLDER.to_owned())
            }
        }
    }

    /// Every stored secret (none in a preview): what an installation's
    /// seed carries so that another control server generates the same
    /// resources.
    pub fn stored_secrets(&self) -> BTreeMap<String, String> {
        match self.secrets {
            Secrets::Stored(stored) => stored.clone(),
            Secrets::Preview | Secrets::Recording(_) => BTreeMap::new(),
        }
    }

    /// battery-core's config (its defaults when it is not installed).
    pub fn core(&self) -> &BatteryCoreConfig {
        &self.core
    }

    /// Namespace of the control server and bi's own components.
    pub fn core_namespace(&self) -> &str {
        self.core.core_namespace.as_str()
    }

    /// Namespace of shared infrastructure: operators, cert-manager, MetalLB.
    pub fn base_namespace(&self) -> &str {
        self.core.base_namespace.as_str()
    }

    /// Namespace of databases and caches.
    pub fn data_namespace(&self) -> &str {
        self.core.data_namespace.as_str()
    }

    /// Namespace of notebooks and model instances.
    pub fn ai_namespace(&self) -> &str {
        self.core.ai_namespace.as_str()
    }

    /// Namespace of metrics, dashboards and logs.
    pub fn monitoring_namespace(&self) -> &str {
        self.core.monitoring_namespace.as_str()
    }
}
