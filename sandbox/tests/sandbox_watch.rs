//! Watches against the sandbox: kube-rs watchers and reflectors work on it
//! unchanged, and a watch from a resourceVersion sees only later events.
//! Every story also runs on a real kube-apiserver (see `on_both!` at the end).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod realk8s;
#[macro_use]
mod sandbox_support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::core::GroupVersionKind;
use kube::discovery::Discovery;
use kube::runtime::reflector;
use kube::runtime::watcher::{self, Event};
use sandbox_support::{
    Cluster, bounded, configmap, create_established_crd, create_namespace, data, deployment, start,
};
use serde_json::json;

/// The next watcher event that concerns one of `names` (others are skipped:
/// the sandbox may keep objects of its own in a namespace).
async fn next_watcher_event<S>(stream: &mut S, names: &[&str]) -> Event<ConfigMap>
where
    S: Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin,
{
    loop {
        let event = bounded("waiting for a watcher event", stream.next())
            .await
            .expect("the watcher stream does not end")
            .expect("the watcher reports no error");
        let concerns = |cm: &ConfigMap| names.contains(&cm.name_any().as_str());
        match &event {
            Event::Apply(cm) | Event::Delete(cm) | Event::InitApply(cm) if !concerns(cm) => {}
            _ => return event,
        }
    }
}

/// The next added/modified/deleted event of a raw watch that concerns one of
/// `names`, as ("ADDED" | "MODIFIED" | "DELETED", object); bookmarks are skipped.
async fn next_watch_event<S, K>(stream: &mut S, names: &[&str]) -> (&'static str, K)
where
    S: Stream<Item = Result<WatchEvent<K>, kube::Error>> + Unpin,
    K: kube::Resource,
{
    loop {
        let event = bounded("waiting for a watch event", stream.next())
            .await
            .expect("the watch stream does not end")
            .expect("the watch reports no transport error");
        let (kind, object) = match event {
            WatchEvent::Added(o) => ("ADDED", o),
            WatchEvent::Modified(o) => ("MODIFIED", o),
            WatchEvent::Deleted(o) => ("DELETED", o),
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(status) => panic!("the watch reported an error: {status:?}"),
        };
        if names.contains(&object.name_any().as_str()) {
            return (kind, object);
        }
    }
}

/// Asserts no further event for `names` arrives within a short while.
async fn assert_quiet<S, K>(stream: &mut S, names: &[&str])
where
    S: Stream<Item = Result<WatchEvent<K>, kube::Error>> + Unpin,
    K: kube::Resource,
{
    let extra =
        tokio::time::timeout(Duration::from_millis(300), next_watch_event(stream, names)).await;
    if let Ok((kind, object)) = extra {
        panic!("unexpected {kind} event for {}", object.name_any());
    }
}

async fn watcher_sees_added_modified_and_deleted(c: &Cluster) {
    let api = Api::<ConfigMap>::default_namespaced(c.client.clone());
    let mut stream = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    let names = ["app"];

    assert!(matches!(
        next_watcher_event(&mut stream, &names).await,
        Event::Init
    ));
    assert!(matches!(
        next_watcher_event(&mut stream, &names).await,
        Event::InitDone
    ));

    bounded(
        "creating",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "1")]),
        ),
    )
    .await
    .unwrap();
    match next_watcher_event(&mut stream, &names).await {
        Event::Apply(cm) => assert_eq!(data(&cm, "k").as_deref(), Some("1")),
        other => panic!("expected the ADDED object, got {other:?}"),
    }

    bounded(
        "patching",
        api.patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "k": "2" } })),
        ),
    )
    .await
    .unwrap();
    match next_watcher_event(&mut stream, &names).await {
        Event::Apply(cm) => assert_eq!(data(&cm, "k").as_deref(), Some("2")),
        other => panic!("expected the MODIFIED object, got {other:?}"),
    }

    bounded("deleting", api.delete("app", &DeleteParams::default()))
        .await
        .unwrap();
    match next_watcher_event(&mut stream, &names).await {
        Event::Delete(cm) => assert_eq!(cm.name_any(), "app"),
        other => panic!("expected the DELETED object, got {other:?}"),
    }
}

