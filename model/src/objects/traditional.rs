//! Traditional services: a Deployment or StatefulSet with a Service in
//! front, for software that does not fit Knative's request-driven scaling.

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::image::ImageRef;
use crate::names::{check_at, check_derived_name, check_port_name, check_unique};
use crate::objects::env::{EnvVar, validate_env};
use crate::objects::resources::Resources;
use crate::validation::{Problems, Rule};

/// The longest name: what the names and labels bi and the operator derive
/// from it leave room for (see `catalog::traditional_services::SERVICE_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::traditional_services::SERVICE_NAME_MAX_LEN;

/// The most replicas.
pub const MAX_REPLICAS: u32 = 100;

/// A traditional service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraditionalService {
    /// The service's name, a DNS label.
    pub name: String,
    /// The container image.
    pub image: ImageRef,
    /// How many Pods (0–100; 0 stops the service but keeps it).
    pub replicas: u32,
    /// Ports the container listens on, exposed by the Service.
    #[serde(default)]
    pub ports: Vec<ServicePort>,
    /// Environment variables.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// CPU and memory of each Pod.
    pub resources: Resources,
    /// Which workload runs the Pods.
    #[serde(default)]
    pub kind: WorkloadKind,
    /// Reachable from outside the cluster at `<name>.<project>.<domain>`
    /// through its first HTTP port (on by default).
    #[serde(default = "exposed_by_default")]
    pub expose: bool,
}

/// Services are exposed unless their owner turns it off.
pub(crate) fn exposed_by_default() -> bool {
    true
}

/// A port of a traditional service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePort {
    /// The port's name: a DNS label of at most 15 characters.
    pub name: String,
    /// The port number (1–65535).
    pub number: u16,
    /// What speaks on it.
    #[serde(default)]
    pub protocol: PortProtocol,
}

/// What speaks on a port; it decides how the mesh routes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortProtocol {
    /// HTTP/1.1.
    Http,
    /// HTTP/2 (and gRPC).
    #[default]
    Http2,
    /// Plain TCP.
    Tcp,
}

/// The Kubernetes workload that runs a traditional service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    /// Interchangeable Pods.
    #[default]
    Deployment,
    /// Pods with stable names, started in order.
    StatefulSet,
}

impl TraditionalService {
    /// One tiny Deployment replica with no ports.
    pub fn new(name: impl Into<String>, image: ImageRef) -> Self {
        Self {
            name: name.into(),
            image,
            replicas: 1,
            ports: Vec::new(),
            env: Vec::new(),
            resources: Resources::default(),
            kind: WorkloadKind::Deployment,
            expose: true,
        }
    }

    /// Every problem with the service.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::traditional_services::SERVICE_NAMES),
        );
        problems.range("replicas", self.replicas, 0, MAX_REPLICAS);
        for (i, port) in self.ports.iter().enumerate() {
            let at = format!("ports[{i}]");
            check_at(
                &mut problems,
                &format!("{at}.name"),
                check_port_name(&port.name),
            );
            if port.number == 0 {
                problems.push(
                    format!("{at}.number"),
                    Rule::Range,
                    "must be between 1 and 65535; 0 is not",
                );
            } else if let Some(first) = self.ports[..i].iter().position(|p| p.number == port.number)
            {
                problems.push(
                    format!("{at}.number"),
                    Rule::Unique,
                    format!("port {} is already used by ports[{first}]", port.number),
                );
            }
        }
        check_unique(
            &mut problems,
            "ports",
            "name",
            "port",
            self.ports.iter().map(|p| p.name.as_str()),
        );
        problems.merge("env", validate_env(&self.env));
        problems.merge("resources", self.resources.validate());
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(name: &str, number: u16) -> ServicePort {
        ServicePort {
            name: name.into(),
            number,
            protocol: PortProtocol::Http,
        }
    }

    fn service() -> TraditionalService {
        let image = ImageRef::parse("docker.io/library/nginx:1.27").unwrap();
        TraditionalService {
            ports: vec![port("http", 8080), port("metrics", 9090)],
            ..TraditionalService::new("web", image)
        }
    }

    fn fields(problems: &Problems) -> Vec<(&str, Rule)> {
        problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect()
    }

    #[test]
    fn a_service_with_ports_is_valid() {
        assert_eq!(service().validate(), Ok(()));
        let stopped = TraditionalService {
            replicas: 0,
            kind: WorkloadKind::StatefulSet,
            ..service()
        };
        assert_eq!(stopped.validate(), Ok(()));
    }

    #[test]
    fn replicas_are_at_most_a_hundred() {
        let value = TraditionalService {
            replicas: 101,
            ..service()
        };
        assert_eq!(
            fields(&value.validate().unwrap_err()),
            [("replicas", Rule::Range)]
        );
    }

    #[test]
    fn port_names_and_numbers_are_unique_and_valid() {
        let mut value = service();
        value.ports.extend([
            port("http", 8081),
            port("admin", 8080),
            port("a-very-long-port-name", 7000),
            port("zero", 0),
        ]);
        let problems = value.validate().unwrap_err();
        assert_eq!(
            fields(&problems),
            [
                ("ports[3].number", Rule::Unique),
                ("ports[4].name", Rule::DnsLabel),
                ("ports[5].number", Rule::Range),
                ("ports[2].name", Rule::Unique),
            ]
        );
        assert_eq!(
            problems
                .for_field("ports[3].number")
                .map(|e| e.message.as_str()),
            Some("port 8080 is already used by ports[0]")
        );
        assert!(
            problems
                .for_field("ports[4].name")
                .is_some_and(|e| e.message.contains("at most 15"))
        );
    }

    #[test]
    fn env_and_resources_problems_come_with_their_paths() {
        let mut value = service();
        value.env = vec![EnvVar::literal("9LIVES", "x")];
        value.resources.cpu_limit = Some(crate::units::Cpu::millicores(100));
        value.name = String::new();
        assert_eq!(
            fields(&value.validate().unwrap_err()),
            [
                ("name", Rule::Required),
                ("env[0].name", Rule::Format),
                ("resources.cpu_limit", Rule::Consistency),
            ]
        );
    }

    #[test]
    fn round_trips_through_serde_with_defaults() {
        let value = service();
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(json["kind"], "deployment");
        assert_eq!(json["ports"][0]["protocol"], "http");
        assert_eq!(
            serde_json::from_value::<TraditionalService>(json).unwrap(),
            value
        );
        let minimal: TraditionalService = serde_json::from_str(
            r#"{"name":"db","image":"postgres:17","replicas":1,"kind":"stateful_set",
                "ports":[{"name":"pg","number":5432}],
                "resources":{"cpu_request":"1","memory_request":"1Gi"}}"#,
        )
        .unwrap();
        assert_eq!(minimal.ports[0].protocol, PortProtocol::Http2);
        assert_eq!(minimal.kind, WorkloadKind::StatefulSet);
    }
}
