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

/// What a control server starts from when its database holds no desired
/// state yet: the desired state and the stored secrets another control
/// server generated the cluster's resources from. battery_core publishes
/// it in the Secret `control-server-seed`, so the control server in the
/// cluster takes over from the `bi` that installed it (and starts again
/// from it if its own database is lost) generating the same resources.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The desired state.
    pub state: DesiredState,
    /// The stored secrets, by key.
    pub secrets: BTreeMap<String, String>,
}

// NB: by hand: the secrets' values never reach a log.
impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seed")
            .field("state", &self.state)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

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

impl DesiredState {
    /// The same state with every list in name order: what the database
    /// returns in one order and a form in another is one state, so this is
    /// what anything generated from the state as a whole (the seed) holds.
    pub fn canonical(&self) -> Self {
        use crate::objects::Named;
        fn by_name<T: Named>(list: &mut [Owned<T>]) {
            list.sort_by(|a, b| a.object.name().cmp(b.object.name()));
        }
        let mut state = self.clone();
        state.projects.sort_by(|a, b| a.name.cmp(&b.name));
        state.ip_address_pools.sort_by(|a, b| a.name.cmp(&b.name));
        by_name(&mut state.postgres_clusters);
        by_name(&mut state.redis_instances);
        by_name(&mut state.ferret_services);
        by_name(&mut state.knative_services);
        by_name(&mut state.traditional_services);
        by_name(&mut state.notebooks);
        by_name(&mut state.model_instances);
        state
    }
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
