//! The sandbox cluster speaks the Kubernetes API: driven here through the real
//! `kube` client, typed (`Api<Deployment>`, `Api<ConfigMap>`, …) and dynamic
//! (`Api<DynamicObject>` through discovery), with the error cases a real API
//! server returns.
//!
//! Every story runs twice (see `on_both!` at the end): on the sandbox and on a
//! real kube-apiserver, each in a namespace of its own. The tests marked
//! "sandbox only" cover the sandbox's extras: self-settling workloads, fake
//! nodes, persistence, request counters, integer resourceVersions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod realk8s;
#[macro_use]
mod sandbox_support;

use std::collections::BTreeMap;

use axum::http::Method;
use bi_model::units::{Cpu, Memory};
use bi_sandbox::{Sandbox, SandboxConfig};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Secret, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    ValidationDirective,
};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope, verbs};
use kube::{Client, ResourceExt};
use sandbox_support::{
    Cluster, WIDGET_GROUP, api_status, assert_api_error, assert_page_not_found, bounded, configmap,
    crd_in, create_established_crd, create_namespace, data, deployment, eventually, is_established,
    names, raw, resource_version, start, start_with, statefulset, widget_crd,
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

fn widget_gvk(c: &Cluster) -> GroupVersionKind {
    GroupVersionKind::gvk(&c.group(), "v1", "Widget")
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

async fn version_endpoint_reports_a_kubernetes_version(c: &Cluster) {
    let client = c.client.clone();
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

async fn core_discovery_lists_built_in_kinds_with_scope_and_verbs(c: &Cluster) {
    let client = c.client.clone();
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

async fn group_discovery_lists_the_groups_bi_generates_with_scope_and_verbs(c: &Cluster) {
    let client = c.client.clone();
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

async fn kube_discovery_resolves_built_in_kinds(c: &Cluster) {
    let client = c.client.clone();
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

async fn created_crd_appears_in_discovery_and_reports_established(c: &Cluster) {
    let client = c.client.clone();
    let before = discover(&client).await;
    let group = c.group();
    assert!(!before.has_group(&group), "no CRD yet, no group");

    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    let created = bounded(
        "creating a CRD",
        crds.create(&PostParams::default(), &c.widget_crd()),
    )
    .await
    .expect("the CRD is created");
    let crd_name = format!("widgets.{group}");
    assert_eq!(created.name_any(), crd_name);
    c.eventually("the CRD reports Established", || {
        let crds = crds.clone();
        let crd_name = crd_name.clone();
        async move {
            let crd = crds.get(&crd_name).await.expect("the CRD can be read");
            is_established(&crd).then_some(())
        }
    })
    .await;

    let groups = bounded("GET /apis", client.list_api_groups())
        .await
        .unwrap();
    assert!(
        groups.groups.iter().any(|g| g.name == group),
        "/apis lists the CRD's group"
    );
    let resources = bounded(
        "GET /apis/<group>/v1",
        client.list_api_group_resources(&format!("{group}/v1")),
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
        .resolve_gvk(&widget_gvk(c))
        .expect("Widget is discoverable once its CRD exists");
    assert_eq!(resource.plural, "widgets");
    assert_eq!(caps.scope, Scope::Namespaced);
}

async fn custom_resources_can_be_created_listed_and_patched_through_discovery(c: &Cluster) {
    let client = c.client.clone();
    create_established_crd(&client, &c.widget_crd()).await;
    let (resource, _caps) = discover(&client)
        .await
        .resolve_gvk(&widget_gvk(c))
        .expect("Widget is discoverable");
    let widgets = api_for(&client, &c.namespace, &resource);

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

async fn cluster_scoped_custom_resources_live_outside_namespaces(c: &Cluster) {
    let client = c.client.clone();
    create_established_crd(&client, &crd_in(&c.group(), "Gadget", "gadgets", "Cluster")).await;
    let (resource, caps) = discover(&client)
        .await
        .resolve_gvk(&GroupVersionKind::gvk(&c.group(), "v1", "Gadget"))
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

async fn custom_resources_before_their_crd_are_404(c: &Cluster) {
    let client = c.client.clone();
    let resource = ApiResource::from_gvk(&widget_gvk(c));
    let widgets = api_for(&client, &c.namespace, &resource);
    let widget = DynamicObject::new("w1", &resource).data(json!({ "spec": {} }));
    // NB: no API group serves the path yet, so it is the server's plain-text 404.
    assert_page_not_found(
        bounded(
            "creating a Widget",
            widgets.create(&PostParams::default(), &widget),
        )
        .await,
    );
    assert_page_not_found(
        bounded(
            "GET /apis/<group>/v1",
            client.list_api_group_resources(&format!("{}/v1", c.group())),
        )
        .await,
    );
}

// ---------------------------------------------------------------- create, get, list

async fn create_then_get_returns_the_object_with_server_owned_metadata(c: &Cluster) {
    let client = c.client.clone();
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
    assert_eq!(
        created.metadata.namespace.as_deref(),
        Some(c.namespace.as_str())
    );
    assert!(
        created.uid().is_some_and(|uid| !uid.is_empty()),
        "uid is set"
    );
    assert!(
        created.metadata.creation_timestamp.is_some(),
        "creationTimestamp is set"
    );
    let rv = created.resource_version();
    assert!(rv.as_ref().is_some_and(|rv| !rv.is_empty()));

    let fetched = bounded("getting a ConfigMap", api.get("app"))
        .await
        .unwrap();
    assert_eq!(fetched.uid(), created.uid());
    assert_eq!(fetched.resource_version(), rv);
    assert_eq!(
        fetched.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );
    assert_eq!(fetched.labels().get("a").map(String::as_str), Some("b"));
    assert_eq!(
        fetched.data,
        Some(BTreeMap::from([("k".to_owned(), "v".to_owned())]))
    );

    let secrets = Api::<Secret>::namespaced(client, &c.namespace);
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

async fn cluster_scoped_objects_are_created_and_listed_without_a_namespace(c: &Cluster) {
    let client = c.client.clone();
    let team = c.name("team-a");
    create_namespace(&client, &team).await;
    let namespaces = Api::<Namespace>::all(client);
    let fetched = bounded("getting a Namespace", namespaces.get(&team))
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
    assert!(listed.contains(&team), "{listed:?}");
}

async fn label_selector_filters_by_equality_and_inequality(c: &Cluster) {
    let client = c.client.clone();
    let namespace = c.name("labels");
    create_namespace(&client, &namespace).await;
    let api = Api::<ConfigMap>::namespaced(client, &namespace);
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

async fn label_selector_filters_by_set_based_expressions(c: &Cluster) {
    let client = c.client.clone();
    let namespace = c.name("sets");
    create_namespace(&client, &namespace).await;
    let api = Api::<ConfigMap>::namespaced(client, &namespace);
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

async fn field_selector_filters_by_metadata_name_and_namespace(c: &Cluster) {
    let client = c.client.clone();
    let (east, west) = (c.name("east"), c.name("west"));
    create_namespace(&client, &east).await;
    create_namespace(&client, &west).await;
    for (namespace, name) in [(&east, "one"), (&east, "two"), (&west, "one")] {
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

    let at = |namespace: &str, name: &str| format!("{namespace}/{name}");
    assert_eq!(
        located(ListParams::default().fields("metadata.name=one")).await,
        [at(&east, "one"), at(&west, "one")]
    );
    assert_eq!(
        located(ListParams::default().fields(&format!("metadata.namespace={east}"))).await,
        [at(&east, "one"), at(&east, "two")]
    );
    assert_eq!(
        located(
            ListParams::default().fields(&format!("metadata.name=one,metadata.namespace={west}"))
        )
        .await,
        [at(&west, "one")]
    );
    assert_eq!(
        located(ListParams::default().fields("metadata.name!=one")).await,
        [at(&east, "two")]
    );

    // Within a namespace, too.
    let east = Api::<ConfigMap>::namespaced(client, &east);
    assert_eq!(
        list_names(&east, &ListParams::default().fields("metadata.name=two")).await,
        ["two"]
    );
}

async fn list_pages_with_limit_and_continue(c: &Cluster) {
    let client = c.client.clone();
    let namespace = c.name("paged");
    create_namespace(&client, &namespace).await;
    let api = Api::<ConfigMap>::namespaced(client, &namespace);
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

async fn replace_with_the_current_resource_version_succeeds_and_bumps_it(c: &Cluster) {
    let client = c.client.clone();
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
    c.assert_newer(&replaced, &created);
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

async fn stale_resource_version_is_a_409_conflict(c: &Cluster) {
    let client = c.client.clone();
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
    assert_eq!(
        status.message,
        "Operation cannot be fulfilled on configmaps \"app\": the object has been modified; please apply your changes to the latest version and try again"
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

async fn replace_without_a_resource_version_is_unconditional(c: &Cluster) {
    let client = c.client.clone();
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
    c.assert_newer(&replaced, &created);
    assert_eq!(data(&replaced, "k").as_deref(), Some("v2"));
}

// ---------------------------------------------------------------- patch and apply

async fn merge_patch_changes_only_the_given_fields(c: &Cluster) {
    let client = c.client.clone();
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
    c.assert_newer(&patched, &created);
    assert_eq!(patched.uid(), created.uid());
    let fetched = bounded("getting a ConfigMap", api.get("app"))
        .await
        .unwrap();
    assert_eq!(fetched.data, patched.data, "the patch is stored");
}

async fn json_patch_applies_its_operations_in_order(c: &Cluster) {
    let client = c.client.clone();
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

async fn server_side_apply_creates_when_absent_then_updates(c: &Cluster) {
    let client = c.client.clone();
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
    c.assert_newer(&updated, &created);

    let fetched = bounded("getting a Deployment", api.get("web"))
        .await
        .unwrap();
    assert_eq!(fetched.spec.unwrap().replicas, Some(3));
}

/// Deployments also count annotation changes (a real server copies their
/// annotations to ReplicaSets); other workloads only spec changes; kinds
/// without a spec (ConfigMaps, Namespaces) have no generation at all.
async fn generation_bumps_only_on_spec_changes(c: &Cluster) {
    let client = c.client.clone();
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
    c.assert_newer(&labelled, &first);

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
    assert_eq!(
        annotated.metadata.generation,
        Some(2),
        "a Deployment's annotations count"
    );

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
    assert_eq!(scaled.metadata.generation, Some(3));

    // NB: unconditional (no resourceVersion): a real server's deployment
    // controller writes the status meanwhile.
    let mut replaced = bounded("getting", api.get("web")).await.unwrap();
    let scaled = replaced.clone();
    replaced.spec.as_mut().unwrap().replicas = Some(5);
    replaced.metadata.resource_version = None;
    let replaced = bounded(
        "replacing the spec",
        api.replace("web", &PostParams::default(), &replaced),
    )
    .await
    .unwrap();
    assert_eq!(replaced.metadata.generation, Some(4));
    c.assert_newer(&replaced, &scaled);
    assert_eq!(replaced.uid(), first.uid());
    assert_eq!(
        replaced.metadata.creation_timestamp,
        first.metadata.creation_timestamp
    );

    let sets = Api::<StatefulSet>::default_namespaced(c.client.clone());
    bounded(
        "applying a StatefulSet",
        sets.patch("db", &apply, &Patch::Apply(&statefulset("db", 1))),
    )
    .await
    .unwrap();
    let annotated = bounded(
        "annotating a StatefulSet",
        sets.patch(
            "db",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "annotations": { "note": "hi" } } })),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        annotated.metadata.generation,
        Some(1),
        "a StatefulSet's annotations do not count"
    );

    let configmaps = Api::<ConfigMap>::default_namespaced(c.client.clone());
    let created = bounded(
        "creating a ConfigMap",
        configmaps.create(&PostParams::default(), &configmap("plain", &[], &[])),
    )
    .await
    .unwrap();
    assert_eq!(created.metadata.generation, None, "a ConfigMap has none");
    let namespace = bounded(
        "getting the namespace",
        Api::<Namespace>::all(c.client.clone()).get(&c.namespace),
    )
    .await
    .unwrap();
    assert_eq!(namespace.metadata.generation, None, "a Namespace has none");
}

/// Sandbox only: integer resourceVersions are a sandbox extra (a real server's
/// are opaque strings a client may only compare for equality).
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

/// Server-side apply records who owns which field (`managedFields`) and
/// refuses to let one manager change a field another owns, unless forced.
async fn server_side_apply_records_managers_and_refuses_conflicts(c: &Cluster) {
    let api = Api::<Deployment>::default_namespaced(c.client.clone());
    let created = bounded(
        "applying as bi",
        api.patch(
            "web",
            &PatchParams::apply("bi"),
            &Patch::Apply(&deployment("web", 1)),
        ),
    )
    .await
    .unwrap();
    let managed = created.metadata.managed_fields.clone().unwrap_or_default();
    let bi = managed
        .iter()
        .find(|entry| entry.manager.as_deref() == Some("bi"))
        .unwrap_or_else(|| panic!("bi manages fields: {managed:?}"));
    assert_eq!(bi.operation.as_deref(), Some("Apply"));
    assert_eq!(bi.api_version.as_deref(), Some("apps/v1"));
    assert_eq!(bi.fields_type.as_deref(), Some("FieldsV1"));
    let fields = &bi.fields_v1.as_ref().expect("fieldsV1").0;
    assert_eq!(fields["f:spec"]["f:replicas"], json!({}), "{fields}");
    assert_eq!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"main\"}"]["f:image"],
        json!({}),
        "{fields}"
    );

    let replicas = |n: i32| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "web" },
            "spec": { "replicas": n }
        })
    };
    let status = assert_api_error(
        bounded(
            "applying another value as other",
            api.patch(
                "web",
                &PatchParams::apply("other"),
                &Patch::Apply(replicas(3)),
            ),
        )
        .await,
        409,
        "Conflict",
    );
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"bi\": .spec.replicas"
    );
    let cause = &status.details.expect("details").causes[0];
    assert_eq!(
        (
            cause.reason.as_str(),
            cause.message.as_str(),
            cause.field.as_str()
        ),
        (
            "FieldManagerConflict",
            "conflict with \"bi\"",
            ".spec.replicas"
        )
    );

    bounded(
        "applying the same value as other",
        api.patch(
            "web",
            &PatchParams::apply("other"),
            &Patch::Apply(replicas(1)),
        ),
    )
    .await
    .expect("the same value is shared, not a conflict");

    bounded(
        "merge-patching as editor",
        api.patch(
            "web",
            &PatchParams {
                field_manager: Some("editor".to_owned()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({ "spec": { "replicas": 5 } })),
        ),
    )
    .await
    .unwrap();
    let status = assert_api_error(
        bounded(
            "applying as bi again",
            api.patch(
                "web",
                &PatchParams::apply("bi"),
                &Patch::Apply(&deployment("web", 2)),
            ),
        )
        .await,
        409,
        "Conflict",
    );
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"editor\" using apps/v1: .spec.replicas"
    );

    let forced = bounded(
        "applying as bi, forced",
        api.patch(
            "web",
            &PatchParams::apply("bi").force(),
            &Patch::Apply(&deployment("web", 2)),
        ),
    )
    .await
    .expect("force takes the field");
    assert_eq!(forced.spec.unwrap().replicas, Some(2));
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert!(
        !managers.contains(&"editor".to_owned()) && !managers.contains(&"other".to_owned()),
        "managers left owning nothing are dropped: {managers:?}"
    );
}

/// Server-side apply merges lists keyed by name (containers) item by item:
/// another manager's container stays when bi applies its own again.
async fn server_side_apply_merges_containers_by_name(c: &Cluster) {
    let api = Api::<Deployment>::default_namespaced(c.client.clone());
    bounded(
        "applying as bi",
        api.patch(
            "web",
            &PatchParams::apply("bi"),
            &Patch::Apply(&deployment("web", 1)),
        ),
    )
    .await
    .unwrap();
    let sidecar = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "web" },
        "spec": { "template": { "spec": { "containers": [
            { "name": "side", "image": "busybox:1.36" }
        ] } } }
    });
    bounded(
        "applying a sidecar as other",
        api.patch("web", &PatchParams::apply("other"), &Patch::Apply(sidecar)),
    )
    .await
    .expect("another container is no conflict");
    let again = bounded(
        "applying as bi again",
        api.patch(
            "web",
            &PatchParams::apply("bi"),
            &Patch::Apply(&deployment("web", 2)),
        ),
    )
    .await
    .unwrap();
    let containers: Vec<String> = again
        .spec
        .and_then(|spec| spec.template.spec)
        .map(|pod| pod.containers.into_iter().map(|c| c.name).collect())
        .unwrap_or_default();
    assert_eq!(containers, ["main", "side"], "both managers' containers");
}

/// Deployments, StatefulSets and ReplicaSets have a `/scale` subresource: an
/// `autoscaling/v1` Scale of `spec.replicas`, as `kubectl scale` uses it.
async fn scale_subresource_reads_and_writes_replicas(c: &Cluster) {
    let apps = bounded(
        "GET /apis/apps/v1",
        c.client.list_api_group_resources("apps/v1"),
    )
    .await
    .unwrap();
    let scale = apps
        .resources
        .iter()
        .find(|r| r.name == "deployments/scale")
        .expect("deployments/scale is discoverable");
    assert_eq!(
        (
            scale.group.as_deref(),
            scale.version.as_deref(),
            scale.kind.as_str()
        ),
        (Some("autoscaling"), Some("v1"), "Scale")
    );

    let api = Api::<Deployment>::default_namespaced(c.client.clone());
    bounded(
        "applying",
        api.patch(
            "web",
            &PatchParams::apply("bi"),
            &Patch::Apply(&deployment("web", 2)),
        ),
    )
    .await
    .unwrap();
    let scale = bounded("getting the scale", api.get_scale("web"))
        .await
        .expect("a Deployment has a scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(2));
    assert_eq!(
        scale.status.as_ref().and_then(|s| s.selector.as_deref()),
        Some("app=web")
    );

    let scaled = bounded(
        "patching the scale",
        api.patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 4 } })),
        ),
    )
    .await
    .expect("the scale can be patched");
    assert_eq!(scaled.spec.as_ref().and_then(|s| s.replicas), Some(4));
    let deployment = bounded("getting", api.get("web")).await.unwrap();
    assert_eq!(deployment.spec.unwrap().replicas, Some(4));

    let mut one = scaled.clone();
    one.spec.get_or_insert_default().replicas = Some(1);
    one.metadata.resource_version = None;
    let replaced = bounded(
        "replacing the scale",
        api.replace_scale("web", &PostParams::default(), &one),
    )
    .await
    .expect("the scale can be replaced");
    assert_eq!(replaced.spec.and_then(|s| s.replicas), Some(1));

    let status = assert_api_error(
        bounded("getting a missing scale", api.get_scale("nope")).await,
        404,
        "NotFound",
    );
    assert_eq!(status.message, "deployments.apps \"nope\" not found");
    bounded(
        "creating a ConfigMap",
        Api::<ConfigMap>::default_namespaced(c.client.clone())
            .create(&PostParams::default(), &configmap("plain", &[], &[])),
    )
    .await
    .unwrap();
    let status = assert_api_error(
        raw(
            &c.client,
            Method::GET,
            &format!("/api/v1/namespaces/{}/configmaps/plain/scale", c.namespace),
            "application/json",
            "",
        )
        .await,
        404,
        "NotFound",
    );
    assert_eq!(
        status.message,
        "the server could not find the requested resource"
    );
}

// ---------------------------------------------------------------- delete

async fn delete_removes_the_object_with_any_propagation_policy(c: &Cluster) {
    let client = c.client.clone();
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
        c.eventually(
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

async fn deleting_a_namespace_deletes_what_is_in_it(c: &Cluster) {
    let client = c.client.clone();
    let (doomed, spared) = (c.name("doomed"), c.name("spared"));
    create_namespace(&client, &doomed).await;
    create_namespace(&client, &spared).await;
    for namespace in [&doomed, &spared] {
        let configmaps = Api::<ConfigMap>::namespaced(client.clone(), namespace);
        bounded(
            "creating a ConfigMap",
            configmaps.create(
                &PostParams::default(),
                &configmap("settings", &[("suite", c.id())], &[]),
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
        namespaces.delete(&doomed, &DeleteParams::default()),
    )
    .await
    .expect("the namespace delete is accepted");
    c.eventually("the namespace is gone", || async {
        namespaces
            .get_opt(&doomed)
            .await
            .expect("getting a Namespace")
            .is_none()
            .then_some(())
    })
    .await;

    let configmaps = Api::<ConfigMap>::all(client.clone());
    let left = bounded(
        "listing ConfigMaps",
        configmaps.list(&ListParams::default().labels(&format!("suite={}", c.id()))),
    )
    .await
    .unwrap();
    let left: Vec<String> = left.items.iter().filter_map(|cm| cm.namespace()).collect();
    assert_eq!(
        left,
        std::slice::from_ref(&spared),
        "only the other namespace's ConfigMap is left"
    );
    let deployments = Api::<Deployment>::all(client.clone());
    let left = bounded(
        "listing Deployments",
        deployments.list(&ListParams::default()),
    )
    .await
    .unwrap();
    let left: Vec<String> = left
        .items
        .iter()
        .filter_map(|d| d.namespace())
        .filter(|namespace| [&doomed, &spared].contains(&namespace))
        .collect();
    assert_eq!(
        left,
        std::slice::from_ref(&spared),
        "only the other namespace's Deployment is left"
    );

    // Re-creating the namespace does not bring its old contents back.
    create_namespace(&client, &doomed).await;
    let doomed = Api::<ConfigMap>::namespaced(client, &doomed);
    assert_eq!(
        bounded("getting a ConfigMap", doomed.get_opt("settings"))
            .await
            .unwrap(),
        None
    );
}

/// An object with finalizers is only marked when deleted and goes once they
/// are removed; a namespace being deleted is Terminating until it is empty
/// and refuses new objects meanwhile.
async fn finalizers_hold_deletion_and_terminating_namespaces_refuse_new_objects(c: &Cluster) {
    let held = |name: &str| -> ConfigMap {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": name, "finalizers": ["example.bi.dev/hold"] }
        }))
        .unwrap()
    };
    let release = Patch::Merge(json!({ "metadata": { "finalizers": null } }));
    let configmaps = Api::<ConfigMap>::default_namespaced(c.client.clone());
    bounded(
        "creating a held ConfigMap",
        configmaps.create(&PostParams::default(), &held("held")),
    )
    .await
    .unwrap();
    bounded(
        "deleting it",
        configmaps.delete("held", &DeleteParams::default()),
    )
    .await
    .expect("the delete is accepted");
    let marked = bounded("getting it", configmaps.get("held"))
        .await
        .expect("a finalizer keeps the object");
    assert!(
        marked.metadata.deletion_timestamp.is_some(),
        "it is marked for deletion"
    );
    bounded(
        "removing its finalizer",
        configmaps.patch("held", &PatchParams::default(), &release),
    )
    .await
    .unwrap();
    c.eventually("the released ConfigMap is gone", || async {
        configmaps
            .get_opt("held")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;

    let doomed = c.name("doomed");
    create_namespace(&c.client, &doomed).await;
    let inside = Api::<ConfigMap>::namespaced(c.client.clone(), &doomed);
    bounded(
        "creating a held ConfigMap",
        inside.create(&PostParams::default(), &held("held")),
    )
    .await
    .unwrap();
    let namespaces = Api::<Namespace>::all(c.client.clone());
    bounded(
        "deleting the namespace",
        namespaces.delete(&doomed, &DeleteParams::default()),
    )
    .await
    .expect("the namespace delete is accepted");
    let terminating = bounded("getting the namespace", namespaces.get(&doomed))
        .await
        .expect("the namespace waits for what is in it");
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );

    let status = assert_api_error(
        bounded(
            "creating in a terminating namespace",
            inside.create(&PostParams::default(), &configmap("new", &[], &[])),
        )
        .await,
        403,
        "Forbidden",
    );
    assert_eq!(
        status.message,
        format!(
            "configmaps \"new\" is forbidden: unable to create new content in namespace {doomed} because it is being terminated"
        )
    );
    let cause = &status.details.expect("details").causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("NamespaceTerminating", "metadata.namespace")
    );
    assert_api_error(
        bounded(
            "applying in a terminating namespace",
            inside.patch(
                "applied",
                &PatchParams::apply("bi"),
                &Patch::Apply(&configmap("applied", &[], &[])),
            ),
        )
        .await,
        403,
        "Forbidden",
    );

    c.eventually("the held ConfigMap is marked", || async {
        let object = inside.get("held").await.unwrap();
        object.metadata.deletion_timestamp.map(|_| ())
    })
    .await;
    bounded(
        "releasing the held ConfigMap",
        inside.patch("held", &PatchParams::default(), &release),
    )
    .await
    .unwrap();
    c.eventually("the emptied namespace is gone", || async {
        namespaces
            .get_opt(&doomed)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

/// A completed deletion is answered with a `Status` of success; an object
/// that stays (marked, waiting for finalizers) is answered with itself.
async fn delete_answers_with_a_status_unless_the_object_stays(c: &Cluster) {
    let api = Api::<ConfigMap>::default_namespaced(c.client.clone());
    let created = bounded(
        "creating",
        api.create(&PostParams::default(), &configmap("gone", &[], &[])),
    )
    .await
    .unwrap();
    let answer = bounded("deleting", api.delete("gone", &DeleteParams::default()))
        .await
        .unwrap();
    let status = answer.right().expect("a completed deletion is a Status");
    assert_eq!(
        status.status,
        Some(kube::core::response::StatusSummary::Success)
    );
    let details = status.details.expect("details");
    assert_eq!(
        (details.name.as_str(), details.kind.as_str(), details.uid),
        ("gone", "configmaps", created.uid().unwrap())
    );

    let held: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": "held", "finalizers": ["example.bi.dev/hold"] }
    }))
    .unwrap();
    bounded("creating", api.create(&PostParams::default(), &held))
        .await
        .unwrap();
    let answer = bounded("deleting", api.delete("held", &DeleteParams::default()))
        .await
        .unwrap();
    let object = answer.left().expect("an object that stays is the answer");
    assert!(object.metadata.deletion_timestamp.is_some());
    bounded(
        "releasing",
        api.patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
        ),
    )
    .await
    .unwrap();

    let status = assert_api_error(
        raw(
            &c.client,
            Method::POST,
            &format!("/api/v1/namespaces/{}/configmaps", c.namespace),
            "application/json",
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#,
        )
        .await,
        400,
        "BadRequest",
    );
    assert_eq!(
        status.message,
        "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion"
    );
}

// ---------------------------------------------------------------- dry run

async fn dry_run_create_returns_the_object_and_stores_nothing(c: &Cluster) {
    let client = c.client.clone();
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

async fn dry_run_replace_and_patches_store_nothing(c: &Cluster) {
    let client = c.client.clone();
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
    let rv = created.resource_version();

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
        fetched.resource_version(),
        rv,
        "the stored version is unchanged"
    );
}

async fn dry_run_apply_of_an_absent_object_creates_nothing(c: &Cluster) {
    let client = c.client.clone();
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

async fn dry_run_delete_keeps_the_object(c: &Cluster) {
    let client = c.client.clone();
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
    assert_eq!(fetched.resource_version(), created.resource_version());

    let kept_name = c.name("kept");
    create_namespace(&client, &kept_name).await;
    let kept = Api::<ConfigMap>::namespaced(client.clone(), &kept_name);
    bounded(
        "creating",
        kept.create(&PostParams::default(), &configmap("inside", &[], &[])),
    )
    .await
    .unwrap();
    let namespaces = Api::<Namespace>::all(client);
    bounded(
        "dry-run deleting a namespace",
        namespaces.delete(&kept_name, &DeleteParams::default().dry_run()),
    )
    .await
    .expect("a dry-run namespace delete succeeds");
    // Give a (wrong) background namespace cleanup the chance to run.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    bounded("getting", namespaces.get(&kept_name))
        .await
        .expect("the namespace is still there");
    bounded("getting", kept.get("inside"))
        .await
        .expect("its contents are still there");
}

// ---------------------------------------------------------------- errors

async fn get_of_a_missing_object_is_404_not_found(c: &Cluster) {
    let client = c.client.clone();
    let api = Api::<ConfigMap>::default_namespaced(client.clone());
    let status = assert_api_error(bounded("getting", api.get("nope")).await, 404, "NotFound");
    assert_eq!(status.message, "configmaps \"nope\" not found");
    let details = status.details.expect("details");
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("nope", "configmaps"),
        "NotFound details name the resource, not the kind"
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

async fn writes_to_a_missing_object_are_404_not_found(c: &Cluster) {
    let client = c.client.clone();
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

async fn namespaced_object_in_a_missing_namespace_is_404_not_found(c: &Cluster) {
    let client = c.client.clone();
    let nowhere = c.name("nowhere");
    let api = Api::<ConfigMap>::namespaced(client.clone(), &nowhere);
    let status = assert_api_error(
        bounded(
            "creating",
            api.create(&PostParams::default(), &configmap("app", &[], &[])),
        )
        .await,
        404,
        "NotFound",
    );
    assert_eq!(
        status.message,
        format!("namespaces \"{nowhere}\" not found")
    );
    let details = status.details.expect("details");
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        (nowhere.as_str(), "namespaces")
    );
    let deployments = Api::<Deployment>::namespaced(client, &nowhere);
    let status = assert_api_error(
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
    assert_eq!(
        status.message,
        format!("namespaces \"{nowhere}\" not found")
    );
    let status = assert_api_error(bounded("getting", api.get("app")).await, 404, "NotFound");
    assert_eq!(status.message, "configmaps \"app\" not found");
}

async fn creating_an_existing_object_is_409_already_exists(c: &Cluster) {
    let client = c.client.clone();
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
    assert_eq!(status.message, "configmaps \"app\" already exists");
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

async fn create_without_a_name_is_422_invalid(c: &Cluster) {
    let client = c.client.clone();
    let body =
        json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": { "k": "v" } });
    let status = assert_api_error(
        raw(
            &client,
            Method::POST,
            &format!("/api/v1/namespaces/{}/configmaps", c.namespace),
            "application/json",
            body.to_string(),
        )
        .await,
        422,
        "Invalid",
    );
    assert_eq!(
        status.message,
        "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required"
    );
    let details = status.details.expect("an Invalid status has details");
    assert_eq!(
        details.kind, "ConfigMap",
        "details name the kind, not the resource"
    );
    assert_eq!(details.causes.len(), 1, "{details:?}");
    assert_eq!(details.causes[0].reason, "FieldValueRequired");
    assert_eq!(details.causes[0].field, "metadata.name");
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

/// A body that is not an object, and a patch that is not JSON, are bad
/// requests (400), not invalid objects (422).
async fn malformed_body_is_400_bad_request(c: &Cluster) {
    let client = c.client.clone();
    assert_api_error(
        raw(
            &client,
            Method::POST,
            &format!("/api/v1/namespaces/{}/configmaps", c.namespace),
            "application/json",
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "#,
        )
        .await,
        400,
        "BadRequest",
    );
    assert_api_error(
        raw(
            &client,
            Method::POST,
            &format!("/api/v1/namespaces/{}/configmaps", c.namespace),
            "application/json",
            r#"["not", "an", "object"]"#,
        )
        .await,
        400,
        "BadRequest",
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
            &format!("/api/v1/namespaces/{}/configmaps/app", c.namespace),
            "application/merge-patch+json",
            "{not json",
        )
        .await,
        400,
        "BadRequest",
    );
}

/// Query options a real server does not accept are refused as invalid
/// options (422 `…Options.meta.k8s.io`), a method a path does not serve as 405.
async fn malformed_write_options_are_422_and_wrong_methods_405(c: &Cluster) {
    let collection = format!("/api/v1/namespaces/{}/configmaps", c.namespace);
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app"}}"#;
    let status = assert_api_error(
        raw(
            &c.client,
            Method::POST,
            &format!("{collection}?dryRun=Some"),
            "application/json",
            body,
        )
        .await,
        422,
        "Invalid",
    );
    assert_eq!(
        status.message,
        "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Some\"]: supported values: \"All\""
    );
    let status = assert_api_error(
        raw(
            &c.client,
            Method::PATCH,
            &format!("{collection}/app"),
            "application/apply-patch+yaml",
            body,
        )
        .await,
        422,
        "Invalid",
    );
    assert_eq!(
        status.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    raw(
        &c.client,
        Method::POST,
        &collection,
        "application/json",
        body,
    )
    .await
    .expect("the ConfigMap is created");
    let status = assert_api_error(
        raw(
            &c.client,
            Method::DELETE,
            &format!("{collection}/app?propagationPolicy=Sometimes"),
            "application/json",
            "",
        )
        .await,
        422,
        "Invalid",
    );
    assert!(
        status
            .message
            .starts_with("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sometimes\""),
        "{status:?}"
    );
    let status = assert_api_error(
        raw(
            &c.client,
            Method::POST,
            &format!("{collection}/app"),
            "application/json",
            body,
        )
        .await,
        405,
        "MethodNotAllowed",
    );
    assert_eq!(
        status.message,
        "the server does not allow this method on the requested resource"
    );
}

async fn unsupported_patch_type_is_415(c: &Cluster) {
    let client = c.client.clone();
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
            &format!("/api/v1/namespaces/{}/configmaps/app", c.namespace),
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

async fn malformed_label_selector_is_400_bad_request(c: &Cluster) {
    let client = c.client.clone();
    let api = Api::<ConfigMap>::default_namespaced(client);
    for selector in ["a in (", "a in (x", "=x", "a in x"] {
        assert_api_error(
            bounded("listing", api.list(&ListParams::default().labels(selector))).await,
            400,
            "BadRequest",
        );
    }
}

async fn field_selector_without_an_operator_is_400_bad_request(c: &Cluster) {
    let client = c.client.clone();
    let api = Api::<ConfigMap>::default_namespaced(client);
    for selector in ["metadata.name", "metadata.name=a,metadata.namespace"] {
        let status = assert_api_error(
            bounded("listing", api.list(&ListParams::default().fields(selector))).await,
            400,
            "BadRequest",
        );
        assert!(
            status
                .message
                .starts_with(&format!("invalid selector: '{selector}'")),
            "{status:?}"
        );
    }
    // Empty terms are skipped, as a real API server does.
    bounded(
        "listing",
        api.list(&ListParams::default().fields("metadata.name=a,")),
    )
    .await
    .expect("a trailing comma is accepted");
}

/// A real API server only knows `metadata.name`, `metadata.namespace` and a few
/// fields per kind: code that selects on anything else must fail here too, not
/// only against a real cluster.
async fn unsupported_field_label_is_400_bad_request(c: &Cluster) {
    let client = c.client.clone();
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
    assert_eq!(
        status.message,
        "\"spec.unknown\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
}

// ---------------------------------------------------------------- names and groups

/// A real API server checks names per kind: most kinds take an RFC 1123
/// subdomain (up to 253 characters, dots allowed), Namespaces and Services an
/// RFC 1123 label (up to 63 characters, no dots).
async fn names_follow_the_rules_of_their_kind(c: &Cluster) {
    let long = "a".repeat(80);
    let secret = |name: &str| -> Secret {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": { "name": name }
        }))
        .unwrap()
    };
    let secrets = Api::<Secret>::default_namespaced(c.client.clone());
    bounded(
        "creating a Secret with an 80-character name",
        secrets.create(&PostParams::default(), &secret(&long)),
    )
    .await
    .expect("an 80-character Secret name is a valid subdomain");
    let dotted = format!("{long}.{long}");
    bounded(
        "creating a ConfigMap with a long dotted name",
        Api::<ConfigMap>::default_namespaced(c.client.clone())
            .create(&PostParams::default(), &configmap(&dotted, &[], &[])),
    )
    .await
    .expect("a 161-character dotted ConfigMap name is a valid subdomain");

    let status = assert_api_error(
        bounded(
            "creating a Secret named a_b",
            secrets.create(&PostParams::default(), &secret("a_b")),
        )
        .await,
        422,
        "Invalid",
    );
    assert!(
        status.message.starts_with(
            "Secret \"a_b\" is invalid: metadata.name: Invalid value: \"a_b\": a lowercase RFC 1123 subdomain must consist of"
        ),
        "{status:?}"
    );

    let service: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": "Web" },
        "spec": { "ports": [{ "port": 80 }] }
    }))
    .unwrap();
    let status = assert_api_error(
        bounded(
            "creating a Service named Web",
            Api::<Service>::default_namespaced(c.client.clone())
                .create(&PostParams::default(), &service),
        )
        .await,
        422,
        "Invalid",
    );
    assert!(
        status.message.starts_with(
            "Service \"Web\" is invalid: metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of"
        ),
        "{status:?}"
    );

    let namespace: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": long }
    }))
    .unwrap();
    let status = assert_api_error(
        bounded(
            "creating a Namespace with an 80-character name",
            Api::<Namespace>::all(c.client.clone()).create(&PostParams::default(), &namespace),
        )
        .await,
        422,
        "Invalid",
    );
    let details = status.details.expect("details");
    let fields: Vec<&str> = details.causes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        ["metadata.name", "metadata.labels"],
        "the name and its label are both too long: {:?}",
        details.causes
    );
    assert!(
        details.causes[0]
            .message
            .ends_with("must be no more than 63 characters"),
        "{:?}",
        details.causes
    );
}

