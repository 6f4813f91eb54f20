//! Long-running services as Deployments or StatefulSets, with ports, environment and volumes.

use k8s_openapi::api::core::v1::{ContainerPort, PodTemplateSpec};
use serde::{Deserialize, Serialize};

use super::checks;
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::victoria_metrics;
use crate::generate::build::{self, COMPONENT_LABEL, ContainerSpec};
use crate::generate::{Context, GenerateError, Resource};
use crate::names::{self, DerivedName, DnsLabel};
use crate::objects::{EnvValue, EnvVar, PortProtocol, TraditionalService, WorkloadKind};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::TraditionalServices,
    id: "traditional_services",
    name: "Traditional Services",
    group: BatteryGroup::Devtools,
    description: "Long-running services as Deployments or StatefulSets, with ports, environment and volumes.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::Istio,
            what: "mesh membership and mutual TLS",
        },
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "metrics scraping of annotated services",
        },
        Integration {
            partner: BatteryKind::IstioGateway,
            what: "each service with an HTTP port at https://<service>.<project>.<domain>/",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Traditional Services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraditionalServicesConfig {
    /// Where traditional services run.
    pub namespace: DnsLabel,
}

impl Default for TraditionalServicesConfig {
    fn default() -> Self {
        Self {
            namespace: checks::label("battery-traditional"),
        }
    }
}

impl TraditionalServicesConfig {
    /// Every problem with this config (it has no rules of its own).
    pub fn validate(&self) -> Result<(), Problems> {
        Ok(())
    }
}

/// The port name a traditional service exposes metrics on, if it does.
pub const METRICS_PORT_NAME: &str = "metrics";

/// What a service's objects are labelled with (`battery/app`): `service-<name>`.
const APP_PREFIX: &str = "service-";

/// The app label of the service `name`: `service-<name>`.
pub fn app_of(name: &str) -> String {
    format!("{APP_PREFIX}{name}")
}

/// The names and labels derived from a service's name; the longest name
/// validation accepts is what they all leave room for. The workload and
/// the Service carry the name itself; a StatefulSet's binds.
pub const SERVICE_NAMES: &[DerivedName] = &[
    DerivedName::app_label(&[APP_PREFIX]),
    DerivedName {
        by: "bi",
        what: "the StatefulSet (when it runs as one)",
        prefix: &[],
        suffix: "",
        limit: names::STATEFUL_SET_NAME,
    },
];

/// The longest service name (52).
pub const SERVICE_NAME_MAX_LEN: usize = names::derived_max_len(SERVICE_NAMES);

/// The battery's namespace (labelled for Istio sidecar injection when Istio
/// and the installation's CA are both installed) and, per
/// [`TraditionalService`], a Deployment or StatefulSet named after it with
/// its image, ports, environment (literal or `secretKeyRef`) and resources,
/// and a Service in front of its ports (headless for a StatefulSet, which
/// gives each Pod a stable name). With VictoriaMetrics installed, a service
/// with a port named `metrics` is scraped there. Reads no stored secrets.
pub fn generate(
    config: &TraditionalServicesConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let namespace = config.namespace.as_str();
    let mesh = ctx.installed(BatteryKind::Istio) && ctx.installed(BatteryKind::BatteryCa);
    let labels: &[(&str, &str)] = if mesh {
        &[("istio-injection", "enabled")]
    } else {
        &[]
    };
    let mut resources = vec![Resource::new(
        INFO.id,
        &build::namespace(namespace, labels),
    )?];
    let mut services: Vec<&TraditionalService> = ctx
        .state
        .traditional_services
        .iter()
        .map(|owned| &owned.object)
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    for service in services {
        resources.extend(traditional_service(ctx, namespace, service)?);
    }
    Ok(resources)
}

/// A user's environment variable as Kubernetes writes it.
fn env_var(var: &EnvVar) -> k8s_openapi::api::core::v1::EnvVar {
    match &var.value {
        EnvValue::Literal(value) => build::env(&var.name, value),
        EnvValue::SecretRef { secret, key } => build::env_from_secret(&var.name, secret, key),
    }
}

/// The container's ports, named as the user named them (the builder only
/// takes the catalog's fixed names).
fn with_ports(template: &mut PodTemplateSpec, service: &TraditionalService) {
    let ports: Vec<ContainerPort> = service
        .ports
        .iter()
        .map(|port| ContainerPort {
            name: Some(port.name.clone()),
            container_port: i32::from(port.number),
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        })
        .collect();
    if let Some(spec) = template.spec.as_mut() {
        for container in &mut spec.containers {
            container.ports = (!ports.is_empty()).then(|| ports.clone());
        }
    }
}

/// How the mesh should treat a port.
fn app_protocol(protocol: PortProtocol) -> &'static str {
    match protocol {
        PortProtocol::Http => "http",
        PortProtocol::Http2 => "http2",
        PortProtocol::Tcp => "tcp",
    }
}

