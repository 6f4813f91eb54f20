//! Every address bi makes reachable from outside the cluster: one per
//! battery with a UI, per notebook, and per user service that exposes HTTP,
//! each at a hostname derived from the installation domain.
//!
//! Generation writes routes from this list ([`super::routes`]), and the UI
//! and the CLI show it with each route's status: one list, so a link never
//! points where no route goes.

use serde::{Deserialize, Serialize};

use super::domain::{CertificateIssuer, Domain};
use crate::catalog::{self, BatteryConfig, BatteryKind};
use crate::generate::Context;
use crate::objects::{ObjectKind, PortProtocol};

/// What an address opens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Owner {
    /// A battery's UI.
    Battery {
        /// The battery.
        battery: BatteryKind,
    },
    /// A user object: a notebook or a service.
    Object {
        /// Its kind.
        kind: ObjectKind,
        /// Its project, if any.
        project: Option<String>,
        /// Its name.
        name: String,
    },
}

impl Owner {
    /// What it is, in words: `Grafana`, `traditional service web (shop)`.
    pub fn label(&self) -> String {
        match self {
            Self::Battery { battery } => battery.info().name.to_owned(),
            Self::Object {
                kind,
                project,
                name,
            } => match project {
                Some(project) => format!("{} {name} ({project})", kind.label()),
                None => format!("{} {name}", kind.label()),
            },
        }
    }
}

/// How requests reach what an address opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Backend {
    /// bi writes an HTTPRoute to a Service.
    Service {
        /// The Service's (and the route's) namespace.
        namespace: String,
        /// The Service: the UI's own, or its oauth2-proxy with SSO.
        service: String,
        /// The Service's port.
        port: u16,
        /// Only requests under this path go there (notebooks share a host).
        path_prefix: Option<String>,
        /// Whether SSO's oauth2-proxy signs people in first.
        signed_in: bool,
    },
    /// Knative's networking layer (net-gateway-api) writes the route from
    /// the Knative Service; bi only names the host.
    Knative {
        /// The Knative Service's namespace.
        namespace: String,
        /// The Knative Service.
        service: String,
    },
}

/// One address: a hostname (and path) on the ingress gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The `battery/app` label of the route: what it belongs to, so it
    /// goes when that goes.
    pub app: String,
    /// The route's name (a DNS name, unlike battery ids).
    pub name: String,
    /// What it opens.
    pub owner: Owner,
    /// The hostname (`grafana.bi.localhost`).
    pub host: String,
    /// The path a link opens (`/`, `/select/0/vmui/`).
    pub path: String,
    /// How requests get there.
    pub backend: Backend,
    /// The gateway listener (and so the certificate) that serves it.
    pub listener: String,
}

impl Endpoint {
    /// The link people open (`https://grafana.bi.localhost/`).
    pub fn url(&self) -> String {
        format!("https://{}{}", self.host, self.path)
    }

    /// The HTTPRoute bi writes for it (namespace, name); None for Knative,
    /// whose networking layer writes its own.
    pub fn route(&self) -> Option<(String, String)> {
        match &self.backend {
            Backend::Service { namespace, .. } => Some((namespace.clone(), self.name.clone())),
            Backend::Knative { .. } => None,
        }
    }
}

/// The gateway every route attaches to, when the installation has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    /// The domain hostnames are made from.
    pub domain: Domain,
    /// Who signs its certificates.
    pub issuer: CertificateIssuer,
    /// Its namespace (Istio's).
    pub namespace: String,
}

/// The listener of the batteries' hosts and of services outside projects.
pub const MAIN_LISTENER: &str = "https";

/// The plain-HTTP listener: redirects to HTTPS and answers ACME challenges.
pub const HTTP_LISTENER: &str = "http";

/// The listener of a project's hosts (`*.<project>.<domain>`).
pub fn project_listener(project: &str) -> String {
    format!("https-{project}")
}

