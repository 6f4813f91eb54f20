//! The ingress gateway that exposes services, notebooks and UIs outside the cluster.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    DownwardAPIVolumeFile, DownwardAPIVolumeSource, ObjectFieldSelector, Service, Volume,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::images::{self, image};
use super::istio::{self, IstioConfig};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{BatteryConfig, checks, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::reach::{self, CertificateIssuer, Domain};
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::IstioGateway,
    id: "istio_gateway",
    name: "Istio Ingress Gateway",
    group: BatteryGroup::NetSecurity,
    description: "The ingress gateway that exposes services, notebooks and UIs outside the cluster.",
    // NB: the gateway serves HTTPS only, with certificates from cert-manager
    // (signed by the Battery CA unless Let's Encrypt is chosen).
    dependencies: &[BatteryKind::Istio, BatteryKind::CertManager, BatteryKind::BatteryCa],
    integrations: &[Integration {
        partner: BatteryKind::Metallb,
        what: "a load-balancer IP from a MetalLB pool",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Istio Ingress Gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IstioGatewayConfig {
    /// The gateway proxy.
    pub proxy_image: ImageRef,
    /// Gateway replicas.
    pub replicas: u32,
    /// The installation domain: UIs answer at `<battery>.<domain>`, services
    /// at `<service>.<project>.<domain>`. The default, `bi.localhost`,
    /// resolves to this machine without any DNS set-up.
    pub domain: Domain,
    /// Who signs the gateway's certificates: `battery_ca` (the default,
    /// works anywhere) or `lets_encrypt` (a public domain pointing at the
    /// gateway, and cert_manager's `acme_email`).
    pub certificates: CertificateIssuer,
}

impl Default for IstioGatewayConfig {
    fn default() -> Self {
        Self {
            proxy_image: image(images::ISTIO_PROXY),
            replicas: 1,
            domain: Domain::default_domain(),
            certificates: CertificateIssuer::BatteryCa,
        }
    }
}

impl IstioGatewayConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "proxy_image", &self.proxy_image);
        checks::replicas(&mut problems, "replicas", self.replicas, 10);
        problems.into_result()
    }
}

/// The gateway's Deployment, ServiceAccount and LoadBalancer Service.
pub const NAME: &str = "istio-ingressgateway";

/// The GatewayClass and the Gateway every bi route attaches to (in Istio's
/// namespace: `http` on port 80, and an HTTPS listener per certificate on 443).
pub const GATEWAY: &str = "bi";

/// The Gateway (and its Service) that Knative's cluster-local routes attach
/// to: the same pods, on a port the load balancer does not expose.
pub const LOCAL_GATEWAY: &str = "bi-local";

/// The port of the local gateway's listener.
pub const LOCAL_PORT: u16 = 8081;

/// Istio's Gateway API controller.
const CONTROLLER_NAME: &str = "istio.io/gateway-controller";

fn istio_config(ctx: &Context<'_>) -> IstioConfig {
    match ctx.state.batteries.get(&BatteryKind::Istio) {
        Some(BatteryConfig::Istio(istio)) => istio.clone(),
        _ => IstioConfig::default(),
    }
}

/// The subnets the AWS load balancer controller was given, when installed.
fn aws_subnets<'a>(ctx: &Context<'a>) -> Option<&'a [String]> {
    match ctx
        .state
        .batteries
        .get(&BatteryKind::AwsLoadBalancerController)
    {
        Some(BatteryConfig::AwsLoadBalancerController(aws)) => Some(aws.subnets.as_slice()),
        _ => None,
    }
}

