//! Reach, read from the cluster: every address of the desired state
//! (`bi_model::reach`) with what the gateway controller says of its route,
//! what cert-manager says of its certificate, and what Knative says of its
//! services; and the Battery CA's certificate, for laptops to trust.
//!
//! Reads the desired state and the cluster cache (bi's HTTPRoutes, the
//! gateway's Certificates, Knative's Services, the gateway's Service);
//! writes nothing. A cluster without the CRDs yet reads as "not applied".

use std::collections::HashMap;
use std::sync::Arc;

use bi_model::catalog::{BatteryKind, battery_ca, istio_gateway};
use bi_model::generate::{Context, ResourcePath, Secrets};
use bi_model::reach::{self, Backend, CertificateIssuer};
use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use serde_json::Value;

use crate::cache::{Cache, CachedKind};
use crate::db::Database;
use crate::desired_state;
use crate::error::{Error, Result};

pub use bi_api::reach::{Address, GatewayView, PartStatus, Progress, ReachView, Unreachable};

fn key(object: &DynamicObject) -> (String, String) {
    (
        object.metadata.namespace.clone().unwrap_or_default(),
        object.metadata.name.clone().unwrap_or_default(),
    )
}

/// The condition `kind` of `conditions`: (status is "True", its message).
fn condition(conditions: &Value, kind: &str) -> Option<(bool, String)> {
    conditions.as_array()?.iter().find_map(|c| {
        (c["type"] == kind).then(|| {
            let words = c["message"]
                .as_str()
                .filter(|m| !m.is_empty())
                .or_else(|| c["reason"].as_str())
                .unwrap_or_default()
                .to_owned();
            (c["status"] == "True", words)
        })
    })
}

fn part(progress: Progress, words: impl Into<String>) -> PartStatus {
    PartStatus {
        progress,
        words: words.into(),
    }
}

/// What the gateway controller says of bi's route: Accepted by the parent
/// `bi` (Istio writes `status.parents`).
fn route_status(route: Option<&DynamicObject>) -> PartStatus {
    let Some(route) = route else {
        return part(Progress::Missing, "not applied yet");
    };
    let parents = route.data["status"]["parents"].as_array();
    let accepted = parents.and_then(|parents| {
        parents
            .iter()
            .filter(|p| p["parentRef"]["name"] == istio_gateway::GATEWAY)
            .find_map(|p| condition(&p["conditions"], "Accepted"))
    });
    match accepted {
        Some((true, _)) => part(Progress::Done, "routed by the gateway"),
        Some((false, words)) => part(Progress::Failed, format!("refused by the gateway: {words}")),
        None => part(
            Progress::Pending,
            "applied; waiting for the gateway controller (istiod) to accept it",
        ),
    }
}

/// What Knative says of a service: Ready, with the URL it serves.
fn knative_status(service: Option<&DynamicObject>) -> PartStatus {
    let Some(service) = service else {
        return part(Progress::Missing, "not applied yet");
    };
    match condition(&service.data["status"]["conditions"], "Ready") {
        Some((true, _)) => part(Progress::Done, "routed by Knative"),
        Some((false, words)) if !words.is_empty() => part(Progress::Pending, words),
        _ => part(
            Progress::Pending,
            "applied; waiting for Knative to route it",
        ),
    }
}

/// What cert-manager says of a listener's certificate.
fn certificate_status(
    certificate: Option<&DynamicObject>,
    issuer: CertificateIssuer,
) -> PartStatus {
    let Some(certificate) = certificate else {
        return part(Progress::Missing, "not applied yet");
    };
    let by = match issuer {
        CertificateIssuer::BatteryCa => "the Battery CA",
        CertificateIssuer::LetsEncrypt => "Let's Encrypt",
    };
    match condition(&certificate.data["status"]["conditions"], "Ready") {
        Some((true, _)) => {
            let until = certificate.data["status"]["notAfter"]
                .as_str()
                .map(|t| format!(", valid until {t}"))
                .unwrap_or_default();
            part(Progress::Done, format!("issued by {by}{until}"))
        }
        Some((false, words)) => part(Progress::Pending, format!("not issued yet: {words}")),
        None => part(
            Progress::Pending,
            format!("applied; waiting for cert-manager to have it signed by {by}"),
        ),
    }
}

