//! Endpoints (a sandbox extra, like workloads that settle): a Service whose
//! selector matches the pod template of a settled Deployment or StatefulSet
//! gets an EndpointSlice with one ready endpoint per ready replica, as the
//! EndpointSlice controller publishes once a cluster's pods are ready. It is
//! what tells the engine that an admission webhook's Service can answer.
//!
//! A slice is published once, when the Service first has ready backends;
//! later scaling does not change it (nothing runs here to scale).

use serde_json::{Map, Value, json};

use super::store::Store;
use super::workloads::is_settled;

/// The label tying a slice to its Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The most endpoints a sandbox slice lists.
const MAX_ENDPOINTS: u64 = 10;

/// Publishes a slice for every Service of `namespace` that has ready
/// backends and none yet.
pub(crate) fn publish(store: &mut Store, namespace: &str) {
    let services: Vec<Value> = store
        .keys_of("", "services")
        .into_iter()
        .filter(|key| key.namespace == namespace)
        .filter_map(|key| store.object(&key).cloned())
        .collect();
    for service in services {
        let Some(selector) = service
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .filter(|selector| !selector.is_empty())
        else {
            continue;
        };
        let ready = ready_backends(store, namespace, selector);
        if ready == 0 {
            continue;
        }
        let Some(slice) = slice_for(&service, namespace, ready) else {
            continue;
        };
        if let Err(error) = store.ensure("discovery.k8s.io", "endpointslices", slice) {
            tracing::warn!(?error, "sandbox: could not publish a Service's endpoints");
        }
    }
}

/// The ready replicas of the settled workloads in `namespace` whose pod
/// template carries every label of `selector`.
fn ready_backends(store: &Store, namespace: &str, selector: &Map<String, Value>) -> u64 {
    ["deployments", "statefulsets"]
        .into_iter()
        .flat_map(|plural| store.keys_of("apps", plural))
        .filter(|key| key.namespace == namespace)
        .filter_map(|key| store.object(&key))
        .filter(|workload| is_settled(workload))
        .filter(|workload| {
            let labels = workload
                .pointer("/spec/template/metadata/labels")
                .and_then(Value::as_object);
            labels.is_some_and(|labels| {
                selector
                    .iter()
                    .all(|(key, value)| labels.get(key) == Some(value))
            })
        })
        .map(|workload| {
            workload
                .pointer("/status/readyReplicas")
                .and_then(Value::as_u64)
                .unwrap_or(0)
        })
        .sum()
}

/// The slice of `service` with `ready` endpoints (at most [`MAX_ENDPOINTS`]).
fn slice_for(service: &Value, namespace: &str, ready: u64) -> Option<Value> {
    let name = service.pointer("/metadata/name").and_then(Value::as_str)?;
    let ports: Vec<Value> = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|port| {
            let number = port
                .get("targetPort")
                .and_then(Value::as_u64)
                .or_else(|| port.get("port").and_then(Value::as_u64))
                .unwrap_or(0);
            let mut entry = json!({
                "port": number,
                "protocol": port.get("protocol").cloned().unwrap_or_else(|| json!("TCP")),
            });
            if let Some(port_name) = port.get("name") {
                entry["name"] = port_name.clone();
            }
            entry
        })
        .collect();
    let endpoints: Vec<Value> = (1..=ready.min(MAX_ENDPOINTS))
        .map(|n| {
            json!({
                "addresses": [format!("10.244.0.{n}")],
                "conditions": { "ready": true, "serving": true, "terminating": false },
            })
        })
        .collect();
    Some(json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": format!("{name}-sandbox"),
            "namespace": namespace,
            "labels": {
                SERVICE_NAME_LABEL: name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_lists_one_ready_endpoint_per_replica_and_the_target_ports() {
        let service = json!({
            "metadata": { "name": "cert-manager-webhook" },
            "spec": { "ports": [{ "name": "https", "port": 443, "targetPort": 10250 }] },
        });
        let slice = slice_for(&service, "battery-base", 2).unwrap();
        assert_eq!(
            slice["metadata"]["labels"][SERVICE_NAME_LABEL],
            "cert-manager-webhook"
        );
        assert_eq!(slice["endpoints"].as_array().map(Vec::len), Some(2));
        assert_eq!(slice["endpoints"][0]["conditions"]["ready"], true);
        assert_eq!(slice["ports"][0]["port"], 10250);
        assert_eq!(slice["ports"][0]["protocol"], "TCP");
    }
}