/// The gateway pod: an Istio proxy in router mode, configured by istiod
/// over xDS. NB: bi builds the pod itself rather than through istiod's
/// gateway injection, so the image is the pinned `proxy_image` and the pod
/// is hardened like every other.
fn deployment(config: &IstioGatewayConfig, ctx: &Context<'_>, namespace: &str) -> Deployment {
    let mut proxy = ContainerSpec::new("istio-proxy", &config.proxy_image);
    proxy.args = [
        "proxy",
        "router",
        "--domain",
        "$(POD_NAMESPACE).svc.cluster.local",
        "--proxyLogLevel=warning",
        "--proxyComponentLogLevel=misc:error",
        "--log_output_level=default:info",
    ]
    .map(str::to_owned)
    .to_vec();
    proxy.env = vec![
        build::env("PILOT_CERT_PROVIDER", "istiod"),
        build::env("CA_ADDR", &istio::ca_address(ctx, namespace)),
        istio::env_from_field("POD_NAME", "metadata.name"),
        istio::env_from_field("POD_NAMESPACE", "metadata.namespace"),
        istio::env_from_field("INSTANCE_IP", "status.podIP"),
        istio::env_from_field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        istio::env_from_field("HOST_IP", "status.hostIP"),
        build::env(
            "PROXY_CONFIG",
            &json!({ "discoveryAddress": istio::discovery_address(namespace) }).to_string(),
        ),
        build::env("ISTIO_META_CLUSTER_ID", "Kubernetes"),
        build::env("ISTIO_META_WORKLOAD_NAME", NAME),
        build::env(
            "ISTIO_META_OWNER",
            &format!("kubernetes://apis/apps/v1/namespaces/{namespace}/deployments/{NAME}"),
        ),
        build::env("ISTIO_META_MESH_ID", istio::TRUST_DOMAIN),
        build::env("TRUST_DOMAIN", istio::TRUST_DOMAIN),
        build::env("ISTIO_META_UNPRIVILEGED_POD", "true"),
    ];
    proxy.ports = vec![
        ("http2", 8080),
        ("https", 8443),
        ("status-port", 15021),
        ("http-envoy-prom", 15090),
    ];
    proxy.health = Some(Health::Http("/healthz/ready", 15021));
    proxy.resources = Some(Resources {
        cpu_request: Cpu::millicores(100),
        cpu_limit: None,
        memory_request: Memory::mebibytes(128),
        memory_limit: Some(Memory::gibibytes(1)),
    });
    proxy.mounts = [
        ("workload-socket", "/var/run/secrets/workload-spiffe-uds"),
        ("credential-socket", "/var/run/secrets/credential-uds"),
        (
            "workload-certs",
            "/var/run/secrets/workload-spiffe-credentials",
        ),
        ("istio-envoy", "/etc/istio/proxy"),
        ("istio-data", "/var/lib/istio/data"),
        ("istio-podinfo", "/etc/istio/pod"),
        ("istio-token", "/var/run/secrets/tokens"),
        ("istiod-ca-cert", "/var/run/secrets/istio"),
    ]
    .map(|(name, path)| (name.to_owned(), path.to_owned()))
    .to_vec();
    let podinfo = Volume {
        name: "istio-podinfo".to_owned(),
        downward_api: Some(DownwardAPIVolumeSource {
            items: Some(
                [
                    ("labels", "metadata.labels"),
                    ("annotations", "metadata.annotations"),
                ]
                .map(|(path, field)| DownwardAPIVolumeFile {
                    path: path.to_owned(),
                    field_ref: Some(ObjectFieldSelector {
                        field_path: field.to_owned(),
                        api_version: None,
                    }),
                    ..DownwardAPIVolumeFile::default()
                })
                .to_vec(),
            ),
            ..DownwardAPIVolumeSource::default()
        }),
        ..Volume::default()
    };
    let volumes = vec![
        istio::empty_dir("workload-socket", false),
        istio::empty_dir("credential-socket", false),
        istio::empty_dir("workload-certs", false),
        istio::empty_dir("istio-envoy", true),
        istio::empty_dir("istio-data", false),
        podinfo,
        istio::istio_token_volume(),
        istio::config_map_volume("istiod-ca-cert", "istio-ca-root-cert", false),
    ];
    let mut deployment = build::deployment(
        namespace,
        NAME,
        config.replicas,
        Some(NAME),
        &[proxy],
        volumes,
    );
    // The gateway is a proxy already: istiod must not inject another.
    if let Some(metadata) = deployment
        .spec
        .as_mut()
        .and_then(|spec| spec.template.metadata.as_mut())
    {
        metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("sidecar.istio.io/inject".to_owned(), "false".to_owned());
    }
    deployment
}

