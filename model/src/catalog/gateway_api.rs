//! The Kubernetes Gateway API CRDs, used by Istio and Knative for ingress.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::build;
use crate::generate::{Context, GenerateError, Resource};
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

/// The `openAPIV3Schema` around a `spec` schema.
fn top_level(spec: Value) -> Value {
    json!({
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": { "type": "string" },
            "kind": { "type": "string" },
            "metadata": { "type": "object" },
            "spec": spec,
            "status": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
        },
    })
}

fn preserved() -> Value {
    json!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

/// A reference to a parent (a Gateway) or a backend (a Service).
fn object_reference(port: bool) -> Value {
    let mut properties = json!({
        "group": { "type": "string" },
        "kind": { "type": "string" },
        "name": { "type": "string" },
        "namespace": { "type": "string" },
    });
    if port {
        properties["port"] = json!({ "type": "integer", "minimum": 1, "maximum": 65535 });
    }
    json!({ "type": "object", "required": ["name"], "properties": properties })
}

/// `GatewayClass` (v1, cluster-scoped): which controller runs a class of gateways.
pub fn gateway_class_schema() -> Value {
    top_level(json!({
        "type": "object",
        "required": ["controllerName"],
        "properties": {
            "controllerName": { "type": "string" },
            "description": { "type": "string" },
            "parametersRef": preserved(),
        },
    }))
}

/// `Gateway` (v1): listeners on a class of gateways.
pub fn gateway_schema() -> Value {
    top_level(json!({
        "type": "object",
        "required": ["gatewayClassName", "listeners"],
        "properties": {
            "gatewayClassName": { "type": "string" },
            "listeners": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "port", "protocol"],
                    "properties": {
                        "name": { "type": "string" },
                        "hostname": { "type": "string" },
                        "port": { "type": "integer", "minimum": 1, "maximum": 65535 },
                        "protocol": { "type": "string" },
                        "tls": preserved(),
                        "allowedRoutes": {
                            "type": "object",
                            "properties": {
                                "namespaces": {
                                    "type": "object",
                                    "properties": {
                                        "from": {
                                            "type": "string",
                                            "enum": ["All", "Selector", "Same"],
                                        },
                                        "selector": preserved(),
                                    },
                                },
                                "kinds": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["kind"],
                                        "properties": {
                                            "group": { "type": "string" },
                                            "kind": { "type": "string" },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
            "addresses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["value"],
                    "properties": {
                        "type": { "type": "string" },
                        "value": { "type": "string" },
                    },
                },
            },
            "infrastructure": preserved(),
            "backendTLS": preserved(),
        },
    }))
}

/// `HTTPRoute` (v1): hostnames, path matches and backends.
pub fn http_route_schema() -> Value {
    let matches = json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "path": {
                    "type": "object",
                    "properties": {
                        "type": {
                            "type": "string",
                            "enum": ["Exact", "PathPrefix", "RegularExpression"],
                        },
                        "value": { "type": "string" },
                    },
                },
                "headers": { "type": "array", "items": preserved() },
                "queryParams": { "type": "array", "items": preserved() },
                "method": { "type": "string" },
            },
        },
    });
    let mut backend = object_reference(true);
    backend["properties"]["weight"] = json!({ "type": "integer", "minimum": 0 });
    backend["properties"]["filters"] = json!({ "type": "array", "items": preserved() });
    let mut parent = object_reference(true);
    parent["properties"]["sectionName"] = json!({ "type": "string" });
    top_level(json!({
        "type": "object",
        "properties": {
            "parentRefs": { "type": "array", "items": parent },
            "hostnames": strings(),
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string" },
                        "matches": matches,
                        "backendRefs": { "type": "array", "items": backend },
                        "filters": { "type": "array", "items": preserved() },
                        "timeouts": preserved(),
                        "retry": preserved(),
                        "sessionPersistence": preserved(),
                    },
                },
            },
        },
    }))
}

/// A Gateway API CRD: v1, served and stored, with the status subresource
/// the gateway controllers write through.
fn crd(
    kind: &str,
    plural: &str,
    namespaced: bool,
    schema: Value,
) -> Result<CustomResourceDefinition, GenerateError> {
    let mut crd = build::crd(GROUP, "v1", kind, plural, namespaced, schema)?;
    build::with_status_subresource(&mut crd);
    crd.spec.names.categories = Some(vec!["gateway-api".to_owned()]);
    crd.metadata.annotations = Some(build::string_map(&[
        ("gateway.networking.k8s.io/bundle-version", "v1.3.0"),
        ("gateway.networking.k8s.io/channel", "standard"),
        // NB: gateway.networking.k8s.io is a protected group (*.k8s.io): a
        // real API server refuses its CRDs without the approval annotation
        // upstream ships.
        (
            "api-approved.kubernetes.io",
            "https://github.com/kubernetes-sigs/gateway-api/pull/3328",
        ),
    ]));
    Ok(crd)
}

/// The resources this battery needs: the CRDs `gatewayclasses`, `gateways`
/// and `httproutes` of gateway.networking.k8s.io (v1), with schemas for
/// the fields bi sets. Reads no secrets.
pub fn generate(
    config: &GatewayApiConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let (GatewayApiConfig {}, _) = (config, ctx);
    [
        crd(
            "GatewayClass",
            "gatewayclasses",
            false,
            gateway_class_schema(),
        )?,
        crd("Gateway", "gateways", true, gateway_schema())?,
        crd("HTTPRoute", "httproutes", true, http_route_schema())?,
    ]
    .iter()
    .map(|crd| Resource::new(INFO.id, crd))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};

    #[test]
    fn generates_the_three_v1_crds() {
        let state = DesiredState::with_batteries(&[BatteryKind::GatewayApi]).unwrap();
        let resources = generate(
            &GatewayApiConfig {},
            &Context::new(&state, Secrets::Preview),
        )
        .unwrap();
        let names: Vec<&str> = resources.iter().map(|r| r.path.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "gatewayclasses.gateway.networking.k8s.io",
                "gateways.gateway.networking.k8s.io",
                "httproutes.gateway.networking.k8s.io",
            ]
        );
        for resource in &resources {
            let crd: CustomResourceDefinition =
                serde_json::from_value(resource.body.clone()).unwrap();
            assert_eq!(crd.spec.versions[0].name, "v1");
            assert!(crd.spec.versions[0].subresources.is_some());
        }
        assert_eq!(resources[0].body["spec"]["scope"], "Cluster");
        assert_eq!(resources[2].body["spec"]["scope"], "Namespaced");
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
            violations(&http_route_schema(), &route),
            Vec::<String>::new()
        );
        let mut typo = route.clone();
        typo["spec"]["rules"][0]["backendRefs"][0]["prot"] = json!(3000);
        assert_eq!(
            violations(&http_route_schema(), &typo),
            ["spec.rules[0].backendRefs[0].prot: unknown field"]
        );
    }
}
