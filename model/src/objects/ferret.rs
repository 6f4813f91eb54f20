//! FerretDB services: a MongoDB-compatible API in front of one of the
//! installation's PostgreSQL clusters.

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::names::{check_at, check_derived_name, check_dns_label};
use crate::objects::resources::Resources;
use crate::validation::Problems;

/// The longest name: what the names and labels bi and the operator derive
/// from it leave room for (see `catalog::ferretdb::SERVICE_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::ferretdb::SERVICE_NAME_MAX_LEN;

/// The most FerretDB instances (they are stateless; PostgreSQL is the limit).
pub const MAX_INSTANCES: u32 = 9;

/// A FerretDB service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FerretService {
    /// The service's name, a DNS label.
    pub name: String,
    /// How many instances (1–9).
    pub instances: u32,
    /// The name of the PostgreSQL cluster that stores the data.
    pub postgres_cluster: String,
    /// CPU and memory of each instance.
    pub resources: Resources,
}

impl Default for FerretService {
    /// One tiny instance, no cluster chosen yet.
    fn default() -> Self {
        Self {
            name: String::new(),
            instances: 1,
            postgres_cluster: String::new(),
            resources: Resources::default(),
        }
    }
}

impl FerretService {
    /// Every problem with the service. Whether the cluster exists is checked
    /// where all objects are known, not here.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::ferretdb::SERVICE_NAMES),
        );
        problems.range("instances", self.instances, 1, MAX_INSTANCES);
        check_at(
            &mut problems,
            "postgres_cluster",
            check_dns_label(&self.postgres_cluster),
        );
        problems.merge("resources", self.resources.validate());
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Cpu;
    use crate::validation::Rule;

    fn ferret() -> FerretService {
        FerretService {
            name: "docs".into(),
            instances: 2,
            postgres_cluster: "main".into(),
            ..FerretService::default()
        }
    }

    #[test]
    fn a_service_on_a_named_cluster_is_valid() {
        assert_eq!(ferret().validate(), Ok(()));
    }

    #[test]
    fn reports_instances_cluster_and_cpu_together() {
        let mut value = ferret();
        value.instances = 10;
        value.postgres_cluster = String::new();
        value.resources.cpu_request = Cpu::millicores(1);
        let problems = value.validate().unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect();
        assert_eq!(
            fields,
            [
                ("instances", Rule::Range),
                ("postgres_cluster", Rule::Required),
                ("resources.cpu_request", Rule::Range),
            ]
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let value = ferret();
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::from_str::<FerretService>(&json).unwrap(), value);
    }
}