/// The LoadBalancer Service in front of the gateway pods. On AWS (with the
/// load balancer controller) it asks for an internet-facing NLB in the
/// configured subnets; elsewhere MetalLB or the cloud hands out the address.
fn service(ctx: &Context<'_>, namespace: &str) -> Service {
    let mut service = build::service(namespace, NAME, NAME, &[("http2", 80), ("https", 443)]);
    if let Some(spec) = service.spec.as_mut() {
        spec.type_ = Some("LoadBalancer".to_owned());
        spec.external_traffic_policy = Some("Local".to_owned());
    }
    if let Some(subnets) = aws_subnets(ctx) {
        let mut annotations = build::string_map(&[
            (
                "service.beta.kubernetes.io/aws-load-balancer-type",
                "external",
            ),
            (
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
                "ip",
            ),
            (
                "service.beta.kubernetes.io/aws-load-balancer-scheme",
                "internet-facing",
            ),
        ]);
        if !subnets.is_empty() {
            annotations.insert(
                "service.beta.kubernetes.io/aws-load-balancer-subnets".to_owned(),
                subnets.join(","),
            );
        }
        service.metadata.annotations = Some(annotations);
    }
    service
}

/// The resources this battery needs, in Istio's namespace: the gateway
/// Deployment (`proxy_image`, `replicas`), its ServiceAccount, a
/// LoadBalancer Service `istio-ingressgateway` (HTTP 80, HTTPS 443), and,
/// with the Gateway API installed (Istio depends on it), a GatewayClass
/// `bi` run by istiod and a Gateway `bi` bound to that Service (Istio's
/// manual deployment: the Gateway's address is the Service). Proxy metrics
/// are scraped through a ClusterIP Service once VictoriaMetrics is
/// installed. Reads no secrets.
pub fn generate(
    config: &IstioGatewayConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let istio = istio_config(ctx);
    let ns = istio.namespace.as_str();
    let mut out = vec![
        Resource::new(app, &build::service_account(ns, NAME))?,
        Resource::new(app, &deployment(config, ctx, ns))?,
        Resource::new(app, &service(ctx, ns))?,
    ];
    if ctx.installed(BatteryKind::VictoriaMetrics) {
        // NB: a separate ClusterIP Service, so the LoadBalancer never
        // exposes the proxy's metrics outside the cluster.
        let metrics = format!("{NAME}-metrics");
        out.push(Resource::new(
            app,
            &build::service(ns, &metrics, NAME, &[("http-envoy-prom", 15090)]),
        )?);
        if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, NAME, NAME, "http-envoy-prom")?
        {
            let mut body = scrape.body;
            // Envoy serves Prometheus metrics under /stats/prometheus.
            body["spec"]["endpoints"][0]["path"] = json!("/stats/prometheus");
            out.push(Resource::from_value(app, body)?);
        }
    }
    if let Some(gateway) = reach::gateway(ctx) {
        let endpoints = reach::endpoints(ctx);
        let listeners = reach::listeners(&gateway, &endpoints);
        let class = build::custom_resource(
            "gateway.networking.k8s.io/v1",
            "GatewayClass",
            None,
            GATEWAY,
            json!({
                "controllerName": CONTROLLER_NAME,
                "description": "bi's ingress gateway, run by istiod",
            }),
        );
        let gateway_body = build::custom_resource(
            "gateway.networking.k8s.io/v1",
            "Gateway",
            Some(ns),
            GATEWAY,
            json!({
                "gatewayClassName": GATEWAY,
                "addresses": [{
                    "type": "Hostname",
                    "value": format!("{NAME}.{ns}.svc.cluster.local"),
                }],
                "listeners": reach::gateway_listeners(&listeners),
            }),
        );
        let certificates = reach::certificates(&gateway, &listeners);
        out.push(Resource::from_value(app, class)?);
        out.push(Resource::from_value(app, gateway_body)?);
        for certificate in certificates {
            out.push(Resource::from_value(app, certificate)?);
        }
        if ctx.installed(BatteryKind::Knative) {
            out.extend(local_gateway(app, ns)?);
        }
    }
    Ok(out)
}

