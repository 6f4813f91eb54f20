//! bi on a real Kubernetes API server (`../shared/realk8s`): every battery
//! the catalog offers on a provided cluster is installed one at a time, each
//! followed by a snapshot; every generated object passes a strict
//! server-side dry run; a second snapshot writes nothing, as counted by the
//! API server itself; uninstalling deletes bi's objects and leaves an
//! unmanaged one alone. Every object at its defaults and at its largest
//! passes a strict dry run against the operators' own CRDs.
//!
//! No pod runs there, so an operator's admission webhook never answers: the
//! objects it intercepts must be recorded as waiting for it, by name. Nor
//! does Keycloak ever start: Single Sign-On's Keycloak items must be
//! recorded as waiting for Keycloak, at the address bi tried.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../sandbox/tests/realk8s/mod.rs"]
mod realk8s;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use bi_control::Database;
use bi_control::desired_state;
use bi_control::engine::{Engine, EngineSettings, Outcome, SnapshotStatus};
use bi_control::events::EventBus;
use bi_model::catalog::battery_core::ControlServerDatabase;
use bi_model::catalog::{BatteryConfig, BatteryKind, ClusterProvider};
use bi_model::generate::{Resource, Secrets, generate};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams, ValidationDirective};
use kube::core::GroupVersionKind;
use kube::discovery::pinned_kind;
use realk8s::{RealApiServer, WriteCount};
use serde_json::json;

/// Settings for a cluster where no webhook ever answers: a short wait.
fn settings() -> EngineSettings {
    EngineSettings {
        webhook_wait: Duration::from_secs(2),
        base_backoff: Duration::from_millis(20),
        keycloak_wait: Duration::from_secs(1),
        ..EngineSettings::default()
    }
}

/// Whether a waiting object waits for what only a pod could serve here: an
/// admission webhook, or Keycloak (at its in-cluster address).
fn waits_for_a_pod(message: &str) -> bool {
    message.contains("webhook") || message.starts_with("waiting for Keycloak at http://keycloak.")
}

/// The batteries a provided cluster is offered, in catalog order.
fn offered() -> Vec<BatteryKind> {
    BatteryKind::ALL
        .into_iter()
        .filter(|kind| kind.info().offered_on(ClusterProvider::Provided))
        .collect()
}

/// The resources the current desired state generates.
async fn generated(db: &Database) -> Vec<Resource> {
    let (_, state) = desired_state::current(db).await.unwrap();
    let secrets = desired_state::secrets(db).await.unwrap();
    generate(&state, Secrets::Stored(secrets.as_map())).unwrap()
}

/// `group/plural` of every type in `resources`, as the API server's metrics
/// name them.
async fn resource_types(client: &kube::Client, resources: &[Resource]) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for resource in resources {
        let path = &resource.path;
        if !seen.insert((path.api_version.clone(), path.kind.clone())) {
            continue;
        }
        let (group, version) = path
            .api_version
            .rsplit_once('/')
            .unwrap_or(("", &path.api_version));
        let gvk = GroupVersionKind::gvk(group, version, &path.kind);
        if let Ok((found, _)) = pinned_kind(client, &gvk).await {
            types.insert(format!("{group}/{}", found.plural));
        }
    }
    types
}

/// The dynamic API of `path`'s object, or why its type is not served.
async fn api_for(
    client: &kube::Client,
    path: &bi_model::generate::ResourcePath,
) -> Result<Api<DynamicObject>, kube::Error> {
    let (group, version) = path
        .api_version
        .rsplit_once('/')
        .unwrap_or(("", &path.api_version));
    let gvk = GroupVersionKind::gvk(group, version, &path.kind);
    let (api_resource, capabilities) = pinned_kind(client, &gvk).await?;
    Ok(match (&capabilities.scope, &path.namespace) {
        (kube::discovery::Scope::Namespaced, Some(ns)) => {
            Api::namespaced_with(client.clone(), ns, &api_resource)
        }
        _ => Api::all_with(client.clone(), &api_resource),
    })
}