/// How to open the addresses from the machine the reader sits at.
fn how_to_open(domain: &bi_model::reach::Domain, namespace: &str, address: Option<&str>) -> String {
    if domain.as_str() == "localhost" || domain.as_str().ends_with(".localhost") {
        format!(
            "Names under localhost resolve to this machine without DNS. Forward the gateway \
             with `kubectl port-forward -n {namespace} svc/{} 8443:443` and open the links \
             with :8443 after the host; on kind with ports 80 and 443 mapped to the host, \
             open them as they are. Trust the CA certificate (`bi ca`) once.",
            istio_gateway::NAME
        )
    } else {
        let target = address.unwrap_or("the gateway's load-balancer address (not assigned yet)");
        format!(
            "Point *.{domain} at {target} in DNS (or in /etc/hosts for a quick test), \
             then open the links."
        )
    }
}

/// Every address of the desired state with its status in the cluster, as
/// the cluster cache holds it. A cluster that cannot be read leaves every
/// status "unknown" and says so in `cluster_error`.
pub async fn read(db: &Database, cache: &Cache) -> Result<ReachView> {
    let cache = cache.clone();
    db.shared("reach", |db| async move { read_now(&db, &cache).await })
        .await
}

async fn read_now(db: &Database, cache: &Cache) -> Result<ReachView> {
    let generated = cache.generated(db).await?;
    let state = &generated.state;
    // NB: the Context is not Send; it must not live across an await.
    let (endpoints, gateway) = {
        let ctx = Context::new(state, Secrets::Preview);
        (reach::endpoints(&ctx), reach::gateway(&ctx))
    };
    let Some(gateway) = gateway else {
        let unreachable = state
            .batteries
            .keys()
            .filter(|kind| reach::has_ui(**kind))
            .map(|kind| Unreachable {
                battery: *kind,
                words: format!(
                    "{} is reachable only inside the cluster: install {} to open it at \
                     https://<name>.<domain>/ (or use kubectl port-forward)",
                    kind.info().name,
                    BatteryKind::IstioGateway.info().name
                ),
            })
            .collect();
        return Ok(ReachView {
            gateway: None,
            addresses: Vec::new(),
            unreachable,
            cluster_error: None,
        });
    };
    let (live, cluster_error) = match observe(cache, &gateway.namespace, state).await {
        Ok(live) => (live, None),
        Err(err) => {
            tracing::warn!(error = %err, "reach: the cluster could not be read");
            (
                Observed::default(),
                Some("the cluster could not be read; see the server log".to_owned()),
            )
        }
    };
    let unknown = || part(Progress::Pending, "unknown: the cluster could not be read");
    let listeners = reach::listeners(&gateway, &endpoints);
    let addresses = endpoints
        .iter()
        .map(|endpoint| {
            let route = match (&cluster_error, &endpoint.backend) {
                (Some(_), _) => unknown(),
                (None, Backend::Service { .. }) => route_status(
                    endpoint
                        .route()
                        .and_then(|key| live.routes.get(&key).map(Arc::as_ref)),
                ),
                (None, Backend::Knative { namespace, service }) => knative_status(
                    live.knative
                        .get(&(namespace.clone(), service.clone()))
                        .map(Arc::as_ref),
                ),
            };
            let certificate = match &cluster_error {
                Some(_) => unknown(),
                None => {
                    let name = listeners
                        .iter()
                        .find(|l| l.name == endpoint.listener)
                        .map(|l| l.certificate.clone())
                        .unwrap_or_default();
                    certificate_status(
                        live.certificates
                            .get(&(gateway.namespace.clone(), name))
                            .map(Arc::as_ref),
                        gateway.issuer,
                    )
                }
            };
            Address {
                owner: endpoint.owner.clone(),
                label: endpoint.owner.label(),
                url: endpoint.url(),
                host: endpoint.host.clone(),
                signed_in: matches!(
                    endpoint.backend,
                    Backend::Service {
                        signed_in: true,
                        ..
                    }
                ),
                route,
                certificate,
            }
        })
        .collect();
    Ok(ReachView {
        gateway: Some(GatewayView {
            domain: gateway.domain.to_string(),
            issuer: gateway.issuer,
            how_to_open: how_to_open(&gateway.domain, &gateway.namespace, live.address.as_deref()),
            address: live.address,
        }),
        addresses,
        unreachable: Vec::new(),
        cluster_error,
    })
}

