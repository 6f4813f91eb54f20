//! Keycloak, bi's second apply target: where it is reached from, and a
//! client of the subset of its Admin REST API (version 26) the engine uses.
//!
//! The client signs in to the `master` realm with the `admin-cli` client and
//! the administrator bi generated (`keycloak-admin`), keeps the access token
//! until Keycloak refuses it (401: it lasts 60 s by default) and then asks
//! for a new one, once. Each item kind maps to its endpoints:
//!
//! | kind | read | create | update | delete |
//! |---|---|---|---|---|
//! | realm | `GET /admin/realms/{r}` | `POST /admin/realms` | `PUT …/{r}` | `DELETE …/{r}` |
//! | group | `GET …/{r}/groups?search=&exact=true&briefRepresentation=false` | `POST …/groups` | `PUT …/groups/{id}` | `DELETE …/groups/{id}` |
//! | client | `GET …/{r}/clients?clientId=` | `POST …/clients` | `PUT …/clients/{id}` + protocol mappers | `DELETE …/clients/{id}` |
//! | required action | `GET …/{r}/authentication/required-actions/{alias}` | `PUT` the same | `PUT` the same | (the realm's: left) |
//!
//! Keycloak ignores `protocolMappers` in a client's `PUT`, so an update
//! also puts each mapper bi sets through `…/protocol-mappers/models`.

use std::fmt;
use std::time::Duration;

use bi_model::keycloak::{KeycloakKind, KeycloakPath};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;

/// Where bi reaches Keycloak's HTTP port from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeycloakAccess {
    /// Its Service's DNS name (`http://keycloak.<base namespace>.svc.cluster.local:8080`):
    /// bi runs in the cluster.
    #[default]
    InCluster,
    /// This base URL (`--keycloak-url`): a port-forward, the gateway's
    /// `https://keycloak.<domain>`, or the sandbox's Keycloak.
    Url(String),
    /// Nowhere: bi runs outside the cluster and was given no URL.
    Outside,
}

/// Why a request to Keycloak did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeycloakError {
    /// Keycloak did not answer (not started yet, or no route to it).
    Unreachable(String),
    /// Keycloak answered with an error: its status and message.
    Refused {
        /// What was asked (`POST /admin/realms/batterycore/clients`).
        request: String,
        /// The HTTP status.
        status: u16,
        /// Keycloak's `errorMessage` or `error_description`, else the body.
        message: String,
    },
    /// Keycloak answered something bi cannot read.
    Protocol(String),
}

impl KeycloakError {
    /// Whether trying again soon may succeed (Keycloak is starting).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }
}

impl fmt::Display for KeycloakError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable(why) => write!(f, "Keycloak is not answering: {why}"),
            Self::Refused {
                request,
                status,
                message,
            } => write!(f, "Keycloak refused {request} ({status}): {message}"),
            Self::Protocol(why) => write!(f, "unexpected answer from Keycloak: {why}"),
        }
    }
}

impl std::error::Error for KeycloakError {}

type Result<T> = std::result::Result<T, KeycloakError>;

/// An item as Keycloak holds it: its id (for groups and clients) and
/// representation.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    /// Keycloak's id of it (the realm's name for a realm, the alias for a
    /// required action).
    pub id: String,
    /// Its representation.
    pub body: Value,
}

/// One answer.
struct Reply {
    status: StatusCode,
    body: Value,
}

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A client of Keycloak's Admin REST API, signed in as its administrator.
pub struct Admin {
    http: reqwest::Client,
    base: String,
    username: String,
    password: String,
    token: Mutex<Option<String>>,
}