/// CRDs in a group the Kubernetes project owns (`*.k8s.io`,
/// `*.kubernetes.io`) need the `api-approved.kubernetes.io` annotation.
async fn crds_in_protected_groups_need_the_approval_annotation(c: &Cluster) {
    let crds = Api::<CustomResourceDefinition>::all(c.client.clone());
    let protected = format!("s{}.k8s.io", c.id());
    let with_approval = |approval: Option<&str>| {
        let mut crd = crd_in(&protected, "Widget", "widgets", "Namespaced");
        if let Some(approval) = approval {
            crd.metadata.annotations = Some(BTreeMap::from([(
                "api-approved.kubernetes.io".to_owned(),
                approval.to_owned(),
            )]));
        }
        crd
    };
    let status = assert_api_error(
        bounded(
            "creating a CRD without approval",
            crds.create(&PostParams::default(), &with_approval(None)),
        )
        .await,
        422,
        "Invalid",
    );
    assert_eq!(
        status.message,
        format!(
            "CustomResourceDefinition.apiextensions.k8s.io \"widgets.{protected}\" is invalid: metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111"
        )
    );
    let details = status.details.expect("details");
    assert_eq!(
        (details.kind.as_str(), details.group.as_str()),
        ("CustomResourceDefinition", "apiextensions.k8s.io")
    );
    assert_eq!(details.causes[0].reason, "FieldValueRequired");

    let status = assert_api_error(
        bounded(
            "creating a CRD approved with \"yes\"",
            crds.create(&PostParams::default(), &with_approval(Some("yes"))),
        )
        .await,
        422,
        "Invalid",
    );
    assert!(
        status
            .message
            .contains("with either a URL or a reason starting with \"unapproved\""),
        "{status:?}"
    );

    bounded(
        "creating an unapproved CRD",
        crds.create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &with_approval(Some("unapproved, testing only")),
        ),
    )
    .await
    .expect("a reason starting with \"unapproved\" is accepted");
    bounded(
        "creating an approved CRD",
        crds.create(
            &PostParams::default(),
            &with_approval(Some("https://github.com/kubernetes/enhancements/pull/1111")),
        ),
    )
    .await
    .expect("a URL is accepted");

    let mut misnamed = c.widget_crd();
    misnamed.metadata.name = Some(format!("gizmos.{}", c.group()));
    let status = assert_api_error(
        bounded(
            "creating a misnamed CRD",
            crds.create(&PostParams::default(), &misnamed),
        )
        .await,
        422,
        "Invalid",
    );
    assert!(
        status
            .message
            .ends_with("must be spec.names.plural+\".\"+spec.group"),
        "{status:?}"
    );
}

