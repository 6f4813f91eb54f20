//! The sandbox cluster speaks the Kubernetes API: driven here through the real
//! `kube` client, typed (`Api<Deployment>`, `Api<ConfigMap>`, …) and dynamic
//! (`Api<DynamicObject>` through discovery), with the error cases a real API
//! server returns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sandbox_support;

use std::collections::BTreeMap;

use axum::http::Method;
use bi_control::sandbox::{Sandbox, SandboxConfig};
use bi_model::units::{Cpu, Memory};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope, verbs};
use kube::{Client, ResourceExt};
use sandbox_support::{
    WIDGET_GROUP, assert_api_error, bounded, configmap, crd, create_established_crd,
    create_namespace, data, deployment, eventually, is_established, names, raw, resource_version,
    start, start_with, statefulset, widget_crd,
};
use serde_json::json;

const ALL_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn widget_gvk() -> GroupVersionKind {
    GroupVersionKind::gvk(WIDGET_GROUP, "v1", "Widget")
}

async fn discover(client: &Client) -> Discovery {
    bounded("running discovery", Discovery::new(client.clone()).run())
        .await
        .expect("discovery succeeds")
}

fn api_for(client: &Client, namespace: &str, resource: &ApiResource) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, resource)
}

/// Creates ConfigMaps named after their labels, all labelled `suite=<suite>`.
async fn create_labelled(api: &Api<ConfigMap>, suite: &str, objects: &[(&str, &[(&str, &str)])]) {
    for (name, labels) in objects {
        let mut all = vec![("suite", suite)];
        all.extend_from_slice(labels);
        bounded(
            "creating a ConfigMap",
            api.create(&PostParams::default(), &configmap(name, &all, &[])),
        )
        .await
        .expect("the ConfigMap is created");
    }
}

async fn list_names(api: &Api<ConfigMap>, params: &ListParams) -> Vec<String> {
    let list = bounded("listing ConfigMaps", api.list(params))
        .await
        .unwrap_or_else(|e| panic!("listing with {params:?} fails: {e}"));
    names(&list.items)
}

// ---------------------------------------------------------------- discovery

#[tokio::test]
async fn version_endpoint_reports_a_kubernetes_version() {
    let (_sandbox, client) = start().await;
    let info = bounded("GET /version", client.apiserver_version())
        .await
        .expect("/version answers");
    assert_eq!(info.major, "1");
    assert!(
        info.minor.trim_end_matches('+').parse::<u32>().is_ok(),
        "minor is a number: {info:?}"
    );
    assert!(info.git_version.starts_with("v1."), "git_version: {info:?}");
}

#[tokio::test]
async fn core_discovery_lists_built_in_kinds_with_scope_and_verbs() {
    let (_sandbox, client) = start().await;
    let versions = bounded("GET /api", client.list_core_api_versions())
        .await
        .expect("/api answers");
    assert!(versions.versions.contains(&"v1".to_owned()), "{versions:?}");

    let resources = bounded("GET /api/v1", client.list_core_api_resources("v1"))
        .await
        .expect("/api/v1 answers");
    assert_eq!(resources.group_version, "v1");
    let expected = [
        ("configmaps", "ConfigMap", true),
        ("secrets", "Secret", true),
        ("services", "Service", true),
        ("serviceaccounts", "ServiceAccount", true),
        ("persistentvolumeclaims", "PersistentVolumeClaim", true),
        ("namespaces", "Namespace", false),
        ("nodes", "Node", false),
    ];
    for (plural, kind, namespaced) in expected {
        let resource = resources
            .resources
            .iter()
            .find(|r| r.name == plural)
            .unwrap_or_else(|| panic!("/api/v1 lists {plural}"));
        assert_eq!(resource.kind, kind, "{plural}");
        assert_eq!(resource.namespaced, namespaced, "{plural} namespaced");
        for verb in [
            "create", "get", "list", "watch", "update", "patch", "delete",
        ] {
            assert!(
                resource.verbs.iter().any(|v| v == verb),
                "{plural} supports {verb}: {:?}",
                resource.verbs
            );
        }
    }
}

#[tokio::test]
async fn group_discovery_lists_the_groups_bi_generates_with_scope_and_verbs() {
    let (_sandbox, client) = start().await;
    let groups = bounded("GET /apis", client.list_api_groups())
        .await
        .expect("/apis answers");
    let group_names: Vec<&str> = groups.groups.iter().map(|g| g.name.as_str()).collect();
    for group in [
        "apps",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
    ] {
        assert!(
            group_names.contains(&group),
            "/apis lists {group}: {group_names:?}"
        );
    }

    let expected = [
        ("apps/v1", "deployments", "Deployment", true),
        ("apps/v1", "statefulsets", "StatefulSet", true),
        ("apps/v1", "daemonsets", "DaemonSet", true),
        ("rbac.authorization.k8s.io/v1", "roles", "Role", true),
        (
            "rbac.authorization.k8s.io/v1",
            "rolebindings",
            "RoleBinding",
            true,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "clusterroles",
            "ClusterRole",
            false,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            false,
        ),
        (
            "networking.k8s.io/v1",
            "networkpolicies",
            "NetworkPolicy",
            true,
        ),
        (
            "apiextensions.k8s.io/v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
        ),
        (
            "admissionregistration.k8s.io/v1",
            "mutatingwebhookconfigurations",
            "MutatingWebhookConfiguration",
            false,
        ),
        (
            "admissionregistration.k8s.io/v1",
            "validatingwebhookconfigurations",
            "ValidatingWebhookConfiguration",
            false,
        ),
    ];
    for (group_version, plural, kind, namespaced) in expected {
        let list = bounded(
            "GET /apis/{group}/{version}",
            client.list_api_group_resources(group_version),
        )
        .await
        .unwrap_or_else(|e| panic!("/apis/{group_version} answers: {e}"));
        assert_eq!(list.group_version, group_version);
        let resource = list
            .resources
            .iter()
            .find(|r| r.name == plural)
            .unwrap_or_else(|| panic!("/apis/{group_version} lists {plural}"));
        assert_eq!(resource.kind, kind, "{plural}");
        assert_eq!(resource.namespaced, namespaced, "{plural} namespaced");
        for verb in [
            "create", "get", "list", "watch", "update", "patch", "delete",
        ] {
            assert!(
                resource.verbs.iter().any(|v| v == verb),
                "{plural} supports {verb}: {:?}",
                resource.verbs
            );
        }
    }
}