async fn raw_watch_reports_added_modified_and_deleted_types(c: &Cluster) {
    let api = Api::<ConfigMap>::default_namespaced(c.client.clone());
    let list = bounded("listing", api.list(&ListParams::default()))
        .await
        .unwrap();
    let from = list
        .metadata
        .resource_version
        .expect("a list carries a resourceVersion");
    let mut stream = bounded(
        "starting a watch",
        api.watch(&WatchParams::default(), &from),
    )
    .await
    .expect("the watch starts")
    .boxed();
    let names = ["app"];

    bounded(
        "creating",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "1")]),
        ),
    )
    .await
    .unwrap();
    let (kind, added) = next_watch_event(&mut stream, &names).await;
    assert_eq!(kind, "ADDED");
    bounded(
        "patching",
        api.patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "k": "2" } })),
        ),
    )
    .await
    .unwrap();
    let (kind, modified) = next_watch_event(&mut stream, &names).await;
    assert_eq!(kind, "MODIFIED");
    assert_eq!(data(&modified, "k").as_deref(), Some("2"));
    c.assert_newer(&modified, &added);
    bounded("deleting", api.delete("app", &DeleteParams::default()))
        .await
        .unwrap();
    let (kind, deleted) = next_watch_event(&mut stream, &names).await;
    assert_eq!(kind, "DELETED");
    assert_eq!(deleted.uid(), added.uid());
}

async fn watch_from_a_resource_version_receives_only_later_events(c: &Cluster) {
    let api = Api::<ConfigMap>::default_namespaced(c.client.clone());
    for name in ["a", "b"] {
        bounded(
            "creating",
            api.create(&PostParams::default(), &configmap(name, &[], &[("k", "0")])),
        )
        .await
        .unwrap();
    }
    let list = bounded("listing", api.list(&ListParams::default()))
        .await
        .unwrap();
    let from = list
        .metadata
        .resource_version
        .expect("a list carries a resourceVersion");

    // These happen before the watch starts: it must replay them from `from`.
    bounded(
        "creating",
        api.create(&PostParams::default(), &configmap("c", &[], &[])),
    )
    .await
    .unwrap();
    bounded(
        "patching",
        api.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "k": "1" } })),
        ),
    )
    .await
    .unwrap();

    let mut stream = bounded(
        "starting a watch",
        api.watch(&WatchParams::default(), &from),
    )
    .await
    .expect("the watch starts")
    .boxed();
    let names = ["a", "b", "c"];

    // And this one happens while it runs.
    bounded("deleting", api.delete("b", &DeleteParams::default()))
        .await
        .unwrap();

    let mut seen = Vec::new();
    for _ in 0..3 {
        let (kind, object) = next_watch_event(&mut stream, &names).await;
        seen.push(format!("{kind} {}", object.name_any()));
    }
    assert_eq!(seen, ["ADDED c", "MODIFIED a", "DELETED b"]);
    assert_quiet(&mut stream, &names).await;
}

async fn watch_with_a_label_selector_sees_only_matching_objects(c: &Cluster) {
    let client = c.client.clone();
    let api = Api::<ConfigMap>::default_namespaced(client);
    let list = bounded("listing", api.list(&ListParams::default()))
        .await
        .unwrap();
    let from = list.metadata.resource_version.unwrap();
    let mut stream = bounded(
        "starting a watch",
        api.watch(&WatchParams::default().labels("team=blue"), &from),
    )
    .await
    .unwrap()
    .boxed();
    let names = ["blue", "red"];
    bounded(
        "creating",
        api.create(
            &PostParams::default(),
            &configmap("red", &[("team", "red")], &[]),
        ),
    )
    .await
    .unwrap();
    bounded(
        "creating",
        api.create(
            &PostParams::default(),
            &configmap("blue", &[("team", "blue")], &[]),
        ),
    )
    .await
    .unwrap();
    let (kind, object) = next_watch_event(&mut stream, &names).await;
    assert_eq!((kind, object.name_any().as_str()), ("ADDED", "blue"));
    assert_quiet(&mut stream, &names).await;
}

