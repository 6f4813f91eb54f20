//! The Kubernetes explorer, from the cluster cache, on the sandbox and on a
//! real kube-apiserver: kinds with their objects counted, lists filtered by
//! namespace, labels and battery, and an object's page with what bi knows
//! of it; a Secret's values never leave.
//!
//! The real API server runs a controller manager but no kubelet: a
//! Deployment gets its ReplicaSet there (a child the page shows), and its
//! pods stay Pending forever; the sandbox settles workloads as ready but
//! makes no ReplicaSets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use bi_control::cache::Cache;
use bi_control::desired_state;
use bi_control::engine::Engine;
use bi_control::explorer::{self, ExplorerQuery};
use bi_model::generate::ResourcePath;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use support::cluster::on_sandbox_and_real;

fn query(kind: &str) -> ExplorerQuery {
    ExplorerQuery {
        kind: kind.to_owned(),
        ..ExplorerQuery::default()
    }
}

#[tokio::test]
async fn the_explorer_lists_filters_and_shows_objects_with_what_bi_knows() {
    on_sandbox_and_real(
        "the_explorer_lists_filters_and_shows_objects_with_what_bi_knows",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            support::install_redis(&t.db).await;
            let client = cluster.client();
            let report = Engine::new(t.db.clone(), client.clone())
                .await
                .unwrap()
                .snapshot("test")
                .await
                .unwrap();
            let cache = Cache::new(client.clone());

            // Kinds: the built-in ones and every kind bi generates.
            let kinds = explorer::kinds(&t.db, &cache).await.unwrap();
            let deployments = kinds.iter().find(|k| k.id == "apps/v1/Deployment").unwrap();
            assert!(
                deployments.objects >= 1 && deployments.managed,
                "{deployments:?}"
            );
            assert_eq!(deployments.state, "synced");
            let pods = kinds.iter().find(|k| k.id == "v1/Pod").unwrap();
            assert!(!pods.managed, "bi generates no pods");
            let redis = kinds
                .iter()
                .find(|k| k.kind == "Redis")
                .expect("the operator's custom resource is a kind of its own");
            assert!(redis.managed && redis.objects == 1, "{redis:?}");

            // A battery's Deployments, by battery, label or namespace. NB:
            // the sandbox reports them ready a moment after the snapshot,
            // and the cache follows.
            let operator = "apps/v1/Deployment/battery-base/redis-operator";
            let wanted = if cluster.is_real() {
                "0/1 ready"
            } else {
                "1/1 ready"
            };
            let by_app_query = ExplorerQuery {
                app: Some("redis".to_owned()),
                ..query("apps/v1/Deployment")
            };
            let mut by_app = explorer::list(&t.db, &cache, &by_app_query).await.unwrap();
            for _ in 0..50 {
                if by_app
                    .objects
                    .iter()
                    .any(|r| r.path == operator && r.status == wanted)
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                by_app = explorer::list(&t.db, &cache, &by_app_query).await.unwrap();
            }
            let row = by_app.objects.iter().find(|r| r.path == operator).unwrap();
            assert!(row.managed && row.app.as_deref() == Some("redis"));
            assert!(
                by_app
                    .objects
                    .iter()
                    .all(|r| r.app.as_deref() == Some("redis"))
            );
            if cluster.is_real() {
                assert_eq!(row.status, "0/1 ready", "no node runs its pod");
            } else {
                assert_eq!(row.status, "1/1 ready");
            }
            let by_label = explorer::list(
                &t.db,
                &cache,
                &ExplorerQuery {
                    labels: Some("battery/app=redis, battery/managed".to_owned()),
                    ..query("apps/v1/Deployment")
                },
            )
            .await
            .unwrap();
            assert_eq!(by_label.objects, by_app.objects);
            let elsewhere = explorer::list(
                &t.db,
                &cache,
                &ExplorerQuery {
                    namespace: Some("kube-system".to_owned()),
                    app: Some("redis".to_owned()),
                    ..query("apps/v1/Deployment")
                },
            )
            .await
            .unwrap();
            assert!(elsewhere.objects.is_empty());
            assert!(by_app.namespaces.contains(&"battery-base".to_owned()));
            let refused = explorer::list(
                &t.db,
                &cache,
                &ExplorerQuery {
                    labels: Some("=oops".to_owned()),
                    ..query("apps/v1/Deployment")
                },
            )
            .await;
            assert!(
                matches!(&refused, Err(bi_control::Error::Invalid(p)) if p.field == "labels"),
                "{refused:?}"
            );

            // By project: the objects of its user objects (the Redis
            // instance once it belongs to `shop`), not the battery's own.
            let redis_kind = kinds.iter().find(|k| k.kind == "Redis").unwrap().id.clone();
            let in_shop = |kind: &str| ExplorerQuery {
                project: Some("shop".to_owned()),
                ..query(kind)
            };
            let before = explorer::list(&t.db, &cache, &in_shop(&redis_kind))
                .await
                .unwrap();
            assert!(before.objects.is_empty(), "{before:?}");
            desired_state::change(&t.db, "test", "move cache to shop", |s| {
                s.projects.push(bi_model::objects::Project {
                    name: "shop".to_owned(),
                    description: String::new(),
                });
                s.redis_instances[0].project = Some("shop".to_owned());
                Ok(())
            })
            .await
            .unwrap();
            let shop = explorer::list(&t.db, &cache, &in_shop(&redis_kind))
                .await
                .unwrap();
            assert_eq!(shop.objects.len(), 1, "{shop:?}");
            assert_eq!(shop.objects[0].app.as_deref(), Some("redis-cache"));
            let operators = explorer::list(&t.db, &cache, &in_shop("apps/v1/Deployment"))
                .await
                .unwrap();
            assert!(
                operators.objects.is_empty(),
                "the operator is the battery's: {operators:?}"
            );

            // One object: YAML, what bi knows, its children.
            let path = explorer::parse_path(operator).unwrap();
            let detail = explorer::object(&t.db, &cache, &path).await.unwrap();
            assert!(detail.yaml.contains("kind: Deployment"), "{}", detail.yaml);
            assert!(!detail.yaml.contains("managedFields"));
            let managed = detail.managed.unwrap();
            assert_eq!(managed.app, "redis");
            assert!(managed.desired);
            assert_eq!(managed.last_write, Some((report.id, "created".to_owned())));
            assert!(managed.applied_hash.is_some());
            if cluster.is_real() {
                // The controller manager made its ReplicaSet, owned by it.
                let mut children = detail.children.clone();
                for _ in 0..50 {
                    if !children.is_empty() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    children = explorer::object(&t.db, &cache, &path)
                        .await
                        .unwrap()
                        .children;
                }
                assert!(
                    children
                        .iter()
                        .any(|c| c.starts_with("apps/v1/ReplicaSet/battery-base/redis-operator-")),
                    "{children:?}"
                );
            }

            // A Secret's values never leave.
            let connection = ResourcePath::new(
                "v1",
                "Secret",
                Some("battery-data"),
                "redis-cache-connection",
            );
            let secret = explorer::object(&t.db, &cache, &connection).await.unwrap();
            let stored = desired_state::secrets(&t.db).await.unwrap();
            let password = stored.get("redis/cache").unwrap();
            assert!(!secret.yaml.contains(password), "{}", secret.yaml);
            assert!(secret.yaml.contains("<redacted>"), "{}", secret.yaml);

            // Something bi does not manage says so; something absent is 404.
            let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
            maps.create(
                &PostParams::default(),
                &serde_json::from_value(
                    json!({ "metadata": { "name": "theirs" }, "data": { "a": "b" } }),
                )
                .unwrap(),
            )
            .await
            .unwrap();
            let theirs = ResourcePath::new("v1", "ConfigMap", Some("default"), "theirs");
            let mut shown = explorer::object(&t.db, &cache, &theirs).await;
            for _ in 0..50 {
                if shown.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                shown = explorer::object(&t.db, &cache, &theirs).await;
            }
            assert_eq!(shown.unwrap().managed, None);
            let missing = ResourcePath::new("v1", "ConfigMap", Some("default"), "nobody");
            assert!(matches!(
                explorer::object(&t.db, &cache, &missing).await,
                Err(bi_control::Error::NotFound(_))
            ));
            cluster.shutdown().await;
        },
    )
    .await;
}