#[tokio::test]
async fn kube_discovery_resolves_built_in_kinds() {
    let (_sandbox, client) = start().await;
    let discovery = discover(&client).await;
    let (deployments, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("Deployment is discoverable");
    assert_eq!(deployments.plural, "deployments");
    assert_eq!(caps.scope, Scope::Namespaced);
    for verb in [verbs::LIST, verbs::WATCH, verbs::PATCH, verbs::CREATE] {
        assert!(caps.supports_operation(verb), "deployments support {verb}");
    }
    let (namespaces, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
        .expect("Namespace is discoverable");
    assert_eq!(namespaces.plural, "namespaces");
    assert_eq!(caps.scope, Scope::Cluster);
}

#[tokio::test]
async fn created_crd_appears_in_discovery_and_reports_established() {
    let (_sandbox, client) = start().await;
    let before = discover(&client).await;
    assert!(!before.has_group(WIDGET_GROUP), "no CRD yet, no group");

    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    let created = bounded(
        "creating a CRD",
        crds.create(&PostParams::default(), &widget_crd()),
    )
    .await
    .expect("the CRD is created");
    assert_eq!(created.name_any(), "widgets.example.bi.dev");
    eventually("the CRD reports Established", || {
        let crds = crds.clone();
        async move {
            let crd = crds
                .get("widgets.example.bi.dev")
                .await
                .expect("the CRD can be read");
            is_established(&crd).then_some(())
        }
    })
    .await;

    let groups = bounded("GET /apis", client.list_api_groups())
        .await
        .unwrap();
    assert!(
        groups.groups.iter().any(|g| g.name == WIDGET_GROUP),
        "/apis lists the CRD's group"
    );
    let resources = bounded(
        "GET /apis/example.bi.dev/v1",
        client.list_api_group_resources("example.bi.dev/v1"),
    )
    .await
    .expect("the CRD's group version is served");
    let widgets = resources
        .resources
        .iter()
        .find(|r| r.name == "widgets")
        .expect("the CRD's resource is listed");
    assert_eq!(widgets.kind, "Widget");
    assert!(widgets.namespaced);
    for verb in ALL_VERBS {
        assert!(
            widgets.verbs.iter().any(|v| v == verb),
            "widgets support {verb}"
        );
    }

    let after = discover(&client).await;
    let (resource, caps) = after
        .resolve_gvk(&widget_gvk())
        .expect("Widget is discoverable once its CRD exists");
    assert_eq!(resource.plural, "widgets");
    assert_eq!(caps.scope, Scope::Namespaced);
}

#[tokio::test]
async fn custom_resources_can_be_created_listed_and_patched_through_discovery() {
    let (_sandbox, client) = start().await;
    create_established_crd(&client, &widget_crd()).await;
    let (resource, _caps) = discover(&client)
        .await
        .resolve_gvk(&widget_gvk())
        .expect("Widget is discoverable");
    let widgets = api_for(&client, "default", &resource);

    let widget = DynamicObject::new("w1", &resource).data(json!({ "spec": { "size": 3 } }));
    let created = bounded(
        "creating a Widget",
        widgets.create(&PostParams::default(), &widget),
    )
    .await
    .expect("the Widget is created");
    assert!(created.uid().is_some(), "the server sets a uid");
    assert_eq!(created.metadata.generation, Some(1));

    let fetched = bounded("getting a Widget", widgets.get("w1"))
        .await
        .unwrap();
    assert_eq!(fetched.data["spec"]["size"], json!(3));
    assert_eq!(
        fetched.types.as_ref().map(|t| t.kind.as_str()),
        Some("Widget")
    );

    let applied = DynamicObject::new("w2", &resource).data(json!({ "spec": { "size": 1 } }));
    bounded(
        "applying a Widget",
        widgets.patch(
            "w2",
            &PatchParams::apply("bi").force(),
            &Patch::Apply(&applied),
        ),
    )
    .await
    .expect("server-side apply creates a Widget");

    let list = bounded("listing Widgets", widgets.list(&ListParams::default()))
        .await
        .unwrap();
    assert_eq!(names(&list.items), ["w1", "w2"]);

    let patched = bounded(
        "patching a Widget's spec",
        widgets.patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "size": 5 } })),
        ),
    )
    .await
    .unwrap();
    assert_eq!(patched.data["spec"]["size"], json!(5));
    assert_eq!(
        patched.metadata.generation,
        Some(2),
        "a spec change bumps generation"
    );
}

#[tokio::test]
async fn cluster_scoped_custom_resources_live_outside_namespaces() {
    let (_sandbox, client) = start().await;
    create_established_crd(&client, &crd("Gadget", "gadgets", "Cluster")).await;
    let (resource, caps) = discover(&client)
        .await
        .resolve_gvk(&GroupVersionKind::gvk(WIDGET_GROUP, "v1", "Gadget"))
        .expect("Gadget is discoverable");
    assert_eq!(caps.scope, Scope::Cluster);
    let gadgets: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let gadget = DynamicObject::new("g1", &resource).data(json!({ "spec": { "on": true } }));
    let created = bounded(
        "creating a Gadget",
        gadgets.create(&PostParams::default(), &gadget),
    )
    .await
    .expect("a cluster-scoped custom resource is created");
    assert_eq!(created.metadata.namespace, None);
    let list = bounded("listing Gadgets", gadgets.list(&ListParams::default()))
        .await
        .unwrap();
    assert_eq!(names(&list.items), ["g1"]);
}

#[tokio::test]
async fn custom_resources_before_their_crd_are_404() {
    let (_sandbox, client) = start().await;
    let resource = ApiResource::from_gvk(&widget_gvk());
    let widgets = api_for(&client, "default", &resource);
    let widget = DynamicObject::new("w1", &resource).data(json!({ "spec": {} }));
    assert_api_error(
        bounded(
            "creating a Widget",
            widgets.create(&PostParams::default(), &widget),
        )
        .await,
        404,
        "NotFound",
    );
}

// ---------------------------------------------------------------- create, get, list

#[tokio::test]
async fn create_then_get_returns_the_object_with_server_owned_metadata() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client.clone());
    let created = bounded(
        "creating a ConfigMap",
        api.create(
            &PostParams::default(),
            &configmap("app", &[("a", "b")], &[("k", "v")]),
        ),
    )
    .await
    .expect("the ConfigMap is created");
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    assert!(
        created.uid().is_some_and(|uid| !uid.is_empty()),
        "uid is set"
    );
    assert!(
        created.metadata.creation_timestamp.is_some(),
        "creationTimestamp is set"
    );
    let rv = resource_version(&created);
    assert!(rv > 0);

    let fetched = bounded("getting a ConfigMap", api.get("app"))
        .await
        .unwrap();
    assert_eq!(fetched.uid(), created.uid());
    assert_eq!(resource_version(&fetched), rv);
    assert_eq!(
        fetched.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );
    assert_eq!(fetched.labels().get("a").map(String::as_str), Some("b"));
    assert_eq!(
        fetched.data,
        Some(BTreeMap::from([("k".to_owned(), "v".to_owned())]))
    );

    let secrets = Api::<Secret>::namespaced(client, "default");
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": "creds" },
        "stringData": { "password": "hunter2" },
        "type": "Opaque"
    }))
    .unwrap();
    bounded(
        "creating a Secret",
        secrets.create(&PostParams::default(), &secret),
    )
    .await
    .expect("a Secret is created");
    let fetched = bounded("getting a Secret", secrets.get("creds"))
        .await
        .unwrap();
    assert!(fetched.uid().is_some());
}