#[tokio::test]
async fn every_battery_installs_one_at_a_time_on_a_real_api_server() {
    let test = "every_battery_installs_one_at_a_time_on_a_real_api_server";
    let Some(server) = RealApiServer::fresh(test) else {
        return;
    };
    let client = server.client().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bi.db").display());
    let db = Database::connect(&url, None).await.unwrap();
    db.migrate().await.unwrap();
    desired_state::change(&db, "test", "a provided cluster", |state| {
        state.provider = ClusterProvider::Provided;
        Ok(())
    })
    .await
    .unwrap();
    let engine = Engine::with_settings(db.clone(), client.clone(), settings(), EventBus::new())
        .await
        .unwrap();

    // Something bi does not manage, which no snapshot may touch.
    let unmanaged: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": "not-bis", "labels": { "team": "ops" } },
        "data": { "keep": "me" },
    }))
    .unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    configmaps
        .create(&PostParams::default(), &unmanaged)
        .await
        .unwrap();

    let mut results = Vec::new();
    let mut problems = Vec::new();
    for kind in offered() {
        desired_state::change(&db, "test", &format!("install {}", kind.id()), |state| {
            state.install(&[kind]).expect("the catalog has no cycle");
            Ok(())
        })
        .await
        .unwrap();
        let started = Instant::now();
        let report = match engine.snapshot("test").await {
            Ok(report) => report,
            Err(err) => {
                problems.push(format!("{}: the snapshot did not run: {err}", kind.id()));
                continue;
            }
        };
        let mut waiting_for = BTreeSet::new();
        for (path, outcome) in &report.outcomes {
            match outcome {
                Outcome::Created | Outcome::Updated | Outcome::Unchanged => {}
                Outcome::Waiting(message) => {
                    assert!(
                        waits_for_a_pod(message),
                        "{path}: waits without naming a webhook or Keycloak: {message}"
                    );
                    let what = if message.contains("webhook") {
                        message.split(':').next().unwrap_or_default()
                    } else {
                        "waiting for Keycloak"
                    };
                    waiting_for.insert(what.to_owned());
                }
                other => problems.push(format!("{}: {path}: {other}", kind.id())),
            }
        }
        let line = format!(
            "{:<30} {:>9} in {:>5.1}s: {} created, {} updated, {} unchanged, {} failed, {} waiting{}",
            kind.id(),
            report.status.as_str(),
            started.elapsed().as_secs_f64(),
            report.counts.created,
            report.counts.updated,
            report.counts.unchanged,
            report.counts.failed,
            report.counts.waiting,
            if waiting_for.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    waiting_for.into_iter().collect::<Vec<_>>().join("; ")
                )
            }
        );
        eprintln!("{line}");
        results.push(line);
    }
    // The control server moves to a PostgreSQL cluster of its own: its
    // Cluster, connection Secrets and Deployment are accepted too (the
    // Cluster waits for CloudNativePG's webhook, which no pod serves here).
    desired_state::change(&db, "test", "bi's own database on postgres", |state| {
        if let Some(BatteryConfig::BatteryCore(core)) =
            state.batteries.get_mut(&BatteryKind::BatteryCore)
        {
            core.database = ControlServerDatabase::Postgres;
        }
        Ok(())
    })
    .await
    .unwrap();
    let report = engine.snapshot("test").await.unwrap();
    let mut moved = Vec::new();
    for (path, outcome) in &report.outcomes {
        match outcome {
            Outcome::Created | Outcome::Updated => {
                moved.push(format!("{} {}", path.kind, path.name))
            }
            Outcome::Unchanged => {}
            // NB: the sqlite URL's Secret goes; the volume with the file stays.
            Outcome::Deleted if path.kind == "Secret" && path.name == "control-server-database" => {
            }
            Outcome::Waiting(message) if waits_for_a_pod(message) => {
                moved.push(format!("{} {} (waiting)", path.kind, path.name))
            }
            other => problems.push(format!("battery_core database: {path}: {other}")),
        }
    }
    moved.sort();
    eprintln!("battery_core on postgres: {}", moved.join(", "));
    assert!(
        moved
            .iter()
            .any(|m| m.starts_with("Cluster control-server")),
        "{moved:?}"
    );
    assert!(
        moved.iter().any(|m| m == "Deployment control-server"),
        "{moved:?}"
    );
    assert!(
        problems.is_empty(),
        "on a real API server:\n{}",
        problems.join("\n")
    );

    // Every generated object passes a strict server-side dry run (or waits
    // for a webhook that cannot answer here).
    let desired = generated(&db).await;
    let mut refused = Vec::new();
    let mut dry_run_waiting = 0;
    let params = PatchParams {
        dry_run: true,
        force: true,
        field_manager: Some("bi-dry-run".to_owned()),
        field_validation: Some(ValidationDirective::Strict),
    };
    for resource in &desired {
        let path = &resource.path;
        let api = match api_for(&client, path).await {
            Ok(api) => api,
            Err(err) => {
                refused.push(format!("{path}: not served: {err}"));
                continue;
            }
        };
        match api
            .patch(&path.name, &params, &Patch::Apply(&resource.body))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.message.contains("failed calling webhook") => {
                dry_run_waiting += 1;
            }
            Err(err) => refused.push(format!("{path}: {err}")),
        }
    }
    eprintln!(
        "strict dry run: {} objects, {} accepted, {} wait for a webhook, {} refused",
        desired.len(),
        desired.len() - refused.len() - dry_run_waiting,
        dry_run_waiting,
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "a strict server-side dry run refuses:\n{}",
        refused.join("\n")
    );

    // A second snapshot writes nothing: the API server's own count.
    let types = resource_types(&client, &desired).await;
    let before = server.write_requests(&client).await;
    let second = engine.snapshot("test").await.unwrap();
    let after = server.write_requests(&client).await;
    let writes: WriteCount = after.since(&before, |resource| types.contains(resource));
    eprintln!(
        "second snapshot: {} objects, status {}, {} write requests (apiserver_request_total) {:?}",
        second.outcomes.len(),
        second.status.as_str(),
        writes.total(),
        writes.0
    );
    assert_eq!(writes.total(), 0, "{:?}", writes.0);
    assert!(
        matches!(
            second.status,
            SnapshotStatus::Succeeded | SnapshotStatus::Waiting
        ),
        "{second:#?}"
    );

    // Uninstalling deletes bi's objects; the unmanaged one stays.
    let removable: Vec<BatteryKind> = offered()
        .into_iter()
        .filter(|kind| kind.info().removable)
        .collect();
    desired_state::change(&db, "test", "uninstall everything", |state| {
        for kind in &removable {
            state.batteries.remove(kind);
        }
        Ok(())
    })
    .await
    .unwrap();
    let kept = generated(&db).await;
    let kept_paths: BTreeSet<_> = kept.iter().map(|r| r.path.clone()).collect();
    let removed = engine.snapshot("test").await.unwrap();
    eprintln!(
        "uninstall: status {}, {} deleted, {} failed",
        removed.status.as_str(),
        removed.counts.deleted,
        removed.counts.failed
    );
    let failures: Vec<String> = removed
        .outcomes
        .iter()
        .filter(|(_, outcome)| outcome.is_failed())
        .map(|(path, outcome)| format!("{path}: {outcome}"))
        .collect();
    assert!(
        failures.is_empty(),
        "uninstalling:\n{}",
        failures.join("\n")
    );
    let mut left = Vec::new();
    for resource in desired.iter().filter(|r| !kept_paths.contains(&r.path)) {
        let path = &resource.path;
        let Ok(api) = api_for(&client, path).await else {
            continue; // its CRD is gone, and with it every object of the kind
        };
        if let Some(object) = api.get_opt(&path.name).await.unwrap() {
            // NB: a namespace the controller manager is still emptying is
            // Terminating: deleted, not yet gone.
            if object.metadata.deletion_timestamp.is_none() {
                left.push(path.to_string());
            }
        }
    }
    assert!(
        left.is_empty(),
        "left behind after uninstalling:\n{}",
        left.join("\n")
    );
    let still = configmaps.get("not-bis").await.unwrap();
    assert_eq!(
        still.data,
        Some(BTreeMap::from([("keep".to_owned(), "me".to_owned())]))
    );
    eprintln!("per battery:\n{}", results.join("\n"));
}

