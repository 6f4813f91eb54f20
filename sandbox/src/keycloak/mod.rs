//! The sandbox Keycloak: an in-process server on a loopback port speaking
//! the subset of Keycloak 26's Admin REST API that bi's engine uses, for
//! tests and for `bi start` on the sandbox cluster (where no Keycloak pod
//! can run). bi's Keycloak client is the same code against it as against a
//! real Keycloak.
//!
//! What it follows, as Keycloak 26 documents and behaves:
//! - `POST /realms/master/protocol/openid-connect/token` with the password
//!   grant of `admin-cli` and the bootstrap administrator; a wrong password
//!   is `401 invalid_grant`, another client `401 invalid_client`, another
//!   grant `400 unsupported_grant_type`; tokens are opaque here (a real
//!   Keycloak's are JWTs, which bi does not read) and last 60 s by default;
//!   an expired or unknown token is `401` on every admin request;
//! - realms: `GET/POST /admin/realms`, `GET/PUT/DELETE /admin/realms/{r}`;
//!   a new realm comes with Keycloak's built-in clients and required
//!   actions; `PUT` changes the fields it is given;
//! - groups: `GET …/groups` (brief by default: no `attributes` unless
//!   `briefRepresentation=false`; `search` with `exact`), `POST` (`409` for
//!   a top-level name taken), `GET/PUT/DELETE …/groups/{id}`;
//! - clients: `GET …/clients` (`clientId` filter), `POST` (`409` for a
//!   clientId taken; a confidential client without a secret gets one),
//!   `GET/PUT/DELETE …/clients/{id}`, where `PUT` ignores `protocolMappers`
//!   as Keycloak does, and `…/protocol-mappers/models[/{id}]`;
//! - required actions: `GET/PUT …/authentication/required-actions/{alias}`;
//! - `201` with `Location` for creations, `204` for updates and deletions,
//!   `404` with `{"error": …}` for what is not there, `{"errorMessage": …}`
//!   on conflicts and bad input.
//!
//! - users: `GET …/users` (`username` with `exact`, `search`), `POST`
//!   (`409` for a username taken; `credentials` and group paths honoured),
//!   `GET/PUT/DELETE …/users/{id}`, `PUT …/reset-password`,
//!   `GET …/users/{id}/groups`, `PUT/DELETE …/users/{id}/groups/{group}`;
//!   passwords are never returned.
//!
//! - a realm's OpenID Connect endpoints for its clients (`oidc.rs`): the
//!   authorization-code flow with PKCE, a sign-in form and the
//!   update-password form, token and userinfo.
//!
//! Its limits: no roles, client scopes, identity providers or sessions; no fine-grained admin permissions (the one administrator may
//! do everything); subgroups are not served; nothing persists across
//! restarts. Extras a real Keycloak lacks, for tests: a log of the writes
//! it took ([`SandboxKeycloak::writes`]) and [`SandboxKeycloak::expire_tokens`].

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod oidc;

use crate::cluster::{Sandbox, secret_values};
use crate::server::Shared;

/// Keycloak's default access-token lifespan in the master realm.
const TOKEN_LIFESPAN: Duration = Duration::from_secs(60);

/// The clients every new realm has.
const BUILT_IN_CLIENTS: [&str; 6] = [
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// The required actions every new realm has (alias, name).
const BUILT_IN_ACTIONS: [(&str, &str); 5] = [
    ("CONFIGURE_TOTP", "Configure OTP"),
    ("TERMS_AND_CONDITIONS", "Terms and Conditions"),
    ("UPDATE_PASSWORD", "Update Password"),
    ("UPDATE_PROFILE", "Update Profile"),
    ("VERIFY_EMAIL", "Verify Email"),
];

/// Where the administrator's credentials come from.
#[derive(Clone)]
enum Credentials {
    /// Those it was started with (or given since).
    Fixed,
    /// The `username` and `password` of a Secret of a sandbox cluster, as a
    /// Keycloak pod's `KC_BOOTSTRAP_ADMIN_*` variables read them.
    Secret(Arc<Shared>, String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fixed => f.write_str("Fixed"),
            Self::Secret(_, name) => write!(f, "Secret({name})"),
        }
    }
}

/// A running sandbox Keycloak.
#[derive(Debug)]
pub struct SandboxKeycloak {
    addr: SocketAddr,
    state: Arc<Mutex<Keycloak>>,
    task: JoinHandle<()>,
}

