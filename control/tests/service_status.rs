//! A service's status as the services page shows it: its workloads'
//! readiness, the Events the cluster records about them, bi's writes, and
//! the connection Secrets it can read (published in the service's own
//! namespace, where its containers can read them) — on the sandbox and on a
//! real kube-apiserver. The real server has no nodes: no pod runs, and the
//! operators' admission webhooks (CloudNativePG's, Knative's) never answer,
//! so the objects they intercept wait for them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use bi_control::cache::Cache;
use bi_control::engine::{Engine, EngineSettings, SnapshotStatus};
use bi_control::events::EventBus;
use bi_control::health::Readiness;
use bi_control::service_status;
use bi_model::catalog::BatteryKind;
use bi_model::generate::Owned;
use bi_model::image::ImageRef;
use bi_model::objects::{
    EnvVar, ObjectKind, PostgresCluster, PostgresDatabase, PostgresUser, TraditionalService,
};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};
use support::cluster::{on_every_cluster, on_real};

/// An engine that waits only briefly for a webhook that cannot answer.
async fn engine(db: &bi_control::Database, client: &kube::Client) -> Engine {
    let settings = EngineSettings {
        webhook_wait: Duration::from_secs(1),
        ..EngineSettings::default()
    };
    Engine::with_settings(db.clone(), client.clone(), settings, EventBus::new())
        .await
        .unwrap()
}

/// Reads the status of `name` until `settled` accepts it (at most 5 s).
async fn status_once(
    db: &bi_control::Database,
    client: &kube::Client,
    kind: ObjectKind,
    name: &str,
    settled: impl Fn(&service_status::ServiceStatus) -> bool,
) -> service_status::ServiceStatus {
    // NB: a new cache at each call: its first read lists afresh.
    let cache = &Cache::new(client.clone());
    let mut status = service_status::read(db, cache, kind, name).await.unwrap();
    for _ in 0..50 {
        if settled(&status) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = service_status::read(db, cache, kind, name).await.unwrap();
    }
    status
}