#[tokio::test]
async fn cluster_scoped_objects_are_created_and_listed_without_a_namespace() {
    let (_sandbox, client) = start().await;
    create_namespace(&client, "team-a").await;
    let namespaces = Api::<Namespace>::all(client);
    let fetched = bounded("getting a Namespace", namespaces.get("team-a"))
        .await
        .unwrap();
    assert_eq!(fetched.metadata.namespace, None);
    assert!(fetched.uid().is_some());
    let list = bounded(
        "listing Namespaces",
        namespaces.list(&ListParams::default()),
    )
    .await
    .unwrap();
    let listed = names(&list.items);
    assert!(listed.contains(&"default".to_owned()), "{listed:?}");
    assert!(listed.contains(&"team-a".to_owned()), "{listed:?}");
}

#[tokio::test]
async fn label_selector_filters_by_equality_and_inequality() {
    let (_sandbox, client) = start().await;
    create_namespace(&client, "labels").await;
    let api = Api::<ConfigMap>::namespaced(client, "labels");
    create_labelled(
        &api,
        "eq",
        &[
            ("one", &[("a", "x"), ("b", "1")]),
            ("two", &[("a", "y")]),
            ("three", &[("a", "z")]),
            ("four", &[]),
        ],
    )
    .await;

    let cases: [(&str, &[&str]); 6] = [
        ("suite=eq,a=x", &["one"]),
        ("suite=eq,a==x", &["one"]),
        ("suite=eq,a!=x", &["four", "three", "two"]),
        ("suite=eq,a=x,b=1", &["one"]),
        ("suite=eq,a=y,b=1", &[]),
        ("suite=eq", &["four", "one", "three", "two"]),
    ];
    for (selector, expected) in cases {
        assert_eq!(
            list_names(&api, &ListParams::default().labels(selector)).await,
            expected,
            "labelSelector={selector}"
        );
    }
}

#[tokio::test]
async fn label_selector_filters_by_set_based_expressions() {
    let (_sandbox, client) = start().await;
    create_namespace(&client, "sets").await;
    let api = Api::<ConfigMap>::namespaced(client, "sets");
    create_labelled(
        &api,
        "set",
        &[
            ("one", &[("a", "x")]),
            ("two", &[("a", "y")]),
            ("three", &[("a", "z")]),
            ("four", &[]),
        ],
    )
    .await;

    let cases: [(&str, &[&str]); 5] = [
        ("suite=set,a in (x,y)", &["one", "two"]),
        ("suite=set,a in (x, y)", &["one", "two"]),
        ("suite=set,a notin (x,y)", &["four", "three"]),
        ("suite=set,!a", &["four"]),
        ("suite=set,a", &["one", "three", "two"]),
    ];
    for (selector, expected) in cases {
        assert_eq!(
            list_names(&api, &ListParams::default().labels(selector)).await,
            expected,
            "labelSelector={selector}"
        );
    }
}

#[tokio::test]
async fn field_selector_filters_by_metadata_name_and_namespace() {
    let (_sandbox, client) = start().await;
    create_namespace(&client, "east").await;
    create_namespace(&client, "west").await;
    for (namespace, name) in [("east", "one"), ("east", "two"), ("west", "one")] {
        let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
        bounded(
            "creating a ConfigMap",
            api.create(
                &PostParams::default(),
                &configmap(name, &[("suite", "fields")], &[]),
            ),
        )
        .await
        .unwrap();
    }
    let everywhere = Api::<ConfigMap>::all(client.clone());
    let located = |params: ListParams| {
        let everywhere = everywhere.clone();
        async move {
            let list = bounded(
                "listing ConfigMaps",
                everywhere.list(&params.clone().labels("suite=fields")),
            )
            .await
            .unwrap_or_else(|e| panic!("listing with {params:?} fails: {e}"));
            let mut located: Vec<String> = list
                .items
                .iter()
                .map(|cm| format!("{}/{}", cm.namespace().unwrap_or_default(), cm.name_any()))
                .collect();
            located.sort();
            located
        }
    };

    assert_eq!(
        located(ListParams::default().fields("metadata.name=one")).await,
        ["east/one", "west/one"]
    );
    assert_eq!(
        located(ListParams::default().fields("metadata.namespace=east")).await,
        ["east/one", "east/two"]
    );
    assert_eq!(
        located(ListParams::default().fields("metadata.name=one,metadata.namespace=west")).await,
        ["west/one"]
    );
    assert_eq!(
        located(ListParams::default().fields("metadata.name!=one")).await,
        ["east/two"]
    );

    // Within a namespace, too.
    let east = Api::<ConfigMap>::namespaced(client, "east");
    assert_eq!(
        list_names(&east, &ListParams::default().fields("metadata.name=two")).await,
        ["two"]
    );
}

#[tokio::test]
async fn list_pages_with_limit_and_continue() {
    let (_sandbox, client) = start().await;
    create_namespace(&client, "paged").await;
    let api = Api::<ConfigMap>::namespaced(client, "paged");
    let all: Vec<String> = (1..=7).map(|i| format!("cm-{i}")).collect();
    for name in &all {
        bounded(
            "creating a ConfigMap",
            api.create(
                &PostParams::default(),
                &configmap(name, &[("suite", "paging")], &[]),
            ),
        )
        .await
        .unwrap();
    }

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token: Option<String> = None;
    for page in 1..=3 {
        let mut params = ListParams::default().labels("suite=paging").limit(3);
        if let Some(token) = &token {
            params = params.continue_token(token);
        }
        let list = bounded("listing a page", api.list(&params))
            .await
            .unwrap_or_else(|e| panic!("page {page} fails: {e}"));
        assert!(
            list.metadata.resource_version.is_some(),
            "a list carries a resourceVersion"
        );
        sizes.push(list.items.len());
        seen.extend(list.items.iter().map(ResourceExt::name_any));
        token = list.metadata.continue_.filter(|t| !t.is_empty());
        if page < 3 {
            assert!(token.is_some(), "page {page} of 3 has a continue token");
        }
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(token, None, "the last page has no continue token");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted, all,
        "the pages hold every object exactly once: {seen:?}"
    );
}

// ---------------------------------------------------------------- replace and concurrency

#[tokio::test]
async fn replace_with_the_current_resource_version_succeeds_and_bumps_it() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    let created = bounded(
        "creating a ConfigMap",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "v1")]),
        ),
    )
    .await
    .unwrap();

    let mut changed = created.clone();
    changed.data = Some(BTreeMap::from([("k".to_owned(), "v2".to_owned())]));
    let replaced = bounded(
        "replacing a ConfigMap",
        api.replace("app", &PostParams::default(), &changed),
    )
    .await
    .expect("replace with the current resourceVersion succeeds");
    assert!(resource_version(&replaced) > resource_version(&created));
    assert_eq!(replaced.uid(), created.uid());
    assert_eq!(
        replaced.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );
    let fetched = bounded("getting a ConfigMap", api.get("app"))
        .await
        .unwrap();
    assert_eq!(data(&fetched, "k").as_deref(), Some("v2"));
}