#[derive(Debug, Clone)]
struct Served {
    state: Arc<Mutex<Keycloak>>,
    credentials: Credentials,
}

impl Drop for SandboxKeycloak {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SandboxKeycloak {
    /// Starts one on a free loopback port whose bootstrap administrator is
    /// `username` with `password`.
    pub async fn start(username: &str, password: &str) -> std::io::Result<Self> {
        Self::serve(username, password, Credentials::Fixed).await
    }

    /// Starts one beside `sandbox` whose administrator is the one the Secret
    /// `secret` there names (`username`, `password`: bi's `keycloak-admin`),
    /// read at each sign-in, as a Keycloak pod started from it would.
    pub async fn start_in(sandbox: &Sandbox, secret: &str) -> std::io::Result<Self> {
        Self::serve(
            "",
            "",
            Credentials::Secret(sandbox.shared(), secret.to_owned()),
        )
        .await
    }

    async fn serve(
        username: &str,
        password: &str,
        credentials: Credentials,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(Keycloak {
            admin: (username.to_owned(), password.to_owned()),
            lifespan: TOKEN_LIFESPAN,
            ..Keycloak::default()
        }));
        let app = Router::new().fallback(handle).with_state(Served {
            state: Arc::clone(&state),
            credentials,
        });
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(%err, "the sandbox Keycloak stopped");
            }
        });
        Ok(Self { addr, state, task })
    }

    /// Its base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, Keycloak> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the administrator's credentials (as a restart with other
    /// bootstrap credentials would, on a Keycloak with no admin yet).
    pub fn set_admin(&self, username: &str, password: &str) {
        self.lock().admin = (username.to_owned(), password.to_owned());
    }

    /// How long tokens handed out from now on last.
    pub fn set_token_lifespan(&self, lifespan: Duration) {
        self.lock().lifespan = lifespan;
    }

    /// Makes every token handed out so far expired.
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Every write it took (`POST /admin/realms`, …), oldest first.
    pub fn writes(&self) -> Vec<String> {
        self.lock().writes.clone()
    }

    /// The realms it holds.
    pub fn realms(&self) -> Vec<String> {
        self.lock().realms.keys().cloned().collect()
    }
}

/// Everything it holds.
#[derive(Debug, Default)]
struct Keycloak {
    admin: (String, String),
    lifespan: Duration,
    tokens: HashMap<String, Instant>,
    realms: BTreeMap<String, Realm>,
    writes: Vec<String>,
    next_id: u64,
    /// Sign-ins in progress, by session code.
    logins: HashMap<String, oidc::Login>,
    /// Authorization codes handed out and not redeemed.
    codes: HashMap<String, oidc::Grant>,
    /// Users' access tokens.
    user_tokens: HashMap<String, oidc::UserToken>,
}

#[derive(Debug, Default)]
struct Realm {
    rep: Value,
    groups: BTreeMap<String, Value>,
    clients: BTreeMap<String, Value>,
    actions: BTreeMap<String, Value>,
    users: BTreeMap<String, Value>,
    /// Each user's password (by user id): never returned.
    passwords: BTreeMap<String, String>,
    /// Each user's groups (by user id, then group id).
    members: BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl Keycloak {
    /// A fresh id, shaped like Keycloak's UUIDs.
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_id)
    }

    fn new_realm(&mut self, rep: &Value) -> Realm {
        let mut realm = Realm {
            rep: rep.clone(),
            ..Realm::default()
        };
        realm.rep["id"] = Value::String(self.id());
        for field in ["groups", "clients", "requiredActions", "users"] {
            if let Some(map) = realm.rep.as_object_mut() {
                map.remove(field);
            }
        }
        for client in BUILT_IN_CLIENTS {
            let id = self.id();
            realm.clients.insert(
                id.clone(),
                json!({"id": id, "clientId": client, "enabled": true, "publicClient": true,
                       "protocol": "openid-connect", "attributes": {}, "protocolMappers": []}),
            );
        }
        for (priority, (alias, name)) in BUILT_IN_ACTIONS.into_iter().enumerate() {
            realm.actions.insert(
                alias.to_owned(),
                json!({"alias": alias, "name": name, "providerId": alias, "enabled": true,
                       "defaultAction": false, "priority": (priority + 1) * 10, "config": {}}),
            );
        }
        realm
    }
}