/// The gateway, when the Istio ingress gateway and the Gateway API are
/// installed; without them nothing is reachable from outside.
pub fn gateway(ctx: &Context<'_>) -> Option<Gateway> {
    let Some(BatteryConfig::IstioGateway(config)) =
        ctx.state.batteries.get(&BatteryKind::IstioGateway)
    else {
        return None;
    };
    if !ctx.installed(BatteryKind::GatewayApi) {
        return None;
    }
    Some(Gateway {
        domain: config.domain.clone(),
        issuer: config.certificates,
        namespace: istio_namespace(ctx),
    })
}

/// Istio's namespace, where the gateway and its certificates live.
pub fn istio_namespace(ctx: &Context<'_>) -> String {
    match ctx.state.batteries.get(&BatteryKind::Istio) {
        Some(BatteryConfig::Istio(istio)) => istio.namespace.to_string(),
        _ => catalog::istio::IstioConfig::default().namespace.to_string(),
    }
}

/// A battery's UI: its host label, where it runs, and whether SSO can sign
/// people in in front of it.
struct Ui {
    host: &'static str,
    namespace: String,
    service: String,
    port: u16,
    path: &'static str,
    sso: bool,
}

/// The UI of `kind`, for the batteries that have one. One line per battery.
fn battery_ui(kind: BatteryKind, ctx: &Context<'_>) -> Option<Ui> {
    use catalog::*;
    let ui = |host, namespace: &str, service: &str, port, path, sso| Ui {
        host,
        namespace: namespace.to_owned(),
        service: service.to_owned(),
        port,
        path,
        sso,
    };
    let monitoring = ctx.monitoring_namespace();
    Some(match kind {
        // NB: bi has its own sign-in; Keycloak is the sign-in; Forgejo has
        // its own accounts. The rest have none of their own.
        BatteryKind::BatteryCore => ui(
            "control",
            ctx.core_namespace(),
            battery_core::CONTROL_SERVER,
            battery_core::CONTROL_SERVER_PORT,
            "/",
            false,
        ),
        BatteryKind::Grafana => ui(
            "grafana",
            monitoring,
            grafana::NAME,
            grafana::PORT,
            "/",
            true,
        ),
        BatteryKind::VictoriaMetrics => ui(
            "victoria-metrics",
            monitoring,
            &victoria_metrics::vmselect_service(),
            victoria_metrics::VMSELECT_PORT,
            "/select/0/vmui/",
            true,
        ),
        BatteryKind::VmAgent => ui(
            "vm-agent",
            monitoring,
            vm_agent::NAME,
            vm_agent::PORT,
            "/",
            true,
        ),
        BatteryKind::Kiali => ui(
            "kiali",
            &istio_namespace(ctx),
            kiali::NAME,
            kiali::PORT,
            "/kiali/",
            true,
        ),
        BatteryKind::Keycloak => ui(
            "keycloak",
            ctx.base_namespace(),
            keycloak::NAME,
            keycloak::HTTP_PORT,
            "/admin/",
            false,
        ),
        BatteryKind::Forgejo => ui(
            "forgejo",
            ctx.base_namespace(),
            forgejo::NAME,
            forgejo::HTTP_PORT,
            "/",
            false,
        ),
        _ => return None,
    })
}

/// The batteries with a UI, in catalog order: what the dashboard and the
/// catalog say is reachable once the gateway is installed.
pub fn has_ui(kind: BatteryKind) -> bool {
    // NB: a battery's UI does not depend on what else is installed; any
    // state gives the answer (notebooks have one per notebook).
    let state = crate::generate::DesiredState::default();
    let ctx = Context::new(&state, crate::generate::Secrets::Preview);
    battery_ui(kind, &ctx).is_some() || kind == BatteryKind::Notebooks
}

/// The Service and port requests go to: the UI's own, or its
/// oauth2-proxy's when SSO is installed and the UI has no sign-in of its own.
fn backend(ctx: &Context<'_>, ui: &Ui, path_prefix: Option<String>) -> Backend {
    let signed_in = ui.sso && ctx.installed(BatteryKind::Sso);
    let (service, port) = if signed_in {
        (format!("{}{}", catalog::sso::PROXY_PREFIX, ui.service), 80)
    } else {
        (ui.service.clone(), ui.port)
    };
    Backend::Service {
        namespace: ui.namespace.clone(),
        service,
        port,
        path_prefix,
        signed_in,
    }
}

