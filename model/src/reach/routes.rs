//! What makes the addresses of [`super::endpoints`] work on the gateway:
//! the Gateway's listeners and their cert-manager Certificates (written by
//! the ingress gateway battery), an HTTPRoute per address to its Service
//! (written here, labelled with what it opens), and the plain-HTTP redirect
//! to HTTPS.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::domain::CertificateIssuer;
use super::endpoints::{Backend, Endpoint, Gateway, HTTP_LISTENER, endpoints, gateway};
use crate::catalog::{battery_ca, cert_manager, istio_gateway};
use crate::generate::build;
use crate::generate::{Context, GenerateError, Resource};

/// The Gateway API version bi writes.
pub const API_VERSION: &str = "gateway.networking.k8s.io/v1";

/// The HTTPRoute that sends plain HTTP to HTTPS.
pub const REDIRECT_ROUTE: &str = "https-redirect";

/// One HTTPS listener of the gateway and the certificate it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Its section name (`https`, `https-shop`).
    pub name: String,
    /// The hostnames it takes (`*.bi.localhost`).
    pub hostname: String,
    /// The cert-manager Certificate, and the Secret it writes.
    pub certificate: String,
    /// The names the certificate covers: every host served through it.
    pub dns_names: Vec<String>,
}

impl Listener {
    /// The Secret holding the listener's key and certificate.
    pub fn secret(&self) -> String {
        format!("{}-tls", self.certificate)
    }
}

/// The HTTPS listeners, one for the batteries' hosts (and services outside
/// projects) and one per project with exposed services; each only when it
/// has a host to serve.
pub fn listeners(gateway: &Gateway, endpoints: &[Endpoint]) -> Vec<Listener> {
    let mut by_listener: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for endpoint in endpoints {
        let hosts = by_listener.entry(&endpoint.listener).or_default();
        if !hosts.contains(&endpoint.host) {
            hosts.push(endpoint.host.clone());
        }
    }
    by_listener
        .into_iter()
        .map(|(name, mut dns_names)| {
            dns_names.sort();
            let (hostname, certificate) = match name.strip_prefix("https-") {
                Some(project) => (
                    format!("*.{project}.{}", gateway.domain),
                    format!("bi-project-{project}"),
                ),
                None => (format!("*.{}", gateway.domain), "bi-gateway".to_owned()),
            };
            Listener {
                name: name.to_owned(),
                hostname,
                certificate,
                dns_names,
            }
        })
        .collect()
}

/// The ClusterIssuer that signs the gateway's certificates.
pub fn issuer_name(issuer: CertificateIssuer) -> &'static str {
    match issuer {
        CertificateIssuer::BatteryCa => battery_ca::CA_NAME,
        CertificateIssuer::LetsEncrypt => cert_manager::LETS_ENCRYPT_ISSUER,
    }
}

/// The gateway's listeners as the Gateway spells them: plain HTTP on 80
/// (redirects and ACME challenges; Knative's routes answer there too, as
/// its prober needs) and one HTTPS listener per certificate on 443.
pub fn gateway_listeners(listeners: &[Listener]) -> Vec<Value> {
    let all = json!({ "namespaces": { "from": "All" } });
    let mut out = vec![json!({
        "name": HTTP_LISTENER,
        "port": 80,
        "protocol": "HTTP",
        "allowedRoutes": all,
    })];
    for listener in listeners {
        out.push(json!({
            "name": listener.name,
            "hostname": listener.hostname,
            "port": 443,
            "protocol": "HTTPS",
            "tls": {
                "mode": "Terminate",
                "certificateRefs": [{ "kind": "Secret", "name": listener.secret() }],
            },
            "allowedRoutes": all,
        }));
    }
    out
}

/// A cert-manager Certificate per listener, in the gateway's namespace
/// (where the Gateway reads its Secrets).
pub fn certificates(gateway: &Gateway, listeners: &[Listener]) -> Vec<Value> {
    listeners
        .iter()
        .map(|listener| {
            build::custom_resource(
                "cert-manager.io/v1",
                "Certificate",
                Some(&gateway.namespace),
                &listener.certificate,
                json!({
                    "secretName": listener.secret(),
                    "dnsNames": listener.dns_names,
                    "privateKey": { "algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always" },
                    "usages": ["server auth", "digital signature"],
                    "issuerRef": {
                        "group": "cert-manager.io",
                        "kind": "ClusterIssuer",
                        "name": issuer_name(gateway.issuer),
                    },
                }),
            )
        })
        .collect()
}

fn parent(gateway: &Gateway, section: &str) -> Value {
    json!({
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": istio_gateway::GATEWAY,
        "namespace": gateway.namespace,
        "sectionName": section,
    })
}

/// The HTTPRoute of one address, None for Knative's (its networking layer
/// writes those).
fn route(gateway: &Gateway, endpoint: &Endpoint) -> Option<Value> {
    let Backend::Service {
        namespace,
        service,
        port,
        path_prefix,
        ..
    } = &endpoint.backend
    else {
        return None;
    };
    Some(build::custom_resource(
        API_VERSION,
        "HTTPRoute",
        Some(namespace),
        &endpoint.name,
        json!({
            "parentRefs": [parent(gateway, &endpoint.listener)],
            "hostnames": [endpoint.host],
            "rules": [{
                "matches": [{
                    "path": { "type": "PathPrefix", "value": path_prefix.as_deref().unwrap_or("/") },
                }],
                "backendRefs": [{ "name": service, "port": port }],
            }],
        }),
    ))
}

/// Plain HTTP to HTTPS (301) for every host bi routes. ACME's HTTP-01
/// challenges still get through: cert-manager's own routes match a longer
/// path, and the longest match wins.
fn redirect(gateway: &Gateway, endpoints: &[Endpoint]) -> Option<Value> {
    let mut hosts: Vec<&str> = endpoints
        .iter()
        .filter(|endpoint| endpoint.route().is_some())
        .map(|endpoint| endpoint.host.as_str())
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    // NB: no hostnames would mean every host, Knative's too.
    if hosts.is_empty() {
        return None;
    }
    Some(build::custom_resource(
        API_VERSION,
        "HTTPRoute",
        Some(&gateway.namespace),
        REDIRECT_ROUTE,
        json!({
            "parentRefs": [parent(gateway, HTTP_LISTENER)],
            "hostnames": hosts,
            "rules": [{
                "filters": [{
                    "type": "RequestRedirect",
                    "requestRedirect": { "scheme": "https", "statusCode": 301 },
                }],
            }],
        }),
    ))
}

/// Every route: one per address bi routes (labelled with what it opens, so
/// it goes when that goes) and the HTTPS redirect (the gateway's). Empty
/// without a gateway. Reads no secrets.
pub fn generate(ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let Some(gateway) = gateway(ctx) else {
        return Ok(Vec::new());
    };
    let endpoints = endpoints(ctx);
    let mut out = Vec::new();
    for endpoint in &endpoints {
        if let Some(body) = route(&gateway, endpoint) {
            out.push(Resource::from_value(&endpoint.app, body)?);
        }
    }
    if let Some(body) = redirect(&gateway, &endpoints) {
        out.push(Resource::from_value(istio_gateway::INFO.id, body)?);
    }
    Ok(out)
}