/// One answer: its status, `Location`, and a JSON body (none when Null)
/// or a page.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: Value,
    html: Option<String>,
}

fn answer(status: StatusCode, body: Value) -> Answer {
    Answer {
        status,
        location: None,
        body,
        html: None,
    }
}

fn no_content() -> Answer {
    answer(StatusCode::NO_CONTENT, Value::Null)
}

fn not_found(what: &str) -> Answer {
    answer(
        StatusCode::NOT_FOUND,
        json!({ "error": format!("{what} not found.") }),
    )
}

fn conflict(message: String) -> Answer {
    answer(StatusCode::CONFLICT, json!({ "errorMessage": message }))
}

fn bad_request(message: &str) -> Answer {
    answer(StatusCode::BAD_REQUEST, json!({ "errorMessage": message }))
}

fn created(base: &str, location: &str) -> Answer {
    Answer {
        status: StatusCode::CREATED,
        location: Some(format!("{base}{location}")),
        body: Value::Null,
        html: None,
    }
}

async fn handle(
    State(served): State<Served>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admin = match &served.credentials {
        Credentials::Fixed => None,
        Credentials::Secret(shared, name) => {
            let values = secret_values(shared, name).await.unwrap_or_default();
            Some((
                values.get("username").cloned().unwrap_or_default(),
                values.get("password").cloned().unwrap_or_default(),
            ))
        }
    };
    let mut keycloak = served.state.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(admin) = admin {
        keycloak.admin = admin;
    }
    let base = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(|host| format!("http://{host}"))
        .unwrap_or_default();
    let Answer {
        status,
        location,
        body,
        html,
    } = route(&mut keycloak, &method, &uri, &headers, &body, &base);
    let mut response = match html {
        Some(html) => (status, axum::response::Html(html)).into_response(),
        None if body.is_null() => status.into_response(),
        None => (status, axum::Json(body)).into_response(),
    };
    if let Some(value) = location.and_then(|l| l.parse().ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn route(
    kc: &mut Keycloak,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    base: &str,
) -> Answer {
    let segments: Vec<String> = uri
        .path()
        .trim_matches('/')
        .split('/')
        .map(|s| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let ["realms", "master", "protocol", "openid-connect", "token"] = segs.as_slice() {
        return token(kc, method, body);
    }
    if let ["realms", realm, rest @ ..] = segs.as_slice() {
        return oidc::route(kc, method, realm, rest, &query, headers, body, base);
    }
    let ["admin", "realms", rest @ ..] = segs.as_slice() else {
        return not_found("Resource");
    };
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| kc.tokens.get(token))
        .is_some_and(|expires| *expires > Instant::now());
    if !authorized {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "HTTP 401 Unauthorized" }),
        );
    }
    let json_body = || -> Result<Value, Answer> {
        serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| bad_request("Unable to read the request body as JSON"))
    };
    if *method != Method::GET {
        kc.writes.push(format!("{method} {}", uri.path()));
    }
    let result = match (method.clone(), rest) {
        (Method::GET, []) => Ok(answer(
            StatusCode::OK,
            Value::Array(kc.realms.values().map(|r| r.rep.clone()).collect()),
        )),
        (Method::POST, []) => json_body().map(|rep| create_realm(kc, rep, base)),
        (_, [realm, rest @ ..]) => {
            let realm = (*realm).to_owned();
            match kc.realms.contains_key(&realm) {
                false => Ok(not_found("Realm")),
                true => in_realm(kc, method.clone(), &realm, rest, &query, body, base),
            }
        }
        _ => Ok(answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null)),
    };
    result.unwrap_or_else(|answer| answer)
}

fn token(kc: &mut Keycloak, method: &Method, body: &[u8]) -> Answer {
    if *method != Method::POST {
        return answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null);
    }
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |key: &str| form.get(key).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "password" {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"}),
        );
    }
    if field("client_id") != "admin-cli" {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"}),
        );
    }
    if kc.admin.0.is_empty()
        || (field("username"), field("password")) != (kc.admin.0.as_str(), kc.admin.1.as_str())
    {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_grant", "error_description": "Invalid user credentials"}),
        );
    }
    let token = format!("sandbox-{}", uuid::Uuid::new_v4());
    let lifespan = kc.lifespan;
    kc.tokens.insert(token.clone(), Instant::now() + lifespan);
    answer(
        StatusCode::OK,
        json!({
            "access_token": token,
            "expires_in": lifespan.as_secs(),
            "token_type": "Bearer",
            "scope": "profile email",
        }),
    )
}