#[tokio::test]
async fn stale_resource_version_is_a_409_conflict() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    let created = bounded(
        "creating a ConfigMap",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "v1")]),
        ),
    )
    .await
    .unwrap();
    let mut first = created.clone();
    first.data = Some(BTreeMap::from([("k".to_owned(), "first".to_owned())]));
    bounded(
        "replacing a ConfigMap",
        api.replace("app", &PostParams::default(), &first),
    )
    .await
    .unwrap();

    // `created` still carries the old resourceVersion.
    let mut second = created;
    second.data = Some(BTreeMap::from([("k".to_owned(), "second".to_owned())]));
    let status = assert_api_error(
        bounded(
            "replacing with a stale resourceVersion",
            api.replace("app", &PostParams::default(), &second),
        )
        .await,
        409,
        "Conflict",
    );
    assert!(
        status.message.contains("app"),
        "the message names the object: {status:?}"
    );
    let fetched = bounded("getting a ConfigMap", api.get("app"))
        .await
        .unwrap();
    assert_eq!(
        data(&fetched, "k").as_deref(),
        Some("first"),
        "the conflicting write changed nothing"
    );
}

#[tokio::test]
async fn replace_without_a_resource_version_is_unconditional() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    let created = bounded(
        "creating a ConfigMap",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "v1")]),
        ),
    )
    .await
    .unwrap();
    let replaced = bounded(
        "replacing without a resourceVersion",
        api.replace(
            "app",
            &PostParams::default(),
            &configmap("app", &[], &[("k", "v2")]),
        ),
    )
    .await
    .expect("a PUT without resourceVersion overwrites");
    assert_eq!(replaced.uid(), created.uid());
    assert!(resource_version(&replaced) > resource_version(&created));
    assert_eq!(data(&replaced, "k").as_deref(), Some("v2"));
}

// ---------------------------------------------------------------- patch and apply

#[tokio::test]
async fn merge_patch_changes_only_the_given_fields() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    let created = bounded(
        "creating a ConfigMap",
        api.create(
            &PostParams::default(),
            &configmap("app", &[("keep", "yes")], &[("a", "1"), ("b", "2")]),
        ),
    )
    .await
    .unwrap();
    let patched = bounded(
        "merge-patching a ConfigMap",
        api.patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "metadata": { "labels": { "added": "now" } },
                "data": { "b": null, "c": "3" }
            })),
        ),
    )
    .await
    .expect("a merge patch applies");
    assert_eq!(
        patched.data,
        Some(BTreeMap::from([
            ("a".to_owned(), "1".to_owned()),
            ("c".to_owned(), "3".to_owned()),
        ]))
    );
    assert_eq!(
        patched.labels().get("keep").map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        patched.labels().get("added").map(String::as_str),
        Some("now")
    );
    assert!(resource_version(&patched) > resource_version(&created));
    assert_eq!(patched.uid(), created.uid());
    let fetched = bounded("getting a ConfigMap", api.get("app"))
        .await
        .unwrap();
    assert_eq!(fetched.data, patched.data, "the patch is stored");
}

#[tokio::test]
async fn json_patch_applies_its_operations_in_order() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    bounded(
        "creating a ConfigMap",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("a", "1"), ("b", "2")]),
        ),
    )
    .await
    .unwrap();
    let operations: json_patch::Patch = serde_json::from_value(json!([
        { "op": "test", "path": "/data/a", "value": "1" },
        { "op": "replace", "path": "/data/a", "value": "one" },
        { "op": "remove", "path": "/data/b" },
        { "op": "add", "path": "/data/c", "value": "3" },
        { "op": "copy", "from": "/data/c", "path": "/data/d" }
    ]))
    .unwrap();
    let patched = bounded(
        "JSON-patching a ConfigMap",
        api.patch(
            "app",
            &PatchParams::default(),
            &Patch::Json::<()>(operations),
        ),
    )
    .await
    .expect("a JSON patch applies");
    assert_eq!(
        patched.data,
        Some(BTreeMap::from([
            ("a".to_owned(), "one".to_owned()),
            ("c".to_owned(), "3".to_owned()),
            ("d".to_owned(), "3".to_owned()),
        ]))
    );
    let fetched = bounded("getting a ConfigMap", api.get("app"))
        .await
        .unwrap();
    assert_eq!(fetched.data, patched.data, "the patch is stored");
}

#[tokio::test]
async fn server_side_apply_creates_when_absent_then_updates() {
    let (_sandbox, client) = start().await;
    let api = Api::<Deployment>::default_namespaced(client);
    let apply = PatchParams::apply("bi").force();

    let created = bounded(
        "applying a new Deployment",
        api.patch("web", &apply, &Patch::Apply(&deployment("web", 1))),
    )
    .await
    .expect("server-side apply creates an absent object");
    let uid = created.uid().expect("uid is set");
    let created_at = created
        .metadata
        .creation_timestamp
        .clone()
        .expect("creationTimestamp is set");
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.spec.as_ref().unwrap().replicas, Some(1));

    let updated = bounded(
        "applying a changed Deployment",
        api.patch("web", &apply, &Patch::Apply(&deployment("web", 3))),
    )
    .await
    .expect("a second apply updates");
    assert_eq!(
        updated.uid().as_deref(),
        Some(uid.as_str()),
        "uid is stable"
    );
    assert_eq!(
        updated.metadata.creation_timestamp.as_ref(),
        Some(&created_at)
    );
    assert_eq!(updated.spec.as_ref().unwrap().replicas, Some(3));
    assert_eq!(
        updated.metadata.generation,
        Some(2),
        "a spec change bumps generation"
    );
    assert!(resource_version(&updated) > resource_version(&created));

    let fetched = bounded("getting a Deployment", api.get("web"))
        .await
        .unwrap();
    assert_eq!(fetched.spec.unwrap().replicas, Some(3));
}

#[tokio::test]
async fn generation_bumps_only_on_spec_changes() {
    let (_sandbox, client) = start().await;
    let api = Api::<Deployment>::default_namespaced(client);
    let apply = PatchParams::apply("bi").force();
    let first = bounded(
        "applying",
        api.patch("web", &apply, &Patch::Apply(&deployment("web", 1))),
    )
    .await
    .unwrap();
    assert_eq!(first.metadata.generation, Some(1));

    let mut relabelled = deployment("web", 1);
    relabelled
        .metadata
        .labels
        .get_or_insert_default()
        .insert("tier".to_owned(), "front".to_owned());
    let labelled = bounded(
        "applying a label",
        api.patch("web", &apply, &Patch::Apply(&relabelled)),
    )
    .await
    .unwrap();
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "a label is not a spec change"
    );
    assert!(
        resource_version(&labelled) > resource_version(&first),
        "but it is a new version"
    );

    let annotated = bounded(
        "merge-patching an annotation",
        api.patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "annotations": { "note": "hi" } } })),
        ),
    )
    .await
    .unwrap();
    assert_eq!(annotated.metadata.generation, Some(1));

    let scaled = bounded(
        "merge-patching the spec",
        api.patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 4 } })),
        ),
    )
    .await
    .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));

    let mut replaced = scaled.clone();
    replaced.spec.as_mut().unwrap().replicas = Some(5);
    let replaced = bounded(
        "replacing the spec",
        api.replace("web", &PostParams::default(), &replaced),
    )
    .await
    .unwrap();
    assert_eq!(replaced.metadata.generation, Some(3));
    assert!(resource_version(&replaced) > resource_version(&scaled));
    assert_eq!(replaced.uid(), first.uid());
    assert_eq!(
        replaced.metadata.creation_timestamp,
        first.metadata.creation_timestamp
    );
}