/// Paths in a served group that name nothing are a JSON `Status` 404; paths
/// in no served group are the server's plain-text `404 page not found`.
async fn unknown_group_versions_and_resources_are_404(c: &Cluster) {
    assert_page_not_found(
        bounded(
            "GET /apis/<unknown group>/v1",
            c.client
                .list_api_group_resources(&format!("{}/v1", c.group())),
        )
        .await,
    );
    for path in [
        "/apis/apps/v9",
        "/api/v9",
        "/apis/apps/v1/nothings",
        "/apis/apps/v1/namespaces/default/deployments/web/bogus",
    ] {
        let status = assert_api_error(
            raw(&c.client, Method::GET, path, "application/json", "").await,
            404,
            "NotFound",
        );
        assert_eq!(
            status.message, "the server could not find the requested resource",
            "{path}"
        );
    }
}

// ---------------------------------------------------------------- field validation

/// Fields a kind does not declare: refused under `fieldValidation=Strict`
/// (kubectl's default), dropped otherwise, and an error for server-side apply.
async fn unknown_fields_are_refused_when_strict_and_dropped_otherwise(c: &Cluster) {
    let collection = format!("/api/v1/namespaces/{}/configmaps", c.namespace);
    let body = |name: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","bogus":1}},"data":{{"k":"v"}},"spec":{{"x":1}}}}"#
        )
    };
    let status = assert_api_error(
        raw(
            &c.client,
            Method::POST,
            &format!("{collection}?fieldValidation=Strict"),
            "application/json",
            body("strict"),
        )
        .await,
        400,
        "BadRequest",
    );
    assert_eq!(
        status.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"metadata.bogus\", unknown field \"spec\""
    );

    let created = raw(
        &c.client,
        Method::POST,
        &collection,
        "application/json",
        body("lenient"),
    )
    .await
    .expect("without Strict, unknown fields are dropped");
    assert_eq!(created["data"]["k"], "v");
    assert_eq!(created.get("spec"), None, "{created}");
    assert_eq!(created["metadata"].get("bogus"), None, "{created}");

    let status = assert_api_error(
        raw(
            &c.client,
            Method::POST,
            &format!("{collection}?fieldValidation=Bogus"),
            "application/json",
            body("bogus"),
        )
        .await,
        422,
        "Invalid",
    );
    assert_eq!(
        status.message,
        "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Bogus\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
    );

    let configmaps = Api::<ConfigMap>::default_namespaced(c.client.clone());
    let status = api_status(
        bounded(
            "applying an unknown field",
            configmaps.patch(
                "applied",
                &PatchParams::apply("bi"),
                &Patch::Apply(json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": { "name": "applied" },
                    "spec": { "x": 1 }
                })),
            ),
        )
        .await,
    );
    assert_eq!(
        (status.code, status.message.as_str()),
        (
            500,
            "failed to create typed patch object (/applied; /v1, Kind=ConfigMap): .spec: field not declared in schema"
        )
    );

    let status = assert_api_error(
        bounded(
            "merge-patching an unknown field, strictly",
            configmaps.patch(
                "lenient",
                &PatchParams {
                    field_validation: Some(ValidationDirective::Strict),
                    ..PatchParams::default()
                },
                &Patch::Merge(json!({ "spec": { "x": 1 } })),
            ),
        )
        .await,
        422,
        "Invalid",
    );
    assert!(
        status
            .message
            .ends_with("strict decoding error: unknown field \"spec\""),
        "{status:?}"
    );

    // A custom resource is checked against its CRD's schema.
    let group = c.group();
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("gizmos.{group}") },
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": { "kind": "Gizmo", "plural": "gizmos" },
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": { "openAPIV3Schema": {
                    "type": "object",
                    "properties": { "spec": {
                        "type": "object",
                        "properties": { "size": { "type": "integer" } }
                    } }
                } }
            }]
        }
    }))
    .unwrap();
    create_established_crd(&c.client, &crd).await;
    let gizmos = format!("/apis/{group}/v1/namespaces/{}/gizmos", c.namespace);
    let gizmo = |name: &str| {
        json!({
            "apiVersion": format!("{group}/v1"), "kind": "Gizmo",
            "metadata": { "name": name },
            "spec": { "size": 1, "extra": 2 }
        })
        .to_string()
    };
    let status = assert_api_error(
        raw(
            &c.client,
            Method::POST,
            &format!("{gizmos}?fieldValidation=Strict"),
            "application/json",
            gizmo("strict"),
        )
        .await,
        400,
        "BadRequest",
    );
    assert_eq!(
        status.message,
        "Gizmo in version \"v1\" cannot be handled as a Gizmo: strict decoding error: unknown field \"spec.extra\""
    );
    let created = raw(
        &c.client,
        Method::POST,
        &gizmos,
        "application/json",
        gizmo("pruned"),
    )
    .await
    .expect("without Strict, unknown fields are pruned");
    assert_eq!(created["spec"], json!({ "size": 1 }));
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
    let (resource, _) = discover(&client)
        .await
        .resolve_gvk(&GroupVersionKind::gvk(WIDGET_GROUP, "v1", "Widget"))
        .unwrap();
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
        .resolve_gvk(&GroupVersionKind::gvk(WIDGET_GROUP, "v1", "Widget"))
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