fn create_realm(kc: &mut Keycloak, rep: Value, base: &str) -> Answer {
    let Some(name) = rep.get("realm").and_then(Value::as_str).map(str::to_owned) else {
        return bad_request("Realm name cannot be empty");
    };
    if kc.realms.contains_key(&name) {
        return conflict(format!("Realm {name} already exists"));
    }
    let realm = kc.new_realm(&rep);
    kc.realms.insert(name.clone(), realm);
    created(base, &format!("/admin/realms/{name}"))
}

/// Sets every field of `from` on `into` (Keycloak's updates change the
/// fields a representation carries).
fn merge(into: &mut Value, from: &Value, keep: &[&str]) {
    let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) else {
        return;
    };
    for (key, value) in from {
        if !keep.contains(&key.as_str()) {
            into.insert(key.clone(), value.clone());
        }
    }
}

/// Sets the password a `CredentialRepresentation` gives user `id`; a
/// temporary one makes changing it a required action.
fn set_password(realm: &mut Realm, id: &str, user: &mut Value, credential: &Value) {
    let Some(value) = credential.get("value").and_then(Value::as_str) else {
        return;
    };
    realm.passwords.insert(id.to_owned(), value.to_owned());
    if credential.get("temporary") == Some(&Value::Bool(true)) {
        let actions = user
            .as_object_mut()
            .map(|u| u.entry("requiredActions").or_insert_with(|| json!([])))
            .and_then(Value::as_array_mut);
        if let Some(actions) = actions
            && !actions.iter().any(|a| a == "UPDATE_PASSWORD")
        {
            actions.push(json!("UPDATE_PASSWORD"));
        }
    }
}

fn brief(group: &Value) -> Value {
    let mut group = group.clone();
    if let Some(map) = group.as_object_mut() {
        map.remove("attributes");
    }
    group
}

