//! Drift: the slow path that sees what the hash fast path cannot.
//!
//! A `kubectl edit` that leaves the `battery/hash` annotation alone looks
//! unchanged to a snapshot. The sweep asks the API server what bi's apply
//! would make of each managed object (a server-side-apply dry run under the
//! field manager `bi`) and compares the answer with the live object: any
//! field bi manages that holds another value differs, while fields other
//! managers own (an HPA's replicas, a label someone added) stay as they are
//! in both and never count. Drifted objects are reported per field and
//! marked, so the next snapshot re-applies them.
//!
//! Keycloak's items are compared field by field with what Keycloak returns
//! (an edit in its console leaves bi's hash attribute alone): every field
//! bi sets that holds another value drifts.

use std::collections::BTreeMap;

use bi_model::events::{Drift, Event};
use bi_model::generate::{Action, ResourcePath, plan};
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::apply::FIELD_MANAGER;
use super::kinds::Kinds;
use super::prepare::prepare_with_live;
use super::snapshot::Engine;
use super::throttle::{Pacer, with_retries};
use crate::error::{Error, Result};
use bi_model::generate::changed_fields;

/// What one sweep found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftReport {
    /// Objects compared.
    pub checked: usize,
    /// Objects that differ, with their fields.
    pub drifted: Vec<Drift>,
    /// Objects that could not be checked, with the reason.
    pub errors: Vec<(ResourcePath, String)>,
    /// Objects compared and found as bi wants them.
    pub clean: Vec<ResourcePath>,
    /// True when the installation's drift mode only reports: nothing was
    /// marked for the next snapshot.
    pub report_only: bool,
}

/// Metadata the API server maintains itself: never drift.
const SERVER_FIELDS: [&str; 6] = [
    "resourceVersion",
    "managedFields",
    "generation",
    "creationTimestamp",
    "uid",
    "selfLink",
];

impl Engine {
    /// Compares every managed object the plan finds unchanged with a dry run
    /// of its apply; marks the drifted ones for the next snapshot and
    /// publishes a `drift_checked` event. Paced by the drift rate limit.
    pub async fn sweep_drift(&self) -> Result<DriftReport> {
        let pacer = Pacer::one_at_a_time(self.settings().drift_checks_per_second, self.pause());
        let mut kinds = Kinds::new(self.client().clone());
        // NB: not under the snapshot lock: a sweep may take long, and one
        // that races a snapshot at worst marks an object the snapshot just
        // fixed, which costs one extra apply.
        let (prepared, live) =
            prepare_with_live(self.database(), &mut kinds, &self.settings().keycloak).await?;
        let plan = plan(&prepared.desired, &prepared.observed, &prepared.inventory);
        let bodies: BTreeMap<&ResourcePath, &Value> = prepared
            .desired
            .iter()
            .map(|resource| (&resource.path, &resource.body))
            .collect();
        let mut report = DriftReport::default();
        for item in plan.items.iter().filter(|i| i.action == Action::Unchanged) {
            if let Some(keycloak) = bi_model::keycloak::KeycloakPath::of(&item.path) {
                let (Some(body), Some(live)) = (
                    bodies.get(&item.path),
                    prepared.keycloak_live.get(&item.path),
                ) else {
                    continue;
                };
                report.checked += 1;
                let kept = bi_model::keycloak::kept(keycloak.kind, body);
                let fields = bi_model::keycloak::drifted(&kept, live);
                if fields.is_empty() {
                    report.clean.push(item.path.clone());
                } else {
                    report.drifted.push(Drift {
                        path: item.path.clone(),
                        fields,
                    });
                }
                continue;
            }
            let (Some(body), Some(live)) = (bodies.get(&item.path), live.get(&item.path)) else {
                continue;
            };
            report.checked += 1;
            match dry_run(&mut kinds, &item.path, body, &pacer, self).await {
                Ok(applied) => {
                    let fields: Vec<String> =
                        changed_fields(&comparable(live), &comparable(&applied))
                            .into_iter()
                            .map(|change| change.pointer)
                            .filter(|pointer| sets(body, pointer))
                            .collect();
                    if fields.is_empty() {
                        report.clean.push(item.path.clone());
                    } else {
                        report.drifted.push(Drift {
                            path: item.path.clone(),
                            fields,
                        });
                    }
                }
                Err(message) => report.errors.push((item.path.clone(), message)),
            }
        }
        let apps: BTreeMap<ResourcePath, String> = prepared
            .desired
            .iter()
            .map(|resource| (resource.path.clone(), resource.app.clone()))
            .collect();
        let at = chrono::Utc::now();
        crate::drift::record_sweep(self.database(), &report.drifted, &report.clean, &apps, at)
            .await?;
        report.report_only = crate::drift::report_only(self.database()).await?;
        if !report.drifted.is_empty() {
            tracing::warn!(
                drifted = ?report.drifted.iter().map(|d| d.path.to_string()).collect::<Vec<_>>(),
                report_only = report.report_only,
                "managed objects were changed outside bi"
            );
        }
        if !report.report_only {
            self.mark_drifted(report.drifted.iter().map(|drift| drift.path.clone()));
        }
        self.set_last_sweep(crate::drift::SweepSummary {
            at: at.into(),
            checked: report.checked,
            drifted: report.drifted.len(),
            errors: report
                .errors
                .iter()
                .map(|(path, why)| format!("{path}: {why}"))
                .collect(),
        });
        self.events().publish(Event::DriftChecked {
            checked: report.checked,
            drifted: report.drifted.clone(),
        });
        Ok(report)
    }
}

