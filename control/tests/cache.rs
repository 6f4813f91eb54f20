//! The cluster cache follows the cluster by watches, on the sandbox and on
//! a real kube-apiserver: objects created, changed and deleted show up
//! without a new list; a kind whose CRD is not there yet reads as empty and
//! fills once the CRD is created; and reading health again and again asks
//! the API server nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use bi_control::cache::{Cache, CachedKind, WatchState};
use bi_control::health;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;
use support::cluster::on_sandbox_and_real;

/// Waits (at most 10 s) until `check` accepts what the cache lists of `kind`.
async fn until(
    cache: &Cache,
    kind: &CachedKind,
    what: &str,
    check: impl Fn(&[std::sync::Arc<DynamicObject>]) -> bool,
) {
    for _ in 0..100 {
        if check(&cache.list(kind).await.unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the cache never showed {what}: {:?}", cache.watches());
}

fn named(objects: &[std::sync::Arc<DynamicObject>], name: &str) -> Option<DynamicObject> {
    objects
        .iter()
        .find(|o| {
            o.metadata.name.as_deref() == Some(name)
                && o.metadata.namespace.as_deref() == Some("cached")
        })
        .map(|o| (**o).clone())
}

#[tokio::test]
async fn the_cache_follows_changes_and_kinds_that_arrive_later() {
    on_sandbox_and_real(
        "the_cache_follows_changes_and_kinds_that_arrive_later",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            let client = cluster.client();
            let cache = Cache::new(client.clone());
            let namespaces: Api<Namespace> = Api::all(client.clone());
            namespaces
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(json!({ "metadata": { "name": "cached" } })).unwrap(),
                )
                .await
                .unwrap();
            let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "cached");
            let map: ConfigMap = serde_json::from_value(json!({
                "metadata": { "name": "settings", "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"a\":\"copy\"}",
                    "kept": "yes",
                } },
                "data": { "colour": "blue" },
            }))
            .unwrap();
            maps.create(&PostParams::default(), &map).await.unwrap();

            // The first read lists, so it holds what is there.
            let kind = CachedKind::new("v1", "ConfigMap");
            let first = named(&cache.list(&kind).await.unwrap(), "settings").unwrap();
            assert_eq!(first.data["data"]["colour"], "blue");
            assert_eq!(first.metadata.managed_fields, None, "managedFields are not kept");
            let annotations = first.metadata.annotations.clone().unwrap_or_default();
            assert_eq!(annotations.get("kept").map(String::as_str), Some("yes"));
            assert!(
                !annotations.contains_key("kubectl.kubernetes.io/last-applied-configuration"),
                "the last-applied copy is not kept: {annotations:?}"
            );
            let seen = cache.changes_seen();

            // Later changes arrive by the watch.
            maps.patch(
                "settings",
                &PatchParams::default(),
                &Patch::Merge(json!({ "data": { "colour": "green" } })),
            )
            .await
            .unwrap();
            until(&cache, &kind, "the change", |objects| {
                named(objects, "settings").is_some_and(|o| o.data["data"]["colour"] == "green")
            })
            .await;
            maps.delete("settings", &DeleteParams::default()).await.unwrap();
            until(&cache, &kind, "the deletion", |objects| {
                named(objects, "settings").is_none()
            })
            .await;
            assert!(cache.changes_seen() >= seen + 2);

            // A kind the cluster does not serve reads as empty, then fills
            // once its CRD is there.
            let widgets = CachedKind::new("example.com/v1", "Widget");
            let absent = cache.read(&widgets).await;
            assert_eq!(absent.state, WatchState::Absent);
            assert!(absent.objects.is_empty());
            let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
            let crd: CustomResourceDefinition = serde_json::from_value(json!({
                "metadata": { "name": "widgets.example.com" },
                "spec": {
                    "group": "example.com",
                    "names": { "kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList" },
                    "scope": "Namespaced",
                    "versions": [{
                        "name": "v1", "served": true, "storage": true,
                        "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } },
                    }],
                },
            }))
            .unwrap();
            crds.create(&PostParams::default(), &crd).await.unwrap();
            let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"));
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "cached", &resource);
            let widget: DynamicObject = serde_json::from_value(json!({
                "apiVersion": "example.com/v1", "kind": "Widget",
                "metadata": { "name": "w1", "namespace": "cached" },
                "spec": { "size": 3 },
            }))
            .unwrap();
            // NB: a real server serves a new CRD a moment after creating it.
            let mut created = false;
            for _ in 0..50 {
                if api.create(&PostParams::default(), &widget).await.is_ok() {
                    created = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(created, "the Widget CRD was never served");
            until(&cache, &widgets, "the Widget of a CRD created later", |objects| {
                named(objects, "w1").is_some()
            })
            .await;
            assert_eq!(cache.read(&widgets).await.state, WatchState::Synced);

            // Reading health again and again asks the API server nothing.
            health::read(&t.db, &cache).await.unwrap();
            if let Some(sandbox) = cluster.as_sandbox() {
                // NB: the watches themselves run in the background (a watch
                // starts again after each timeout); a read asks nothing.
                let reads = |counts: &bi_sandbox::RequestCounts| -> u64 {
                    counts
                        .iter()
                        .filter(|((verb, _), _)| verb.as_str() != "watch")
                        .map(|(_, n)| *n)
                        .sum()
                };
                let before = sandbox.requests();
                for _ in 0..200 {
                    health::read(&t.db, &cache).await.unwrap();
                }
                let after = sandbox.requests();
                assert_eq!(
                    reads(&after),
                    reads(&before),
                    "health read the API server: {before:?} then {after:?}"
                );
            }
            cluster.shutdown().await;
        },
    )
    .await;
}
