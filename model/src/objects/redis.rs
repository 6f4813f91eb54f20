//! Redis instances: a standalone server, a primary with replicas, or a
//! sharded Redis Cluster.

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::names::{check_at, check_derived_name};
use crate::objects::resources::Resources;
use crate::units::Storage;
use crate::validation::{Problems, Rule};

/// The longest name: what the names and labels bi and the operator derive
/// from it leave room for (see `catalog::redis::INSTANCE_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::redis::INSTANCE_NAME_MAX_LEN;

/// The most instances of a primary with replicas (1 primary + 8 replicas).
pub const MAX_REPLICATION_INSTANCES: u32 = 9;

/// The most nodes of a Redis Cluster.
pub const MAX_CLUSTER_INSTANCES: u32 = 99;

/// A Redis deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisInstance {
    /// The instance's name, a DNS label.
    pub name: String,
    /// How the servers work together.
    pub mode: RedisMode,
    /// How many servers (see [`RedisMode`] for the allowed counts).
    pub instances: u32,
    /// CPU and memory of each server.
    pub resources: Resources,
    /// A volume per server for snapshots; none keeps data in memory only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
}

/// How Redis servers work together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedisMode {
    /// One server: exactly 1 instance.
    #[default]
    Standalone,
    /// A primary and replicas: at least 2 instances, or there is nothing to replicate to.
    Replication,
    /// Redis Cluster: at least 3 instances, because a failover needs a
    /// majority of primaries to agree that one is down.
    Cluster,
}

impl RedisMode {
    /// The allowed instance counts, and why the lower bound.
    pub fn instance_bounds(self) -> (u32, u32, &'static str) {
        match self {
            Self::Standalone => (1, 1, "a standalone Redis is one server"),
            Self::Replication => (
                2,
                MAX_REPLICATION_INSTANCES,
                "replication needs a primary and at least one replica",
            ),
            Self::Cluster => (
                3,
                MAX_CLUSTER_INSTANCES,
                "a Redis Cluster needs at least 3 primaries so a majority can agree on failover",
            ),
        }
    }
}

impl Default for RedisInstance {
    /// One standalone tiny server without a volume.
    fn default() -> Self {
        Self {
            name: String::new(),
            mode: RedisMode::Standalone,
            instances: 1,
            resources: Resources::default(),
            storage: None,
        }
    }
}

impl RedisInstance {
    /// The smallest volume: 128 MiB.
    pub fn min_storage() -> Storage {
        Storage::mebibytes(128)
    }

    /// Every problem with the instance.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::redis::INSTANCE_NAMES),
        );
        let (min, max, why) = self.mode.instance_bounds();
        if self.instances < min || self.instances > max {
            let allowed = if min == max {
                format!("must be {min}")
            } else {
                format!("must be between {min} and {max}")
            };
            problems.push(
                "instances",
                Rule::Range,
                format!("{allowed}; {} is not ({why})", self.instances),
            );
        }
        problems.merge("resources", self.resources.validate());
        if let Some(storage) = &self.storage {
            let min_storage = Self::min_storage();
            let ceiling = self.resources.memory_ceiling();
            if *storage < min_storage {
                problems.push(
                    "storage",
                    Rule::Range,
                    format!(
                        "must be at least {}; {} is less",
                        min_storage.human(),
                        storage.human()
                    ),
                );
            } else if storage.as_bytes() < ceiling.as_bytes() {
                // NB: a snapshot holds the whole data set, which can grow to the memory limit.
                problems.push(
                    "storage",
                    Rule::Consistency,
                    format!(
                        "{} is less than the memory it must snapshot ({}); give it at least as much",
                        storage.human(),
                        ceiling.human()
                    ),
                );
            }
        }
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Memory;

    fn redis(mode: RedisMode, instances: u32) -> RedisInstance {
        RedisInstance {
            name: "cache".into(),
            mode,
            instances,
            ..RedisInstance::default()
        }
    }

    #[test]
    fn instance_counts_follow_the_mode() {
        for (mode, instances, ok) in [
            (RedisMode::Standalone, 1, true),
            (RedisMode::Standalone, 2, false),
            (RedisMode::Replication, 1, false),
            (RedisMode::Replication, 2, true),
            (RedisMode::Replication, 9, true),
            (RedisMode::Replication, 10, false),
            (RedisMode::Cluster, 2, false),
            (RedisMode::Cluster, 3, true),
            (RedisMode::Cluster, 6, true),
            (RedisMode::Cluster, 100, false),
        ] {
            assert_eq!(
                redis(mode, instances).validate().is_ok(),
                ok,
                "{mode:?} × {instances}"
            );
        }
    }

    #[test]
    fn instance_count_messages_say_why() {
        let problems = redis(RedisMode::Cluster, 2).validate().unwrap_err();
        assert_eq!(
            problems.for_field("instances").map(|e| e.message.as_str()),
            Some(
                "must be between 3 and 99; 2 is not (a Redis Cluster needs at least 3 primaries \
                 so a majority can agree on failover)"
            )
        );
        let problems = redis(RedisMode::Standalone, 3).validate().unwrap_err();
        assert_eq!(
            problems.for_field("instances").map(|e| e.message.as_str()),
            Some("must be 1; 3 is not (a standalone Redis is one server)")
        );
    }

    #[test]
    fn storage_must_hold_a_snapshot_of_memory() {
        let mut value = redis(RedisMode::Standalone, 1);
        value.storage = Some(Storage::mebibytes(256));
        let problems = value.validate().unwrap_err();
        assert_eq!(
            problems
                .for_field("storage")
                .map(|e| (e.rule, e.message.as_str())),
            Some((
                Rule::Consistency,
                "256 MiB is less than the memory it must snapshot (512 MiB); give it at least as much"
            ))
        );
        value.storage = Some(Storage::mebibytes(64));
        assert_eq!(
            value
                .validate()
                .unwrap_err()
                .for_field("storage")
                .map(|e| e.rule),
            Some(Rule::Range)
        );
        value.storage = Some(Storage::gibibytes(1));
        assert_eq!(value.validate(), Ok(()));
    }

    #[test]
    fn reports_name_instances_and_memory_together() {
        let mut value = redis(RedisMode::Replication, 1);
        value.name = String::new();
        value.resources.memory_request = Memory::mebibytes(16);
        value.resources.memory_limit = None;
        let problems = value.validate().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "instances", "resources.memory_request"]);
    }

    #[test]
    fn round_trips_through_serde() {
        let mut value = redis(RedisMode::Cluster, 6);
        value.storage = Some(Storage::gibibytes(2));
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(json["mode"], "cluster");
        assert_eq!(json["storage"], "2Gi");
        assert_eq!(
            serde_json::from_value::<RedisInstance>(json).unwrap(),
            value
        );
        let bare = redis(RedisMode::Standalone, 1);
        let json = serde_json::to_value(&bare).unwrap();
        assert!(json.get("storage").is_none());
        assert_eq!(serde_json::from_value::<RedisInstance>(json).unwrap(), bare);
    }
}