/// `<service>.<project>.<domain>`, or `<service>.<domain>` outside projects.
pub fn service_host(domain: &Domain, project: Option<&str>, name: &str) -> String {
    match project {
        Some(project) => format!("{name}.{project}.{domain}"),
        None => domain.under(name),
    }
}

fn listener_of(project: Option<&str>) -> String {
    project.map_or_else(|| MAIN_LISTENER.to_owned(), project_listener)
}

/// Every address, sorted by host and path; empty without a gateway.
pub fn endpoints(ctx: &Context<'_>) -> Vec<Endpoint> {
    let Some(gateway) = gateway(ctx) else {
        return Vec::new();
    };
    let domain = &gateway.domain;
    let mut out = Vec::new();
    for kind in ctx.state.batteries.keys() {
        if let Some(ui) = battery_ui(*kind, ctx) {
            out.push(Endpoint {
                app: kind.info().id.to_owned(),
                name: ui.host.to_owned(),
                owner: Owner::Battery { battery: *kind },
                host: domain.under(ui.host),
                path: ui.path.to_owned(),
                backend: backend(ctx, &ui, None),
                listener: MAIN_LISTENER.to_owned(),
            });
        }
    }
    if ctx.installed(BatteryKind::Notebooks) {
        for owned in &ctx.state.notebooks {
            let name = &owned.object.name;
            let service = catalog::notebooks::service_name(name);
            let ui = Ui {
                host: "notebooks",
                namespace: ctx.ai_namespace().to_owned(),
                service: service.clone(),
                port: catalog::notebooks::PORT,
                path: "",
                sso: true,
            };
            out.push(Endpoint {
                app: service.clone(),
                name: service,
                owner: Owner::Object {
                    kind: ObjectKind::Notebook,
                    project: owned.project.clone(),
                    name: name.clone(),
                },
                host: domain.under("notebooks"),
                path: format!("/{name}/"),
                backend: backend(ctx, &ui, Some(format!("/{name}"))),
                listener: MAIN_LISTENER.to_owned(),
            });
        }
    }
    if let Some(BatteryConfig::TraditionalServices(config)) =
        ctx.state.batteries.get(&BatteryKind::TraditionalServices)
    {
        for owned in &ctx.state.traditional_services {
            let service = &owned.object;
            let Some(port) = service
                .ports
                .iter()
                .find(|port| matches!(port.protocol, PortProtocol::Http | PortProtocol::Http2))
            else {
                continue;
            };
            if !service.expose {
                continue;
            }
            let project = owned.project.as_deref();
            let app = catalog::traditional_services::app_of(&service.name);
            out.push(Endpoint {
                name: app.clone(),
                app,
                owner: Owner::Object {
                    kind: ObjectKind::TraditionalService,
                    project: owned.project.clone(),
                    name: service.name.clone(),
                },
                host: service_host(domain, project, &service.name),
                path: "/".to_owned(),
                backend: Backend::Service {
                    namespace: config.namespace.to_string(),
                    service: service.name.clone(),
                    port: port.number,
                    path_prefix: None,
                    signed_in: false,
                },
                listener: listener_of(project),
            });
        }
    }
    if let Some(BatteryConfig::Knative(config)) = ctx.state.batteries.get(&BatteryKind::Knative) {
        for owned in ctx
            .state
            .knative_services
            .iter()
            .filter(|o| o.object.expose)
        {
            let project = owned.project.as_deref();
            let app = catalog::knative::app_of(&owned.object.name);
            out.push(Endpoint {
                name: app.clone(),
                app,
                owner: Owner::Object {
                    kind: ObjectKind::KnativeService,
                    project: owned.project.clone(),
                    name: owned.object.name.clone(),
                },
                host: service_host(domain, project, &owned.object.name),
                path: "/".to_owned(),
                backend: Backend::Knative {
                    namespace: config.namespace.to_string(),
                    service: owned.object.name.clone(),
                },
                listener: listener_of(project),
            });
        }
    }
    out.sort_by(|a, b| (&a.host, &a.path).cmp(&(&b.host, &b.path)));
    out
}
