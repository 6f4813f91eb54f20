//! The sandbox's pretend nodes (`sandbox-node-1..N`): Node objects with
//! capacity, allocatable CPU/memory/pods and a Ready condition, so capacity
//! checks and the dashboard have numbers. No kubelet stands behind them.

use bi_model::units::{Cpu, Memory};
use serde_json::{Value, json};

/// Pods each node reports it can hold (the kubelet default).
const PODS_PER_NODE: u32 = 110;

/// The Node object `sandbox-node-{index}`.
pub(crate) fn node(index: u32, cpu: Cpu, memory: Memory, now: &str) -> Value {
    let name = format!("sandbox-node-{index}");
    let resources = json!({
        "cpu": cpu.to_string(),
        "memory": memory.to_string(),
        "pods": PODS_PER_NODE.to_string(),
    });
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
            "annotations": {
                "bi.sandbox/note": "a sandbox node: nothing runs on it",
            },
        },
        "spec": {},
        "status": {
            "capacity": resources.clone(),
            "allocatable": resources,
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": "SandboxNode",
                "message": "bi sandbox node (nothing runs here)",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "v1.33.0-bi-sandbox",
                "kubeProxyVersion": "v1.33.0-bi-sandbox",
                "containerRuntimeVersion": "none://sandbox",
                "osImage": "bi sandbox",
                "kernelVersion": "",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
            "addresses": [{ "type": "Hostname", "address": name }],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_report_canonical_quantities() {
        let node = node(
            2,
            Cpu::cores(4),
            Memory::gibibytes(16),
            "2025-01-01T00:00:00Z",
        );
        assert_eq!(node["metadata"]["name"], "sandbox-node-2");
        assert_eq!(node["status"]["allocatable"]["cpu"], "4");
        assert_eq!(node["status"]["allocatable"]["memory"], "16Gi");
        assert_eq!(node["status"]["capacity"]["pods"], "110");
        assert_eq!(node["status"]["conditions"][0]["type"], "Ready");
    }
}
