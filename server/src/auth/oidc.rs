//! Signing in to bi through Keycloak (Single Sign-On): the OpenID Connect
//! authorization-code flow with PKCE (S256), as the confidential client
//! `bi` the engine keeps in the realm `batterycore`.
//!
//! - `GET /auth/oidc/start?next=…`: a fresh `state`, `nonce` and PKCE
//!   verifier, kept here ten minutes, with `state` also in a cookie
//!   (`bi_oidc`) that binds the flow to this browser; then off to Keycloak's
//!   authorization endpoint, at the address the browser reaches it by.
//! - `GET /auth/oidc/callback?code&state`: the state must be pending and
//!   match the cookie (once); the code is exchanged at Keycloak's token
//!   endpoint with the client secret and the verifier; the ID token's
//!   `nonce` and `aud` are checked; the user's groups come from the
//!   userinfo endpoint. `bi-admins`, `bi-editors` and `bi-viewers` give
//!   bi's roles (the highest wins); a user in none is refused. The session
//!   is then an ordinary bi session of the account `sso:<username>`.
//!
//! NB: the ID token's signature is not verified: it comes straight from the
//! token endpoint over the back channel (OpenID Connect Core 3.1.3.7 allows
//! trusting that channel instead); on a cluster that channel is Keycloak's
//! in-cluster Service, which Istio's mTLS covers when installed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bi_api::auth::Role;
use bi_app::pages::sign_in::{self, Notice};
use bi_control::auth::{Secret, accounts};
use bi_control::keycloak::KeycloakAccess;
use bi_control::sso::{RealmUrls, realm_urls, role_of};
use bi_model::keycloak::{BI_CLIENT, GROUPS};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::guard::cookie_value;
use crate::state::AppState;

/// The cookie binding a flow to the browser that started it.
pub const FLOW_COOKIE: &str = "bi_oidc";
/// How long a started sign-in may take.
const FLOW_LIFETIME: Duration = Duration::from_secs(600);
/// The most sign-ins pending at once (older ones are dropped first).
const MAX_PENDING: usize = 1024;

/// A sign-in sent to Keycloak and not back yet.
#[derive(Debug, Clone)]
struct Pending {
    verifier: String,
    nonce: String,
    next: String,
    redirect_uri: String,
    started: Instant,
}

/// What the sign-in routes keep: the flows pending, and the HTTP client
/// they reach Keycloak with (where it is, the engine's settings say).
#[derive(Debug)]
pub struct Oidc {
    http: reqwest::Client,
    pending: Mutex<HashMap<String, Pending>>,
}

impl Oidc {
    /// No flow pending yet.
    pub fn new() -> anyhow::Result<Self> {
        let tls = crate::tls::client_config(None)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Self {
            http,
            pending: Mutex::new(HashMap::new()),
        })
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether the sign-in page offers Single Sign-On.
pub async fn offered(state: &AppState) -> bool {
    match bi_control::desired_state::current(&state.db).await {
        Ok((_, desired)) => realm_urls(&desired, keycloak(state)).is_ok(),
        Err(_) => false,
    }
}

/// `?next=` of the start.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: String,
}

/// `GET /auth/oidc/start`: off to Keycloak.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Response {
    let realm = match current_realm(&state).await {
        Ok(realm) => realm,
        Err(message) => {
            return refused(&state, &headers, StatusCode::SERVICE_UNAVAILABLE, &message);
        }
    };
    let flow = Secret::generate("").expose().to_owned();
    let verifier = Secret::generate("").expose().to_owned();
    let nonce = Secret::generate("").expose().to_owned();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect_uri = format!("{}/auth/oidc/callback", own_origin(&state, &headers));
    {
        let mut pending = state.auth.oidc.pending();
        pending.retain(|_, p| p.started.elapsed() < FLOW_LIFETIME);
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone())
        {
            pending.remove(&oldest);
        }
        pending.insert(
            flow.clone(),
            Pending {
                verifier,
                nonce: nonce.clone(),
                next: super::routes::safe_next(&query.next),
                redirect_uri: redirect_uri.clone(),
                started: Instant::now(),
            },
        );
    }
    let url = format!(
        "{}/protocol/openid-connect/auth?{}",
        realm.browser,
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", BI_CLIENT)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", &flow)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish()
    );
    let mut response = Redirect::to(&url).into_response();
    let cookie = cookie::Cookie::build((FLOW_COOKIE, flow))
        .path("/auth/oidc")
        .http_only(true)
        .secure(state.auth.tls)
        // NB: Lax: the browser comes back from Keycloak by a top-level GET.
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(600))
        .build()
        .to_string();
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What Keycloak sends the browser back with.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// `GET /auth/oidc/callback`: back from Keycloak.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let bound = cookie_value(&headers, FLOW_COOKIE);
    let pending = state.auth.oidc.pending().remove(&query.state);
    let Some(pending) = pending.filter(|p| p.started.elapsed() < FLOW_LIFETIME) else {
        return refused(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            "this sign-in expired or was already used: sign in again",
        );
    };
    if bound.as_deref() != Some(query.state.as_str()) {
        return refused(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            "this sign-in was started in another browser: sign in again",
        );
    }
    if !query.error.is_empty() {
        let why = if query.error_description.is_empty() {
            &query.error
        } else {
            &query.error_description
        };
        let message = format!("Keycloak said: {why}");
        return refused(&state, &headers, StatusCode::UNAUTHORIZED, &message);
    }
    let (username, role) = match redeem(&state, &pending, &query.code).await {
        Ok(found) => found,
        Err(message) => return refused(&state, &headers, StatusCode::UNAUTHORIZED, &message),
    };
    let principal =
        match accounts::sign_in_sso(&state.db, &username, role, chrono::Utc::now()).await {
            Ok(principal) => principal,
            Err(err) => {
                let err = bi_api::ApiError::from(err);
                return refused(&state, &headers, StatusCode::FORBIDDEN, &err.to_string());
            }
        };
    super::routes::start_session(&state, &principal, &pending.next).await
}