/// The Gateway Knative's cluster-local routes attach to, and the ClusterIP
/// Service in front of it (port 80 for clients, the listener's own port for
/// Istio, which matches listeners to Service ports): the ingress pods serve
/// it, and the load balancer never exposes it.
fn local_gateway(app: &str, ns: &str) -> Result<Vec<Resource>, GenerateError> {
    let gateway = build::custom_resource(
        "gateway.networking.k8s.io/v1",
        "Gateway",
        Some(ns),
        LOCAL_GATEWAY,
        json!({
            "gatewayClassName": GATEWAY,
            "addresses": [{
                "type": "Hostname",
                "value": format!("{LOCAL_GATEWAY}.{ns}.svc.cluster.local"),
            }],
            "listeners": [{
                "name": "http",
                "port": LOCAL_PORT,
                "protocol": "HTTP",
                "allowedRoutes": { "namespaces": { "from": "All" } },
            }],
        }),
    );
    let mut service = build::service(
        ns,
        LOCAL_GATEWAY,
        NAME,
        &[("http2", 80), ("http-local", LOCAL_PORT)],
    );
    if let Some(ports) = service.spec.as_mut().and_then(|spec| spec.ports.as_mut()) {
        for port in ports {
            port.target_port = Some(
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i32::from(
                    LOCAL_PORT,
                )),
            );
        }
    }
    Ok(vec![
        Resource::from_value(app, gateway)?,
        Resource::new(app, &service)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::aws_load_balancer_controller::AwsLoadBalancerControllerConfig;
    use crate::catalog::gateway_api;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};

    fn generated(state: &DesiredState, config: &IstioGatewayConfig) -> Vec<Resource> {
        let empty = std::collections::BTreeMap::new();
        generate(config, &Context::new(state, Secrets::Stored(&empty))).unwrap()
    }

    fn state(kinds: &[BatteryKind]) -> DesiredState {
        DesiredState::with_batteries(kinds).unwrap()
    }

    fn paths(resources: &[Resource]) -> Vec<String> {
        resources.iter().map(|r| r.path.to_string()).collect()
    }

    #[test]
    fn generates_the_gateway_its_load_balancer_and_the_bi_gateway() {
        let resources = generated(
            &state(&[BatteryKind::IstioGateway]),
            &IstioGatewayConfig::default(),
        );
        assert_eq!(
            paths(&resources),
            [
                "v1/ServiceAccount/battery-istio/istio-ingressgateway",
                "apps/v1/Deployment/battery-istio/istio-ingressgateway",
                "v1/Service/battery-istio/istio-ingressgateway",
                "gateway.networking.k8s.io/v1/GatewayClass/bi",
                "gateway.networking.k8s.io/v1/Gateway/battery-istio/bi",
                // bi's own UI (battery core) is the one host so far.
                "cert-manager.io/v1/Certificate/battery-istio/bi-gateway",
            ]
        );
        let listeners = &resources[4].body["spec"]["listeners"];
        assert_eq!(listeners[0]["name"], "http");
        assert_eq!(listeners[1]["name"], "https");
        assert_eq!(listeners[1]["hostname"], "*.bi.localhost");
        assert_eq!(listeners[1]["port"], 443);
        assert_eq!(
            listeners[1]["tls"]["certificateRefs"][0]["name"],
            "bi-gateway-tls"
        );
        let certificate = &resources[5].body["spec"];
        assert_eq!(certificate["dnsNames"], json!(["control.bi.localhost"]));
        assert_eq!(certificate["secretName"], "bi-gateway-tls");
        assert_eq!(certificate["issuerRef"]["name"], "battery-ca");
        assert_eq!(
            violations(
                &crate::catalog::cert_manager::certificate_schema().unwrap(),
                &resources[5].body
            ),
            Vec::<String>::new()
        );
        assert_eq!(resources[2].body["spec"]["type"], "LoadBalancer");
        assert!(
            resources[2].body["metadata"]
                .get("annotations")
                .is_none_or(|a| {
                    a.get("service.beta.kubernetes.io/aws-load-balancer-type")
                        .is_none()
                })
        );
        // Checked against the schemas upstream ships.
        let schema = |name: &str| {
            gateway_api::crd(name)
                .and_then(|crd| crd.schema("v1"))
                .unwrap()
        };
        assert_eq!(
            violations(
                &schema("gatewayclasses.gateway.networking.k8s.io"),
                &resources[3].body
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            violations(
                &schema("gateways.gateway.networking.k8s.io"),
                &resources[4].body
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_pod_uses_the_configured_proxy_and_replicas() {
        let proxy =
            crate::image::ImageRef::parse("docker.io/istio/proxyv2:1.28.0-distroless").unwrap();
        let config = IstioGatewayConfig {
            proxy_image: proxy.clone(),
            replicas: 3,
            ..IstioGatewayConfig::default()
        };
        let resources = generated(&state(&[BatteryKind::IstioGateway]), &config);
        let deployment: Deployment = serde_json::from_value(resources[1].body.clone()).unwrap();
        let spec = deployment.spec.unwrap();
        assert_eq!(spec.replicas, Some(3));
        let pod = spec.template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(proxy.to_string().as_str()));
        assert!(container.resources.is_some() && container.readiness_probe.is_some());
        assert_eq!(pod.security_context.unwrap().run_as_non_root, Some(true));
        let labels = spec.template.metadata.unwrap().labels.unwrap();
        assert_eq!(labels["sidecar.istio.io/inject"], "false");
    }

    #[test]
    fn gateway_api_objects_only_with_the_gateway_api() {
        let mut without = state(&[BatteryKind::IstioGateway]);
        without.batteries.remove(&BatteryKind::GatewayApi);
        let resources = generated(&without, &IstioGatewayConfig::default());
        assert!(
            resources
                .iter()
                .all(|r| r.path.group() != "gateway.networking.k8s.io")
        );
    }

    #[test]
    fn on_aws_the_load_balancer_is_an_nlb_in_the_configured_subnets() {
        let mut aws = state(&[
            BatteryKind::IstioGateway,
            BatteryKind::AwsLoadBalancerController,
        ]);
        aws.batteries.insert(
            BatteryKind::AwsLoadBalancerController,
            BatteryConfig::AwsLoadBalancerController(AwsLoadBalancerControllerConfig {
                subnets: vec!["subnet-0abc1234".to_owned(), "subnet-0def5678".to_owned()],
                ..AwsLoadBalancerControllerConfig::default()
            }),
        );
        let resources = generated(&aws, &IstioGatewayConfig::default());
        let annotations = &resources[2].body["metadata"]["annotations"];
        assert_eq!(
            annotations["service.beta.kubernetes.io/aws-load-balancer-type"],
            "external"
        );
        assert_eq!(
            annotations["service.beta.kubernetes.io/aws-load-balancer-subnets"],
            "subnet-0abc1234,subnet-0def5678"
        );
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let config = IstioGatewayConfig::default();
        let without = generated(&state(&[BatteryKind::IstioGateway]), &config);
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(
            &state(&[BatteryKind::IstioGateway, BatteryKind::VictoriaMetrics]),
            &config,
        );
        let scrape = with
            .iter()
            .find(|r| r.path.kind == "VMServiceScrape")
            .unwrap();
        assert_eq!(
            scrape.body["spec"]["endpoints"][0]["path"],
            "/stats/prometheus"
        );
        assert!(
            with.iter()
                .any(|r| r.path.name == "istio-ingressgateway-metrics")
        );
    }
}
