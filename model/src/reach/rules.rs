//! The rules reach puts on the desired state as a whole: what a single
//! battery's or object's validation cannot see.

use std::collections::BTreeMap;

use super::domain::CertificateIssuer;
use super::endpoints::{Endpoint, Owner, endpoints, gateway};
use super::routes::listeners;
use crate::catalog::{BatteryConfig, BatteryKind};
use crate::generate::{Context, DesiredState, Secrets};
use crate::validation::{Problems, Rule};

/// The most listeners a Gateway holds (the Gateway API's limit).
pub const MAX_LISTENERS: usize = 64;

/// The most names Let's Encrypt puts in one certificate.
pub const LETS_ENCRYPT_MAX_NAMES: usize = 100;

const CERTIFICATES_FIELD: &str = "batteries.istio_gateway.certificates";

fn field_of(endpoint: &Endpoint) -> String {
    match &endpoint.owner {
        Owner::Battery { battery } => format!("batteries.{battery}"),
        Owner::Object { kind, name, .. } => format!("{}s.{name}.name", kind.id()),
    }
}

/// Every problem with how the installation is reached: two addresses on
/// one hostname and path, more listeners than a Gateway holds, and Let's
/// Encrypt for a domain it cannot issue for or without an ACME e-mail.
pub fn validate(state: &DesiredState) -> Result<(), Problems> {
    let mut problems = Problems::new();
    let ctx = Context::new(state, Secrets::Preview);
    let Some(gateway) = gateway(&ctx) else {
        return Ok(());
    };
    let endpoints = endpoints(&ctx);
    let mut seen: BTreeMap<(&str, &str), &Endpoint> = BTreeMap::new();
    for endpoint in &endpoints {
        let key = (endpoint.host.as_str(), endpoint.path.as_str());
        if let Some(first) = seen.get(&key) {
            problems.push(
                field_of(endpoint),
                Rule::Unique,
                format!(
                    "{} would be reached at {}, which is {}'s; rename it or put it in a project",
                    endpoint.owner.label(),
                    endpoint.url(),
                    first.owner.label()
                ),
            );
        } else {
            seen.insert(key, endpoint);
        }
    }
    let listeners = listeners(&gateway, &endpoints);
    // NB: one more for plain HTTP.
    if listeners.len() + 1 > MAX_LISTENERS {
        problems.push(
            "projects",
            Rule::Capacity,
            format!(
                "{} projects expose services, and the gateway has room for {} \
                 (a Gateway holds {MAX_LISTENERS} listeners); turn expose off on some services",
                listeners.len().saturating_sub(1),
                MAX_LISTENERS - 2
            ),
        );
    }
    if gateway.issuer == CertificateIssuer::LetsEncrypt {
        if !gateway.domain.is_public() {
            problems.push(
                CERTIFICATES_FIELD,
                Rule::Consistency,
                format!(
                    "Let's Encrypt issues only for public domains, and {} is not; use \
                     battery_ca, or set the domain to a public name that points at the gateway",
                    gateway.domain
                ),
            );
        }
        let email = match state.batteries.get(&BatteryKind::CertManager) {
            Some(BatteryConfig::CertManager(config)) => config.acme_email.is_some(),
            _ => false,
        };
        if !email {
            problems.push(
                CERTIFICATES_FIELD,
                Rule::Dependency,
                "Let's Encrypt needs an e-mail for its account: set cert_manager's acme_email",
            );
        }
        for listener in &listeners {
            if listener.dns_names.len() > LETS_ENCRYPT_MAX_NAMES {
                problems.push(
                    CERTIFICATES_FIELD,
                    Rule::Capacity,
                    format!(
                        "the certificate of {} would name {} hosts; Let's Encrypt allows {LETS_ENCRYPT_MAX_NAMES}",
                        listener.hostname,
                        listener.dns_names.len()
                    ),
                );
            }
        }
    }
    problems.into_result()
}