async fn metadata_only_lists_and_gets_carry_no_spec_or_data(c: &Cluster) {
    let client = c.client.clone();
    let namespace = c.name("partial");
    create_namespace(&client, &namespace).await;
    let api = Api::<ConfigMap>::namespaced(client.clone(), &namespace);
    for (name, labels) in [
        ("one", vec![("suite", "partial"), ("a", "x")]),
        ("two", vec![("suite", "partial")]),
    ] {
        api.create(
            &PostParams::default(),
            &configmap(name, &labels, &[("key", "value")]),
        )
        .await
        .unwrap();
    }
    // What kube's list_metadata sends, asked raw to see the answer's shape.
    let accept =
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
    let request = http::Request::get(format!(
        "/api/v1/namespaces/{namespace}/configmaps?labelSelector=suite%3Dpartial"
    ))
    .header(http::header::ACCEPT, accept)
    .body(Vec::new())
    .unwrap();
    let list: serde_json::Value = client.request(request).await.unwrap();
    assert_eq!(list["kind"], "PartialObjectMetadataList", "{list}");
    assert_eq!(list["apiVersion"], "meta.k8s.io/v1");
    assert!(list["metadata"]["resourceVersion"].is_string(), "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    for item in items {
        assert_eq!(item["kind"], "PartialObjectMetadata");
        assert!(item.get("data").is_none(), "{item}");
        assert_eq!(item["metadata"]["labels"]["suite"], "partial");
    }
    let accept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
    let request = http::Request::get(format!("/api/v1/namespaces/{namespace}/configmaps/one"))
        .header(http::header::ACCEPT, accept)
        .body(Vec::new())
        .unwrap();
    let one: serde_json::Value = client.request(request).await.unwrap();
    assert_eq!(one["kind"], "PartialObjectMetadata", "{one}");
    assert_eq!(one["metadata"]["labels"]["a"], "x");
    assert!(one.get("data").is_none(), "{one}");
    // kube's typed call reads the same.
    let listed = api
        .list_metadata(&ListParams::default().labels("suite=partial"))
        .await
        .unwrap();
    let mut names: Vec<String> = listed.items.iter().map(|item| item.name_any()).collect();
    names.sort();
    assert_eq!(names, ["one", "two"]);
}