#[allow(clippy::too_many_arguments)]
fn in_realm(
    kc: &mut Keycloak,
    method: Method,
    name: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    body: &[u8],
    base: &str,
) -> Result<Answer, Answer> {
    let json_body = || -> Result<Value, Answer> {
        serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| bad_request("Unable to read the request body as JSON"))
    };
    if method == Method::DELETE && rest.is_empty() {
        kc.realms.remove(name);
        return Ok(no_content());
    }
    let new_id = kc.id();
    let Some(realm) = kc.realms.get_mut(name) else {
        return Ok(not_found("Realm"));
    };
    let location = |tail: String| created(base, &format!("/admin/realms/{name}/{tail}"));
    Ok(match (method, rest) {
        (Method::GET, []) => answer(StatusCode::OK, realm.rep.clone()),
        (Method::PUT, []) => {
            let rep = json_body()?;
            if rep
                .get("realm")
                .and_then(Value::as_str)
                .is_some_and(|r| r != name)
            {
                return Err(bad_request("Renaming a realm is not supported here"));
            }
            merge(
                &mut realm.rep,
                &rep,
                &["id", "groups", "clients", "requiredActions", "users"],
            );
            no_content()
        }

        (Method::GET, ["groups"]) => {
            let full = query.get("briefRepresentation").map(String::as_str) == Some("false");
            let exact = query.get("exact").map(String::as_str) == Some("true");
            let search = query.get("search");
            let groups = realm
                .groups
                .values()
                .filter(|group| {
                    let name = group
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    search.is_none_or(|s| {
                        if exact {
                            name == s
                        } else {
                            name.to_lowercase().contains(&s.to_lowercase())
                        }
                    })
                })
                .map(|group| if full { group.clone() } else { brief(group) })
                .collect();
            answer(StatusCode::OK, Value::Array(groups))
        }
        (Method::POST, ["groups"]) => {
            let mut rep = json_body()?;
            let Some(group) = rep.get("name").and_then(Value::as_str).map(str::to_owned) else {
                return Err(bad_request("Group name is missing"));
            };
            if realm.groups.values().any(|g| g["name"] == group.as_str()) {
                return Err(conflict(format!(
                    "Top level group named '{group}' already exists."
                )));
            }
            rep["id"] = Value::String(new_id.clone());
            rep["path"] = Value::String(format!("/{group}"));
            rep["subGroups"] = json!([]);
            if rep.get("attributes").is_none() {
                rep["attributes"] = json!({});
            }
            realm.groups.insert(new_id.clone(), rep);
            location(format!("groups/{new_id}"))
        }
        (method, ["groups", id]) => {
            let Some(group) = realm.groups.get_mut(*id) else {
                return Ok(not_found("Could not find group by id"));
            };
            match method {
                Method::GET => answer(StatusCode::OK, group.clone()),
                Method::PUT => {
                    let rep = json_body()?;
                    merge(group, &rep, &["id", "path", "subGroups"]);
                    if let Some(name) = rep.get("name").and_then(Value::as_str) {
                        group["path"] = Value::String(format!("/{name}"));
                    }
                    no_content()
                }
                Method::DELETE => {
                    realm.groups.remove(*id);
                    no_content()
                }
                _ => answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null),
            }
        }

        (Method::GET, ["clients"]) => {
            let wanted = query.get("clientId");
            let clients = realm
                .clients
                .values()
                .filter(|c| wanted.is_none_or(|w| c["clientId"] == w.as_str()))
                .cloned()
                .collect();
            answer(StatusCode::OK, Value::Array(clients))
        }
        (Method::POST, ["clients"]) => {
            let mut rep = json_body()?;
            let Some(client_id) = rep
                .get("clientId")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                return Err(bad_request("Client id is missing"));
            };
            if realm
                .clients
                .values()
                .any(|c| c["clientId"] == client_id.as_str())
            {
                return Err(conflict(format!("Client {client_id} already exists")));
            }
            rep["id"] = Value::String(new_id.clone());
            let confidential = rep.get("publicClient") != Some(&Value::Bool(true));
            if confidential && rep.get("secret").is_none() {
                rep["secret"] = Value::String(uuid::Uuid::new_v4().to_string());
            }
            let mappers: Vec<Value> = rep
                .get("protocolMappers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(n, mut mapper)| {
                    mapper["id"] = Value::String(format!("{new_id}-mapper-{n}"));
                    mapper
                })
                .collect();
            rep["protocolMappers"] = Value::Array(mappers);
            if rep.get("attributes").is_none() {
                rep["attributes"] = json!({});
            }
            realm.clients.insert(new_id.clone(), rep);
            location(format!("clients/{new_id}"))
        }
        (method, ["clients", id]) => {
            let Some(client) = realm.clients.get_mut(*id) else {
                return Ok(not_found("Could not find client"));
            };
            match method {
                Method::GET => answer(StatusCode::OK, client.clone()),
                Method::PUT => {
                    let rep = json_body()?;
                    // NB: as Keycloak: a client's PUT leaves its protocol mappers alone.
                    merge(client, &rep, &["id", "protocolMappers"]);
                    no_content()
                }
                Method::DELETE => {
                    realm.clients.remove(*id);
                    no_content()
                }
                _ => answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null),
            }
        }
        (method, ["clients", id, "protocol-mappers", "models", tail @ ..]) => {
            let Some(client) = realm.clients.get_mut(*id) else {
                return Ok(not_found("Could not find client"));
            };
            let mappers = client
                .as_object_mut()
                .map(|c| c.entry("protocolMappers").or_insert_with(|| json!([])))
                .and_then(Value::as_array_mut);
            let Some(mappers) = mappers else {
                return Ok(not_found("Could not find client"));
            };
            match (method, tail) {
                (Method::GET, []) => answer(StatusCode::OK, Value::Array(mappers.clone())),
                (Method::POST, []) => {
                    let mut rep = json_body()?;
                    if mappers.iter().any(|m| m.get("name") == rep.get("name")) {
                        return Err(conflict("Protocol mapper exists with same name".to_owned()));
                    }
                    rep["id"] = Value::String(new_id.clone());
                    mappers.push(rep);
                    location(format!("clients/{id}/protocol-mappers/models/{new_id}"))
                }
                (method, [mapper]) => {
                    let Some(at) = mappers.iter().position(|m| m["id"] == *mapper) else {
                        return Ok(not_found("Model"));
                    };
                    match method {
                        Method::GET => answer(StatusCode::OK, mappers[at].clone()),
                        Method::PUT => {
                            let rep = json_body()?;
                            merge(&mut mappers[at], &rep, &["id"]);
                            no_content()
                        }
                        Method::DELETE => {
                            mappers.remove(at);
                            no_content()
                        }
                        _ => answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null),
                    }
                }
                _ => answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null),
            }
        }

        (Method::GET, ["users"]) => {
            let exact = query.get("exact").map(String::as_str) == Some("true");
            let wanted = query.get("username").or_else(|| query.get("search"));
            let users = realm
                .users
                .values()
                .filter(|user| {
                    let name = user
                        .get("username")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    wanted.is_none_or(|w| {
                        if exact {
                            name == w.to_lowercase()
                        } else {
                            name.contains(&w.to_lowercase())
                        }
                    })
                })
                .cloned()
                .collect();
            answer(StatusCode::OK, Value::Array(users))
        }
        (Method::POST, ["users"]) => {
            let mut rep = json_body()?;
            let Some(username) = rep
                .get("username")
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty())
                .map(str::to_lowercase)
            else {
                return Err(bad_request("User name is missing"));
            };
            if realm
                .users
                .values()
                .any(|u| u["username"] == username.as_str())
            {
                return Err(conflict("User exists with same username".to_owned()));
            }
            let mut groups = std::collections::BTreeSet::new();
            for path in rep
                .get("groups")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let found = realm
                    .groups
                    .iter()
                    .find(|(_, g)| g.get("path").and_then(Value::as_str) == Some(path));
                let Some((group_id, _)) = found else {
                    return Err(bad_request(&format!("Group {path} not found")));
                };
                groups.insert(group_id.clone());
            }
            let password = rep
                .get("credentials")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find(|c| c["type"] == "password"))
                .cloned();
            if let Some(map) = rep.as_object_mut() {
                map.remove("credentials");
                map.remove("groups");
            }
            rep["id"] = Value::String(new_id.clone());
            rep["username"] = Value::String(username);
            for (field, default) in [
                ("enabled", json!(false)),
                ("emailVerified", json!(false)),
                ("requiredActions", json!([])),
            ] {
                if rep.get(field).is_none() {
                    rep[field] = default;
                }
            }
            if let Some(password) = password {
                set_password(realm, &new_id, &mut rep, &password);
            }
            realm.members.insert(new_id.clone(), groups);
            realm.users.insert(new_id.clone(), rep);
            location(format!("users/{new_id}"))
        }
        (method, ["users", id, tail @ ..]) => {
            let id = (*id).to_owned();
            let Some(user) = realm.users.get_mut(&id) else {
                return Ok(not_found("User"));
            };
            match (method, tail) {
                (Method::GET, []) => answer(StatusCode::OK, user.clone()),
                (Method::PUT, []) => {
                    let rep = json_body()?;
                    merge(user, &rep, &["id", "username", "credentials", "groups"]);
                    no_content()
                }
                (Method::DELETE, []) => {
                    realm.users.remove(&id);
                    realm.passwords.remove(&id);
                    realm.members.remove(&id);
                    no_content()
                }
                (Method::PUT, ["reset-password"]) => {
                    let rep = json_body()?;
                    let mut user = user.clone();
                    set_password(realm, &id, &mut user, &rep);
                    realm.users.insert(id.clone(), user);
                    no_content()
                }
                (Method::GET, ["groups"]) => {
                    let member_of = realm.members.get(&id).cloned().unwrap_or_default();
                    let groups = member_of
                        .iter()
                        .filter_map(|group| realm.groups.get(group))
                        .map(brief)
                        .collect();
                    answer(StatusCode::OK, Value::Array(groups))
                }
                (method @ (Method::PUT | Method::DELETE), ["groups", group]) => {
                    if !realm.groups.contains_key(*group) {
                        return Ok(not_found("Group"));
                    }
                    let member_of = realm.members.entry(id.clone()).or_default();
                    if method == Method::PUT {
                        member_of.insert((*group).to_owned());
                    } else {
                        member_of.remove(*group);
                    }
                    no_content()
                }
                _ => answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null),
            }
        }

        (method, ["authentication", "required-actions", alias]) => {
            let Some(action) = realm.actions.get_mut(*alias) else {
                return Ok(not_found("Failed to find required action"));
            };
            match method {
                Method::GET => answer(StatusCode::OK, action.clone()),
                Method::PUT => {
                    let rep = json_body()?;
                    merge(action, &rep, &["alias", "providerId"]);
                    no_content()
                }
                _ => answer(StatusCode::METHOD_NOT_ALLOWED, Value::Null),
            }
        }
        _ => not_found("Resource"),
    })
}