#[tokio::test]
async fn resource_versions_increase_across_objects_and_kinds() {
    let (_sandbox, client) = start().await;
    let configmaps = Api::<ConfigMap>::default_namespaced(client.clone());
    let deployments = Api::<Deployment>::default_namespaced(client);
    let mut versions = Vec::new();
    for i in 0..3 {
        let cm = bounded(
            "creating a ConfigMap",
            configmaps.create(
                &PostParams::default(),
                &configmap(&format!("cm-{i}"), &[], &[]),
            ),
        )
        .await
        .unwrap();
        versions.push(resource_version(&cm));
        let deploy = bounded(
            "applying a Deployment",
            deployments.patch(
                &format!("d-{i}"),
                &PatchParams::apply("bi").force(),
                &Patch::Apply(&deployment(&format!("d-{i}"), 1)),
            ),
        )
        .await
        .unwrap();
        versions.push(resource_version(&deploy));
    }
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "resourceVersions are strictly increasing: {versions:?}"
    );
}

// ---------------------------------------------------------------- delete

#[tokio::test]
async fn delete_removes_the_object_with_any_propagation_policy() {
    let (_sandbox, client) = start().await;
    let api = Api::<Deployment>::default_namespaced(client);
    let policies = [
        ("foreground", DeleteParams::foreground()),
        ("background", DeleteParams::background()),
        ("orphan", DeleteParams::orphan()),
        ("default", DeleteParams::default()),
    ];
    for (name, _) in &policies {
        bounded(
            "applying a Deployment",
            api.patch(
                name,
                &PatchParams::apply("bi").force(),
                &Patch::Apply(&deployment(name, 1)),
            ),
        )
        .await
        .unwrap();
    }
    for (name, params) in &policies {
        bounded("deleting a Deployment", api.delete(name, params))
            .await
            .unwrap_or_else(|e| panic!("delete with the {name} policy fails: {e}"));
        eventually(
            &format!("the {name}-deleted Deployment is gone"),
            || async {
                match api.get_opt(name).await.expect("getting a Deployment") {
                    None => Some(()),
                    Some(_) => None,
                }
            },
        )
        .await;
    }
    let list = bounded("listing Deployments", api.list(&ListParams::default()))
        .await
        .unwrap();
    assert!(list.items.is_empty(), "{:?}", names(&list.items));
}

#[tokio::test]
async fn deleting_a_namespace_deletes_what_is_in_it() {
    let (_sandbox, client) = start().await;
    create_namespace(&client, "doomed").await;
    create_namespace(&client, "spared").await;
    for namespace in ["doomed", "spared"] {
        let configmaps = Api::<ConfigMap>::namespaced(client.clone(), namespace);
        bounded(
            "creating a ConfigMap",
            configmaps.create(
                &PostParams::default(),
                &configmap("settings", &[("suite", "ns")], &[]),
            ),
        )
        .await
        .unwrap();
        let deployments = Api::<Deployment>::namespaced(client.clone(), namespace);
        bounded(
            "applying a Deployment",
            deployments.patch(
                "web",
                &PatchParams::apply("bi").force(),
                &Patch::Apply(&deployment("web", 1)),
            ),
        )
        .await
        .unwrap();
    }

    let namespaces = Api::<Namespace>::all(client.clone());
    bounded(
        "deleting a Namespace",
        namespaces.delete("doomed", &DeleteParams::default()),
    )
    .await
    .expect("the namespace delete is accepted");
    eventually("the namespace is gone", || async {
        namespaces
            .get_opt("doomed")
            .await
            .expect("getting a Namespace")
            .is_none()
            .then_some(())
    })
    .await;

    let configmaps = Api::<ConfigMap>::all(client.clone());
    let left = bounded(
        "listing ConfigMaps",
        configmaps.list(&ListParams::default().labels("suite=ns")),
    )
    .await
    .unwrap();
    let left: Vec<String> = left.items.iter().filter_map(|cm| cm.namespace()).collect();
    assert_eq!(
        left,
        ["spared"],
        "only the other namespace's ConfigMap is left"
    );
    let deployments = Api::<Deployment>::all(client.clone());
    let left = bounded(
        "listing Deployments",
        deployments.list(&ListParams::default()),
    )
    .await
    .unwrap();
    let left: Vec<String> = left.items.iter().filter_map(|d| d.namespace()).collect();
    assert_eq!(
        left,
        ["spared"],
        "only the other namespace's Deployment is left"
    );

    // Re-creating the namespace does not bring its old contents back.
    create_namespace(&client, "doomed").await;
    let doomed = Api::<ConfigMap>::namespaced(client, "doomed");
    assert_eq!(
        bounded("getting a ConfigMap", doomed.get_opt("settings"))
            .await
            .unwrap(),
        None
    );
}

// ---------------------------------------------------------------- dry run

#[tokio::test]
async fn dry_run_create_returns_the_object_and_stores_nothing() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let answer = bounded(
        "dry-run creating a ConfigMap",
        api.create(&dry, &configmap("ghost", &[], &[("k", "v")])),
    )
    .await
    .expect("a dry-run create succeeds");
    assert_eq!(answer.name_any(), "ghost");
    assert_eq!(
        data(&answer, "k").as_deref(),
        Some("v"),
        "the response shows the result"
    );
    assert_eq!(
        bounded("getting", api.get_opt("ghost")).await.unwrap(),
        None,
        "nothing is stored"
    );
    let list = bounded("listing", api.list(&ListParams::default()))
        .await
        .unwrap();
    assert!(!names(&list.items).contains(&"ghost".to_owned()));

    // A real create of the same name still works: the dry run left nothing behind.
    bounded(
        "creating",
        api.create(&PostParams::default(), &configmap("ghost", &[], &[])),
    )
    .await
    .expect("no AlreadyExists after a dry run");
}

