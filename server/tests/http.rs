//! The control server over HTTP: health checks, server-rendered pages,
//! server functions (validation on the server), 404, and graceful shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use bi_server::serve::{Server, open_database};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use support::{admin_app as app, settings};

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn post_form(path: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;
    assert_eq!(
        send(&app, get("/healthz")).await,
        (StatusCode::OK, "ok".into())
    );
    let (status, body) = send(&app, get("/readyz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"database":"SQLite","reconciler":{"last_panic_at":null,"restarts":0,"running":true},"status":"ready"}"#
    );
}

#[tokio::test]
async fn dashboard_is_rendered_on_the_server_with_the_installation() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;
    let (status, html) = send(&app, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"data-testid="installation-name""#),
        "{html}"
    );
    assert!(
        html.contains(">SQLite<"),
        "database backend missing: {html}"
    );
    assert!(html.contains("/pkg/bi.css"), "stylesheet link missing");
    assert!(html.contains("Dashboard"), "{html}");
    assert!(
        html.contains("Sandbox cluster"),
        "sandbox not labelled: {html}"
    );
}

#[tokio::test]
async fn rename_is_validated_on_the_server_and_stored_when_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;

    let (status, body) = send(
        &app,
        post_form("/api/installation/rename", "name=Not+Valid"),
    )
    .await;
    assert!(
        !status.is_success(),
        "invalid name accepted: {status} {body}"
    );
    assert!(body.contains("installation.name"), "{body}");
    let (_, overview) = send(&app, post_form("/api/installation/overview", "")).await;
    assert!(
        overview.contains(r#""name":"bi""#),
        "invalid rename stored: {overview}"
    );

    let (status, body) = send(
        &app,
        post_form("/api/installation/rename", "name=staging-2"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""name":"staging-2""#), "{body}");
    let (_, html) = send(&app, get("/")).await;
    assert!(
        html.contains("staging-2"),
        "rename not shown on the dashboard"
    );
}

#[tokio::test]
async fn unknown_paths_are_404_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;
    let (status, html) = send(&app, get("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"), "{html}");
    // A known page about something that does not exist says so, with 404.
    let (status, html) = send(&app, get("/services/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("no service named"), "{html}");
}

#[tokio::test]
async fn every_page_is_rendered_on_the_server_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _running) = app(dir.path()).await;
    for (path, shown) in [
        ("/batteries", "Grafana"),
        ("/batteries/redis", "Redis"),
        ("/projects", "Projects"),
        ("/services", "Services"),
        ("/deploys", "Deploys"),
        ("/deploys/live", "Live plan"),
        ("/settings", "SQLite"),
        ("/settings", "Re-check every"),
    ] {
        let (status, html) = send(&app, get(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains(shown), "{path} shows {shown}: {html}");
        assert!(!html.contains("Not available yet"), "{path}");
    }
}

/// A plain HTTP/1.1 GET over a real socket, with `token` as its bearer.
async fn http_get_as(addr: std::net::SocketAddr, path: &str, token: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn serves_on_a_real_socket_shuts_down_gracefully_and_restarts_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path());

    // A first run names the installation, adds an admin and stops.
    let token = {
        let db = open_database(&settings).await.unwrap();
        let name = bi_model::InstallationName::parse("before-restart").unwrap();
        bi_control::installation::rename(&db, &name).await.unwrap();
        let token = support::account(&db, "root", bi_api::auth::Role::Admin).await;
        db.close().await.unwrap();
        token
    };
    assert!(
        dir.path().join("bi.db").is_file(),
        "SQLite file not in the data dir"
    );

    // The server started on the same data directory finds it.
    let server = Server::bind(&settings).await.unwrap();
    let addr = server.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    let cluster_url = server.cluster().url.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = server.run(async {
        let _ = stopped.await;
    });
    // NB: run in this task (the server's reconciler future is not Send).
    let client = async move {
        let response = http_get_as(addr, "/healthz", "").await;
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.ends_with("ok"), "{response}");
        let html = http_get_as(addr, "/", &token).await;
        assert!(html.contains("before-restart"), "{html}");
        // Without a credential the page sends the browser to sign in.
        let anonymous = http_get_as(addr, "/", "").await;
        assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");

        // The engine applies the desired state (battery_core) to the sandbox at start.
        let sandbox: std::net::SocketAddr =
            cluster_url.trim_start_matches("http://").parse().unwrap();
        let path = "/apis/apps/v1/namespaces/battery-core/deployments/control-server";
        let mut applied = String::new();
        for _ in 0..100 {
            applied = http_get_as(sandbox, path, "").await;
            if applied.starts_with("HTTP/1.1 200") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            applied.starts_with("HTTP/1.1 200"),
            "not applied: {applied}"
        );
        assert!(applied.contains("battery/managed"), "{applied}");
        stop.send(()).unwrap();
    };
    let (served, ()) = tokio::join!(running, client);
    served.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening after shutdown"
    );
}

/// The nonce of a response's Content-Security-Policy.
fn nonce(headers: &axum::http::HeaderMap) -> String {
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let start = policy.find("'nonce-").unwrap() + "'nonce-".len();
    let len = policy[start..].find('\'').unwrap();
    policy[start..start + len].to_owned()
}

/// `bi_page_renders_total` from `/metrics`.
async fn renders(app: &support::TestApp) -> u64 {
    let (_, text) = support::send(&app.router, support::get(app, "/metrics")).await;
    text.lines()
        .find_map(|line| line.strip_prefix("bi_page_renders_total "))
        .unwrap_or_else(|| panic!("no page renders in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn identical_page_requests_share_a_render_each_with_its_own_nonce_and_users_never_share() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    let viewer = support::account(&app.db, "vera", bi_api::auth::Role::Viewer).await;
    let page = |token: &str| {
        support::with_token("GET", "/", token)
            .body(Body::empty())
            .unwrap()
    };
    let before = renders(&app).await;
    let answers = futures::future::join_all((0..24).map(|i| {
        let token = if i % 2 == 0 { &app.admin } else { &viewer };
        support::send_full(&app.router, page(token))
    }))
    .await;
    let rendered = renders(&app).await - before;

    let mut nonces = std::collections::HashSet::new();
    for (i, (status, headers, html)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::OK, "{html}");
        let nonce = nonce(headers);
        assert!(
            html.contains(&format!(r#"nonce="{nonce}""#)),
            "the page's scripts carry its own policy's nonce"
        );
        assert!(nonces.insert(nonce), "a nonce was handed out twice");
        // Each user sees their own page: the top bar names who is signed in.
        let (me, other) = if i % 2 == 0 {
            ("root", "vera")
        } else {
            ("vera", "root")
        };
        assert!(html.contains(&format!(">{me}<")), "{me} missing");
        assert!(
            !html.contains(&format!(">{other}<")),
            "{other}'s page shown to {me}"
        );
    }
    assert!(
        (2..24).contains(&rendered),
        "24 requests of two users at once: at least one render each, fewer than one per request ({rendered})"
    );

    // A request after the renders gets a new one: nothing is kept.
    let (_, _, html) = support::send_full(&app.router, page(&app.admin)).await;
    assert!(html.contains(">root<"));
    assert_eq!(renders(&app).await - before, rendered + 1);
}
