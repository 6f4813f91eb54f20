//! Reach: how people outside the cluster open what bi installs. An
//! installation domain, a hostname per battery UI and per exposed service,
//! the Gateway API routes and the certificates that serve them.

mod domain;
mod endpoints;
mod routes;
mod rules;

pub use domain::{CertificateIssuer, DOMAIN_MAX_LEN, Domain};
pub use endpoints::{
    Backend, Endpoint, Gateway, HTTP_LISTENER, MAIN_LISTENER, Owner, endpoints, gateway, has_ui,
    istio_namespace, project_listener, service_host,
};
pub use routes::{
    API_VERSION, Listener, REDIRECT_ROUTE, certificates, gateway_listeners, generate, issuer_name,
    listeners,
};
pub use rules::{LETS_ENCRYPT_MAX_NAMES, MAX_LISTENERS, validate};

#[cfg(test)]
mod tests;
