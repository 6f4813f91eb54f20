//! The Kubernetes Gateway API CRDs, used by Istio and Knative for ingress.

use serde::{Deserialize, Serialize};

use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::GatewayApi,
    id: "gateway_api",
    name: "Gateway API",
    group: BatteryGroup::NetSecurity,
    description: "The Kubernetes Gateway API CRDs, used by Istio and Knative for ingress.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Gateway API: it has no settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayApiConfig {}

impl GatewayApiConfig {
    /// Every problem with this config (it has no rules of its own).
    pub fn validate(&self) -> Result<(), Problems> {
        Ok(())
    }
}

/// The API group of the Gateway API.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// The standard channel's CRDs at v1.4.0, the version Istio 1.28 is built
/// against, as upstream ships them (with the approval annotation its
/// protected API group requires).
pub const CRDS: [UpstreamCrd; 6] = [
    upstream_crd!(
        "backendtlspolicies.gateway.networking.k8s.io",
        "gateway-api",
        "v1.4.0",
        "config/crd/standard/gateway.networking.k8s.io_backendtlspolicies.yaml",
        "59d7cf1d99e1337e6d6a19c6306172d8f7ff2d9f920142a88ef9ba597d6d97bb"
    ),
    upstream_crd!(
        "gatewayclasses.gateway.networking.k8s.io",
        "gateway-api",
        "v1.4.0",
        "config/crd/standard/gateway.networking.k8s.io_gatewayclasses.yaml",
        "2f61e8c8c2289843a61d7b1bba31f8a5a46dbf20a1c54359209d638d3bd899c9"
    ),
    upstream_crd!(
        "gateways.gateway.networking.k8s.io",
        "gateway-api",
        "v1.4.0",
        "config/crd/standard/gateway.networking.k8s.io_gateways.yaml",
        "b0e29566bbe07fbe4ede55c2eff73865bd566f3063736ec9046224d7e20d6f88"
    ),
    upstream_crd!(
        "grpcroutes.gateway.networking.k8s.io",
        "gateway-api",
        "v1.4.0",
        "config/crd/standard/gateway.networking.k8s.io_grpcroutes.yaml",
        "dc114a794b2bf2565489c3182d4b173590ea01348f986daf42c7bc0505521d26"
    ),
    upstream_crd!(
        "httproutes.gateway.networking.k8s.io",
        "gateway-api",
        "v1.4.0",
        "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml",
        "c2539410dec72b793ef840f484c19d13b48210074ec801b730e9fce2c5fc825c"
    ),
    upstream_crd!(
        "referencegrants.gateway.networking.k8s.io",
        "gateway-api",
        "v1.4.0",
        "config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml",
        "3a59dcc699c2d01b19f13233943597f69de25420495ab3d4af7de7997bd807cc"
    ),
];

/// The upstream CRD named `name`.
pub fn crd(name: &str) -> Option<&'static UpstreamCrd> {
    CRDS.iter().find(|crd| crd.name == name)
}

/// The resources this battery needs: Gateway API's standard-channel CRDs,
/// verbatim. Reads no secrets.
pub fn generate(
    config: &GatewayApiConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let (GatewayApiConfig {}, _) = (config, ctx);
    CRDS.iter().map(|crd| crd.resource(INFO.id)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::generate::build;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets, UPSTREAM_SHA256_ANNOTATION};

    /// The v1 schema of the CRD `name`, as upstream ships it.
    pub(crate) fn upstream_schema(name: &str) -> Value {
        crd(name).and_then(|crd| crd.schema("v1")).unwrap()
    }

    #[test]
    fn ships_the_standard_channel_crds_verbatim_with_bis_labels() {
        let state = DesiredState::with_batteries(&[BatteryKind::GatewayApi]).unwrap();
        let resources = generate(
            &GatewayApiConfig {},
            &Context::new(&state, Secrets::Preview),
        )
        .unwrap();
        assert_eq!(resources.len(), CRDS.len());
        for (resource, crd) in resources.iter().zip(&CRDS) {
            assert_eq!(resource.path.name, crd.name);
            let mut upstream = crd.body().unwrap();
            let mut ours = resource.body.clone();
            assert_eq!(ours["metadata"]["labels"]["battery/app"], "gateway_api");
            assert_eq!(
                ours["metadata"]["annotations"][UPSTREAM_SHA256_ANNOTATION],
                crd.sha256
            );
            assert_eq!(
                ours["metadata"]["annotations"]["api-approved.kubernetes.io"],
                "https://github.com/kubernetes-sigs/gateway-api/pull/3328"
            );
            // Everything but bi's labels and annotations is upstream's.
            for body in [&mut upstream, &mut ours] {
                if let Some(metadata) = body["metadata"].as_object_mut() {
                    metadata.remove("labels");
                    metadata.remove("annotations");
                }
            }
            assert_eq!(ours, upstream, "{}", crd.name);
        }
    }

    #[test]
    fn a_crds_hash_is_its_stubs_so_the_browser_plans_it_alike() {
        let resource = CRDS[1].resource(INFO.id).unwrap();
        let mut other = CRDS[1];
        other.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
        assert_ne!(other.resource(INFO.id).unwrap().hash, resource.hash);
        assert_eq!(
            resource.body["metadata"]["annotations"]["battery/hash"],
            resource.hash.as_str()
        );
    }

    #[test]
    fn a_typical_route_fits_and_a_typo_does_not() {
        let route = build::custom_resource(
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            Some("battery-monitoring"),
            "grafana",
            json!({
                "parentRefs": [{ "name": "bi", "namespace": "battery-istio", "sectionName": "http" }],
                "hostnames": ["grafana.example.com"],
                "rules": [{
                    "matches": [{ "path": { "type": "PathPrefix", "value": "/" } }],
                    "backendRefs": [{ "name": "grafana", "port": 3000 }],
                }],
            }),
        );
        assert_eq!(
            violations(
                &upstream_schema("httproutes.gateway.networking.k8s.io"),
                &route
            ),
            Vec::<String>::new()
        );
        let mut typo = route.clone();
        typo["spec"]["rules"][0]["backendRefs"][0]["prot"] = json!(3000);
        assert_eq!(
            violations(
                &upstream_schema("httproutes.gateway.networking.k8s.io"),
                &typo
            ),
            ["spec.rules[0].backendRefs[0].prot: unknown field"]
        );
    }
}
