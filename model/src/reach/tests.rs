//! Reach as a whole: the routes, listeners and certificates a state
//! generates, checked against the Gateway API's and cert-manager's own
//! schemas, and the rules on the state.

use serde_json::{Value, json};

use super::*;
use crate::catalog::test_support::{find_required, strict};
use crate::catalog::{BatteryConfig, BatteryKind, cert_manager, gateway_api};
use crate::generate::{DesiredState, Owned, Resource, Secrets, generate as generate_all};
use crate::image::ImageRef;
use crate::objects::{KnativeService, Notebook, PortProtocol, ServicePort, TraditionalService};
use crate::validation::Rule;

/// `kinds` with the ingress gateway (and what they all need).
fn state(kinds: &[BatteryKind]) -> DesiredState {
    let mut kinds = kinds.to_vec();
    kinds.push(BatteryKind::IstioGateway);
    DesiredState::with_batteries(&kinds).unwrap()
}

fn resources(state: &DesiredState) -> Vec<Resource> {
    generate_all(state, Secrets::Preview).unwrap()
}

fn routes(resources: &[Resource]) -> Vec<&Resource> {
    resources
        .iter()
        .filter(|r| r.path.kind == "HTTPRoute")
        .collect()
}

fn schema(name: &str) -> Value {
    strict(
        &gateway_api::crd(name)
            .and_then(|crd| crd.schema("v1"))
            .unwrap(),
    )
}

fn web(name: &str, ports: &[(&str, u16, PortProtocol)]) -> TraditionalService {
    TraditionalService {
        ports: ports
            .iter()
            .map(|(name, number, protocol)| ServicePort {
                name: (*name).to_owned(),
                number: *number,
                protocol: *protocol,
            })
            .collect(),
        ..TraditionalService::new(
            name,
            ImageRef::parse("docker.io/library/nginx:1.27").unwrap(),
        )
    }
}

fn in_project<T>(project: &str, object: T) -> Owned<T> {
    Owned {
        project: Some(project.to_owned()),
        object,
    }
}