/// Every object bi generates with every object kind at its defaults and at
/// its largest (`bi_model::examples`) is accepted by a real API server under
/// a strict server-side dry run, custom resources checked by the operators'
/// own CRDs. Only the CRDs and Namespaces are applied for real; no webhook
/// is registered, so each verdict is the API server's own schema check.
#[tokio::test]
async fn every_object_at_the_limits_passes_a_strict_dry_run_on_a_real_api_server() {
    let test = "every_object_at_the_limits_passes_a_strict_dry_run_on_a_real_api_server";
    let Some(server) = RealApiServer::fresh(test) else {
        return;
    };
    let client = server.client().await;
    let apply = PatchParams {
        force: true,
        field_manager: Some("bi-test".to_owned()),
        field_validation: Some(ValidationDirective::Strict),
        ..PatchParams::default()
    };
    let dry_run = PatchParams {
        dry_run: true,
        ..apply.clone()
    };
    let mut refused = Vec::new();
    let mut accepted = BTreeMap::<&str, usize>::new();
    for provider in [ClusterProvider::Kind, ClusterProvider::Aws] {
        let state = bi_model::examples::at_the_limits(provider);
        let resources = generate(&state, Secrets::Preview).unwrap();
        let (setup, rest): (Vec<_>, Vec<_>) = resources.iter().partition(|resource| {
            matches!(
                resource.path.kind.as_str(),
                "Namespace" | "CustomResourceDefinition"
            )
        });
        for resource in setup {
            let api = api_for(&client, &resource.path).await.unwrap();
            api.patch(&resource.path.name, &apply, &Patch::Apply(&resource.body))
                .await
                .unwrap_or_else(|err| panic!("{}: {err}", resource.path));
        }
        for resource in rest {
            let path = &resource.path;
            // NB: a CRD just applied is served once it is established.
            let deadline = Instant::now() + Duration::from_secs(60);
            let api = loop {
                match api_for(&client, path).await {
                    Ok(api) => break Some(api),
                    Err(_) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(err) => {
                        refused.push(format!("{provider:?} {path}: not served: {err}"));
                        break None;
                    }
                }
            };
            let Some(api) = api else { continue };
            match api
                .patch(&path.name, &dry_run, &Patch::Apply(&resource.body))
                .await
            {
                Ok(_) => {
                    *accepted
                        .entry(if path.name.contains("max-") {
                            "at their largest"
                        } else {
                            "others"
                        })
                        .or_default() += 1;
                }
                Err(err) => refused.push(format!("{provider:?} {path}: {err}")),
            }
        }
    }
    eprintln!(
        "strict dry run at the limits: accepted {accepted:?}, {} refused",
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "a real API server refuses, under strict validation:\n{}",
        refused.join("\n")
    );
    assert!(
        accepted
            .get("at their largest")
            .copied()
            .unwrap_or_default()
            > 20,
        "{accepted:?}"
    );
}
