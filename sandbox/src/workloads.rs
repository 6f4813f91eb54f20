//! Workload realism: nothing runs in the sandbox, but Deployments and
//! StatefulSets report `status.readyReplicas = spec.replicas` (and the other
//! replica counts, `observedGeneration` and the usual conditions) shortly
//! after each spec change, so dashboards and rollout waits behave as on a
//! healthy cluster. The status write is an ordinary change: new
//! resourceVersion, MODIFIED watch event, persisted.

use std::sync::Arc;

use serde_json::{Value, json};

use super::discovery::ResourceType;
use super::endpoints;
use super::pods;
use super::server::Shared;
use super::store::{ObjectKey, now};

/// Knative Serving's API group: its Services report Ready with a URL, as
/// Knative's controller would once the first revision serves.
const KNATIVE_GROUP: &str = "serving.knative.dev";

/// The resources (group, plural) whose objects become "ready" by themselves.
pub(crate) const WORKLOADS: [(&str, &str); 3] = [
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    (KNATIVE_GROUP, "services"),
];

/// Whether objects of this resource become "ready" by themselves.
pub(crate) fn is_workload(rt: &ResourceType) -> bool {
    WORKLOADS.iter().any(|(group, plural)| rt.is(group, plural))
}

/// Whether a workload object's status already reflects its current generation.
pub(crate) fn is_settled(object: &Value) -> bool {
    let generation = object
        .pointer("/metadata/generation")
        .and_then(Value::as_u64);
    let observed = object
        .pointer("/status/observedGeneration")
        .and_then(Value::as_u64);
    generation.is_some() && generation == observed
}

/// After a write of a workload: make it ready now (`ready_after` zero) or later.
pub(crate) async fn schedule(shared: &Arc<Shared>, key: ObjectKey, object: &Value) {
    let uid = object.pointer("/metadata/uid").and_then(Value::as_str);
    let generation = object
        .pointer("/metadata/generation")
        .and_then(Value::as_u64);
    let (Some(uid), Some(generation)) = (uid.map(str::to_owned), generation) else {
        return;
    };
    if shared.ready_after.is_zero() {
        settle(shared, &key, &uid, generation).await;
        return;
    }
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        tokio::time::sleep(shared.ready_after).await;
        settle(&shared, &key, &uid, generation).await;
    });
}

/// Writes the ready status, unless the object changed (uid or generation) meanwhile.
async fn settle(shared: &Shared, key: &ObjectKey, uid: &str, generation: u64) {
    let snapshot = {
        let mut store = shared.store.write().await;
        let Some(object) = store.object(key) else {
            return;
        };
        let status = if key.group == KNATIVE_GROUP {
            knative_ready_status(key, object, generation)
        } else {
            ready_status(&key.plural, object, generation)
        };
        if !store.set_status(key, uid, generation, status) {
            return;
        }
        pods::reconcile(&mut store, key);
        endpoints::publish(&mut store, &key.namespace);
        // NB: as a real controller does, say what happened in an Event, so
        // the UI's event lists have something true to show.
        if let Some(event) = rollout_event(key, uid, generation, store.object(key))
            && let Err(error) = store.ensure("", "events", event)
        {
            tracing::warn!(?error, "sandbox: could not record a workload's Event");
        }
        if !store.take_dirty() {
            return;
        }
        shared.snapshot_for_persist(&store)
    };
    if let Err(error) = shared.persist(snapshot).await {
        tracing::error!(%error, "sandbox: could not persist a workload's ready status");
    }
}

