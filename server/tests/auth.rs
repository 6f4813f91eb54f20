//! Every way into the control server is guarded: the REST routes, the
//! server functions, the pages and the websocket need a signed-in user with
//! the right role; changes and websockets must come from bi's own pages;
//! only the hosts bi serves are answered; every answer has the security
//! headers; and no password, token, cookie or stored secret ever leaves in
//! an answer or a log line.
//!
//! The route table the tests walk is the one the router was built from
//! (`bi_server::router::policy`) plus every registered server function and
//! page, so a new route without an access rule fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, header};
use bi_api::auth::{Access, CSRF_HEADER, Role};
use bi_control::desired_state;
use support::{PASSWORD, TestApp, account, request, send, send_full, with_token};
use tower::ServiceExt;

/// A concrete path for a route pattern: `{id}` and `:id` segments become
/// plausible names.
/// Routes whose answer streams until the client goes.
const STREAMS: [&str; 2] = ["/api/v1/cluster/changes", "/api/v1/timeline/changes"];

fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| {
            let name = segment
                .trim_start_matches(':')
                .trim_start_matches('{')
                .trim_end_matches('}');
            if segment.starts_with(':') || segment.starts_with('{') {
                match name {
                    "id" if pattern.contains("tokens")
                        || pattern.contains("snapshots")
                        || pattern.contains("deleted") =>
                    {
                        "1"
                    }
                    "id" | "kind" if pattern.contains("batteries") => "redis",
                    "kind" => "redis_instance",
                    _ => "something",
                }
                .to_owned()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every server function: its path and method.
fn server_functions() -> Vec<(String, Method)> {
    let mut all: Vec<(String, Method)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_owned(), method))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// The role a server function needs, by the app's table.
fn server_fn_role(path: &str) -> Option<Role> {
    let endpoint = path.strip_prefix("/api/")?;
    bi_app::api::ACCESS
        .iter()
        .find(|(name, _)| *name == endpoint)
        .map(|(_, role)| *role)
}

/// Every page route, as a concrete path.
fn pages() -> Vec<String> {
    leptos_axum::generate_route_list(bi_app::App)
        .iter()
        .map(|route| concrete(route.path()))
        .collect()
}

fn empty(method: &Method, path: &str) -> axum::http::request::Builder {
    request(method.as_str(), path)
}

async fn version(app: &TestApp) -> i32 {
    desired_state::current(&app.db).await.unwrap().0
}

#[tokio::test]
async fn every_server_function_has_an_access_rule_and_every_rule_a_function() {
    let functions = server_functions();
    assert!(functions.len() > 30, "{functions:?}");
    for (path, _) in &functions {
        assert!(
            server_fn_role(path).is_some(),
            "{path} has no entry in bi_app::api::ACCESS: add one"
        );
    }
    for (endpoint, _) in bi_app::api::ACCESS {
        let path = format!("/api/{endpoint}");
        assert!(
            functions.iter().any(|(p, _)| *p == path),
            "ACCESS names {endpoint}, which no server function serves"
        );
    }
}

#[tokio::test]
async fn nobody_signed_in_reaches_nothing_but_the_public_routes() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    let before = version(&app).await;
    let policy = bi_server::router::policy();
    let mut public = Vec::new();
    for entry in policy.routes() {
        let path = concrete(entry.path);
        let (status, body) = send(
            &app.router,
            empty(&entry.method, &path).body(Body::empty()).unwrap(),
        )
        .await;
        match entry.access {
            Access::Public => {
                assert_ne!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{} {path}: {body}",
                    entry.method
                );
                public.push(format!("{} {}", entry.method, entry.path));
            }
            Access::Role(_) | Access::Scrape => {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{} {path}: {body}",
                    entry.method
                );
                assert!(body.contains(r#""code":"unauthenticated""#), "{body}");
            }
        }
    }
    // The public routes are these and no more.
    assert_eq!(
        public,
        [
            "GET /healthz",
            "GET /readyz",
            "GET /sign-in",
            "GET /setup",
            "POST /auth/sign-in",
            "POST /auth/sign-out",
            "POST /auth/setup",
            // Single Sign-On: off to Keycloak, and back with a code bound
            // to the browser's cookie.
            "GET /auth/oidc/start",
            "GET /auth/oidc/callback",
            "POST /api/v1/login",
            "POST /api/v1/setup",
        ]
    );
    for (path, method) in server_functions() {
        let (status, body) = send(
            &app.router,
            empty(&method, &path).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
    }
    for path in pages() {
        let (status, headers, _) = send_full(
            &app.router,
            empty(&Method::GET, &path).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let location = headers[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with("/sign-in?next="), "{path}: {location}");
    }
    // A route nobody declared is refused even to an admin.
    let (status, _) = send(
        &app.router,
        with_token("POST", "/api/no-such-function", &app.admin)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(version(&app).await, before, "something changed");
}

#[tokio::test]
async fn a_viewer_reads_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    let viewer = account(&app.db, "val", Role::Viewer).await;
    let before = version(&app).await;
    let mut refused = 0;
    for entry in bi_server::router::policy().routes() {
        let Access::Role(needed) = entry.access else {
            continue;
        };
        let path = concrete(entry.path);
        let request = with_token(entry.method.as_str(), &path, &viewer)
            .body(Body::empty())
            .unwrap();
        // NB: a stream never ends: its status is enough.
        let (status, body) = if STREAMS.contains(&entry.path) {
            (
                app.router.clone().oneshot(request).await.unwrap().status(),
                String::new(),
            )
        } else {
            send(&app.router, request).await
        };
        if needed > Role::Viewer {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{} {path}: {body}",
                entry.method
            );
            assert!(body.contains("val is a viewer"), "{body}");
            refused += 1;
        } else {
            assert_ne!(
                status,
                StatusCode::FORBIDDEN,
                "{} {path}: {body}",
                entry.method
            );
            assert_ne!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {path}: {body}",
                entry.method
            );
        }
    }
    for (path, method) in server_functions() {
        if server_fn_role(&path).unwrap() > Role::Viewer {
            let (status, body) = send(
                &app.router,
                with_token(method.as_str(), &path, &viewer)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
            refused += 1;
        }
    }
    assert!(refused > 30, "only {refused} changes were tried");
    assert_eq!(
        version(&app).await,
        before,
        "a viewer changed the desired state"
    );
    let (status, body) = send(
        &app.router,
        with_token("GET", "/api/v1/status", &viewer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Opens the sign-in page as a browser without a session does: its form
/// cookie (`name=value`) and the token its form carries.
async fn sign_in_form(app: &TestApp) -> (String, String) {
    form_page(app, "/sign-in").await
}

/// Opens a form page (sign-in, set-up): its form cookie and token.
async fn form_page(app: &TestApp, path: &str) -> (String, String) {
    let (status, headers, html) = send_full(
        &app.router,
        request("GET", path).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("bi_form="), "{cookie}");
    (
        cookie,
        attribute_after(&html, r#"name="csrf_token" value=""#),
    )
}

/// The text from after `marker` to the next `"`.
fn attribute_after(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The token a signed-in page carries for the browser's scripts.
async fn page_token(app: &TestApp, cookie: &str) -> String {
    let (status, html) = send(
        &app.router,
        with_cookie("GET", "/", cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    attribute_after(&html, r#"name="csrf-token" content=""#)
}

/// Signs in through the browser form; the session cookie (`name=value`).
async fn sign_in(app: &TestApp, username: &str, password: &str) -> String {
    let (form_cookie, csrf) = sign_in_form(app).await;
    let form = format!(
        "username={username}&password={}&next=%2Fbatteries&csrf_token={csrf}",
        password.replace(' ', "+")
    );
    let (status, headers, body) = send_full(
        &app.router,
        with_cookie("POST", "/auth/sign-in", &form_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(headers[header::LOCATION], "/batteries");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    cookie.split(';').next().unwrap().to_owned()
}

fn with_cookie(method: &str, path: &str, cookie: &str) -> axum::http::request::Builder {
    request(method, path).header(header::COOKIE, cookie)
}

#[tokio::test]
async fn a_change_with_a_cookie_needs_its_pages_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    account(&app.db, "ed", Role::Admin).await;
    let cookie = sign_in(&app, "ed", PASSWORD).await;
    let other = sign_in(&app, "root", PASSWORD).await;
    let csrf = page_token(&app, &cookie).await;
    let others = page_token(&app, &other).await;
    assert_eq!(csrf.len(), 64, "{csrf}");
    assert_ne!(csrf, others, "two sessions share a token");
    assert!(!cookie.contains(&csrf));
    let before = version(&app).await;
    let mut changes: Vec<(Method, String)> = bi_server::router::policy()
        .routes()
        .iter()
        .filter(|entry| entry.method != Method::GET)
        .map(|entry| (entry.method.clone(), concrete(entry.path)))
        .collect();
    changes.extend(
        server_functions()
            .into_iter()
            .map(|(path, method)| (method, path)),
    );
    changes.retain(|(method, _)| *method != Method::GET);
    // From bi's own origin, with the session, but without the page's token
    // (an old browser that sends no Origin looks the same), or with another
    // session's: refused, whatever the route.
    for (method, path) in &changes {
        for token in [None, Some(""), Some(others.as_str()), Some("0")] {
            let mut builder = with_cookie(method.as_str(), path, &cookie)
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(token) = token {
                builder = builder.header(CSRF_HEADER, token);
            }
            let (status, body) =
                send(&app.router, builder.body(Body::from("name=x")).unwrap()).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {path} with {token:?}: {body}"
            );
            assert!(body.contains("CSRF token"), "{method} {path}: {body}");
        }
        // NB: the token in the body of a form, wrong, is refused too.
        let (status, body) = send(
            &app.router,
            with_cookie(method.as_str(), path, &cookie)
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("name=x&csrf_token={others}")))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
    }
    assert_eq!(
        version(&app).await,
        before,
        "a change without its token went through"
    );

    // The page's token in the form's body: the server function gets the
    // whole form.
    let (status, body) = send(
        &app.router,
        with_cookie("POST", "/api/installation/rename", &cookie)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("name=shop-floor&csrf_token={csrf}")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("shop-floor"), "{body}");

    // The sign-in form: without its cookie, or without its token, refused.
    let (form_cookie, form_csrf) = sign_in_form(&app).await;
    let credentials = "username=root&password=a+long+test+password";
    for (cookie, body) in [
        (None, format!("{credentials}&csrf_token={form_csrf}")),
        (Some(form_cookie.as_str()), credentials.to_owned()),
        (
            Some(form_cookie.as_str()),
            format!("{credentials}&csrf_token={csrf}"),
        ),
    ] {
        let mut builder = request("POST", "/auth/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        let (status, headers, answer) =
            send_full(&app.router, builder.body(Body::from(body)).unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert!(
            !headers.contains_key(header::SET_COOKIE),
            "a session without its form's token"
        );
    }
}

#[tokio::test]
async fn cross_site_requests_with_a_session_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    account(&app.db, "ed", Role::Admin).await;
    let cookie = sign_in(&app, "ed", PASSWORD).await;
    let before = version(&app).await;
    let mut changes: Vec<(Method, String)> = bi_server::router::policy()
        .routes()
        .iter()
        .filter(|entry| entry.method != Method::GET && entry.access != Access::Public)
        .map(|entry| (entry.method.clone(), concrete(entry.path)))
        .collect();
    changes.extend(
        server_functions()
            .into_iter()
            .map(|(path, method)| (method, path)),
    );
    for (method, path) in &changes {
        for (name, value) in [
            (header::ORIGIN.as_str(), "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
        ] {
            let (status, body) = send(
                &app.router,
                with_cookie(method.as_str(), path, &cookie)
                    .header(name, value)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {path} with {name}: {value}: {body}"
            );
            assert!(body.contains("another site"), "{body}");
        }
        // A cookie without either header (not a browser's request) is refused too.
        let (status, _) = send(
            &app.router,
            with_cookie(method.as_str(), path, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{method} {path} without an origin"
        );
    }
    // The websocket: a page of another site cannot listen in.
    let upgrade = |origin: &'static str| {
        with_cookie("GET", "/api/v1/events", &cookie)
            .header(header::UPGRADE, "websocket")
            .header(header::CONNECTION, "upgrade")
            .header(header::SEC_WEBSOCKET_VERSION, "13")
            .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _) = send(&app.router, upgrade("http://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        version(&app).await,
        before,
        "a cross-site request changed the desired state"
    );

    // From bi's own page the same session works, and the audit names the user.
    let csrf = page_token(&app, &cookie).await;
    let (status, body) = send(
        &app.router,
        with_cookie("POST", "/api/v1/batteries/redis/install", &cookie)
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(CSRF_HEADER, &csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"settings":[]}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        &app.router,
        with_cookie("POST", "/api/batteries/uninstall", &cookie)
            .header("sec-fetch-site", "same-origin")
            .header(CSRF_HEADER, &csrf)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("kind=redis"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let audit = desired_state::history(&app.db).await.unwrap();
    let authors: Vec<_> = audit.iter().map(|entry| entry.author.as_str()).collect();
    assert_eq!(authors, ["ed", "ed"]);
}

#[tokio::test]
async fn only_the_hosts_bi_serves_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    for path in ["/api/v1/export", "/api/v1/status", "/", "/sign-in"] {
        let (status, body) = send(
            &app.router,
            axum::http::Request::get(path)
                .header(header::HOST, "rebind.attacker.example")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{path}: {body}");
        assert!(body.contains("--public-url"), "{body}");
    }
    for host in ["localhost:3000", "127.0.0.1:3000", "[::1]:3000"] {
        let (status, _) = send(
            &app.router,
            axum::http::Request::get("/api/v1/status")
                .header(header::HOST, host)
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    for (path, token) in [
        ("/", app.admin.as_str()),
        ("/api/v1/status", app.admin.as_str()),
        ("/sign-in", ""),
        ("/healthz", ""),
        ("/api/v1/me", ""),
    ] {
        let mut builder = request("GET", path);
        if !token.is_empty() {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let (_, headers, _) = send_full(&app.router, builder.body(Body::empty()).unwrap()).await;
        let get = |name: &str| {
            headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert!(
            get("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}: {headers:?}"
        );
        assert!(
            get("content-security-policy").contains("object-src 'none'"),
            "{path}"
        );
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("x-frame-options"), "DENY", "{path}");
        assert_eq!(get("referrer-policy"), "no-referrer", "{path}");
    }
    // A page's inline scripts carry the nonce its policy names, and only
    // those run.
    let (_, headers, html) = send_full(&app.router, support::get(&app, "/")).await;
    let policy = headers["content-security-policy"].to_str().unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "{html}");
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{html}"
    );
}

#[tokio::test]
async fn the_first_admin_needs_the_setup_token_and_is_created_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::fresh_app(dir.path()).await;
    let token = app
        .state
        .auth
        .pending_setup()
        .expect("a new installation waits for set-up");
    let file = dir.path().join("setup-token");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), token.expose());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (status, headers, _) = send_full(
        &app.router,
        request("GET", "/batteries").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/setup");

    let setup = |setup_token: &str| {
        request("POST", "/api/v1/setup")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"setup_token": setup_token, "username": "root", "password": PASSWORD}).to_string(),
            ))
            .unwrap()
    };
    let (status, body) = send(&app.router, setup("a-wrong-setup-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = send(&app.router, setup(token.expose())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.contains(r#""role":"admin""#), "{body}");
    assert!(!file.exists(), "the setup token's file outlived the set-up");
    let (status, body) = send(&app.router, setup(token.expose())).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(bi_control::auth::accounts::count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn sessions_sign_in_sign_out_and_lock_out() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    let cookie = sign_in(&app, "root", PASSWORD).await;
    let (status, body) = send(
        &app.router,
        with_cookie("GET", "/api/v1/me", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""username":"root""#), "{body}");
    let (status, html) = send(
        &app.router,
        with_cookie("GET", "/", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-testid="signed-in-as""#), "{html}");

    let signed_in = page_token(&app, &cookie).await;
    assert!(
        html.contains(&format!(r#"name="csrf_token" value="{signed_in}""#)),
        "the sign-out form carries no token: {html}"
    );
    let (status, headers, _) = send_full(
        &app.router,
        with_cookie("POST", "/auth/sign-out", &cookie)
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf_token={signed_in}")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = send(
        &app.router,
        with_cookie("GET", "/api/v1/me", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the session outlived sign-out"
    );

    // A wrong password shows the form again, and the account locks.
    let (form_cookie, csrf) = sign_in_form(&app).await;
    let wrong = || {
        with_cookie("POST", "/auth/sign-in", &form_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .body(Body::from(format!(
                "username=root&password=nope&csrf_token={csrf}"
            )))
            .unwrap()
    };
    let (status, html) = send(&app.router, wrong()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("wrong username or password"), "{html}");
    for _ in 1..bi_control::auth::accounts::MAX_FAILED_SIGN_INS {
        send(&app.router, wrong()).await;
    }
    let (status, html) = send(&app.router, wrong()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{html}");
    // NB: this client has used its attempts for the minute, whichever account.
    assert!(html.contains("too many"), "{html}");
}

#[tokio::test]
async fn tokens_work_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    let editor = account(&app.db, "ed", Role::Editor).await;
    let (status, body) = send(
        &app.router,
        with_token("POST", "/api/v1/tokens", &editor)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"name":"ci"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: bi_api::auth::CreatedToken = serde_json::from_str(&body).unwrap();
    let (status, body) = send(
        &app.router,
        with_token("POST", "/api/v1/projects", &created.token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"name":"shop","description":""}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let history = desired_state::history(&app.db).await.unwrap();
    assert_eq!(history[0].author, "ed (token ci)");
    let (status, _) = send(
        &app.router,
        with_token(
            "DELETE",
            &format!("/api/v1/tokens/{}", created.view.id),
            &editor,
        )
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(
        &app.router,
        with_token("GET", "/api/v1/status", &created.token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("revoked"), "{body}");
}

/// A log sink for one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_password_token_cookie_or_secret_leaves_in_an_answer_or_a_log() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let app = support::fresh_app(dir.path()).await;
    let setup_token = app.state.auth.pending_setup().unwrap().expose().to_owned();
    let (form_cookie, csrf) = form_page(&app, &format!("/setup?token={setup_token}")).await;
    let (status, _) = send(
        &app.router,
        with_cookie("POST", "/auth/setup", &form_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .body(Body::from(format!(
                "token={setup_token}&username=root&password={0}&confirm={0}&csrf_token={csrf}",
                PASSWORD.replace(' ', "+")
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let admin = account(&app.db, "admin2", Role::Admin).await;
    let cookie = sign_in(&app, "root", PASSWORD).await;
    // Batteries with generated secrets: passwords, keys.
    for battery in ["grafana", "keycloak", "redis"] {
        let (status, body) = send(
            &app.router,
            with_token(
                "POST",
                &format!("/api/v1/batteries/{battery}/install"),
                &admin,
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"settings":[]}"#))
            .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{battery}: {body}");
    }
    app.state
        .reconciler
        .request("test")
        .finished()
        .await
        .unwrap();
    // A managed Secret deleted behind bi's back is archived with its
    // values (to restore them): the archive's routes and page are read too.
    let client = app.state.reconciler.engine().client().clone();
    let managed: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::all(client.clone());
    let doomed = managed
        .list(&kube::api::ListParams::default().labels("battery/managed=true"))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|secret| secret.data.as_ref().is_some_and(|data| !data.is_empty()))
        .expect("bi manages a Secret with values");
    let namespace = doomed.metadata.namespace.clone().unwrap();
    let name = doomed.metadata.name.clone().unwrap();
    kube::Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client, &namespace)
        .delete(&name, &kube::api::DeleteParams::default())
        .await
        .unwrap();
    let archived = format!("v1/Secret/{namespace}/{name}");
    let mut found = false;
    for _ in 0..300 {
        let (_, body) = send(
            &app.router,
            with_token("GET", "/api/v1/deleted", &admin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        if body.contains(&archived) {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "{archived} was not archived");
    let secrets: Vec<String> = desired_state::secrets(&app.db)
        .await
        .unwrap()
        .as_map()
        .values()
        .cloned()
        .collect();
    assert!(secrets.len() >= 3, "{secrets:?}");

    let mut seen = String::new();
    let mut read = |headers: HeaderMap, body: String| {
        for (name, value) in &headers {
            if name != header::SET_COOKIE {
                seen.push_str(value.to_str().unwrap_or_default());
            }
        }
        seen.push_str(&body);
    };
    for entry in bi_server::router::policy().routes() {
        if entry.method != Method::GET
            || entry.path == "/api/v1/events"
            || STREAMS.contains(&entry.path)
        {
            continue;
        }
        let (_, headers, body) = send_full(
            &app.router,
            with_token("GET", &concrete(entry.path), &admin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        read(headers, body);
    }
    // The explorer shows Secrets, never their values.
    for path in [
        "/api/v1/cluster/objects?kind=v1/Secret",
        "/api/v1/cluster/object?path=v1/Secret/battery-data/redis-cache-connection",
        "/api/v1/cluster/object?path=v1/Secret/battery-monitoring/grafana-admin",
    ] {
        let (status, headers, body) = send_full(
            &app.router,
            with_token("GET", path, &admin).body(Body::empty()).unwrap(),
        )
        .await;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{path}: {status} {body}"
        );
        read(headers, body);
    }
    for path in pages().into_iter().chain([
        "/batteries/grafana".to_owned(),
        "/batteries/keycloak".to_owned(),
        "/access".to_owned(),
        "/explorer?kind=v1/Secret".to_owned(),
        "/deleted".to_owned(),
        "/timeline?category=deletion".to_owned(),
        "/explorer/object?path=v1/Secret/battery-data/redis-cache-connection".to_owned(),
    ]) {
        let (_, headers, body) = send_full(
            &app.router,
            with_cookie("GET", &path, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        read(headers, body);
    }
    for (path, method) in server_functions() {
        if server_fn_role(&path) == Some(Role::Viewer) {
            let (_, headers, body) = send_full(
                &app.router,
                with_token(method.as_str(), &path, &admin)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("kind=grafana"))
                    .unwrap(),
            )
            .await;
            read(headers, body);
        }
    }
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("signed in"), "the log was not captured: {log}");
    let session = cookie.split_once('=').unwrap().1.to_owned();
    let mut leaks = Vec::new();
    for (what, value) in [
        ("the password", PASSWORD.to_owned()),
        ("an API token", admin.clone()),
        ("the session cookie", session),
        ("the setup token", setup_token),
    ]
    .into_iter()
    .chain(
        secrets
            .into_iter()
            .map(|secret| ("a stored secret", secret)),
    ) {
        if seen.contains(&value) {
            leaks.push(format!("{what} in an answer"));
        }
        if log.contains(&value) {
            leaks.push(format!("{what} in the log"));
        }
    }
    assert!(leaks.is_empty(), "{leaks:?}");
    assert!(
        seen.len() > 100_000,
        "too little was read to be sure: {} bytes",
        seen.len()
    );
}

#[tokio::test]
async fn changing_your_password_keeps_this_browser_and_ends_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(dir.path()).await;
    let viewer = account(&app.db, "val", Role::Viewer).await;
    let here = sign_in(&app, "val", PASSWORD).await;
    let elsewhere = sign_in(&app, "val", PASSWORD).await;
    let csrf = page_token(&app, &here).await;
    let change = |body: serde_json::Value| {
        with_cookie("POST", "/api/v1/me/password", &here)
            .header("sec-fetch-site", "same-origin")
            .header(CSRF_HEADER, &csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    for (body, field) in [
        (
            serde_json::json!({ "current_password": "not it at all", "new_password": "a new password for val" }),
            "current_password",
        ),
        (
            serde_json::json!({ "current_password": PASSWORD, "new_password": "short" }),
            "new_password",
        ),
        (
            serde_json::json!({ "current_password": PASSWORD, "new_password": PASSWORD }),
            "new_password",
        ),
    ] {
        let (status, body) = send(&app.router, change(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains(field), "{body}");
    }
    let (status, body) = send(
        &app.router,
        change(serde_json::json!({ "current_password": PASSWORD, "new_password": "a new password for val" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me = |cookie: &str| {
        with_cookie("GET", "/api/v1/me", cookie)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(&app.router, me(&here)).await.0,
        StatusCode::OK,
        "this browser was signed out"
    );
    assert_eq!(
        send(&app.router, me(&elsewhere)).await.0,
        StatusCode::UNAUTHORIZED,
        "another browser stayed signed in"
    );
    // Tokens keep working; the old password does not, the new one does.
    let (status, _) = send(
        &app.router,
        with_token("GET", "/api/v1/me", &viewer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let now = chrono::Utc::now();
    assert!(
        bi_control::auth::accounts::sign_in(&app.db, "val", PASSWORD, now)
            .await
            .is_err()
    );
    bi_control::auth::accounts::sign_in(&app.db, "val", "a new password for val", now)
        .await
        .unwrap();
}
