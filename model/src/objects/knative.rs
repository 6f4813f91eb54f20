//! Knative services: a container that scales with its requests, down to
//! zero when idle if asked to.

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::image::ImageRef;
use crate::names::{check_at, check_derived_name};
use crate::objects::env::{EnvVar, validate_env};
use crate::validation::{Problems, Rule};

/// The longest name: what the names and labels bi and the operator derive
/// from it leave room for (see `catalog::knative::SERVICE_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::knative::SERVICE_NAME_MAX_LEN;

/// The most instances a service may scale to.
pub const MAX_SCALE: u32 = 1000;

/// The most concurrent requests per instance a target may name.
pub const MAX_CONCURRENCY_TARGET: u32 = 1000;

/// Ports Knative's queue-proxy sidecar listens on inside every Pod.
pub const RESERVED_PORTS: [u16; 5] = [8012, 8013, 8022, 9090, 9091];

/// A Knative service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnativeService {
    /// The service's name, a DNS label.
    pub name: String,
    /// The container image.
    pub image: ImageRef,
    /// Environment variables.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// The fewest instances kept running.
    pub min_scale: u32,
    /// The most instances (at least `min_scale`, at most 1000).
    pub max_scale: u32,
    /// Whether the service may scale to zero when idle (exactly when `min_scale` is 0).
    pub scale_to_zero: bool,
    /// Concurrent requests per instance the autoscaler aims for (1–1000).
    pub concurrency_target: u32,
    /// The port the container listens on.
    pub port: u16,
    /// Reachable from outside the cluster at `<name>.<project>.<domain>`
    /// (on by default); off keeps it cluster-local.
    #[serde(default = "super::traditional::exposed_by_default")]
    pub expose: bool,
}

impl KnativeService {
    /// A service with Knative's usual settings: scale to zero, up to 10
    /// instances, 100 concurrent requests each, port 8080.
    pub fn new(name: impl Into<String>, image: ImageRef) -> Self {
        Self {
            name: name.into(),
            image,
            env: Vec::new(),
            min_scale: 0,
            max_scale: 10,
            scale_to_zero: true,
            concurrency_target: 100,
            port: 8080,
            expose: true,
        }
    }

    /// Every problem with the service.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::knative::SERVICE_NAMES),
        );
        problems.merge("env", validate_env(&self.env));
        if self.scale_to_zero && self.min_scale > 0 {
            problems.push(
                "min_scale",
                Rule::Consistency,
                format!(
                    "must be 0 to scale to zero; it is {} (or turn scale to zero off)",
                    self.min_scale
                ),
            );
        } else if !self.scale_to_zero && self.min_scale == 0 {
            problems.push(
                "min_scale",
                Rule::Consistency,
                "must be at least 1 when scale to zero is off (or turn it on)",
            );
        }
        if self.max_scale < self.min_scale.max(1) {
            problems.push(
                "max_scale",
                Rule::Consistency,
                format!(
                    "must be at least the minimum scale ({}) and at least 1; it is {}",
                    self.min_scale, self.max_scale
                ),
            );
        } else if self.max_scale > MAX_SCALE {
            problems.push(
                "max_scale",
                Rule::Range,
                format!("must be at most {MAX_SCALE}; {} is more", self.max_scale),
            );
        }
        problems.range(
            "concurrency_target",
            self.concurrency_target,
            1,
            MAX_CONCURRENCY_TARGET,
        );
        if self.port == 0 {
            problems.push("port", Rule::Range, "must be between 1 and 65535; 0 is not");
        } else if RESERVED_PORTS.contains(&self.port) {
            problems.push(
                "port",
                Rule::Range,
                format!(
                    "{} is taken by Knative's queue-proxy (it uses 8012, 8013, 8022, 9090 and \
                     9091); pick another, such as 8080",
                    self.port
                ),
            );
        }
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> KnativeService {
        let image = ImageRef::parse("ghcr.io/acme/web:1.2.3").unwrap();
        KnativeService::new("web", image)
    }

    fn fields(problems: &Problems) -> Vec<(&str, Rule)> {
        problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect()
    }

    #[test]
    fn the_usual_settings_are_valid() {
        assert_eq!(service().validate(), Ok(()));
        let always_on = KnativeService {
            min_scale: 2,
            scale_to_zero: false,
            ..service()
        };
        assert_eq!(always_on.validate(), Ok(()));
    }

    #[test]
    fn scale_to_zero_agrees_with_min_scale() {
        let contradiction = KnativeService {
            min_scale: 2,
            ..service()
        };
        let problems = contradiction.validate().unwrap_err();
        assert_eq!(fields(&problems), [("min_scale", Rule::Consistency)]);
        assert_eq!(
            problems.iter().next().map(|e| e.message.as_str()),
            Some("must be 0 to scale to zero; it is 2 (or turn scale to zero off)")
        );
        let off_at_zero = KnativeService {
            scale_to_zero: false,
            ..service()
        };
        assert_eq!(
            fields(&off_at_zero.validate().unwrap_err()),
            [("min_scale", Rule::Consistency)]
        );
    }

    #[test]
    fn max_scale_is_at_least_min_scale_and_at_most_a_thousand() {
        let below = KnativeService {
            min_scale: 5,
            max_scale: 3,
            scale_to_zero: false,
            ..service()
        };
        assert_eq!(
            below
                .validate()
                .unwrap_err()
                .iter()
                .next()
                .map(|e| e.message.as_str()),
            Some("must be at least the minimum scale (5) and at least 1; it is 3")
        );
        let zero = KnativeService {
            max_scale: 0,
            ..service()
        };
        assert_eq!(
            fields(&zero.validate().unwrap_err()),
            [("max_scale", Rule::Consistency)]
        );
        let above = KnativeService {
            max_scale: 1001,
            ..service()
        };
        assert_eq!(
            fields(&above.validate().unwrap_err()),
            [("max_scale", Rule::Range)]
        );
        let edge = KnativeService {
            max_scale: 1000,
            ..service()
        };
        assert_eq!(edge.validate(), Ok(()));
    }

    #[test]
    fn reserved_and_zero_ports_are_refused() {
        for port in RESERVED_PORTS.into_iter().chain([0]) {
            let value = KnativeService { port, ..service() };
            assert_eq!(
                fields(&value.validate().unwrap_err()),
                [("port", Rule::Range)],
                "{port}"
            );
        }
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let value = KnativeService {
            name: "Web".into(),
            env: vec![EnvVar::literal("A", "1"), EnvVar::literal("A", "2")],
            concurrency_target: 0,
            ..service()
        };
        assert_eq!(
            fields(&value.validate().unwrap_err()),
            [
                ("name", Rule::DnsLabel),
                ("env[1].name", Rule::Unique),
                ("concurrency_target", Rule::Range),
            ]
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let value = KnativeService {
            env: vec![EnvVar::secret("TOKEN", "api", "token")],
            ..service()
        };
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(json["image"], "ghcr.io/acme/web:1.2.3");
        assert_eq!(
            serde_json::from_value::<KnativeService>(json).unwrap(),
            value
        );
        let mut bad = serde_json::to_value(&value).unwrap();
        bad["image"] = "Not An Image".into();
        assert!(serde_json::from_value::<KnativeService>(bad).is_err());
    }
}