// ---------------------------------------------------------------- on both

on_both!(
    metadata_only_lists_and_gets_carry_no_spec_or_data,
    version_endpoint_reports_a_kubernetes_version,
    core_discovery_lists_built_in_kinds_with_scope_and_verbs,
    group_discovery_lists_the_groups_bi_generates_with_scope_and_verbs,
    kube_discovery_resolves_built_in_kinds,
    created_crd_appears_in_discovery_and_reports_established,
    custom_resources_can_be_created_listed_and_patched_through_discovery,
    cluster_scoped_custom_resources_live_outside_namespaces,
    custom_resources_before_their_crd_are_404,
    create_then_get_returns_the_object_with_server_owned_metadata,
    cluster_scoped_objects_are_created_and_listed_without_a_namespace,
    label_selector_filters_by_equality_and_inequality,
    label_selector_filters_by_set_based_expressions,
    field_selector_filters_by_metadata_name_and_namespace,
    list_pages_with_limit_and_continue,
    replace_with_the_current_resource_version_succeeds_and_bumps_it,
    stale_resource_version_is_a_409_conflict,
    replace_without_a_resource_version_is_unconditional,
    merge_patch_changes_only_the_given_fields,
    json_patch_applies_its_operations_in_order,
    server_side_apply_creates_when_absent_then_updates,
    generation_bumps_only_on_spec_changes,
    server_side_apply_records_managers_and_refuses_conflicts,
    scale_subresource_reads_and_writes_replicas,
    server_side_apply_merges_containers_by_name,
    delete_removes_the_object_with_any_propagation_policy,
    deleting_a_namespace_deletes_what_is_in_it,
    finalizers_hold_deletion_and_terminating_namespaces_refuse_new_objects,
    delete_answers_with_a_status_unless_the_object_stays,
    dry_run_create_returns_the_object_and_stores_nothing,
    dry_run_replace_and_patches_store_nothing,
    dry_run_apply_of_an_absent_object_creates_nothing,
    dry_run_delete_keeps_the_object,
    get_of_a_missing_object_is_404_not_found,
    writes_to_a_missing_object_are_404_not_found,
    namespaced_object_in_a_missing_namespace_is_404_not_found,
    creating_an_existing_object_is_409_already_exists,
    create_without_a_name_is_422_invalid,
    malformed_body_is_400_bad_request,
    unsupported_patch_type_is_415,
    malformed_write_options_are_422_and_wrong_methods_405,
    malformed_label_selector_is_400_bad_request,
    field_selector_without_an_operator_is_400_bad_request,
    unsupported_field_label_is_400_bad_request,
    names_follow_the_rules_of_their_kind,
    crds_in_protected_groups_need_the_approval_annotation,
    unknown_group_versions_and_resources_are_404,
    unknown_fields_are_refused_when_strict_and_dropped_otherwise,
);
