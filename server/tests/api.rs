//! The `/api/v1` JSON API through the router (no socket): the error shapes
//! a client relies on, and that a refused change stores nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use support::admin_app as app;
use tower::ServiceExt;

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, value)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// Installs battery `kind` through the API and waits for the snapshot
/// that applies it.
async fn install_applied(app: &axum::Router, running: &support::TestApp, kind: &str) {
    let path = format!("/api/v1/batteries/{kind}/install");
    let (status, body) = send(app, post(&path, &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    running
        .state
        .reconciler
        .request("test")
        .finished()
        .await
        .unwrap();
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn a_refused_install_is_422_with_each_problem_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;
    let (_, audit_before) = send(&app, get("/api/v1/audit")).await;

    let (status, body) = send(
        &app,
        post(
            "/api/v1/batteries/grafana/install",
            &json!({"settings": ["storage=500"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems = body["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{body}");
    assert_eq!(problems[0]["field"], "grafana.storage");
    assert_eq!(problems[0]["rule"], "unit");
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("has no unit"),
        "{body}"
    );
    assert!(body["error"]["message"].is_string());

    let (status, body) = send(
        &app,
        post(
            "/api/v1/batteries/grafana/install",
            &json!({"settings": ["storage"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (_, audit_after) = send(&app, get("/api/v1/audit")).await;
    assert_eq!(audit_before, audit_after);
}

#[tokio::test]
async fn unknown_batteries_projects_and_snapshots_are_404_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;
    for path in [
        "/api/v1/batteries/postgress",
        "/api/v1/projects/nope",
        "/api/v1/snapshots/999",
        "/api/v1/snapshots/diff?a=1&b=999",
    ] {
        let (status, body) = send(&app, get(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
        assert!(body["error"].get("problems").is_none(), "{path}: {body}");
    }
    let (status, body) = send(&app, post("/api/v1/rollback", &json!({"snapshot": 999}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn installs_projects_objects_and_snapshots_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;

    let (status, body) = send(&app, post("/api/v1/batteries/redis/install", &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["installed"], json!(["redis"]));

    let (status, body) = send(
        &app,
        post(
            "/api/v1/projects",
            &json!({"name": "shop", "description": "a shop"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        &app,
        post(
            "/api/v1/objects",
            &json!({"kind": "redis_instance", "project": "shop", "object": {
                "name": "cache", "mode": "standalone", "instances": 1,
                "resources": {"cpu_request": "100m", "memory_request": "128Mi"}
            }}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(&app, get("/api/v1/projects/shop")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["objects"][0]["name"], "cache");

    let (status, body) = send(&app, post("/api/v1/snapshots", &Value::Null)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(body["request"].as_u64().is_some(), "{body}");

    let (status, body) = send(&app, get("/api/v1/status")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["batteries"], json!(["battery_core", "redis"]));

    let (status, body) = send(&app, get("/api/v1/plan")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["plan"]["items"].is_array(), "{body}");

    let response = app.clone().oneshot(get("/api/v1/export")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/yaml");
    let yaml = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let yaml = String::from_utf8(yaml.to_vec()).unwrap();
    assert!(
        yaml.contains("battery/app: redis"),
        "redis missing from the export"
    );

    let (status, body) = send(
        &app,
        Request::delete("/api/v1/projects/shop")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["problems"][0]["field"], "project");
}

#[tokio::test]
async fn server_functions_answer_errors_with_the_status_of_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _keep) = app(dir.path()).await;
    let form = |path: &str, body: &str| {
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    for (path, body, status, code) in [
        (
            "/api/installation/rename",
            "name=NOT+valid!",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "/api/deploys/show",
            "id=999",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/batteries/uninstall",
            "kind=battery_core",
            StatusCode::UNPROCESSABLE_ENTITY,
            "rejected",
        ),
    ] {
        let (got, answer) = send(&app, form(path, body)).await;
        assert_eq!(got, status, "{path}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{path}: {answer}");
    }
    let (status, answer) = send(&app, form("/api/installation/overview", "")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn a_stale_write_is_409_naming_what_changed_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;
    for battery in ["loki", "redis"] {
        let (status, body) = send(
            &app,
            post(&format!("/api/v1/batteries/{battery}/install"), &json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Read Loki, then someone else changes its replicas.
    let (_, loki) = send(&app, get("/api/v1/batteries/loki")).await;
    let read = loki["version"].as_i64().unwrap();
    let (status, body) = send(
        &app,
        post(
            "/api/v1/batteries/loki/configure",
            &json!({"settings": ["replicas=3"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, audit_before) = send(&app, get("/api/v1/audit")).await;

    let (status, body) = send(
        &app,
        post(
            "/api/v1/batteries/loki/configure",
            &json!({"settings": ["storage=20Gi"], "expected_version": read}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict", "{body}");
    assert_eq!(body["error"]["problems"][0]["field"], "loki.replicas");
    assert_eq!(body["error"]["problems"][0]["rule"], "changed_meanwhile");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("configure loki: replicas=3"), "{message}");

    // The browser's server function answers the same way.
    let fields = loki["config"].to_string();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("kind", "loki")
        .append_pair("config", &fields)
        .append_pair("expected_version", &read.to_string())
        .finish();
    let (status, body) = send(
        &app,
        Request::post("/api/batteries/configure")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict", "{body}");
    assert_eq!(body["error"]["problems"][0]["field"], "loki.replicas");

    // A version that does not exist is refused by name.
    let (status, body) = send(
        &app,
        post(
            "/api/v1/batteries/loki/configure",
            &json!({"settings": ["storage=20Gi"], "expected_version": 999}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["problems"][0]["field"], "expected_version");

    let (_, audit_after) = send(&app, get("/api/v1/audit")).await;
    assert_eq!(audit_before, audit_after, "nothing was stored");

    // An object: read with its version, written with it; a change to Loki
    // meanwhile is no conflict, a change to the object is.
    let (status, body) = send(
        &app,
        post(
            "/api/v1/objects",
            &json!({"kind": "redis_instance", "object": {
                "name": "cache", "mode": "standalone", "instances": 1,
                "resources": {"cpu_request": "100m", "memory_request": "128Mi"}
            }}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, mut object) = send(&app, get("/api/v1/objects/redis_instance/cache")).await;
    assert_eq!(status, StatusCode::OK, "{object}");
    let read = object["version"].as_i64().unwrap();
    assert_eq!(object["kind"], "redis_instance", "{object}");
    let (status, body) = send(
        &app,
        post(
            "/api/v1/batteries/loki/configure",
            &json!({"settings": ["replicas=2"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let put = |body: &Value| {
        Request::put("/api/v1/objects/redis_instance/cache")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let object_map = object.as_object_mut().unwrap();
    object_map.remove("version");
    object_map.insert("expected_version".into(), json!(read));
    object["object"]["resources"]["memory_request"] = json!("256Mi");
    let (status, body) = send(&app, put(&object)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    object["object"]["resources"]["memory_request"] = json!("512Mi");
    let (status, body) = send(&app, put(&object)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["error"]["problems"][0]["field"],
        "object.resources.memory_request"
    );
    let (status, body) = send(
        &app,
        Request::delete(format!(
            "/api/v1/objects/redis_instance/cache?expected_version={read}"
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, object) = send(&app, get("/api/v1/objects/redis_instance/cache")).await;
    assert_eq!(
        object["object"]["resources"]["memory_request"], "256Mi",
        "{object}"
    );
}

#[tokio::test]
async fn drift_is_listed_swept_on_demand_repaired_and_its_mode_kept_by_role() {
    use bi_api::auth::Role;
    use kube::api::{Api, Patch, PatchParams};

    let dir = tempfile::tempdir().unwrap();
    let (app, running) = app(dir.path()).await;
    install_applied(&app, &running, "redis").await;

    let (status, body) = send(&app, get("/api/v1/drift")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["open"], json!([]));
    assert_eq!(body["report_only"], false);

    // Report only (admins), then someone scales the operator by hand.
    let (status, body) = send(
        &app,
        post("/api/v1/drift/mode", &json!({"report_only": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report_only"], true);
    let client = running.state.reconciler.engine().client().clone();
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client, "battery-base");
    deployments
        .patch(
            "redis-operator",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 3 } })),
        )
        .await
        .unwrap();

    let (status, body) = send(&app, post("/api/v1/drift/sweep", &Value::Null)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["open"][0]["path"],
        "apps/v1/Deployment/battery-base/redis-operator"
    );
    assert_eq!(body["open"][0]["fields"], json!(["/spec/replicas"]));
    assert_eq!(body["last_sweep"]["drifted"], 1);
    let (_, status_body) = send(&app, get("/api/v1/status")).await;
    assert_eq!(
        status_body["drifted"],
        json!(["apps/v1/Deployment/battery-base/redis-operator"]),
        "status lists open drift even when it is only reported"
    );

    // An editor may sweep and repair, not change the mode; a viewer only reads.
    let editor = support::account(&running.db, "ed", Role::Editor).await;
    let viewer = support::account(&running.db, "val", Role::Viewer).await;
    let as_role = |token: &str, method: &str, path: &str, body: &Value| {
        support::with_token(method, path, token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let (status, _) = send(
        &running.router,
        as_role(
            &editor,
            "POST",
            "/api/v1/drift/mode",
            &json!({"report_only": false}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &running.router,
        as_role(&viewer, "POST", "/api/v1/drift/sweep", &Value::Null),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(
        &running.router,
        as_role(&viewer, "GET", "/api/v1/drift", &Value::Null),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = send(
        &running.router,
        as_role(&editor, "POST", "/api/v1/drift/repair", &Value::Null),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(body["request"].as_u64().is_some(), "{body}");
    for _ in 0..100 {
        let (_, body) = send(&app, get("/api/v1/drift")).await;
        if body["open"] == json!([]) {
            assert_eq!(body["closed"][0]["resolution"], "repaired", "{body}");
            let replicas = deployments
                .get("redis-operator")
                .await
                .unwrap()
                .spec
                .unwrap()
                .replicas;
            assert_eq!(replicas, Some(1));
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the repair never closed the finding");
}

#[tokio::test]
async fn a_batterys_pods_and_their_logs_are_read_through_the_pod_log_api() {
    let dir = tempfile::tempdir().unwrap();
    let (app, running) = app(dir.path()).await;
    install_applied(&app, &running, "redis").await;

    // The sandbox made the operator's pod; the cache follows it.
    let mut pods = Value::Null;
    for _ in 0..50 {
        let (status, body) = send(&app, get("/api/v1/cluster/pods?of=redis")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body.as_array().is_some_and(|pods| !pods.is_empty()) {
            pods = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pod = &pods[0];
    assert_eq!(pod["namespace"], "battery-base", "{pods}");
    assert!(
        pod["name"].as_str().unwrap().starts_with("redis-operator-"),
        "{pods}"
    );
    assert_eq!(pod["phase"], "Running");
    assert_eq!(pod["ready"], "1/1");
    assert_eq!(pod["restarts"], 0);
    assert!(pod["node"].as_str().unwrap().starts_with("sandbox-node-"));
    let name = pod["name"].as_str().unwrap();

    let response = app
        .clone()
        .oneshot(get(&format!(
            "/api/v1/cluster/logs?namespace=battery-base&pod={name}"
        )))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8(text.to_vec()).unwrap();
    assert!(text.contains("bi sandbox") && text.contains(name), "{text}");

    let (status, body) = send(
        &app,
        get(&format!(
            "/api/v1/cluster/logs?namespace=battery-base&pod={name}&previous=true"
        )),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("previous terminated container"),
        "{body}"
    );
    let (status, _) = send(
        &app,
        get("/api/v1/cluster/logs?namespace=battery-base&pod=nobody"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Followed, lines keep coming while the client reads.
    let response = app
        .clone()
        .oneshot(get(&format!(
            "/api/v1/cluster/logs?namespace=battery-base&pod={name}&follow=true&tail=0"
        )))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body().into_data_stream();
    use futures::StreamExt;
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
        .await
        .expect("a followed log sends a line within seconds")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&chunk).contains("still not running anything"),
        "{chunk:?}"
    );
}

#[tokio::test]
async fn the_timeline_and_the_archive_answer_by_role_and_undelete_restores() {
    use bi_api::auth::Role;
    use kube::api::{Api, DeleteParams};

    let dir = tempfile::tempdir().unwrap();
    let (app, running) = app(dir.path()).await;
    install_applied(&app, &running, "timeline").await;

    // What was stored is on the timeline, narrowed by battery; a filter
    // that cannot be is refused naming it.
    let mut page = Value::Null;
    for _ in 0..100 {
        let (status, body) = send(
            &app,
            get("/api/v1/timeline?battery=timeline&category=change"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        page = body;
        if page["entries"].as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(page["recording"], true, "{page}");
    assert_eq!(page["entries"][0]["reason"], "install", "{page}");
    assert!(
        page["entries"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with(": install timeline (version 1)"),
        "who stored it, what and which version: {page}"
    );
    let (status, body) = send(&app, get("/api/v1/timeline?category=gossip")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["problems"][0]["field"], "category", "{body}");

    // Someone deletes the timeline's settings: archived, restored by a
    // snapshot; a viewer may read the archive, not undelete.
    let client = running.state.reconciler.engine().client().clone();
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client, "battery-core");
    config_maps
        .delete("timeline", &DeleteParams::default())
        .await
        .unwrap();
    let mut id = None;
    for _ in 0..100 {
        let (_, body) = send(&app, get("/api/v1/deleted")).await;
        if let Some(found) = body["objects"].as_array().and_then(|objects| {
            objects
                .iter()
                .find(|o| o["path"] == "v1/ConfigMap/battery-core/timeline")
        }) {
            assert_eq!(found["deleted_by"], "outside bi", "{body}");
            assert_eq!(found["desired"], true, "{body}");
            id = found["id"].as_i64();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let id = id.expect("the deleted ConfigMap is archived");
    let (status, body) = send(&app, get(&format!("/api/v1/deleted/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["yaml"].as_str().unwrap().contains("retention"),
        "{body}"
    );
    let viewer = support::account(&running.db, "val", Role::Viewer).await;
    let (status, _) = send(
        &running.router,
        support::with_token("POST", &format!("/api/v1/deleted/{id}/undelete"), &viewer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(
        &app,
        post(&format!("/api/v1/deleted/{id}/undelete"), &Value::Null),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("snapshot"),
        "{body}"
    );
    assert!(config_maps.get_opt("timeline").await.unwrap().is_some());
    let (status, body) = send(
        &app,
        post(&format!("/api/v1/deleted/{id}/undelete"), &Value::Null),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = send(&app, get("/api/v1/deleted/999999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_reads_every_card_at_once_and_lists_only_the_apps_needing_attention() {
    let dir = tempfile::tempdir().unwrap();
    let (app, running) = app(dir.path()).await;
    install_applied(&app, &running, "grafana").await;
    let form = |path: &str| {
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap()
    };

    let (status, view) = send(&app, form("/api/dashboard/view")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let installed: Vec<&str> = view["batteries"]["Ok"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(installed.contains(&"Grafana"), "{installed:?}");
    let snapshots = view["snapshots"]["Ok"].as_array().unwrap();
    assert!(
        (1..=5).contains(&snapshots.len()),
        "the newest five at most: {snapshots:?}"
    );
    assert!(view["reach"]["Ok"].is_object(), "{view}");
    assert!(
        !view["activity"]["Ok"].as_array().unwrap().is_empty(),
        "{view}"
    );
    let health = &view["health"]["Ok"];
    let apps = health["apps"].as_u64().unwrap();
    let counted: u64 = health["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[1].as_u64().unwrap())
        .sum();
    assert_eq!(counted, apps, "every app counted once: {health}");
    for app in health["attention"].as_array().unwrap() {
        let readiness = app["readiness"].as_str().unwrap();
        assert!(
            readiness == "progressing" || readiness == "missing",
            "only apps not ready need attention: {app}"
        );
    }

    // Every app, on demand: the same apps the card counted.
    let (status, every) = send(&app, form("/api/installation/health")).await;
    assert_eq!(status, StatusCode::OK, "{every}");
    let every = every["apps"].as_array().unwrap();
    assert_eq!(every.len() as u64, apps, "{every:?}");
    assert!(every.iter().any(|a| a["app"] == "grafana"), "{every:?}");

    // The page carries the counts and the attention list, not a row per app.
    let response = app.clone().oneshot(get("/")).await.unwrap();
    let html = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&html);
    for testid in ["health-counts", "every-app", "installed-grafana", "open"] {
        assert!(
            html.contains(&format!(r#"data-testid="{testid}""#)),
            "{testid} missing"
        );
    }
    assert!(
        !html.contains(r#"data-testid="app-"#),
        "the list of every app is not rendered until asked for"
    );
}
