//! `/metrics`: bi's own figures in Prometheus' text format, for a viewer or
//! for VictoriaMetrics with the scrape token bi generates, and nobody else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{StatusCode, header};
use bi_api::auth::Role;
use bi_model::catalog::BatteryKind;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use support::{account, get, request, send, send_full, with_token};

/// The value of the first sample of `series` (a name with its labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_count_snapshots_requests_and_the_cache_for_viewers_and_the_scraper() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;

    // Nobody signed in gets nothing.
    let (status, _) = send(
        &app.router,
        request("GET", "/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Something to count: a status read (health reads the cluster cache).
    let (status, body) = send(&app.router, get(&app, "/api/v1/status")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let viewer = account(&app.db, "val", Role::Viewer).await;
    let (status, headers, text) = send_full(
        &app.router,
        with_token("GET", "/metrics", &viewer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{headers:?}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        sample(&text, r#"bi_snapshots_total{status="succeeded"}"#).is_some_and(|n| n >= 1.0),
        "the start-up snapshot is counted: {text}"
    );
    assert!(
        text.contains("bi_snapshot_duration_seconds_count"),
        "{text}"
    );
    assert!(
        sample(&text, r#"bi_snapshot_objects_total{outcome="created"}"#).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"bi_http_requests_total{route="/api/v1/status",method="GET",status="200"}"#
        ) == Some(1.0),
        "one series per route pattern: {text}"
    );
    assert!(
        text.contains(r#"bi_http_requests_total{route="/metrics",method="GET",status="401"}"#),
        "refusals are counted too: {text}"
    );
    assert!(
        sample(&text, r#"bi_cluster_cache_objects{kind="v1/Node"}"#) == Some(3.0),
        "the sandbox's three nodes are in the cache: {text}"
    );
    for series in [
        "bi_reconciler_queue ",
        "bi_websocket_clients ",
        r#"bi_db_pool_connections{state="idle"}"#,
        "bi_drift_open 0",
        "bi_cluster_writes_total ",
    ] {
        assert!(text.contains(series), "{series} missing: {text}");
    }

    // With VictoriaMetrics installed, bi generates a scrape with a token of
    // its own: that token reads /metrics and nothing else.
    bi_control::desired_state::change(&app.db, "test", "metrics", |state| {
        state.install(&[BatteryKind::VictoriaMetrics]).unwrap();
        Ok(())
    })
    .await
    .unwrap();
    app.state
        .reconciler
        .request("test")
        .finished()
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(
        app.state.reconciler.engine().client().clone(),
        "battery-core",
    );
    let secret = secrets.get("control-server-metrics").await.unwrap();
    let token = String::from_utf8(secret.data.unwrap()["token"].0.clone()).unwrap();
    assert!(token.len() >= 32);
    let stored = bi_control::desired_state::secrets(&app.db).await.unwrap();
    assert_eq!(
        stored.get("battery_core/metrics-token"),
        Some(token.as_str())
    );

    // NB: a scraper names the pod's address, not a host bi serves.
    let scrape = axum::http::Request::builder()
        .method("GET")
        .uri("/metrics")
        .header(header::HOST, "10.42.0.7:3000")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, text) = send(&app.router, scrape).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("bi_snapshots_total"), "{text}");
    let (status, _) = send(
        &app.router,
        with_token("GET", "/api/v1/status", &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the scrape token is no API token"
    );
    let (status, _) = send(
        &app.router,
        with_token("GET", "/metrics", "not-the-token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
