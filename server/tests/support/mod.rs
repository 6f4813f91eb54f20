//! A control server's router in this process, with an admin and their API
//! token, and requests shaped as a client sends them (with a `Host`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header, request::Builder};
use bi_api::auth::{NewAccount, NewToken, Role};
use bi_control::Database;
use bi_control::auth::{accounts, tokens};
use bi_server::cli::{GlobalArgs, ServeArgs};
use bi_server::config::Settings;
use bi_server::router::router;
use bi_server::serve::{app_state, connect_cluster, keycloak_access, open_database};
use bi_server::state::AppState;
use tower::ServiceExt;

/// The host every request names unless a test says otherwise.
pub const HOST: &str = "127.0.0.1:3000";

/// A password every test account has.
pub const PASSWORD: &str = "a long test password";

/// A test app: the router, its state, and a token per role.
pub struct TestApp {
    pub router: axum::Router,
    pub state: AppState,
    pub db: Database,
    /// An admin's API token.
    pub admin: String,
    _sandbox: Option<bi_sandbox::Sandbox>,
    _keycloak: Option<bi_sandbox::keycloak::SandboxKeycloak>,
    reconciler: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.reconciler.abort();
    }
}

/// The settings of a server on the sandbox with its data in `data_dir`.
pub fn settings(data_dir: &Path) -> Settings {
    let args = ServeArgs {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_path_buf()),
        site_root: Some(data_dir.join("site")),
        sandbox: true,
        ..ServeArgs::default()
    };
    Settings::resolve(&GlobalArgs::default(), &args, None, &[]).unwrap()
}

/// A server on the sandbox with no account yet (bi not set up).
pub async fn fresh_app(data_dir: &Path) -> TestApp {
    let settings = settings(data_dir);
    let db = open_database(&settings).await.unwrap();
    let (connection, sandbox) = connect_cluster(&settings).await.unwrap();
    let (keycloak, sandbox_keycloak) = keycloak_access(&settings, sandbox.as_ref()).await.unwrap();
    let (state, reconciler) = app_state(
        &settings,
        HOST.parse().unwrap(),
        db.clone(),
        connection,
        keycloak,
    )
    .await
    .unwrap();
    // NB: let the startup snapshot finish, so that changes never race it.
    state.reconciler.request("test").finished().await.unwrap();
    TestApp {
        router: router(state.clone()),
        state,
        db,
        admin: String::new(),
        _sandbox: sandbox,
        _keycloak: sandbox_keycloak,
        reconciler,
    }
}

/// A server on the sandbox with an admin `root` and their token.
pub async fn app(data_dir: &Path) -> TestApp {
    let mut app = fresh_app(data_dir).await;
    app.state.auth.finish_setup();
    app.admin = account(&app.db, "root", Role::Admin).await;
    app
}

/// Creates an account with [`PASSWORD`] and returns a token of it.
pub async fn account(db: &Database, username: &str, role: Role) -> String {
    accounts::create(
        db,
        NewAccount {
            username: username.into(),
            password: PASSWORD.into(),
            role,
        },
    )
    .await
    .unwrap();
    let principal = accounts::sign_in(db, username, PASSWORD, chrono::Utc::now())
        .await
        .unwrap();
    tokens::create(
        db,
        &principal,
        NewToken {
            name: "tests".into(),
            expires_in_days: None,
            owner: None,
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .token
}

/// A request to `path` naming [`HOST`].
pub fn request(method: &str, path: &str) -> Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
}

/// A request with `token` as its bearer.
pub fn with_token(method: &str, path: &str, token: &str) -> Builder {
    request(method, path).header(header::AUTHORIZATION, format!("Bearer {token}"))
}

/// `GET path` as the admin.
pub fn get(app: &TestApp, path: &str) -> Request<Body> {
    with_token("GET", path, &app.admin)
        .body(Body::empty())
        .unwrap()
}

/// `method path` with a JSON body, as the admin.
pub fn json(app: &TestApp, method: &str, path: &str, body: &serde_json::Value) -> Request<Body> {
    with_token(method, path, &app.admin)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Sends a request; the status, headers and body text.
pub async fn send_full(
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// Sends a request; the status and body text.
pub async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let (status, _, body) = send_full(router, request).await;
    (status, body)
}

/// Sends a request; the status and the body as JSON (a string when not).
pub async fn send_json(
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, serde_json::Value) {
    let (status, body) = send(router, request).await;
    let value = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    (status, value)
}

/// `router` as a signed-in client sees it: every request names [`HOST`]
/// and carries `token` unless it says otherwise.
pub fn as_client(router: axum::Router, token: &str) -> axum::Router {
    let bearer = format!("Bearer {token}");
    router.layer(axum::middleware::map_request(
        move |mut request: Request<Body>| {
            let bearer = bearer.clone();
            async move {
                let headers = request.headers_mut();
                if !headers.contains_key(header::HOST) {
                    headers.insert(header::HOST, header::HeaderValue::from_static(HOST));
                }
                if !headers.contains_key(header::AUTHORIZATION)
                    && let Ok(value) = header::HeaderValue::from_str(&bearer)
                {
                    headers.insert(header::AUTHORIZATION, value);
                }
                request
            }
        },
    ))
}

/// The admin's view of a test app: the router as the admin's client, and
/// the app to keep alive.
pub async fn admin_app(data_dir: &Path) -> (axum::Router, TestApp) {
    let app = app(data_dir).await;
    (as_client(app.router.clone(), &app.admin), app)
}
