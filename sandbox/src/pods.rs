//! Pods for the workloads the sandbox settles, and their logs.
//!
//! Nothing runs in the sandbox, but a settled Deployment or StatefulSet
//! gets the Pod objects its controller would make, so pod lists, restarts,
//! nodes and the log API behave as on a cluster: one Pod per replica,
//! owned by the workload (deleting it deletes them), spread over the
//! sandbox's nodes, Running and Ready, named as the controllers name them
//! (`web-0` for a StatefulSet; `web-<template hash>-<n>` for a Deployment,
//! so a new template replaces them, as a rollout does). Scaling down
//! removes the extra ones.
//!
//! `GET …/pods/NAME/log` answers with lines that say they come from the
//! sandbox, with the real API server's parameters (`container`, required
//! when a pod has several; `previous`, refused as a real server refuses it
//! for a container that never restarted; `tailLines`, `timestamps`,
//! `follow`, which keeps the stream open with a line every few seconds).

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::store::{DeleteOptions, ObjectKey, Store, now};

/// How often a followed log gets a line.
pub(crate) const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// The kinds whose settled objects get pods, by plural.
fn kind_of(plural: &str) -> Option<&'static str> {
    match plural {
        "deployments" => Some("Deployment"),
        "statefulsets" => Some("StatefulSet"),
        _ => None,
    }
}

/// A short, stable hash of a pod template (as Deployments name their pods).
fn template_hash(template: &Value) -> String {
    let digest = Sha256::digest(template.to_string().as_bytes());
    digest
        .iter()
        .take(5)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The pods `workload` (at `key`) should have, by name.
fn wanted(key: &ObjectKey, workload: &Value, nodes: usize, at: &str) -> Vec<Value> {
    let Some(kind) = kind_of(&key.plural) else {
        return Vec::new();
    };
    let replicas = workload
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let template = workload
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let uid = workload
        .pointer("/metadata/uid")
        .cloned()
        .unwrap_or(Value::Null);
    let hash = template_hash(&template);
    let nodes = nodes.max(1) as u64;
    (0..replicas)
        .map(|index| {
            let name = if kind == "StatefulSet" {
                format!("{}-{index}", key.name)
            } else {
                format!("{}-{hash}-{index}", key.name)
            };
            let node = index % nodes + 1;
            let containers: Vec<Value> = template
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let statuses: Vec<Value> = containers
                .iter()
                .map(|container| {
                    json!({
                        "name": container["name"],
                        "image": container["image"],
                        "imageID": "",
                        "ready": true,
                        "started": true,
                        "restartCount": 0,
                        "state": { "running": { "startedAt": at } },
                    })
                })
                .collect();
            let mut labels = template
                .pointer("/metadata/labels")
                .cloned()
                .unwrap_or_else(|| json!({}));
            if kind == "StatefulSet" {
                labels["statefulset.kubernetes.io/pod-name"] = json!(name);
            } else {
                labels["pod-template-hash"] = json!(hash);
            }
            let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
            spec["nodeName"] = json!(format!("sandbox-node-{node}"));
            let ready =
                |kind: &str| json!({ "type": kind, "status": "True", "lastTransitionTime": at });
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": key.namespace,
                    "labels": labels,
                    "annotations": { "bi.sandbox/note": "a sandbox pod: nothing runs in it" },
                    "ownerReferences": [{
                        "apiVersion": "apps/v1",
                        "kind": kind,
                        "name": key.name,
                        "uid": uid,
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }],
                },
                "spec": spec,
                "status": {
                    "phase": "Running",
                    "conditions": [
                        ready("PodScheduled"),
                        ready("Initialized"),
                        ready("ContainersReady"),
                        ready("Ready"),
                    ],
                    "hostIP": format!("10.0.0.{node}"),
                    "podIP": format!("10.244.{node}.{}", index / nodes + 10),
                    "startTime": at,
                    "containerStatuses": statuses,
                    "qosClass": "Burstable",
                },
            })
        })
        .collect()
}

/// Brings the pods of the workload at `key` to what it asks for now.
pub(crate) fn reconcile(store: &mut Store, key: &ObjectKey) {
    if kind_of(&key.plural).is_none() {
        return;
    }
    let Some(workload) = store.object(key).cloned() else {
        return;
    };
    let Some(pods) = store.kinds().any_version("", "pods").cloned() else {
        return;
    };
    let uid = workload
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let nodes = store.count("", "nodes");
    let wanted = wanted(key, &workload, nodes, &now());
    let names: Vec<&str> = wanted
        .iter()
        .filter_map(|pod| pod.pointer("/metadata/name").and_then(Value::as_str))
        .collect();
    let stale: Vec<String> = store
        .keys_of("", "pods")
        .into_iter()
        .filter(|pod| pod.namespace == key.namespace && !names.contains(&pod.name.as_str()))
        .filter(|pod| {
            store.object(pod).is_some_and(|object| {
                object
                    .pointer("/metadata/ownerReferences/0/uid")
                    .and_then(Value::as_str)
                    == Some(uid.as_str())
            })
        })
        .map(|pod| pod.name)
        .collect();
    for name in stale {
        if let Err(error) = store.delete(
            &pods,
            Some(&key.namespace),
            &name,
            &DeleteOptions::default(),
            false,
        ) {
            tracing::warn!(?error, pod = name, "sandbox: could not remove a pod");
        }
    }
    for pod in wanted {
        if let Err(error) = store.ensure("", "pods", pod) {
            tracing::warn!(?error, "sandbox: could not create a workload's pod");
        }
    }
}