impl fmt::Debug for Admin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // NB: never the password or the token.
        f.debug_struct("Admin")
            .field("base", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// A client of the Keycloak at `base` (`http://host:port`, no trailing
    /// path), signing in as `username` with `password`.
    pub fn new(base: &str, username: &str, password: &str) -> Result<Self> {
        let http = http_client()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            token: Mutex::new(None),
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Signs in (or reuses the token it holds): Ok once Keycloak answers
    /// and takes the credentials.
    pub async fn sign_in(&self) -> Result<()> {
        self.token(false).await.map(|_| ())
    }

    /// An access token: the one held, or a new one when `fresh` or none is held.
    async fn token(&self, fresh: bool) -> Result<String> {
        let mut held = self.token.lock().await;
        if !fresh && let Some(token) = held.as_ref() {
            return Ok(token.clone());
        }
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("client_id", "admin-cli")
            .append_pair("username", &self.username)
            .append_pair("password", &self.password)
            .finish();
        let url = format!("{}/realms/master/protocol/openid-connect/token", self.base);
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|err| unreachable(&self.base, &err))?;
        let reply = read(response).await?;
        if !reply.status.is_success() {
            return Err(refused(
                &format!(
                    "the administrator {} signing in to the realm master",
                    self.username
                ),
                &reply,
            ));
        }
        let token = reply
            .body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| KeycloakError::Protocol("a token answer without access_token".into()))?
            .to_owned();
        *held = Some(token.clone());
        Ok(token)
    }

    /// Sends `method path` with `body`, signed in; asks for a new token once
    /// when Keycloak refuses the one held (it expired).
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Reply> {
        let mut fresh = false;
        loop {
            let token = self.token(fresh).await?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|err| unreachable(&self.base, &err))?;
            let reply = read(response).await?;
            if reply.status == StatusCode::UNAUTHORIZED && !fresh {
                fresh = true;
                continue;
            }
            return Ok(reply);
        }
    }

    /// Like [`Admin::call`], refusing any status but a success.
    async fn expect(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Reply> {
        let reply = self.call(method.clone(), path, body).await?;
        if reply.status.is_success() {
            Ok(reply)
        } else {
            Err(refused(&format!("{method} {path}"), &reply))
        }
    }

    /// The item at `path`, if Keycloak holds it.
    pub async fn read(&self, path: &KeycloakPath) -> Result<Option<Live>> {
        let realm = enc(&path.realm);
        let name = enc(&path.name);
        let (url, listed) = match path.kind {
            KeycloakKind::Realm => (format!("/admin/realms/{name}"), false),
            KeycloakKind::Group => (
                format!(
                    "/admin/realms/{realm}/groups?search={name}&exact=true&briefRepresentation=false"
                ),
                true,
            ),
            KeycloakKind::Client => (
                format!("/admin/realms/{realm}/clients?clientId={name}"),
                true,
            ),
            KeycloakKind::RequiredAction => (
                format!("/admin/realms/{realm}/authentication/required-actions/{name}"),
                false,
            ),
            KeycloakKind::User => (
                format!("/admin/realms/{realm}/users?username={name}&exact=true"),
                true,
            ),
        };
        let reply = self.call(Method::GET, &url, None).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !reply.status.is_success() {
            return Err(refused(&format!("GET {url}"), &reply));
        }
        let found = if listed {
            let key = name_field(path.kind);
            reply
                .body
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .find(|item| item.get(key).and_then(Value::as_str) == Some(&path.name))
                })
                .cloned()
        } else {
            Some(reply.body)
        };
        let Some(body) = found else {
            return Ok(None);
        };
        let id = match path.kind {
            KeycloakKind::Realm | KeycloakKind::RequiredAction => path.name.clone(),
            _ => body
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| KeycloakError::Protocol(format!("{path} has no id")))?
                .to_owned(),
        };
        Ok(Some(Live { id, body }))
    }

    /// The groups and clients of `realm` (none when there is no such realm).
    pub async fn list(&self, realm: &str) -> Result<Vec<(KeycloakPath, Value)>> {
        let mut found = Vec::new();
        for kind in [KeycloakKind::Group, KeycloakKind::Client] {
            let url = match kind {
                KeycloakKind::Group => {
                    format!(
                        "/admin/realms/{}/groups?briefRepresentation=false",
                        enc(realm)
                    )
                }
                _ => format!("/admin/realms/{}/clients", enc(realm)),
            };
            let reply = self.call(Method::GET, &url, None).await?;
            if reply.status == StatusCode::NOT_FOUND {
                return Ok(Vec::new());
            }
            if !reply.status.is_success() {
                return Err(refused(&format!("GET {url}"), &reply));
            }
            for item in reply.body.as_array().into_iter().flatten() {
                if let Some(name) = item.get(name_field(kind)).and_then(Value::as_str) {
                    let path = KeycloakPath {
                        kind,
                        realm: realm.to_owned(),
                        name: name.to_owned(),
                    };
                    found.push((path, item.clone()));
                }
            }
        }
        Ok(found)
    }

    /// Creates the item at `path` with `body`; Ok(false) when Keycloak
    /// already holds one by that name (409).
    pub async fn create(&self, path: &KeycloakPath, body: &Value) -> Result<bool> {
        let realm = enc(&path.realm);
        let url = match path.kind {
            KeycloakKind::Realm => "/admin/realms".to_owned(),
            KeycloakKind::Group => format!("/admin/realms/{realm}/groups"),
            KeycloakKind::Client => format!("/admin/realms/{realm}/clients"),
            KeycloakKind::User => format!("/admin/realms/{realm}/users"),
            KeycloakKind::RequiredAction => {
                // NB: every realm has its required actions: "creating" one sets it.
                self.update(path, &path.name, body).await?;
                return Ok(true);
            }
        };
        let reply = self.call(Method::POST, &url, Some(body)).await?;
        match reply.status {
            StatusCode::CONFLICT => Ok(false),
            status if status.is_success() => Ok(true),
            _ => Err(refused(&format!("POST {url}"), &reply)),
        }
    }

    /// Replaces the item at `path`, whose Keycloak id is `id`, with `body`.
    pub async fn update(&self, path: &KeycloakPath, id: &str, body: &Value) -> Result<()> {
        let url = item_url(path, id);
        self.expect(Method::PUT, &url, Some(body)).await?;
        if path.kind == KeycloakKind::Client {
            self.put_mappers(&url, body).await?;
        }
        Ok(())
    }

    /// Puts each protocol mapper of `body` on the client at `client_url`:
    /// Keycloak ignores them in the client's own `PUT`.
    async fn put_mappers(&self, client_url: &str, body: &Value) -> Result<()> {
        let Some(wanted) = body.get("protocolMappers").and_then(Value::as_array) else {
            return Ok(());
        };
        let models = format!("{client_url}/protocol-mappers/models");
        let reply = self.expect(Method::GET, &models, None).await?;
        let have = reply.body.as_array().cloned().unwrap_or_default();
        for mapper in wanted {
            let name = mapper.get("name");
            match have.iter().find(|h| h.get("name") == name) {
                None => {
                    self.expect(Method::POST, &models, Some(mapper)).await?;
                }
                Some(existing) => {
                    if bi_model::keycloak::drifted(mapper, existing).is_empty() {
                        continue;
                    }
                    let id = existing.get("id").and_then(Value::as_str).ok_or_else(|| {
                        KeycloakError::Protocol("a protocol mapper without id".into())
                    })?;
                    let mut mapper = mapper.clone();
                    mapper["id"] = Value::String(id.to_owned());
                    self.expect(Method::PUT, &format!("{models}/{}", enc(id)), Some(&mapper))
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Deletes the item at `path`, whose Keycloak id is `id`; Ok(false) when
    /// it was already gone. A required action stays (it is the realm's).
    pub async fn delete(&self, path: &KeycloakPath, id: &str) -> Result<bool> {
        if path.kind == KeycloakKind::RequiredAction {
            return Ok(true);
        }
        let url = item_url(path, id);
        let reply = self.call(Method::DELETE, &url, None).await?;
        match reply.status {
            StatusCode::NOT_FOUND => Ok(false),
            status if status.is_success() => Ok(true),
            _ => Err(refused(&format!("DELETE {url}"), &reply)),
        }
    }
}

impl Admin {
    /// Every user of `realm` (up to 1,000).
    pub async fn users(&self, realm: &str) -> Result<Vec<Value>> {
        let url = format!(
            "/admin/realms/{}/users?briefRepresentation=false&max=1000",
            enc(realm)
        );
        let reply = self.expect(Method::GET, &url, None).await?;
        Ok(reply.body.as_array().cloned().unwrap_or_default())
    }

    /// The groups user `id` of `realm` is in.
    pub async fn user_groups(&self, realm: &str, id: &str) -> Result<Vec<Value>> {
        let url = format!("/admin/realms/{}/users/{}/groups", enc(realm), enc(id));
        let reply = self.expect(Method::GET, &url, None).await?;
        Ok(reply.body.as_array().cloned().unwrap_or_default())
    }

    /// Puts user `id` into group `group` (`join`) or takes them out.
    pub async fn membership(&self, realm: &str, id: &str, group: &str, join: bool) -> Result<()> {
        let url = format!(
            "/admin/realms/{}/users/{}/groups/{}",
            enc(realm),
            enc(id),
            enc(group)
        );
        let method = if join { Method::PUT } else { Method::DELETE };
        self.expect(method, &url, None).await.map(|_| ())
    }

    /// Gives user `id` a new password, `temporary` to be changed at their
    /// next sign-in.
    pub async fn reset_password(
        &self,
        realm: &str,
        id: &str,
        password: &str,
        temporary: bool,
    ) -> Result<()> {
        let url = format!(
            "/admin/realms/{}/users/{}/reset-password",
            enc(realm),
            enc(id)
        );
        let body =
            serde_json::json!({"type": "password", "value": password, "temporary": temporary});
        self.expect(Method::PUT, &url, Some(&body))
            .await
            .map(|_| ())
    }

    /// Changes the fields `fields` gives of user `id` (a partial representation).
    pub async fn update_user(&self, realm: &str, id: &str, fields: &Value) -> Result<()> {
        let url = format!("/admin/realms/{}/users/{}", enc(realm), enc(id));
        self.expect(Method::PUT, &url, Some(fields))
            .await
            .map(|_| ())
    }
}

/// The administrator bi generated, for the Keycloak of `state` reached
/// through `access`; or why there is none.
pub fn admin_for(
    state: &bi_model::generate::DesiredState,
    secrets: &crate::desired_state::StoredSecrets,
    access: &KeycloakAccess,
) -> std::result::Result<Admin, String> {
    use bi_model::catalog::{BatteryConfig, BatteryKind};
    let base = match access {
        KeycloakAccess::InCluster => bi_model::catalog::keycloak::internal_url(
            &bi_model::generate::Context::new(state, bi_model::generate::Secrets::Preview),
        ),
        KeycloakAccess::Url(url) => url.clone(),
        KeycloakAccess::Outside => {
            return Err(
                "bi runs outside the cluster and has no way to Keycloak's Service: \
                 start it with --keycloak-url (for example after \
                 `kubectl port-forward -n battery-base svc/keycloak 8080`, \
                 --keycloak-url http://127.0.0.1:8080)"
                    .to_owned(),
            );
        }
    };
    let username = match state.batteries.get(&BatteryKind::Keycloak) {
        Some(BatteryConfig::Keycloak(config)) => config.admin_username.as_str().to_owned(),
        _ => DEFAULT_ADMIN.to_owned(),
    };
    let Some(password) = secrets.get(ADMIN_PASSWORD) else {
        return Err(
            "Keycloak's administrator password is not stored: install the Keycloak battery"
                .to_owned(),
        );
    };
    Admin::new(&base, &username, password).map_err(|err| err.to_string())
}

/// The stored secret holding Keycloak's administrator password.
const ADMIN_PASSWORD: &str = "keycloak/admin-password";
/// The administrator's name when the Keycloak battery is gone.
const DEFAULT_ADMIN: &str = "batteryadmin";

/// The URL of the item at `path` whose Keycloak id is `id`.
fn item_url(path: &KeycloakPath, id: &str) -> String {
    let realm = enc(&path.realm);
    let id = enc(id);
    match path.kind {
        KeycloakKind::Realm => format!("/admin/realms/{realm}"),
        KeycloakKind::Group => format!("/admin/realms/{realm}/groups/{id}"),
        KeycloakKind::Client => format!("/admin/realms/{realm}/clients/{id}"),
        KeycloakKind::User => format!("/admin/realms/{realm}/users/{id}"),
        KeycloakKind::RequiredAction => {
            format!("/admin/realms/{realm}/authentication/required-actions/{id}")
        }
    }
}

/// The field a listed item is named by.
fn name_field(kind: KeycloakKind) -> &'static str {
    match kind {
        KeycloakKind::Client => "clientId",
        KeycloakKind::User => "username",
        KeycloakKind::Realm => "realm",
        KeycloakKind::Group => "name",
        KeycloakKind::RequiredAction => "alias",
    }
}

/// `text` as one path segment or query value.
fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The one HTTP client every `Admin` shares (connections pooled, the
/// system's roots read once), built at its first use.
fn http_client() -> Result<reqwest::Client> {
    static CLIENT: std::sync::OnceLock<std::result::Result<reqwest::Client, String>> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|err| format!("TLS set-up: {err}"))?
            .with_root_certificates(native_roots())
            .with_no_client_auth();
            reqwest::Client::builder()
                .tls_backend_preconfigured(tls)
                .timeout(REQUEST_TIMEOUT)
                .connect_timeout(Duration::from_secs(5))
                .build()
                .map_err(|err| format!("HTTP client set-up: {err}"))
        })
        .clone()
        .map_err(KeycloakError::Protocol)
}