/// What the cluster holds of reach.
#[derive(Default)]
struct Observed {
    routes: HashMap<(String, String), Arc<DynamicObject>>,
    certificates: HashMap<(String, String), Arc<DynamicObject>>,
    knative: HashMap<(String, String), Arc<DynamicObject>>,
    address: Option<String>,
}

/// bi's objects of `kind` (in `namespace`, or everywhere) from the cache,
/// by namespace and name.
async fn managed(
    cache: &Cache,
    (api_version, kind): (&str, &str),
    namespace: Option<&str>,
) -> Result<HashMap<(String, String), Arc<DynamicObject>>> {
    Ok(cache
        .list(&CachedKind::new(api_version, kind))
        .await?
        .into_iter()
        .filter(|o| namespace.is_none_or(|ns| o.metadata.namespace.as_deref() == Some(ns)))
        .filter(|o| o.labels().get("battery/managed").map(String::as_str) == Some("true"))
        .map(|o| (key(&o), o))
        .collect())
}

async fn observe(
    cache: &Cache,
    namespace: &str,
    state: &bi_model::generate::DesiredState,
) -> Result<Observed> {
    let routes = managed(cache, ("gateway.networking.k8s.io/v1", "HTTPRoute"), None).await?;
    let certificates = managed(
        cache,
        ("cert-manager.io/v1", "Certificate"),
        Some(namespace),
    )
    .await?;
    let knative = if state.batteries.contains_key(&BatteryKind::Knative) {
        managed(cache, ("serving.knative.dev/v1", "Service"), None).await?
    } else {
        HashMap::new()
    };
    let gateway = ResourcePath::new("v1", "Service", Some(namespace), istio_gateway::NAME);
    let address = cache.get(&gateway).await?.and_then(|service| {
        let first = service
            .data
            .pointer("/status/loadBalancer/ingress/0")?
            .clone();
        first["ip"]
            .as_str()
            .or(first["hostname"].as_str())
            .map(str::to_owned)
    });
    Ok(Observed {
        routes,
        certificates,
        knative,
        address,
    })
}

/// The Battery CA's certificate (PEM), public by nature: what a laptop
/// imports to trust the gateway's certificates. None while the Battery CA
/// is not installed or cert-manager has not made it yet.
pub async fn ca_certificate(db: &Database, client: &kube::Client) -> Result<Option<String>> {
    let (_, state) = desired_state::current(db).await?;
    if !state.batteries.contains_key(&BatteryKind::BatteryCa) {
        return Ok(None);
    }
    let namespace = Context::new(&state, Secrets::Preview)
        .base_namespace()
        .to_owned();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), &namespace);
    let secret = secrets
        .get_opt(battery_ca::CA_NAME)
        .await
        .map_err(|source| Error::Cluster {
            action: "reading the Battery CA's Secret".to_owned(),
            source,
        })?;
    // NB: only `ca.crt`: the key in the same Secret never leaves the cluster.
    Ok(secret
        .and_then(|secret| secret.data)
        .and_then(|mut data| data.remove("ca.crt"))
        .and_then(|bytes| String::from_utf8(bytes.0).ok())
        .filter(|pem| pem.contains("BEGIN CERTIFICATE")))
}