async fn current_realm(state: &AppState) -> Result<RealmUrls, String> {
    let (_, desired) = bi_control::desired_state::current(&state.db)
        .await
        .map_err(|err| err.to_string())?;
    realm_urls(&desired, keycloak(state))
}

/// Where the engine reaches Keycloak: bi reaches it there too.
fn keycloak(state: &AppState) -> &KeycloakAccess {
    &state.reconciler.engine().settings().keycloak
}

/// Exchanges `code` and reads who signed in: their username and role.
async fn redeem(state: &AppState, pending: &Pending, code: &str) -> Result<(String, Role), String> {
    let realm = current_realm(state).await?;
    let secrets = bi_control::desired_state::secrets(&state.db)
        .await
        .map_err(|err| err.to_string())?;
    let secret = secrets
        .get(&bi_model::keycloak::client_secret_key(BI_CLIENT))
        .ok_or("bi's client secret is not stored yet: wait for the next snapshot")?
        .to_owned();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", &pending.redirect_uri)
        .append_pair("client_id", BI_CLIENT)
        .append_pair("client_secret", &secret)
        .append_pair("code_verifier", &pending.verifier)
        .finish();
    let http = &state.auth.oidc.http;
    let unreachable = |err: reqwest::Error| format!("Keycloak is not answering: {err}");
    let reply = http
        .post(format!("{}/protocol/openid-connect/token", realm.server))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(unreachable)?;
    let status = reply.status();
    let tokens: Value = reply.json().await.map_err(unreachable)?;
    if !status.is_success() {
        let why = tokens["error_description"]
            .as_str()
            .or(tokens["error"].as_str())
            .unwrap_or("no reason given");
        return Err(format!("Keycloak refused the sign-in: {why}"));
    }
    let claims = tokens["id_token"]
        .as_str()
        .and_then(id_token_claims)
        .ok_or("Keycloak's answer has no readable ID token")?;
    if claims["nonce"].as_str() != Some(pending.nonce.as_str()) {
        return Err("the ID token is not for this sign-in (nonce)".to_owned());
    }
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == BI_CLIENT,
        Value::Array(auds) => auds.iter().any(|a| a == BI_CLIENT),
        _ => false,
    };
    if !audience_ok {
        return Err("the ID token is not for bi (aud)".to_owned());
    }
    let access = tokens["access_token"]
        .as_str()
        .ok_or("Keycloak's answer has no access token")?;
    let reply = http
        .get(format!("{}/protocol/openid-connect/userinfo", realm.server))
        .bearer_auth(access)
        .send()
        .await
        .map_err(unreachable)?;
    if !reply.status().is_success() {
        return Err(format!(
            "Keycloak refused to say who signed in ({})",
            reply.status()
        ));
    }
    let user: Value = reply.json().await.map_err(unreachable)?;
    if user["sub"] != claims["sub"] {
        return Err("Keycloak's userinfo is of another user than the ID token".to_owned());
    }
    let username = user["preferred_username"]
        .as_str()
        .ok_or("Keycloak did not say the username")?
        .to_owned();
    let groups: Vec<&str> = user[bi_model::keycloak::GROUPS_CLAIM]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|group| group.trim_start_matches('/'))
        .collect();
    let role = role_of(&groups).ok_or_else(|| {
        format!(
            "{username} is in none of bi's groups ({}) in Keycloak: ask an administrator",
            GROUPS.map(|(group, _)| group).join(", ")
        )
    })?;
    Ok((username, role))
}

/// The claims of an ID token (its payload, undecoded signature).
fn id_token_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// This server's origin as the browser reached it (`--public-url` first).
fn own_origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.auth.public_url {
        return url.origin().ascii_serialization();
    }
    let scheme = if state.auth.tls { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("{scheme}://{host}")
}

/// The sign-in page with `message`.
fn refused(state: &AppState, headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    tracing::info!(%message, "a single sign-on was refused");
    let (csrf, cookie) = super::routes::form_token(headers, state.auth.tls);
    let html = sign_in::sign_in_page("/", &csrf, Some(Notice::Error(message.to_owned())), false);
    super::routes::with_cookie((status, axum::response::Html(html)).into_response(), cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_group_gives_the_role() {
        assert_eq!(role_of(&["bi-viewers", "bi-admins"]), Some(Role::Admin));
        assert_eq!(role_of(&["bi-editors"]), Some(Role::Editor));
        assert_eq!(role_of(&["bi-viewers"]), Some(Role::Viewer));
        assert_eq!(role_of(&["staff"]), None);
    }

    #[test]
    fn id_token_claims_are_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"nonce":"n","aud":"bi"}"#);
        let claims = id_token_claims(&format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig")).unwrap();
        assert_eq!(claims["nonce"], "n");
        assert!(id_token_claims("not-a-token").is_none());
    }
}