/// The system's trusted roots (a public `https://keycloak.<domain>`).
fn native_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        tracing::debug!("no system root certificates: https Keycloak URLs will not verify");
    }
    roots
}

/// Reads an answer's status and JSON body (Null when empty or not JSON).
async fn read(response: reqwest::Response) -> Result<Reply> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|err| KeycloakError::Unreachable(format!("reading an answer: {err}")))?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok(Reply { status, body })
}

fn unreachable(base: &str, err: &reqwest::Error) -> KeycloakError {
    // NB: reqwest's Display is terse ("error sending request"); its source says why.
    let mut why = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        why = format!("{why}: {cause}");
        source = cause.source();
    }
    KeycloakError::Unreachable(format!("{base}: {why}"))
}

fn refused(request: &str, reply: &Reply) -> KeycloakError {
    let body = &reply.body;
    let message = ["errorMessage", "error_description", "error"]
        .into_iter()
        .find_map(|key| body.get(key).and_then(Value::as_str))
        .map(str::to_owned)
        .unwrap_or_else(|| match body {
            Value::Null => reply
                .status
                .canonical_reason()
                .unwrap_or("no reason given")
                .to_owned(),
            Value::String(text) => text.chars().take(200).collect(),
            other => other.to_string().chars().take(200).collect(),
        });
    KeycloakError::Refused {
        request: request.to_owned(),
        status: reply.status.as_u16(),
        message,
    }
}