async fn reflector_store_converges_to_the_server_list(c: &Cluster) {
    let client = c.client.clone();
    let other = c.name("other");
    create_namespace(&client, &other).await;
    let everywhere = Api::<ConfigMap>::all(client.clone());
    let defaults = Api::<ConfigMap>::default_namespaced(client.clone());
    let others = Api::<ConfigMap>::namespaced(client.clone(), &other);
    // NB: only this story's objects: a real cluster is shared with other stories.
    let story = [("story", c.id())];
    let selector = format!("story={}", c.id());
    bounded(
        "creating",
        defaults.create(&PostParams::default(), &configmap("before", &story, &[])),
    )
    .await
    .unwrap();

    let (store, writer) = reflector::store();
    let driver = tokio::spawn(
        reflector::reflector(
            writer,
            watcher::watcher(
                everywhere.clone(),
                watcher::Config::default().labels(&selector),
            ),
        )
        .try_for_each(|_| async { Ok(()) }),
    );
    bounded("the store becoming ready", store.wait_until_ready())
        .await
        .expect("the reflector fills the store");

    for i in 0..5 {
        bounded(
            "creating",
            defaults.create(
                &PostParams::default(),
                &configmap(&format!("cm-{i}"), &story, &[]),
            ),
        )
        .await
        .unwrap();
    }
    bounded(
        "creating",
        others.create(&PostParams::default(), &configmap("elsewhere", &story, &[])),
    )
    .await
    .unwrap();
    bounded(
        "patching",
        defaults.patch(
            "cm-1",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "k": "v" } })),
        ),
    )
    .await
    .unwrap();
    bounded(
        "deleting",
        defaults.delete("cm-2", &DeleteParams::default()),
    )
    .await
    .unwrap();
    bounded(
        "deleting",
        defaults.delete("before", &DeleteParams::default()),
    )
    .await
    .unwrap();

    let server = bounded(
        "listing",
        everywhere.list(&ListParams::default().labels(&selector)),
    )
    .await
    .unwrap();
    let key = |cm: &ConfigMap| {
        (
            cm.namespace().unwrap_or_default(),
            cm.name_any(),
            cm.resource_version().unwrap_or_default(),
        )
    };
    let expected: BTreeSet<_> = server.items.iter().map(key).collect();
    assert!(
        expected
            .iter()
            .any(|(ns, name, _)| *ns == other && name == "elsewhere")
    );
    assert!(
        !expected
            .iter()
            .any(|(_, name, _)| name == "cm-2" || name == "before")
    );
    c.eventually("the store holds exactly the server's objects", || {
        let store = store.clone();
        let expected = expected.clone();
        async move {
            let cached: BTreeSet<_> = store.state().iter().map(|cm| key(cm)).collect();
            (cached == expected).then_some(())
        }
    })
    .await;
    let patched = store
        .state()
        .into_iter()
        .find(|cm| cm.name_any() == "cm-1")
        .expect("cm-1 is cached");
    assert_eq!(data(&patched, "k").as_deref(), Some("v"));
    driver.abort();
}

async fn watcher_works_for_typed_deployments_and_custom_resources(c: &Cluster) {
    let client = c.client.clone();
    let deployments = Api::<Deployment>::default_namespaced(client.clone());
    let mut stream = watcher::watcher(deployments.clone(), watcher::Config::default()).boxed();
    loop {
        let event = bounded("waiting for InitDone", stream.next())
            .await
            .unwrap()
            .unwrap();
        if matches!(event, Event::InitDone) {
            break;
        }
    }
    bounded(
        "applying",
        deployments.patch(
            "web",
            &PatchParams::apply("bi").force(),
            &Patch::Apply(&deployment("web", 1)),
        ),
    )
    .await
    .unwrap();
    let seen = loop {
        let event = bounded("waiting for the Deployment", stream.next())
            .await
            .unwrap()
            .unwrap();
        if let Event::Apply(d) = event {
            break d;
        }
    };
    assert_eq!(seen.name_any(), "web");

    create_established_crd(&client, &c.widget_crd()).await;
    let discovery = bounded("discovery", Discovery::new(client.clone()).run())
        .await
        .unwrap();
    let (resource, _) = discovery
        .resolve_gvk(&GroupVersionKind::gvk(&c.group(), "v1", "Widget"))
        .expect("Widget is discoverable");
    let widgets: Api<DynamicObject> = Api::default_namespaced_with(client, &resource);
    let mut stream = watcher::watcher(widgets.clone(), watcher::Config::default()).boxed();
    loop {
        let event = bounded("waiting for InitDone", stream.next())
            .await
            .unwrap()
            .unwrap();
        if matches!(event, Event::InitDone) {
            break;
        }
    }
    let widget = DynamicObject::new("w1", &resource).data(json!({ "spec": { "size": 1 } }));
    bounded("creating", widgets.create(&PostParams::default(), &widget))
        .await
        .unwrap();
    let seen = loop {
        let event = bounded("waiting for the Widget", stream.next())
            .await
            .unwrap()
            .unwrap();
        if let Event::Apply(w) = event {
            break w;
        }
    };
    assert_eq!(seen.name_any(), "w1");
    assert_eq!(seen.data["spec"]["size"], json!(1));
}

/// Sandbox only: request counters are a sandbox extra.
#[tokio::test]
async fn watches_are_counted_as_watch_requests_not_writes() {
    let (sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    sandbox.reset_requests();
    let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
    loop {
        let event = bounded("waiting for InitDone", stream.next())
            .await
            .unwrap()
            .unwrap();
        if matches!(event, Event::InitDone) {
            break;
        }
    }
    // The watch request goes out when the stream is next polled.
    let _ = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    let counts = sandbox.requests();
    assert_eq!(counts.get("list", "configmaps"), 1, "{counts:?}");
    assert_eq!(counts.get("watch", "configmaps"), 1, "{counts:?}");
    assert_eq!(counts.writes(), 0, "{counts:?}");
}

on_both!(
    watcher_sees_added_modified_and_deleted,
    raw_watch_reports_added_modified_and_deleted_types,
    watch_from_a_resource_version_receives_only_later_events,
    watch_with_a_label_selector_sees_only_matching_objects,
    reflector_store_converges_to_the_server_list,
    watcher_works_for_typed_deployments_and_custom_resources,
);