#[tokio::test]
async fn dry_run_replace_and_patches_store_nothing() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    let created = bounded(
        "creating a ConfigMap",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "original")]),
        ),
    )
    .await
    .unwrap();
    let rv = resource_version(&created);

    let mut changed = created.clone();
    changed.data = Some(BTreeMap::from([("k".to_owned(), "replaced".to_owned())]));
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let answer = bounded("dry-run replacing", api.replace("app", &dry, &changed))
        .await
        .expect("a dry-run replace succeeds");
    assert_eq!(data(&answer, "k").as_deref(), Some("replaced"));

    let answer = bounded(
        "dry-run merge-patching",
        api.patch(
            "app",
            &PatchParams {
                dry_run: true,
                ..PatchParams::default()
            },
            &Patch::Merge(json!({ "data": { "k": "merged" } })),
        ),
    )
    .await
    .expect("a dry-run merge patch succeeds");
    assert_eq!(data(&answer, "k").as_deref(), Some("merged"));

    let answer = bounded(
        "dry-run applying",
        api.patch(
            "app",
            &PatchParams::apply("bi").force().dry_run(),
            &Patch::Apply(&configmap("app", &[], &[("k", "applied")])),
        ),
    )
    .await
    .expect("a dry-run apply succeeds");
    assert_eq!(data(&answer, "k").as_deref(), Some("applied"));

    let fetched = bounded("getting", api.get("app")).await.unwrap();
    assert_eq!(
        data(&fetched, "k").as_deref(),
        Some("original"),
        "nothing is stored"
    );
    assert_eq!(
        resource_version(&fetched),
        rv,
        "the stored version is unchanged"
    );
}

#[tokio::test]
async fn dry_run_apply_of_an_absent_object_creates_nothing() {
    let (_sandbox, client) = start().await;
    let api = Api::<Deployment>::default_namespaced(client);
    let answer = bounded(
        "dry-run applying a new Deployment",
        api.patch(
            "web",
            &PatchParams::apply("bi").force().dry_run(),
            &Patch::Apply(&deployment("web", 2)),
        ),
    )
    .await
    .expect("a dry-run apply of an absent object succeeds");
    assert_eq!(answer.name_any(), "web");
    assert_eq!(answer.spec.unwrap().replicas, Some(2));
    assert_eq!(
        bounded("getting", api.get_opt("web")).await.unwrap(),
        None,
        "nothing is stored"
    );
}

#[tokio::test]
async fn dry_run_delete_keeps_the_object() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client.clone());
    let created = bounded(
        "creating a ConfigMap",
        api.create(&PostParams::default(), &configmap("app", &[], &[])),
    )
    .await
    .unwrap();
    bounded(
        "dry-run deleting",
        api.delete("app", &DeleteParams::default().dry_run()),
    )
    .await
    .expect("a dry-run delete succeeds");
    let fetched = bounded("getting", api.get("app"))
        .await
        .expect("the object is still there");
    assert_eq!(resource_version(&fetched), resource_version(&created));

    create_namespace(&client, "kept").await;
    let kept = Api::<ConfigMap>::namespaced(client.clone(), "kept");
    bounded(
        "creating",
        kept.create(&PostParams::default(), &configmap("inside", &[], &[])),
    )
    .await
    .unwrap();
    let namespaces = Api::<Namespace>::all(client);
    bounded(
        "dry-run deleting a namespace",
        namespaces.delete("kept", &DeleteParams::default().dry_run()),
    )
    .await
    .expect("a dry-run namespace delete succeeds");
    // Give a (wrong) background namespace cleanup the chance to run.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    bounded("getting", namespaces.get("kept"))
        .await
        .expect("the namespace is still there");
    bounded("getting", kept.get("inside"))
        .await
        .expect("its contents are still there");
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn get_of_a_missing_object_is_404_not_found() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client.clone());
    let status = assert_api_error(bounded("getting", api.get("nope")).await, 404, "NotFound");
    assert!(
        status.message.contains("nope"),
        "the message names the object: {status:?}"
    );
    let deployments = Api::<Deployment>::default_namespaced(client.clone());
    assert_api_error(
        bounded("getting", deployments.get("nope")).await,
        404,
        "NotFound",
    );
    let namespaces = Api::<Namespace>::all(client);
    assert_api_error(
        bounded("getting", namespaces.get("nope")).await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn writes_to_a_missing_object_are_404_not_found() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    assert_api_error(
        bounded(
            "replacing",
            api.replace("nope", &PostParams::default(), &configmap("nope", &[], &[])),
        )
        .await,
        404,
        "NotFound",
    );
    assert_api_error(
        bounded(
            "merge-patching",
            api.patch(
                "nope",
                &PatchParams::default(),
                &Patch::Merge(json!({ "data": { "k": "v" } })),
            ),
        )
        .await,
        404,
        "NotFound",
    );
    assert_api_error(
        bounded("deleting", api.delete("nope", &DeleteParams::default())).await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn namespaced_object_in_a_missing_namespace_is_404_not_found() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::namespaced(client.clone(), "nowhere");
    assert_api_error(
        bounded(
            "creating",
            api.create(&PostParams::default(), &configmap("app", &[], &[])),
        )
        .await,
        404,
        "NotFound",
    );
    let deployments = Api::<Deployment>::namespaced(client, "nowhere");
    assert_api_error(
        bounded(
            "applying",
            deployments.patch(
                "web",
                &PatchParams::apply("bi").force(),
                &Patch::Apply(&deployment("web", 1)),
            ),
        )
        .await,
        404,
        "NotFound",
    );
    assert_api_error(bounded("getting", api.get("app")).await, 404, "NotFound");
}

#[tokio::test]
async fn creating_an_existing_object_is_409_already_exists() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client.clone());
    bounded(
        "creating",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "1")]),
        ),
    )
    .await
    .unwrap();
    let status = assert_api_error(
        bounded(
            "creating again",
            api.create(
                &PostParams::default(),
                &configmap("app", &[], &[("k", "2")]),
            ),
        )
        .await,
        409,
        "AlreadyExists",
    );
    assert!(status.message.contains("app"), "{status:?}");
    let fetched = bounded("getting", api.get("app")).await.unwrap();
    assert_eq!(
        data(&fetched, "k").as_deref(),
        Some("1"),
        "the first object is untouched"
    );

    let namespaces = Api::<Namespace>::all(client.clone());
    let default: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "default" }
    }))
    .unwrap();
    assert_api_error(
        bounded(
            "creating the default namespace",
            namespaces.create(&PostParams::default(), &default),
        )
        .await,
        409,
        "AlreadyExists",
    );
}

#[tokio::test]
async fn create_without_a_name_is_422_invalid() {
    let (_sandbox, client) = start().await;
    let body =
        json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": { "k": "v" } });
    assert_api_error(
        raw(
            &client,
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            body.to_string(),
        )
        .await,
        422,
        "Invalid",
    );
    let list = bounded(
        "listing",
        Api::<ConfigMap>::default_namespaced(client).list(&ListParams::default()),
    )
    .await
    .unwrap();
    assert!(
        list.items
            .iter()
            .all(|cm| cm.data.as_ref().and_then(|d| d.get("k")).is_none()),
        "nothing was stored: {:?}",
        names(&list.items)
    );
}

#[tokio::test]
async fn malformed_body_is_422_invalid() {
    let (_sandbox, client) = start().await;
    assert_api_error(
        raw(
            &client,
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "#,
        )
        .await,
        422,
        "Invalid",
    );
    assert_api_error(
        raw(
            &client,
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            r#"["not", "an", "object"]"#,
        )
        .await,
        422,
        "Invalid",
    );
    let configmaps = Api::<ConfigMap>::default_namespaced(client.clone());
    bounded(
        "creating",
        configmaps.create(&PostParams::default(), &configmap("app", &[], &[])),
    )
    .await
    .unwrap();
    assert_api_error(
        raw(
            &client,
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/app",
            "application/merge-patch+json",
            "{not json",
        )
        .await,
        422,
        "Invalid",
    );
}