/// The object the API server would keep if bi applied `body` now.
async fn dry_run(
    kinds: &mut Kinds,
    path: &ResourcePath,
    body: &Value,
    pacer: &Pacer,
    engine: &Engine,
) -> std::result::Result<Value, String> {
    let api = match kinds.api_for(path).await {
        Ok(Some(api)) => api,
        Ok(None) => return Err(format!("the cluster does not serve {}", path.kind)),
        Err(err) => return Err(err.to_string()),
    };
    let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    let patch = Patch::Apply(body);
    let (result, _) = with_retries(engine.settings(), pacer, || {
        api.patch(&path.name, &params, &patch)
    })
    .await;
    let object: DynamicObject = result.map_err(|err| err.to_string())?;
    serde_json::to_value(&object).map_err(|err| {
        Error::Encode {
            what: "dry-run object",
            source: err,
        }
        .to_string()
    })
}

/// Whether bi's body sets the field at `pointer` (or an atomic value or list
/// holding it).
// NB: the listing compared with is read when the sweep starts, seconds
// before an object's dry run: a field another manager writes meanwhile (the
// controller manager's revision annotation, a label someone adds) differs
// between the two without being drift. Only fields bi applies can drift.
fn sets(body: &Value, pointer: &str) -> bool {
    if body.pointer(pointer).is_some() {
        return true;
    }
    let mut prefix = pointer;
    while let Some((head, _)) = prefix.rsplit_once('/') {
        if let Some(value) = body.pointer(head)
            && !value.is_object()
        {
            return true;
        }
        prefix = head;
    }
    false
}

/// `object` without what the API server changes on every write and without
/// `status` (controllers own it).
fn comparable(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_FIELDS {
            metadata.remove(field);
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_fields_bis_body_sets_can_drift() {
        let body = json!({
            "metadata": { "name": "a", "labels": { "app": "a" } },
            "spec": { "replicas": 1, "args": ["--x"] },
        });
        assert!(sets(&body, "/spec/replicas"));
        assert!(sets(&body, "/metadata/labels/app"));
        assert!(
            sets(&body, "/spec/args/1"),
            "a list bi sets is bi's as a whole"
        );
        assert!(!sets(&body, "/metadata/labels/team"));
        assert!(!sets(
            &body,
            "/metadata/annotations/deployment.kubernetes.io~1revision"
        ));
    }

    #[test]
    fn server_maintained_fields_and_status_never_count_as_drift() {
        let live = json!({
            "metadata": { "name": "a", "resourceVersion": "7", "generation": 3, "uid": "x" },
            "spec": { "replicas": 1 },
            "status": { "ready": 1 },
        });
        let applied = json!({
            "metadata": { "name": "a", "resourceVersion": "8", "generation": 4, "uid": "x" },
            "spec": { "replicas": 1 },
        });
        assert!(changed_fields(&comparable(&live), &comparable(&applied)).is_empty());
        let edited = json!({ "metadata": { "name": "a" }, "spec": { "replicas": 5 } });
        let fields: Vec<String> = changed_fields(&comparable(&edited), &comparable(&applied))
            .into_iter()
            .map(|change| change.pointer)
            .collect();
        assert_eq!(fields, vec!["/spec/replicas".to_owned()]);
    }
}