#[tokio::test]
async fn a_service_shows_its_workloads_events_writes_and_connection_secrets() {
    on_every_cluster(
        "a_service_shows_its_workloads_events_writes_and_connection_secrets",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            bi_control::desired_state::change(&t.db, "test", "a shop", |s| {
                s.install(&[BatteryKind::TraditionalServices, BatteryKind::CloudnativePg])
                    .unwrap();
                s.postgres_clusters.push(Owned::unowned(PostgresCluster {
                    name: "main".to_owned(),
                    users: vec![PostgresUser {
                        name: "app".to_owned(),
                        roles: Vec::new(),
                    }],
                    databases: vec![PostgresDatabase {
                        name: "app".to_owned(),
                        owner: "app".to_owned(),
                    }],
                    ..PostgresCluster::default()
                }));
                let mut web =
                    TraditionalService::new("web", ImageRef::parse("nginx:1.27").unwrap());
                web.replicas = 2;
                web.env = vec![EnvVar::secret(
                    "DATABASE_URL",
                    "postgres-main-app-connection",
                    "url",
                )];
                s.traditional_services.push(Owned::unowned(web));
                Ok(())
            })
            .await
            .unwrap();
            let client = cluster.client();

            let before = service_status::read(
                &t.db,
                &Cache::new(client.clone()),
                ObjectKind::TraditionalService,
                "web",
            )
            .await
            .unwrap();
            assert_eq!(before.readiness, Readiness::Missing);
            assert_eq!(before.outcomes, []);
            let namespace = before.namespace.clone().unwrap();
            let listed: Vec<&str> = before
                .connection_secrets
                .iter()
                .map(|secret| secret.name.as_str())
                .collect();
            assert_eq!(listed, ["postgres-main-app-connection"]);
            assert!(
                before.connection_secrets[0]
                    .keys
                    .contains(&"url".to_owned())
            );

            let report = engine(&t.db, &client).await.snapshot("test").await.unwrap();

            // The Secret the service reads exists in its own namespace too.
            let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
            let copy = secrets.get("postgres-main-app-connection").await.unwrap();
            assert!(copy.data.unwrap().contains_key("url"));

            if cluster.is_real() {
                // NB: CloudNativePG's webhook intercepts its Cluster and
                // never answers without a node: that object waits.
                assert_eq!(report.status, SnapshotStatus::Waiting, "{report:#?}");
            } else {
                assert_eq!(report.status, SnapshotStatus::Succeeded, "{report:#?}");
            }

            let real = cluster.is_real();
            let after = status_once(&t.db, &client, ObjectKind::TraditionalService, "web", |s| {
                (real || s.readiness == Readiness::Ready) && !s.events.is_empty()
            })
            .await;
            if real {
                // The Deployment is there and its controller scaled a
                // ReplicaSet, but with no node no pod runs: 0 of 2 ready.
                // Only a cluster with nodes shows it ready.
                assert_eq!(after.readiness, Readiness::Progressing, "{after:#?}");
                assert_eq!(after.workloads[0].ready, Some(0));
            } else {
                assert_eq!(after.readiness, Readiness::Ready, "{after:#?}");
                assert_eq!(after.workloads[0].ready, Some(2));
            }
            let event = &after.events[0];
            assert_eq!(event.reason, "ScalingReplicaSet");
            assert_eq!(event.object, "Deployment web");
            assert!(event.message.contains("to 2"), "{event:?}");
            assert!(
                after
                    .outcomes
                    .iter()
                    .any(|o| o.outcome == "created" && o.path.contains("Deployment")),
                "{:?}",
                after.outcomes
            );

            let refused = service_status::read(
                &t.db,
                &Cache::new(client.clone()),
                ObjectKind::PostgresCluster,
                "main",
            )
            .await;
            assert!(refused.is_err());
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_knative_service_is_missing_until_applied_then_ready_with_its_url() {
    use bi_model::objects::KnativeService;

    on_every_cluster(
        "a_knative_service_is_missing_until_applied_then_ready_with_its_url",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            bi_control::desired_state::change(&t.db, "test", "a gateway", |s| {
                s.install(&[BatteryKind::Knative]).unwrap();
                s.knative_services.push(Owned::unowned(KnativeService::new(
                    "gateway",
                    ImageRef::parse("ghcr.io/acme/gateway:2.1").unwrap(),
                )));
                Ok(())
            })
            .await
            .unwrap();
            let client = cluster.client();
            // NB: a new cache at each read: its first read lists afresh.
            let read = || {
                let (db, cache) = (t.db.clone(), Cache::new(client.clone()));
                async move {
                    service_status::read(&db, &cache, ObjectKind::KnativeService, "gateway").await
                }
            };

            let before = read().await.unwrap();
            assert_eq!(before.readiness, Readiness::Missing);
            assert_eq!(before.url, None);

            let report = engine(&t.db, &client).await.snapshot("test").await.unwrap();
            if cluster.is_real() {
                // NB: Knative's mutating webhook (upstream's rules) intercepts
                // its Services, and no webhook pod runs on realk8s: the
                // Service waits for it, by name, and stays missing. Only a
                // cluster with nodes shows it created, then ready with its URL.
                assert_eq!(report.status, SnapshotStatus::Waiting, "{report:#?}");
                let (_, outcome) = report
                    .outcomes
                    .iter()
                    .find(|(path, _)| path.api_version.starts_with("serving.knative.dev/"))
                    .unwrap();
                assert!(
                    outcome
                        .message()
                        .is_some_and(|m| m.contains("webhook.serving.knative.dev")),
                    "{outcome}"
                );
                let after = read().await.unwrap();
                assert_eq!(after.readiness, Readiness::Missing, "{after:#?}");
                cluster.shutdown().await;
                return;
            }
            assert_eq!(report.status, SnapshotStatus::Succeeded, "{report:#?}");
            let after = status_once(&t.db, &client, ObjectKind::KnativeService, "gateway", |s| {
                s.readiness == Readiness::Ready
            })
            .await;
            assert_eq!(after.readiness, Readiness::Ready, "{after:#?}");
            assert_eq!(after.condition.as_deref(), Some("Ready: True"));
            let namespace = after.namespace.clone().unwrap();
            assert_eq!(
                after.url.as_deref(),
                Some(format!("http://gateway.{namespace}.svc.cluster.local").as_str())
            );
            cluster.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_knative_service_without_a_ready_condition_is_progressing() {
    use bi_model::objects::KnativeService;

    on_real(
        "a_knative_service_without_a_ready_condition_is_progressing",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            bi_control::desired_state::change(&t.db, "test", "a gateway", |s| {
                s.install(&[BatteryKind::Knative]).unwrap();
                s.knative_services.push(Owned::unowned(KnativeService::new(
                    "gateway",
                    ImageRef::parse("ghcr.io/acme/gateway:2.1").unwrap(),
                )));
                Ok(())
            })
            .await
            .unwrap();
            let client = cluster.client();
            let report = engine(&t.db, &client).await.snapshot("test").await.unwrap();
            assert_eq!(report.status, SnapshotStatus::Waiting, "{report:#?}");
            // NB: Knative's webhooks cannot answer here (no pod runs), so the
            // test takes them away and creates the Service bi generated
            // itself. No Knative controller runs either, so it never gets a
            // Ready condition: it has not started yet.
            for plural in [
                "mutatingwebhookconfigurations",
                "validatingwebhookconfigurations",
            ] {
                let resource = kube::discovery::ApiResource {
                    group: "admissionregistration.k8s.io".into(),
                    version: "v1".into(),
                    api_version: "admissionregistration.k8s.io/v1".into(),
                    kind: String::new(),
                    plural: plural.into(),
                };
                let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
                for object in api.list(&Default::default()).await.unwrap() {
                    let name = object.metadata.name.unwrap_or_default();
                    if name.contains("knative.dev") {
                        api.delete(&name, &Default::default()).await.unwrap();
                    }
                }
            }
            let (_, state) = bi_control::desired_state::current(&t.db).await.unwrap();
            let generated =
                bi_model::generate::generate(&state, bi_model::generate::Secrets::Preview).unwrap();
            let service = generated
                .iter()
                .find(|r| {
                    r.path.api_version.starts_with("serving.knative.dev/")
                        && r.path.kind == "Service"
                })
                .unwrap();
            let resource = kube::discovery::ApiResource {
                group: "serving.knative.dev".into(),
                version: "v1".into(),
                api_version: "serving.knative.dev/v1".into(),
                kind: "Service".into(),
                plural: "services".into(),
            };
            let api: Api<DynamicObject> = Api::namespaced_with(
                client.clone(),
                service.path.namespace.as_deref().unwrap(),
                &resource,
            );
            api.patch(
                &service.path.name,
                &kube::api::PatchParams::apply("test").force(),
                &kube::api::Patch::Apply(&service.body),
            )
            .await
            .unwrap();
            let after = service_status::read(
                &t.db,
                &Cache::new(client.clone()),
                ObjectKind::KnativeService,
                "gateway",
            )
            .await
            .unwrap();
            assert_eq!(after.readiness, Readiness::Progressing, "{after:#?}");
            cluster.shutdown().await;
        },
    )
    .await;
}