#[tokio::test]
async fn unsupported_patch_type_is_415() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client.clone());
    bounded(
        "creating",
        api.create(
            &PostParams::default(),
            &configmap("app", &[], &[("k", "v")]),
        ),
    )
    .await
    .unwrap();
    assert_api_error(
        raw(
            &client,
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/app",
            "application/x-bogus-patch",
            r#"{"data": {"k": "changed"}}"#,
        )
        .await,
        415,
        "UnsupportedMediaType",
    );
    let fetched = bounded("getting", api.get("app")).await.unwrap();
    assert_eq!(data(&fetched, "k").as_deref(), Some("v"), "nothing changed");
}

#[tokio::test]
async fn malformed_label_selector_is_400_bad_request() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    for selector in ["a in (", "a in (x", "=x", "a in x"] {
        assert_api_error(
            bounded("listing", api.list(&ListParams::default().labels(selector))).await,
            400,
            "BadRequest",
        );
    }
}

#[tokio::test]
async fn field_selector_without_an_operator_is_400_bad_request() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    for selector in ["metadata.name", "metadata.name=a,"] {
        assert_api_error(
            bounded("listing", api.list(&ListParams::default().fields(selector))).await,
            400,
            "BadRequest",
        );
    }
}

/// A real API server only knows `metadata.name`, `metadata.namespace` and a few
/// fields per kind: code that selects on anything else must fail here too, not
/// only against a real cluster.
#[tokio::test]
async fn unsupported_field_label_is_400_bad_request() {
    let (_sandbox, client) = start().await;
    let api = Api::<ConfigMap>::default_namespaced(client);
    let status = assert_api_error(
        bounded(
            "listing",
            api.list(&ListParams::default().fields("spec.unknown=x")),
        )
        .await,
        400,
        "BadRequest",
    );
    assert!(
        status.message.contains("spec.unknown"),
        "the message names the field: {status:?}"
    );
}

// ---------------------------------------------------------------- realism

fn ready_replicas(deployment: &Deployment) -> Option<i32> {
    deployment.status.as_ref().and_then(|s| s.ready_replicas)
}

fn statefulset_ready_replicas(set: &StatefulSet) -> Option<i32> {
    set.status.as_ref().and_then(|s| s.ready_replicas)
}

#[tokio::test]
async fn deployment_reports_ready_replicas_shortly_after_apply() {
    let (_sandbox, client) = start().await;
    let api = Api::<Deployment>::default_namespaced(client);
    let apply = PatchParams::apply("bi").force();
    bounded(
        "applying",
        api.patch("web", &apply, &Patch::Apply(&deployment("web", 3))),
    )
    .await
    .unwrap();
    eventually("readyReplicas reaches 3", || async {
        let d = api.get("web").await.expect("getting the Deployment");
        (ready_replicas(&d) == Some(3)).then_some(())
    })
    .await;

    bounded(
        "scaling",
        api.patch("web", &apply, &Patch::Apply(&deployment("web", 5))),
    )
    .await
    .unwrap();
    let scaled = eventually("readyReplicas follows a scale-up to 5", || async {
        let d = api.get("web").await.expect("getting the Deployment");
        (ready_replicas(&d) == Some(5)).then_some(d)
    })
    .await;
    assert_eq!(
        scaled.metadata.generation,
        Some(2),
        "status updates do not bump generation"
    );
}

#[tokio::test]
async fn statefulset_reports_ready_replicas_shortly_after_apply() {
    let (_sandbox, client) = start().await;
    let api = Api::<StatefulSet>::default_namespaced(client);
    bounded(
        "applying",
        api.patch(
            "db",
            &PatchParams::apply("bi").force(),
            &Patch::Apply(&statefulset("db", 2)),
        ),
    )
    .await
    .unwrap();
    eventually("readyReplicas reaches 2", || async {
        let s = api.get("db").await.expect("getting the StatefulSet");
        (statefulset_ready_replicas(&s) == Some(2)).then_some(())
    })
    .await;
}

fn allocatable(node: &Node, resource: &str) -> String {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get(resource))
        .map(|q| q.0.clone())
        .unwrap_or_else(|| panic!("node {} has allocatable {resource}", node.name_any()))
}

#[tokio::test]
async fn default_sandbox_has_three_nodes_of_4_cpu_and_16_gib() {
    let (_sandbox, client) = start().await;
    let nodes = bounded(
        "listing Nodes",
        Api::<Node>::all(client).list(&ListParams::default()),
    )
    .await
    .unwrap();
    assert_eq!(nodes.items.len(), 3, "{:?}", names(&nodes.items));
    let mut distinct = names(&nodes.items);
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "node names are distinct");
    for node in &nodes.items {
        let cpu = allocatable(node, "cpu");
        let memory = allocatable(node, "memory");
        assert_eq!(
            (cpu.as_str(), memory.as_str()),
            ("4", "16Gi"),
            "{}",
            node.name_any()
        );
        assert_eq!(Cpu::from_kubernetes(&cpu).unwrap(), Cpu::cores(4));
        assert_eq!(
            Memory::from_kubernetes(&memory).unwrap().as_bytes(),
            Memory::gibibytes(16).as_bytes()
        );
    }
}

#[tokio::test]
async fn node_count_and_size_are_configurable() {
    let (_sandbox, client) = start_with(SandboxConfig {
        nodes: 2,
        node_cpu: Cpu::millicores(8500),
        node_memory: Memory::gibibytes(32),
        ..SandboxConfig::default()
    })
    .await;
    let nodes = bounded(
        "listing Nodes",
        Api::<Node>::all(client).list(&ListParams::default()),
    )
    .await
    .unwrap();
    assert_eq!(nodes.items.len(), 2, "{:?}", names(&nodes.items));
    for node in &nodes.items {
        assert_eq!(
            Cpu::from_kubernetes(&allocatable(node, "cpu")).unwrap(),
            Cpu::millicores(8500)
        );
        assert_eq!(
            Memory::from_kubernetes(&allocatable(node, "memory"))
                .unwrap()
                .as_bytes(),
            Memory::gibibytes(32).as_bytes()
        );
    }
}

// ---------------------------------------------------------------- persistence

