//! The installation's own certificate authority, as a cert-manager ClusterIssuer.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::build;
use crate::generate::{Context, GenerateError, Resource};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::BatteryCa,
    id: "battery_ca",
    name: "Battery CA",
    group: BatteryGroup::NetSecurity,
    description: "The installation's own certificate authority, as a cert-manager ClusterIssuer.",
    dependencies: &[BatteryKind::CertManager],
    integrations: &[
        Integration {
            partner: BatteryKind::Istio,
            what: "STRICT mutual TLS between workloads, with certificates from this CA",
        },
        Integration {
            partner: BatteryKind::TrustManager,
            what: "the CA bundle distributed to every namespace",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Battery CA: it has no settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatteryCaConfig {}

impl BatteryCaConfig {
    /// Every problem with this config (it has no rules of its own).
    pub fn validate(&self) -> Result<(), Problems> {
        Ok(())
    }
}

/// The self-signed ClusterIssuer that signs the CA certificate, and nothing else.
pub const SELF_SIGNED_ISSUER: &str = "bi-selfsigned";

/// The CA: the name of its Certificate, of the Secret holding its key and
/// certificate (in the base namespace), and of the ClusterIssuer that signs
/// with it.
pub const CA_NAME: &str = "battery-ca";

/// The resources this battery needs: a self-signed ClusterIssuer
/// `bi-selfsigned`, the CA Certificate `battery-ca` it signs (in the base
/// namespace, secret `battery-ca`), and the ClusterIssuer `battery-ca` that
/// issues from that secret. cert-manager reads ClusterIssuers' secrets from
/// its cluster resource namespace, the base namespace. Reads no secrets: the
/// CA key is made by cert-manager inside the cluster and never leaves it.
pub fn generate(
    config: &BatteryCaConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let BatteryCaConfig {} = config;
    let app = INFO.id;
    let self_signed = build::custom_resource(
        "cert-manager.io/v1",
        "ClusterIssuer",
        None,
        SELF_SIGNED_ISSUER,
        json!({ "selfSigned": {} }),
    );
    let certificate = build::custom_resource(
        "cert-manager.io/v1",
        "Certificate",
        Some(ctx.base_namespace()),
        CA_NAME,
        json!({
            "isCA": true,
            "commonName": format!("{} Battery CA", ctx.state.installation),
            "secretName": CA_NAME,
            // Ten years; cert-manager renews it a month before it expires.
            "duration": "87600h",
            "renewBefore": "720h",
            "privateKey": { "algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never" },
            "usages": ["cert sign", "crl sign", "digital signature"],
            "issuerRef": {
                "group": "cert-manager.io",
                "kind": "ClusterIssuer",
                "name": SELF_SIGNED_ISSUER,
            },
        }),
    );
    let issuer = build::custom_resource(
        "cert-manager.io/v1",
        "ClusterIssuer",
        None,
        CA_NAME,
        json!({ "ca": { "secretName": CA_NAME } }),
    );
    [self_signed, certificate, issuer]
        .into_iter()
        .map(|body| Resource::from_value(app, body))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::cert_manager::{certificate_schema, issuer_schema};
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};

    fn generated() -> Vec<Resource> {
        let state = DesiredState::with_batteries(&[BatteryKind::BatteryCa]).unwrap();
        let empty = std::collections::BTreeMap::new();
        // Reads no secrets: works with an empty store.
        generate(
            &BatteryCaConfig {},
            &Context::new(&state, Secrets::Stored(&empty)),
        )
        .unwrap()
    }

    #[test]
    fn a_self_signed_issuer_signs_the_ca_that_issues_everything_else() {
        let resources = generated();
        let paths: Vec<String> = resources.iter().map(|r| r.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "cert-manager.io/v1/ClusterIssuer/bi-selfsigned",
                "cert-manager.io/v1/Certificate/battery-base/battery-ca",
                "cert-manager.io/v1/ClusterIssuer/battery-ca",
            ]
        );
        let certificate = &resources[1].body["spec"];
        assert_eq!(certificate["isCA"], true);
        assert_eq!(certificate["secretName"], CA_NAME);
        assert_eq!(certificate["issuerRef"]["name"], SELF_SIGNED_ISSUER);
        assert_eq!(resources[2].body["spec"]["ca"]["secretName"], CA_NAME);
    }

    #[test]
    fn every_custom_resource_fits_cert_managers_schemas() {
        for resource in generated() {
            let schema = match resource.path.kind.as_str() {
                "Certificate" => certificate_schema().unwrap(),
                _ => issuer_schema().unwrap(),
            };
            assert_eq!(
                violations(&schema, &resource.body),
                Vec::<String>::new(),
                "{}",
                resource.path
            );
        }
    }
}