/// What `GET …/pods/NAME/log` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogRequest {
    pub(crate) container: Option<String>,
    pub(crate) previous: bool,
    pub(crate) tail_lines: Option<usize>,
    pub(crate) timestamps: bool,
    pub(crate) follow: bool,
}

/// Why a log cannot be given: the status code and the real server's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogRefusal {
    pub(crate) code: u16,
    pub(crate) message: String,
}

/// The container a log request is for, and the lines the sandbox has for it.
pub(crate) fn log_lines(
    pod: &Value,
    request: &LogRequest,
) -> Result<(String, Vec<String>), LogRefusal> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let containers: Vec<(String, String)> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|containers| {
            containers
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_owned(),
                        c["image"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let bad = |message: String| LogRefusal { code: 400, message };
    let (container, image) = match &request.container {
        Some(wanted) => containers
            .iter()
            .find(|(c, _)| c == wanted)
            .cloned()
            .ok_or_else(|| bad(format!("container {wanted} is not valid for pod {name}")))?,
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            let names: Vec<&str> = containers.iter().map(|(c, _)| c.as_str()).collect();
            return Err(bad(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    if request.previous {
        return Err(bad(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    }
    let started = pod
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("sandbox-node-1");
    let mut lines = vec![
        line(
            request,
            &started,
            &format!("bi sandbox: {container} ({image}) of pod {name} on {node}"),
        ),
        line(
            request,
            &started,
            "bi sandbox: nothing runs in the sandbox, so this container writes no log of its own",
        ),
        line(
            request,
            &started,
            "bi sandbox: on a cluster with nodes, this page shows the container's own output",
        ),
    ];
    if let Some(tail) = request.tail_lines {
        let skip = lines.len().saturating_sub(tail);
        lines.drain(..skip);
    }
    Ok((container, lines))
}

/// One log line, with its timestamp when asked for (as the kubelet writes it).
pub(crate) fn line(request: &LogRequest, at: &str, text: &str) -> String {
    if request.timestamps {
        format!("{at} {text}\n")
    } else {
        format!("{text}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(plural: &str) -> ObjectKey {
        ObjectKey {
            group: "apps".into(),
            plural: plural.into(),
            namespace: "shop".into(),
            name: "web".into(),
        }
    }

    fn workload(replicas: u64) -> Value {
        json!({
            "metadata": { "name": "web", "uid": "u-1" },
            "spec": {
                "replicas": replicas,
                "template": {
                    "metadata": { "labels": { "app": "web" } },
                    "spec": { "containers": [{ "name": "web", "image": "nginx:1.27" }] },
                },
            },
        })
    }

    #[test]
    fn each_replica_gets_a_ready_pod_owned_by_its_workload_on_a_node() {
        let pods = wanted(
            &key("statefulsets"),
            &workload(3),
            2,
            "2026-12-05T10:00:00Z",
        );
        let names: Vec<&str> = pods
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["web-0", "web-1", "web-2"]);
        assert_eq!(pods[1]["spec"]["nodeName"], "sandbox-node-2");
        assert_eq!(pods[2]["spec"]["nodeName"], "sandbox-node-1");
        assert_eq!(pods[0]["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(pods[0]["metadata"]["labels"]["app"], "web");
        assert_eq!(pods[0]["status"]["containerStatuses"][0]["ready"], true);
        let deployment = wanted(&key("deployments"), &workload(1), 3, "t");
        let name = deployment[0]["metadata"]["name"].as_str().unwrap();
        assert!(
            name.starts_with("web-")
                && name.ends_with("-0")
                && name.len() == "web-0123456789-0".len(),
            "{name}"
        );
        let mut changed = workload(1);
        changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
        let rolled = wanted(&key("deployments"), &changed, 3, "t");
        assert_ne!(
            rolled[0]["metadata"]["name"], deployment[0]["metadata"]["name"],
            "a new template, new pods"
        );
    }

    #[test]
    fn logs_say_they_come_from_the_sandbox_and_refuse_as_a_server_does() {
        let pod = &wanted(
            &key("statefulsets"),
            &workload(1),
            1,
            "2026-12-05T10:00:00Z",
        )[0];
        let (container, lines) = log_lines(pod, &LogRequest::default()).unwrap();
        assert_eq!(container, "web");
        assert!(
            lines[0].contains("bi sandbox") && lines[0].contains("nginx:1.27"),
            "{lines:?}"
        );
        let tail = log_lines(
            pod,
            &LogRequest {
                tail_lines: Some(1),
                timestamps: true,
                ..LogRequest::default()
            },
        )
        .unwrap()
        .1;
        assert_eq!(tail.len(), 1);
        assert!(tail[0].starts_with("2026-12-05T10:00:00Z "), "{tail:?}");
        let previous = log_lines(
            pod,
            &LogRequest {
                previous: true,
                ..LogRequest::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            previous.message,
            "previous terminated container \"web\" in pod \"web-0\" not found"
        );
        let wrong = log_lines(
            pod,
            &LogRequest {
                container: Some("db".into()),
                ..LogRequest::default()
            },
        )
        .unwrap_err();
        assert_eq!(wrong.message, "container db is not valid for pod web-0");
    }
}