#[tokio::test]
async fn objects_persist_across_restarts_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..SandboxConfig::default()
    };

    let (sandbox, client) = start_with(config.clone()).await;
    create_namespace(&client, "kept").await;
    let configmaps = Api::<ConfigMap>::namespaced(client.clone(), "kept");
    let cm = bounded(
        "creating",
        configmaps.create(
            &PostParams::default(),
            &configmap("settings", &[("a", "b")], &[("k", "v")]),
        ),
    )
    .await
    .unwrap();
    let deployments = Api::<Deployment>::namespaced(client.clone(), "kept");
    let deploy = bounded(
        "applying",
        deployments.patch(
            "web",
            &PatchParams::apply("bi").force(),
            &Patch::Apply(&deployment("web", 2)),
        ),
    )
    .await
    .unwrap();
    create_established_crd(&client, &widget_crd()).await;
    let (resource, _) = discover(&client).await.resolve_gvk(&widget_gvk()).unwrap();
    let widget = DynamicObject::new("w1", &resource).data(json!({ "spec": { "size": 3 } }));
    bounded(
        "creating",
        api_for(&client, "kept", &resource).create(&PostParams::default(), &widget),
    )
    .await
    .unwrap();
    let before = bounded(
        "listing",
        Api::<ConfigMap>::all(client.clone()).list(&ListParams::default()),
    )
    .await
    .unwrap();
    let last_rv: u64 = before
        .metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    bounded("shutting down", sandbox.shutdown())
        .await
        .expect("a clean shutdown");
    assert!(
        dir.path().join("sandbox.json").is_file(),
        "objects are kept in <data-dir>/sandbox.json"
    );

    let (_again, client) = start_with(config).await;
    let configmaps = Api::<ConfigMap>::namespaced(client.clone(), "kept");
    let found = bounded("getting", configmaps.get("settings"))
        .await
        .expect("the ConfigMap survived");
    assert_eq!(found.uid(), cm.uid(), "same uid after a restart");
    assert_eq!(found.data, cm.data);
    assert_eq!(found.labels(), cm.labels());
    assert_eq!(
        found.metadata.creation_timestamp,
        cm.metadata.creation_timestamp
    );
    let deployments = Api::<Deployment>::namespaced(client.clone(), "kept");
    let found = bounded("getting", deployments.get("web"))
        .await
        .expect("the Deployment survived");
    assert_eq!(found.uid(), deploy.uid());
    assert_eq!(found.spec.unwrap().replicas, Some(2));

    let (resource, _) = discover(&client)
        .await
        .resolve_gvk(&widget_gvk())
        .expect("the CRD is served again after a restart");
    let found = bounded("getting", api_for(&client, "kept", &resource).get("w1"))
        .await
        .expect("the Widget survived");
    assert_eq!(found.data["spec"]["size"], json!(3));

    let nodes = bounded(
        "listing Nodes",
        Api::<Node>::all(client.clone()).list(&ListParams::default()),
    )
    .await
    .unwrap();
    assert_eq!(nodes.items.len(), 3, "nodes are not created twice");

    let newer = bounded(
        "creating after restart",
        configmaps.create(&PostParams::default(), &configmap("newer", &[], &[])),
    )
    .await
    .unwrap();
    assert!(
        resource_version(&newer) > last_rv,
        "resourceVersions keep increasing across restarts: {} after {last_rv}",
        resource_version(&newer)
    );
}

#[tokio::test]
async fn memory_only_sandbox_writes_no_kubeconfig() {
    let sandbox = bounded("starting", Sandbox::start(SandboxConfig::default()))
        .await
        .unwrap();
    assert_eq!(sandbox.kubeconfig_path(), None);
    assert!(
        sandbox.url().starts_with("http://127.0.0.1:"),
        "{}",
        sandbox.url()
    );
    assert_eq!(sandbox.url(), format!("http://{}", sandbox.addr()));
    assert_ne!(sandbox.addr().port(), 0, "a real port was bound");
    bounded("shutting down", sandbox.shutdown()).await.unwrap();
}

// ---------------------------------------------------------------- request counter

#[tokio::test]
async fn request_counter_counts_by_verb_and_resource() {
    let (sandbox, client) = start().await;
    let configmaps = Api::<ConfigMap>::default_namespaced(client.clone());
    let deployments = Api::<Deployment>::default_namespaced(client);
    sandbox.reset_requests();
    assert_eq!(sandbox.requests().total(), 0, "reset zeroes the counters");

    let created = bounded(
        "creating",
        configmaps.create(&PostParams::default(), &configmap("a", &[], &[])),
    )
    .await
    .unwrap();
    bounded(
        "creating",
        configmaps.create(&PostParams::default(), &configmap("b", &[], &[])),
    )
    .await
    .unwrap();
    bounded("getting", configmaps.get("a")).await.unwrap();
    bounded("listing", configmaps.list(&ListParams::default()))
        .await
        .unwrap();
    bounded(
        "replacing",
        configmaps.replace("a", &PostParams::default(), &created),
    )
    .await
    .unwrap();
    bounded(
        "patching",
        configmaps.patch(
            "b",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "k": "v" } })),
        ),
    )
    .await
    .unwrap();
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
    bounded("deleting", configmaps.delete("a", &DeleteParams::default()))
        .await
        .unwrap();
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    bounded(
        "dry-run creating",
        configmaps.create(&dry, &configmap("c", &[], &[])),
    )
    .await
    .unwrap();

    let counts = sandbox.requests();
    let expected = [
        ("create", "configmaps", 3),
        ("get", "configmaps", 1),
        ("list", "configmaps", 1),
        ("update", "configmaps", 1),
        ("patch", "configmaps", 1),
        ("delete", "configmaps", 1),
        ("patch", "deployments", 1),
        ("get", "deployments", 0),
        ("create", "deployments", 0),
        ("watch", "configmaps", 0),
    ];
    for (verb, resource, count) in expected {
        assert_eq!(
            counts.get(verb, resource),
            count,
            "{verb} {resource}: {counts:?}"
        );
    }
    assert_eq!(counts.writes(), 7, "dry runs count as writes: {counts:?}");
    assert_eq!(counts.total(), 9, "{counts:?}");
    assert_eq!(counts.iter().map(|(_, n)| *n).sum::<u64>(), counts.total());

    sandbox.reset_requests();
    assert_eq!(sandbox.requests().total(), 0);
}

#[tokio::test]
async fn reads_alone_count_no_writes() {
    let (sandbox, client) = start().await;
    let configmaps = Api::<ConfigMap>::default_namespaced(client.clone());
    bounded(
        "creating",
        configmaps.create(&PostParams::default(), &configmap("a", &[], &[])),
    )
    .await
    .unwrap();
    sandbox.reset_requests();

    bounded("getting", configmaps.get("a")).await.unwrap();
    bounded("listing", configmaps.list(&ListParams::default()))
        .await
        .unwrap();
    bounded(
        "listing Nodes",
        Api::<Node>::all(client.clone()).list(&ListParams::default()),
    )
    .await
    .unwrap();
    bounded("GET /version", client.apiserver_version())
        .await
        .unwrap();
    discover(&client).await;
    assert_api_error(
        bounded("getting", configmaps.get("missing")).await,
        404,
        "NotFound",
    );

    let counts = sandbox.requests();
    assert_eq!(counts.writes(), 0, "reads are not writes: {counts:?}");
    assert_eq!(counts.get("get", "configmaps"), 2, "{counts:?}");
    assert_eq!(counts.get("list", "configmaps"), 1, "{counts:?}");
    assert_eq!(counts.get("list", "nodes"), 1, "{counts:?}");
    assert!(counts.total() >= 4, "{counts:?}");
}