/// Every generated route: accepted by the Gateway API's schema with
/// unknown fields refused, attached to bi's Gateway, and sending requests
/// to a Service bi generates in the route's namespace on a port it has.
fn check_routes(resources: &[Resource]) {
    let route_schema = schema("httproutes.gateway.networking.k8s.io");
    for route in routes(resources) {
        assert_eq!(
            crate::generate::schema::violations(&route_schema, &route.body),
            Vec::<String>::new(),
            "{}",
            route.path
        );
        assert_eq!(
            crate::names::check_dns_subdomain(&route.path.name),
            Ok(()),
            "{}",
            route.path
        );
        let parent = &route.body["spec"]["parentRefs"][0];
        assert_eq!(parent["name"], "bi");
        assert_eq!(parent["namespace"], "battery-istio");
        for rule in route.body["spec"]["rules"].as_array().unwrap() {
            for backend in rule["backendRefs"].as_array().into_iter().flatten() {
                let name = backend["name"].as_str().unwrap();
                // NB: the VictoriaMetrics operator makes vmselect's Service.
                if name == crate::catalog::victoria_metrics::vmselect_service() {
                    assert_eq!(backend["port"], 8481);
                    continue;
                }
                let service = resources
                    .iter()
                    .find(|r| {
                        r.path.kind == "Service"
                            && r.path.api_version == "v1"
                            && r.path.name == name
                            && r.path.namespace == route.path.namespace
                    })
                    .unwrap_or_else(|| panic!("{}: no Service {name}", route.path));
                let ports: Vec<&Value> = service.body["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|port| &port["port"])
                    .collect();
                assert!(
                    ports.contains(&&backend["port"]),
                    "{}: {name} has no port {}",
                    route.path,
                    backend["port"]
                );
            }
        }
    }
}

#[test]
fn every_battery_ui_gets_a_route_at_its_host_on_the_https_listener() {
    let state = state(&[
        BatteryKind::Grafana,
        BatteryKind::Keycloak,
        BatteryKind::Kiali,
        BatteryKind::Forgejo,
        BatteryKind::VictoriaMetrics,
        BatteryKind::VmAgent,
    ]);
    let resources = resources(&state);
    check_routes(&resources);
    let mut hosts: Vec<(&str, &str)> = routes(&resources)
        .iter()
        .filter(|r| r.path.name != REDIRECT_ROUTE)
        .map(|r| {
            (
                r.app.as_str(),
                r.body["spec"]["hostnames"][0].as_str().unwrap(),
            )
        })
        .collect();
    hosts.sort_by_key(|(_, host)| *host);
    assert_eq!(
        hosts,
        [
            ("battery_core", "control.bi.localhost"),
            ("forgejo", "forgejo.bi.localhost"),
            ("grafana", "grafana.bi.localhost"),
            ("keycloak", "keycloak.bi.localhost"),
            ("kiali", "kiali.bi.localhost"),
            ("victoria_metrics", "victoria-metrics.bi.localhost"),
            ("vm_agent", "vm-agent.bi.localhost"),
        ]
    );
    let grafana = find_required(&resources, "HTTPRoute", "grafana");
    assert_eq!(
        grafana.body["spec"]["parentRefs"][0]["sectionName"],
        "https"
    );
    assert_eq!(
        grafana.body["spec"]["rules"][0]["backendRefs"][0],
        json!({ "name": "grafana", "port": 3000 })
    );
    // Plain HTTP redirects to HTTPS, for every host bi routes.
    let redirect = find_required(&resources, "HTTPRoute", REDIRECT_ROUTE);
    assert_eq!(redirect.app, "istio_gateway");
    assert_eq!(
        redirect.body["spec"]["parentRefs"][0]["sectionName"],
        "http"
    );
    assert_eq!(
        redirect.body["spec"]["hostnames"].as_array().unwrap().len(),
        7
    );
    assert_eq!(
        redirect.body["spec"]["rules"][0]["filters"][0]["requestRedirect"],
        json!({ "scheme": "https", "statusCode": 301 })
    );
    // One certificate covers every battery host, signed by the Battery CA.
    let certificate = find_required(&resources, "Certificate", "bi-gateway");
    assert_eq!(
        certificate.body["spec"]["dnsNames"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(certificate.body["spec"]["issuerRef"]["name"], "battery-ca");
    assert_eq!(
        crate::generate::schema::violations(
            &strict(&cert_manager::certificate_schema().unwrap()),
            &certificate.body
        ),
        Vec::<String>::new()
    );
    let urls: Vec<String> = endpoints(&crate::generate::Context::new(&state, Secrets::Preview))
        .iter()
        .map(Endpoint::url)
        .collect();
    assert!(urls.contains(&"https://victoria-metrics.bi.localhost/select/0/vmui/".to_owned()));
    assert!(urls.contains(&"https://kiali.bi.localhost/kiali/".to_owned()));
}

#[test]
fn with_sso_the_route_goes_through_the_sign_in_proxy_except_for_own_sign_ins() {
    let state = state(&[BatteryKind::Grafana, BatteryKind::Sso, BatteryKind::VmAgent]);
    let resources = resources(&state);
    check_routes(&resources);
    let backend = |name: &str| {
        find_required(&resources, "HTTPRoute", name).body["spec"]["rules"][0]["backendRefs"][0]
            .clone()
    };
    assert_eq!(
        backend("grafana"),
        json!({ "name": "oauth2-proxy-grafana", "port": 80 })
    );
    assert_eq!(
        backend("vm-agent"),
        json!({ "name": "oauth2-proxy-vmagent", "port": 80 })
    );
    assert_eq!(
        backend("keycloak"),
        json!({ "name": "keycloak", "port": 8080 })
    );
}

#[test]
fn services_answer_at_their_project_hosts_through_their_projects_listener() {
    let mut state = state(&[BatteryKind::TraditionalServices, BatteryKind::Knative]);
    let image = ImageRef::parse("ghcr.io/acme/api:2.0.0").unwrap();
    state.traditional_services = vec![
        in_project(
            "shop",
            web(
                "web",
                &[
                    ("metrics", 9090, PortProtocol::Tcp),
                    ("http", 8080, PortProtocol::Http),
                ],
            ),
        ),
        in_project("shop", web("queue", &[("amqp", 5672, PortProtocol::Tcp)])),
        in_project(
            "shop",
            TraditionalService {
                expose: false,
                ..web("admin", &[("http", 80, PortProtocol::Http)])
            },
        ),
        Owned::unowned(web("docs", &[("http", 80, PortProtocol::Http2)])),
    ];
    state.knative_services = vec![in_project(
        "shop",
        KnativeService::new("api", image.clone()),
    )];
    let resources = resources(&state);
    check_routes(&resources);
    let web = find_required(&resources, "HTTPRoute", "service-web");
    assert_eq!(web.app, "service-web");
    assert_eq!(web.path.namespace.as_deref(), Some("battery-traditional"));
    assert_eq!(
        web.body["spec"]["hostnames"],
        json!(["web.shop.bi.localhost"])
    );
    assert_eq!(
        web.body["spec"]["parentRefs"][0]["sectionName"],
        "https-shop"
    );
    // The first HTTP port, not the first port.
    assert_eq!(web.body["spec"]["rules"][0]["backendRefs"][0]["port"], 8080);
    let docs = find_required(&resources, "HTTPRoute", "service-docs");
    assert_eq!(docs.body["spec"]["hostnames"], json!(["docs.bi.localhost"]));
    // TCP only, or not exposed: no route.
    let names: Vec<&str> = routes(&resources)
        .iter()
        .map(|r| r.path.name.as_str())
        .collect();
    assert!(!names.contains(&"service-queue") && !names.contains(&"service-admin"));
    // Knative's layer writes the Knative route; bi's certificate covers its host.
    assert!(!names.contains(&"knative-api"));
    let shop = find_required(&resources, "Certificate", "bi-project-shop");
    assert_eq!(
        shop.body["spec"]["dnsNames"],
        json!(["api.shop.bi.localhost", "web.shop.bi.localhost"])
    );
    let gateway = find_required(&resources, "Gateway", "bi");
    assert_eq!(
        crate::generate::schema::violations(
            &schema("gateways.gateway.networking.k8s.io"),
            &gateway.body
        ),
        Vec::<String>::new()
    );
    let listeners: Vec<(&str, &str)> = gateway.body["spec"]["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap(),
                l["hostname"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        listeners,
        [
            ("http", ""),
            ("https", "*.bi.localhost"),
            ("https-shop", "*.shop.bi.localhost")
        ]
    );
    // Knative's cluster-local routes get a Gateway of their own.
    let local = find_required(&resources, "Gateway", "bi-local");
    assert_eq!(
        crate::generate::schema::violations(
            &schema("gateways.gateway.networking.k8s.io"),
            &local.body
        ),
        Vec::<String>::new()
    );
    find_required(&resources, "Service", "bi-local");
}

#[test]
fn notebooks_share_one_host_by_path() {
    let mut state = state(&[BatteryKind::Notebooks]);
    state.notebooks = ["lab", "scratch"]
        .map(|name| {
            Owned::unowned(Notebook {
                name: name.to_owned(),
                ..Notebook::default()
            })
        })
        .to_vec();
    let resources = resources(&state);
    check_routes(&resources);
    let lab = find_required(&resources, "HTTPRoute", "notebook-lab");
    assert_eq!(
        lab.body["spec"]["hostnames"],
        json!(["notebooks.bi.localhost"])
    );
    assert_eq!(
        lab.body["spec"]["rules"][0]["matches"][0]["path"],
        json!({ "type": "PathPrefix", "value": "/lab" })
    );
}

#[test]
fn without_the_gateway_nothing_is_routed_and_nothing_listed() {
    let mut state = state(&[BatteryKind::Grafana]);
    state.batteries.remove(&BatteryKind::IstioGateway);
    assert!(routes(&resources(&state)).is_empty());
    assert!(endpoints(&crate::generate::Context::new(&state, Secrets::Preview)).is_empty());
    assert!(has_ui(BatteryKind::Grafana) && has_ui(BatteryKind::Notebooks));
    assert!(!has_ui(BatteryKind::Redis));
}

#[test]
fn the_domain_names_every_host_and_generation_stays_byte_identical() {
    let mut state = state(&[BatteryKind::Grafana]);
    if let Some(BatteryConfig::IstioGateway(gateway)) =
        state.batteries.get_mut(&BatteryKind::IstioGateway)
    {
        gateway.domain = Domain::parse("apps.example.com").unwrap();
    }
    let first = resources(&state);
    let grafana = find_required(&first, "HTTPRoute", "grafana");
    assert_eq!(
        grafana.body["spec"]["hostnames"],
        json!(["grafana.apps.example.com"])
    );
    assert_eq!(first, resources(&state.canonical()));
}

fn with_issuer(state: &mut DesiredState, domain: &str, issuer: CertificateIssuer) {
    if let Some(BatteryConfig::IstioGateway(gateway)) =
        state.batteries.get_mut(&BatteryKind::IstioGateway)
    {
        gateway.domain = Domain::parse(domain).unwrap();
        gateway.certificates = issuer;
    }
}

#[test]
fn lets_encrypt_needs_a_public_domain_and_an_acme_email() {
    let mut state = state(&[BatteryKind::Grafana]);
    with_issuer(&mut state, "bi.localhost", CertificateIssuer::LetsEncrypt);
    let problems = validate(&state).unwrap_err();
    let found: Vec<(&str, Rule)> = problems
        .iter()
        .map(|p| (p.field.as_str(), p.rule))
        .collect();
    assert_eq!(
        found,
        [
            ("batteries.istio_gateway.certificates", Rule::Consistency),
            ("batteries.istio_gateway.certificates", Rule::Dependency),
        ]
    );
    assert!(
        problems
            .iter()
            .next()
            .unwrap()
            .message
            .contains("bi.localhost is not")
    );

    with_issuer(
        &mut state,
        "apps.example.com",
        CertificateIssuer::LetsEncrypt,
    );
    if let Some(BatteryConfig::CertManager(cert_manager)) =
        state.batteries.get_mut(&BatteryKind::CertManager)
    {
        cert_manager.acme_email = Some("ops@example.com".to_owned());
    }
    assert_eq!(validate(&state), Ok(()));
    let resources = resources(&state);
    let certificate = find_required(&resources, "Certificate", "bi-gateway");
    assert_eq!(
        certificate.body["spec"]["issuerRef"]["name"],
        "lets-encrypt"
    );
    // The ACME challenge answers on the plain-HTTP listener.
    let issuer = find_required(&resources, "ClusterIssuer", "lets-encrypt");
    assert_eq!(
        issuer.body["spec"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]["sectionName"],
        "http"
    );
}

#[test]
fn two_addresses_on_one_host_are_refused_naming_both() {
    let mut state = state(&[BatteryKind::Grafana, BatteryKind::TraditionalServices]);
    state.traditional_services = vec![Owned::unowned(web(
        "grafana",
        &[("http", 80, PortProtocol::Http)],
    ))];
    let problems = validate(&state).unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.field, "traditional_services.grafana.name");
    assert_eq!(problem.rule, Rule::Unique);
    assert!(problem.message.contains("https://grafana.bi.localhost/"));
    assert!(
        problem.message.contains("which is Grafana's"),
        "{}",
        problem.message
    );
    // In a project it has a host of its own.
    state.traditional_services[0].project = Some("shop".to_owned());
    assert_eq!(validate(&state), Ok(()));
}