/// The Event a Deployment's or StatefulSet's controller records when it
/// brings the workload to its replicas (named `<workload>.<generation>`, so
/// one per spec change).
fn rollout_event(
    key: &ObjectKey,
    uid: &str,
    generation: u64,
    object: Option<&Value>,
) -> Option<Value> {
    let replicas = object?
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let name = &key.name;
    let (kind, component, reason, message) = match key.plural.as_str() {
        "deployments" => (
            "Deployment",
            "deployment-controller",
            "ScalingReplicaSet",
            format!("Scaled replica set {name} to {replicas} (bi sandbox: nothing runs)"),
        ),
        "statefulsets" => (
            "StatefulSet",
            "statefulset-controller",
            "SuccessfulCreate",
            format!("StatefulSet {name} has {replicas} replicas (bi sandbox: nothing runs)"),
        ),
        _ => return None,
    };
    let at = now();
    Some(json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": { "name": format!("{name}.{generation:x}"), "namespace": key.namespace },
        "involvedObject": {
            "apiVersion": "apps/v1",
            "kind": kind,
            "name": name,
            "namespace": key.namespace,
            "uid": uid,
        },
        "reason": reason,
        "message": message,
        "type": "Normal",
        "count": 1,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "source": { "component": component },
        "reportingComponent": component,
    }))
}

/// The status of a Knative Service whose latest revision serves: Ready,
/// with the cluster-local URL Knative gives it.
fn knative_ready_status(key: &ObjectKey, object: &Value, generation: u64) -> Value {
    let name = &key.name;
    let revision = format!("{name}-{generation:05}");
    let url = format!("http://{name}.{}.svc.cluster.local", key.namespace);
    let since = object
        .pointer("/status/conditions/0/lastTransitionTime")
        .and_then(Value::as_str)
        .map_or_else(now, str::to_owned);
    let condition =
        |kind: &str| json!({ "type": kind, "status": "True", "lastTransitionTime": since });
    json!({
        "observedGeneration": generation,
        "url": url,
        "address": { "url": url },
        "latestCreatedRevisionName": revision,
        "latestReadyRevisionName": revision,
        "traffic": [{ "revisionName": revision, "latestRevision": true, "percent": 100 }],
        "conditions": [
            condition("ConfigurationsReady"),
            condition("Ready"),
            condition("RoutesReady"),
        ],
    })
}

/// The status of a workload whose every replica is ready.
fn ready_status(plural: &str, object: &Value, generation: u64) -> Value {
    let replicas = object
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let mut status = object.get("status").cloned().unwrap_or_else(|| json!({}));
    if !status.is_object() {
        status = json!({});
    }
    status["observedGeneration"] = json!(generation);
    status["replicas"] = json!(replicas);
    status["readyReplicas"] = json!(replicas);
    status["availableReplicas"] = json!(replicas);
    status["updatedReplicas"] = json!(replicas);
    if plural == "statefulsets" {
        status["currentReplicas"] = json!(replicas);
    } else {
        let since = now();
        let condition = |kind: &str, reason: &str, message: &str| {
            json!({
                "type": kind,
                "status": "True",
                "lastUpdateTime": since,
                "lastTransitionTime": since,
                "reason": reason,
                "message": message,
            })
        };
        // NB: keep the old conditions when present, so a replay does not churn timestamps.
        if status.get("conditions").is_none() {
            status["conditions"] = json!([
                condition(
                    "Available",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability (bi sandbox)."
                ),
                condition(
                    "Progressing",
                    "NewReplicaSetAvailable",
                    "ReplicaSet has successfully progressed (bi sandbox)."
                ),
            ]);
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_status_mirrors_spec_replicas() {
        let object = json!({ "metadata": { "generation": 3 }, "spec": { "replicas": 4 } });
        let status = ready_status("deployments", &object, 3);
        assert_eq!(status["readyReplicas"], 4);
        assert_eq!(status["availableReplicas"], 4);
        assert_eq!(status["observedGeneration"], 3);
        assert_eq!(status["conditions"][0]["type"], "Available");
        let status = ready_status("statefulsets", &json!({ "spec": {} }), 1);
        assert_eq!(status["readyReplicas"], 1);
        assert_eq!(status["currentReplicas"], 1);
    }

    #[test]
    fn settled_means_status_saw_this_generation() {
        assert!(is_settled(
            &json!({ "metadata": { "generation": 2 }, "status": { "observedGeneration": 2 } })
        ));
        assert!(!is_settled(
            &json!({ "metadata": { "generation": 2 }, "status": { "observedGeneration": 1 } })
        ));
        assert!(!is_settled(&json!({ "metadata": { "generation": 2 } })));
    }
}