fn traditional_service(
    ctx: &Context<'_>,
    namespace: &str,
    service: &TraditionalService,
) -> Result<Vec<Resource>, GenerateError> {
    let app = app_of(&service.name);
    let name = service.name.as_str();
    let mut container = ContainerSpec::new(name, &service.image);
    container.env = service.env.iter().map(env_var).collect();
    container.resources = Some(service.resources.clone());

    let mut resources = Vec::new();
    match service.kind {
        WorkloadKind::Deployment => {
            let mut deployment = build::deployment(
                namespace,
                name,
                service.replicas,
                None,
                &[container],
                Vec::new(),
            );
            if let Some(spec) = deployment.spec.as_mut() {
                with_ports(&mut spec.template, service);
            }
            resources.push(Resource::new(&app, &deployment)?);
        }
        WorkloadKind::StatefulSet => {
            let mut stateful_set =
                build::stateful_set(namespace, name, service.replicas, None, &[container], None);
            if let Some(spec) = stateful_set.spec.as_mut() {
                with_ports(&mut spec.template, service);
            }
            resources.push(Resource::new(&app, &stateful_set)?);
        }
    }

    let headless = service.kind == WorkloadKind::StatefulSet;
    if !service.ports.is_empty() || headless {
        let ports: Vec<(&str, u16)> = service
            .ports
            .iter()
            .map(|port| (port.name.as_str(), port.number))
            .collect();
        let mut front = build::service(namespace, name, name, &ports);
        front.metadata.labels = Some(build::string_map(&[(COMPONENT_LABEL, name)]));
        if let Some(spec) = front.spec.as_mut() {
            if headless {
                spec.cluster_ip = Some("None".to_owned());
            }
            if let Some(service_ports) = spec.ports.as_mut() {
                for (port, declared) in service_ports.iter_mut().zip(&service.ports) {
                    port.app_protocol = Some(app_protocol(declared.protocol).to_owned());
                }
            }
        }
        resources.push(Resource::new(&app, &front)?);
    }

    if service
        .ports
        .iter()
        .any(|port| port.name == METRICS_PORT_NAME)
        && let Some(scrape) =
            victoria_metrics::scrape(ctx, &app, namespace, &app, name, METRICS_PORT_NAME)?
    {
        resources.push(scrape);
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    use k8s_openapi::api::core::v1::{Container, Service};
    use serde_json::json;

    use super::*;
    use crate::generate::{DesiredState, Owned, Secrets};
    use crate::image::ImageRef;
    use crate::objects::ServicePort;

    fn first_container(template: &PodTemplateSpec) -> Option<&Container> {
        template
            .spec
            .as_ref()
            .and_then(|spec| spec.containers.first())
    }

    fn web() -> TraditionalService {
        TraditionalService {
            replicas: 2,
            ports: vec![
                ServicePort {
                    name: "http".into(),
                    number: 8080,
                    protocol: PortProtocol::Http,
                },
                ServicePort {
                    name: "metrics".into(),
                    number: 9090,
                    protocol: PortProtocol::Tcp,
                },
            ],
            env: vec![
                EnvVar::literal("LOG_LEVEL", "info"),
                EnvVar::secret("DATABASE_URL", "postgres-main-app-connection", "url"),
            ],
            ..TraditionalService::new(
                "web",
                ImageRef::parse("docker.io/library/nginx:1.27").unwrap(),
            )
        }
    }

    fn queue() -> TraditionalService {
        TraditionalService {
            kind: WorkloadKind::StatefulSet,
            ..TraditionalService::new(
                "queue",
                ImageRef::parse("docker.io/library/rabbitmq:4.0").unwrap(),
            )
        }
    }

    fn state(extra: &[BatteryKind]) -> DesiredState {
        let mut kinds = vec![BatteryKind::TraditionalServices];
        kinds.extend_from_slice(extra);
        let mut state = DesiredState::with_batteries(&kinds).unwrap();
        state.traditional_services.push(Owned::unowned(web()));
        state.traditional_services.push(Owned::unowned(queue()));
        state
    }

    fn run(state: &DesiredState) -> Vec<Resource> {
        let empty = std::collections::BTreeMap::new();
        generate(
            &TraditionalServicesConfig::default(),
            &Context::new(state, Secrets::Stored(&empty)),
        )
        .unwrap()
    }

    #[test]
    fn generates_the_namespace_and_a_workload_per_service() {
        let resources = run(&state(&[]));
        let paths: Vec<String> = resources.iter().map(|r| r.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "v1/Namespace/battery-traditional",
                "apps/v1/StatefulSet/battery-traditional/queue",
                "v1/Service/battery-traditional/queue",
                "apps/v1/Deployment/battery-traditional/web",
                "v1/Service/battery-traditional/web",
            ]
        );
        assert_eq!(resources[0].app, "traditional_services");
        assert_eq!(find(&resources, "Deployment", "web").app, "service-web");
        let queue = find(&resources, "Service", "queue");
        assert_eq!(queue.body["spec"]["clusterIP"], "None");
    }

    #[test]
    fn the_pod_runs_the_image_with_its_ports_env_and_resources() {
        let resources = run(&state(&[]));
        let deployment: Deployment =
            serde_json::from_value(find(&resources, "Deployment", "web").body.clone()).unwrap();
        let spec = deployment.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(2));
        let container = first_container(&spec.template).unwrap();
        assert_eq!(
            container.image.as_deref(),
            Some("docker.io/library/nginx:1.27")
        );
        let value = serde_json::to_value(container).unwrap();
        assert_eq!(
            value["ports"][0],
            json!({ "name": "http", "containerPort": 8080, "protocol": "TCP" })
        );
        assert_eq!(
            value["env"][0],
            json!({ "name": "LOG_LEVEL", "value": "info" })
        );
        assert_eq!(
            value["env"][1]["valueFrom"]["secretKeyRef"],
            json!({ "name": "postgres-main-app-connection", "key": "url", "optional": false })
        );
        assert_eq!(value["resources"]["requests"]["cpu"], "500m");
        assert_eq!(value["securityContext"]["runAsNonRoot"], true);
        let service: Service =
            serde_json::from_value(find(&resources, "Service", "web").body.clone()).unwrap();
        let value = serde_json::to_value(&service).unwrap();
        assert_eq!(value["spec"]["ports"][0]["appProtocol"], "http");
        assert_eq!(value["spec"]["ports"][1]["targetPort"], "metrics");
        assert_eq!(value["spec"]["selector"][COMPONENT_LABEL], "web");
        // Typed objects round-trip.
        for kind in ["Deployment", "Service"] {
            let resource = find(&resources, kind, "web");
            let again = match kind {
                "Deployment" => serde_json::to_value(
                    serde_json::from_value::<Deployment>(resource.body.clone()).unwrap(),
                ),
                _ => serde_json::to_value(
                    serde_json::from_value::<Service>(resource.body.clone()).unwrap(),
                ),
            }
            .unwrap();
            assert_eq!(again, resource.body);
        }
        let queue: StatefulSet =
            serde_json::from_value(find(&resources, "StatefulSet", "queue").body.clone()).unwrap();
        assert_eq!(queue.spec.unwrap().service_name.as_deref(), Some("queue"));
    }

    #[test]
    fn the_mesh_labels_the_namespace_only_with_the_ca() {
        let resources = run(&state(&[BatteryKind::Istio, BatteryKind::BatteryCa]));
        assert_eq!(
            resources[0].body["metadata"]["labels"]["istio-injection"],
            "enabled"
        );
        let resources = run(&state(&[BatteryKind::Istio]));
        assert!(
            resources[0].body["metadata"]["labels"]
                .get("istio-injection")
                .is_none()
        );
    }

    #[test]
    fn a_metrics_port_is_scraped_only_with_victoria_metrics() {
        let without = run(&state(&[]));
        assert!(!without.iter().any(|r| r.path.kind == "VMServiceScrape"));
        let with = run(&state(&[BatteryKind::VictoriaMetrics]));
        let scrapes: Vec<&str> = with
            .iter()
            .filter(|r| r.path.kind == "VMServiceScrape")
            .map(|r| r.path.name.as_str())
            .collect();
        // The queue has no metrics port.
        assert_eq!(scrapes, ["service-web"]);
    }
}
