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
