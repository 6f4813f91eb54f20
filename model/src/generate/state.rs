//! The desired state generation reads: what the database holds for one
//! installation, minus the secrets (which travel apart, see `Secrets`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::InstallationName;
use crate::catalog::{BatteryConfig, BatteryKind, ClusterProvider};
use crate::objects::{
    FerretService, IpAddressPool, KnativeService, ModelInstance, Notebook, PostgresCluster,
    Project, RedisInstance, TraditionalService,
};

/// A user object and the project it belongs to, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owned<T> {
    /// Name of the owning project.
    #[serde(default)]
    pub project: Option<String>,
    /// The object.
    pub object: T,
}

impl<T> Owned<T> {
    /// An object that belongs to no project.
    pub fn unowned(object: T) -> Self {
        Self {
            project: None,
            object,
        }
    }
}

/// Everything a user configured: installed batteries and their configs,
/// projects, and user objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DesiredState {
    /// The installation's name.
    pub installation: InstallationName,
    /// Where the cluster runs.
    pub provider: ClusterProvider,
    /// Installed batteries with their configs.
    pub batteries: BTreeMap<BatteryKind, BatteryConfig>,
    /// Projects.
    pub projects: Vec<Project>,
    /// PostgreSQL clusters (CloudNativePG).
    pub postgres_clusters: Vec<Owned<PostgresCluster>>,
    /// Redis instances.
    pub redis_instances: Vec<Owned<RedisInstance>>,
    /// FerretDB services.
    pub ferret_services: Vec<Owned<FerretService>>,
    /// Knative services.
    pub knative_services: Vec<Owned<KnativeService>>,
    /// Traditional services.
    pub traditional_services: Vec<Owned<TraditionalService>>,
    /// Jupyter notebooks.
    pub notebooks: Vec<Owned<Notebook>>,
    /// Ollama model instances.
    pub model_instances: Vec<Owned<ModelInstance>>,
    /// MetalLB IP address pools.
    pub ip_address_pools: Vec<IpAddressPool>,
}

impl Default for DesiredState {
    fn default() -> Self {
        Self {
            installation: InstallationName::default_name(),
            provider: ClusterProvider::Sandbox,
            batteries: BTreeMap::new(),
            projects: Vec::new(),
            postgres_clusters: Vec::new(),
            redis_instances: Vec::new(),
            ferret_services: Vec::new(),
            knative_services: Vec::new(),
            traditional_services: Vec::new(),
            notebooks: Vec::new(),
            model_instances: Vec::new(),
            ip_address_pools: Vec::new(),
        }
    }
}

impl DesiredState {
    /// A state with `kinds` and their dependencies installed with default configs.
    pub fn with_batteries(
        kinds: &[BatteryKind],
    ) -> Result<Self, crate::dependencies::DependencyError> {
        let mut state = Self::default();
        state.install(kinds)?;
        Ok(state)
    }

    /// Installs `kinds` and their dependencies with default configs (keeping
    /// the configs of batteries already installed).
    pub fn install(
        &mut self,
        kinds: &[BatteryKind],
    ) -> Result<(), crate::dependencies::DependencyError> {
        for kind in crate::dependencies::closure(kinds)? {
            self.batteries
                .entry(kind)
                .or_insert_with(|| BatteryConfig::default_for(kind));
        }
        Ok(())
    }
}
