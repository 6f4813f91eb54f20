//! The sandbox Keycloak's OpenID Connect side, for a realm's clients: the
//! authorization-code flow with PKCE as Keycloak 26 runs it.
//!
//! - `GET /realms/{r}/.well-known/openid-configuration`;
//! - `GET /realms/{r}/protocol/openid-connect/auth`: an unknown client is
//!   an error page ("Client not found."), as is a `redirect_uri` none of the
//!   client's redirect URIs allow (exactly, or as a prefix for one ending
//!   in `*`: "Invalid parameter: redirect_uri"); a client requiring PKCE
//!   (`pkce.code.challenge.method`) without a challenge is sent back with
//!   `error=invalid_request`; otherwise the sign-in form;
//! - `POST /realms/{r}/login-actions/authenticate`: "Invalid username or
//!   password." or "Account is disabled, contact your administrator.";
//!   a user with `UPDATE_PASSWORD` to do gets the update form first
//!   (`…/login-actions/required-action`: "Passwords don't match.");
//!   then back to the client with `code`, `state`, `session_state`, `iss`;
//! - `POST /realms/{r}/protocol/openid-connect/token` with
//!   `authorization_code`: the client's secret (form or Basic), a code
//!   used once within 60 s, the same `redirect_uri`, and the PKCE verifier;
//!   `invalid_grant` / `unauthorized_client` otherwise;
//! - `GET /realms/{r}/protocol/openid-connect/userinfo` with the access token.
//!
//! Limits: ID tokens are JWT-shaped but unsigned (`alg: none`): a real
//! Keycloak signs them (RS256) and publishes its keys (`certs`), which this
//! one does not serve; no refresh grant, no logout, no consent, no OTP.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{Answer, Keycloak, Realm, answer, not_found};

/// How long an authorization code is good for (Keycloak's default).
const CODE_LIFESPAN: Duration = Duration::from_secs(60);
/// How long a user's access token lasts (Keycloak's default).
const ACCESS_LIFESPAN: Duration = Duration::from_secs(300);

/// A sign-in in progress.
#[derive(Debug, Clone)]
pub(super) struct Login {
    realm: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    challenge: Option<String>,
    /// Signed in, with required actions left.
    user: Option<String>,
}

/// A user's access token.
#[derive(Debug, Clone)]
pub(super) struct UserToken {
    realm: String,
    user: String,
    client_id: String,
    expires: Instant,
}

/// An authorization code handed out.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    login: Login,
    user: String,
    issued: Instant,
}

fn page(status: StatusCode, title: &str, body: &str) -> Answer {
    Answer {
        status,
        location: None,
        body: Value::Null,
        html: Some(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><main><h1 id=\"kc-page-title\">{title}</h1>{body}</main></body></html>"
        )),
    }
}

fn error_page(message: &str) -> Answer {
    page(
        StatusCode::BAD_REQUEST,
        "We are sorry...",
        &format!(
            "<p id=\"kc-error-message\" class=\"instruction\">{}</p>",
            escape(message)
        ),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn redirect(to: String) -> Answer {
    Answer {
        status: StatusCode::FOUND,
        location: Some(to),
        body: Value::Null,
        html: None,
    }
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    let joiner = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{joiner}{}", query.finish())
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Answer {
    answer(
        status,
        json!({ "error": error, "error_description": description }),
    )
}

/// Whether the client's `redirectUris` allow `uri`.
fn allows(client: &Value, uri: &str) -> bool {
    client["redirectUris"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|allowed| match allowed.strip_suffix('*') {
            Some(prefix) => uri.starts_with(prefix),
            None => uri == allowed,
        })
}

fn client_by_id<'a>(realm: &'a Realm, client_id: &str) -> Option<&'a Value> {
    realm
        .clients
        .values()
        .find(|client| client["clientId"] == client_id)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn route(
    kc: &mut Keycloak,
    method: &Method,
    realm: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
    base: &str,
) -> Answer {
    if !kc.realms.contains_key(realm) {
        return not_found("Realm");
    }
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let issuer = format!("{base}/realms/{realm}");
    match (method.clone(), rest) {
        (Method::GET, [".well-known", "openid-configuration"]) => answer(
            StatusCode::OK,
            json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth"),
                "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
                "userinfo_endpoint": format!("{issuer}/protocol/openid-connect/userinfo"),
                "end_session_endpoint": format!("{issuer}/protocol/openid-connect/logout"),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["plain", "S256"],
                "id_token_signing_alg_values_supported": ["none"],
            }),
        ),
        (Method::GET, ["protocol", "openid-connect", "auth"]) => authorize(kc, realm, query),
        (Method::POST, ["login-actions", "authenticate"]) => {
            authenticate(kc, realm, query, &form, &issuer)
        }
        (Method::POST, ["login-actions", "required-action"]) => {
            update_password(kc, realm, query, &form, &issuer)
        }
        (Method::POST, ["protocol", "openid-connect", "token"]) => {
            redeem(kc, realm, headers, &form, &issuer)
        }
        (Method::GET | Method::POST, ["protocol", "openid-connect", "userinfo"]) => {
            userinfo(kc, realm, headers)
        }
        _ => not_found("Resource"),
    }
}

fn authorize(kc: &mut Keycloak, realm_name: &str, query: &BTreeMap<String, String>) -> Answer {
    let get = |key: &str| query.get(key).cloned().unwrap_or_default();
    let Some(realm) = kc.realms.get(realm_name) else {
        return not_found("Realm");
    };
    let Some(client) = client_by_id(realm, &get("client_id")) else {
        return error_page("Client not found.");
    };
    let redirect_uri = get("redirect_uri");
    if !allows(client, &redirect_uri) {
        return error_page("Invalid parameter: redirect_uri");
    }
    let back = |error: &str, description: &str| {
        redirect(with_query(
            &redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", &get("state")),
            ],
        ))
    };
    if client["enabled"] == false {
        return back("unauthorized_client", "Client is disabled");
    }
    if get("response_type") != "code" {
        return back(
            "unsupported_response_type",
            "Client is not allowed to initiate browser login with given response_type.",
        );
    }
    let required = client["attributes"]["pkce.code.challenge.method"].as_str();
    let challenge = query.get("code_challenge").cloned();
    let method = get("code_challenge_method");
    if let Some(required) = required {
        if challenge.is_none() {
            return back("invalid_request", "Missing parameter: code_challenge");
        }
        if method != required {
            return back(
                "invalid_request",
                "Invalid parameter: code_challenge_method",
            );
        }
    }
    if challenge.is_some() && method != "S256" && method != "plain" {
        return back(
            "invalid_request",
            "Invalid parameter: code_challenge_method",
        );
    }
    let display = display_name(realm, realm_name);
    let session = uuid::Uuid::new_v4().to_string();
    kc.logins.insert(
        session.clone(),
        Login {
            realm: realm_name.to_owned(),
            client_id: get("client_id"),
            redirect_uri,
            state: get("state"),
            nonce: get("nonce"),
            challenge: challenge.filter(|_| method == "S256"),
            user: None,
        },
    );
    sign_in_form(realm_name, &display, &session, None)
}

/// The alert a form shows above its fields, if any.
fn alert(error: Option<&str>) -> String {
    error
        .map(|e| {
            format!(
                "<div class=\"alert-error\"><span id=\"input-error\">{}</span></div>",
                escape(e)
            )
        })
        .unwrap_or_default()
}

fn sign_in_form(realm: &str, display: &str, session: &str, error: Option<&str>) -> Answer {
    let error = alert(error);
    page(
        StatusCode::OK,
        "Sign in to your account",
        &format!(
            "<p id=\"kc-realm\">{}</p>{error}\
             <form id=\"kc-form-login\" method=\"post\" \
              action=\"/realms/{realm}/login-actions/authenticate?session_code={session}\">\
             <label for=\"username\">Username or email</label>\
             <input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" autofocus>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
             <input type=\"submit\" id=\"kc-login\" name=\"login\" value=\"Sign In\"></form>",
            escape(display)
        ),
    )
}

fn update_form(realm: &str, session: &str, error: Option<&str>) -> Answer {
    let error = alert(error);
    page(
        StatusCode::OK,
        "Update password",
        &format!(
            "<p>You need to change your password to activate your account.</p>{error}\
             <form id=\"kc-passwd-update-form\" method=\"post\" \
              action=\"/realms/{realm}/login-actions/required-action?session_code={session}&amp;execution=UPDATE_PASSWORD\">\
             <label for=\"password-new\">New Password</label>\
             <input id=\"password-new\" name=\"password-new\" type=\"password\" autocomplete=\"new-password\">\
             <label for=\"password-confirm\">Confirm password</label>\
             <input id=\"password-confirm\" name=\"password-confirm\" type=\"password\" autocomplete=\"new-password\">\
             <input type=\"submit\" value=\"Submit\"></form>"
        ),
    )
}

/// What Keycloak says of a sign-in it no longer knows.
const TIMED_OUT: &str = "Your login attempt timed out. Login will start from the beginning.";

/// The sign-in of `?session_code=` in `realm`, with that code.
fn pending_login(
    kc: &Keycloak,
    realm: &str,
    query: &BTreeMap<String, String>,
) -> Result<(String, Login), Answer> {
    let session = query.get("session_code").cloned().unwrap_or_default();
    let login = kc
        .logins
        .get(&session)
        .filter(|l| l.realm == realm)
        .cloned()
        .ok_or_else(|| error_page(TIMED_OUT))?;
    Ok((session, login))
}

/// The name a realm's pages show.
fn display_name(realm: &Realm, name: &str) -> String {
    realm.rep["displayName"].as_str().unwrap_or(name).to_owned()
}

fn authenticate(
    kc: &mut Keycloak,
    realm_name: &str,
    query: &BTreeMap<String, String>,
    form: &BTreeMap<String, String>,
    issuer: &str,
) -> Answer {
    let (session, login) = match pending_login(kc, realm_name, query) {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let Some(realm) = kc.realms.get(realm_name) else {
        return not_found("Realm");
    };
    let display = display_name(realm, realm_name);
    let name = form
        .get("username")
        .map(|n| n.to_lowercase())
        .unwrap_or_default();
    let found = realm.users.iter().find(|(_, user)| {
        user["username"] == name.as_str() || user["email"].as_str() == Some(name.as_str())
    });
    let password = form.get("password").cloned().unwrap_or_default();
    let Some((id, user)) = found.filter(|(id, _)| realm.passwords.get(*id) == Some(&password))
    else {
        return sign_in_form(
            realm_name,
            &display,
            &session,
            Some("Invalid username or password."),
        );
    };
    if user["enabled"] != true {
        return sign_in_form(
            realm_name,
            &display,
            &session,
            Some("Account is disabled, contact your administrator."),
        );
    }
    let id = id.clone();
    let must_update = user["requiredActions"]
        .as_array()
        .is_some_and(|actions| actions.iter().any(|a| a == "UPDATE_PASSWORD"));
    if let Some(login) = kc.logins.get_mut(&session) {
        login.user = Some(id.clone());
    }
    if must_update {
        return update_form(realm_name, &session, None);
    }
    finish(kc, &session, login, &id, issuer)
}

fn update_password(
    kc: &mut Keycloak,
    realm_name: &str,
    query: &BTreeMap<String, String>,
    form: &BTreeMap<String, String>,
    issuer: &str,
) -> Answer {
    let (session, login) = match pending_login(kc, realm_name, query) {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let Some(user_id) = login.user.clone() else {
        return error_page(TIMED_OUT);
    };
    let new = form.get("password-new").cloned().unwrap_or_default();
    if new.is_empty() {
        return update_form(realm_name, &session, Some("Please specify password."));
    }
    if form.get("password-confirm") != Some(&new) {
        return update_form(realm_name, &session, Some("Passwords don't match."));
    }
    let Some(realm) = kc.realms.get_mut(realm_name) else {
        return not_found("Realm");
    };
    realm.passwords.insert(user_id.clone(), new);
    if let Some(actions) = realm
        .users
        .get_mut(&user_id)
        .and_then(|user| user["requiredActions"].as_array_mut())
    {
        actions.retain(|a| a != "UPDATE_PASSWORD");
    }
    finish(kc, &session, login, &user_id, issuer)
}

/// Back to the client with a code.
fn finish(kc: &mut Keycloak, session: &str, login: Login, user: &str, issuer: &str) -> Answer {
    kc.logins.remove(session);
    let code = format!("{}.{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let to = with_query(
        &login.redirect_uri,
        &[
            ("state", &login.state),
            ("session_state", session),
            ("iss", issuer),
            ("code", &code),
        ],
    );
    kc.codes.insert(
        code,
        Grant {
            login,
            user: user.to_owned(),
            issued: Instant::now(),
        },
    );
    redirect(to)
}

/// The client a token request authenticates as (form or Basic), if its
/// secret matches.
fn client_auth(headers: &HeaderMap, form: &BTreeMap<String, String>) -> (String, String) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            v.split_once(':').map(|(id, secret)| {
                let decode = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                (decode(id), decode(secret))
            })
        });
    basic.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    })
}

fn redeem(
    kc: &mut Keycloak,
    realm_name: &str,
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
    issuer: &str,
) -> Answer {
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type",
        );
    }
    let (client_id, secret) = client_auth(headers, form);
    let Some(realm) = kc.realms.get(realm_name) else {
        return not_found("Realm");
    };
    let client = client_by_id(realm, &client_id).cloned();
    let authenticated = client.as_ref().is_some_and(|client| {
        client["publicClient"] == true || client["secret"].as_str() == Some(secret.as_str())
    });
    let Some(client) = client.filter(|_| authenticated) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Invalid client or Invalid client credentials",
        );
    };
    let code = form.get("code").cloned().unwrap_or_default();
    // NB: a code is good once, whatever comes of it.
    let Some(grant) = kc.codes.remove(&code) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Code not valid");
    };
    if grant.issued.elapsed() > CODE_LIFESPAN || grant.login.realm != realm_name {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Code not valid");
    }
    if grant.login.client_id != client_id {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Auth error: Found different client_id",
        );
    }
    if form.get("redirect_uri") != Some(&grant.login.redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Incorrect redirect_uri",
        );
    }
    if let Some(challenge) = &grant.login.challenge {
        let Some(verifier) = form.get("code_verifier") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "PKCE code verifier not specified",
            );
        };
        use sha2::Digest as _;
        let computed = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        if &computed != challenge {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "PKCE verification failed: Code mismatch",
            );
        }
    }
    let Some(user) = realm.users.get(&grant.user) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "User not found");
    };
    let claims = user_claims(realm, &client, &grant.user, user);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut id_claims = claims.clone();
    for (key, value) in [
        ("iss", json!(issuer)),
        ("aud", json!(client_id)),
        ("azp", json!(client_id)),
        ("iat", json!(now)),
        ("exp", json!(now + ACCESS_LIFESPAN.as_secs())),
        ("nonce", json!(grant.login.nonce)),
        ("typ", json!("ID")),
    ] {
        id_claims[key] = value;
    }
    let id_token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(id_claims.to_string())
    );
    let access = format!("sandbox-user-{}", uuid::Uuid::new_v4());
    kc.user_tokens.insert(
        access.clone(),
        UserToken {
            realm: realm_name.to_owned(),
            user: grant.user.clone(),
            client_id: client_id.clone(),
            expires: Instant::now() + ACCESS_LIFESPAN,
        },
    );
    answer(
        StatusCode::OK,
        json!({
            "access_token": access,
            "expires_in": ACCESS_LIFESPAN.as_secs(),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "id_token": id_token,
            "not-before-policy": 0,
            "scope": "openid profile email",
        }),
    )
}

/// What a client learns of a user: `sub`, `preferred_username`, `email`,
/// and the groups claim of each group-membership mapper it has.
fn user_claims(realm: &Realm, client: &Value, id: &str, user: &Value) -> Value {
    let mut claims = json!({
        "sub": id,
        "preferred_username": user["username"],
        "email_verified": user["emailVerified"],
    });
    if let Some(email) = user["email"].as_str() {
        claims["email"] = json!(email);
    }
    let groups: Vec<Value> = realm
        .members
        .get(id)
        .into_iter()
        .flatten()
        .filter_map(|group| realm.groups.get(group))
        .map(|group| group["name"].clone())
        .collect();
    for mapper in client["protocolMappers"].as_array().into_iter().flatten() {
        if mapper["protocolMapper"] == "oidc-group-membership-mapper"
            && let Some(claim) = mapper["config"]["claim.name"].as_str()
        {
            claims[claim] = Value::Array(groups.clone());
        }
    }
    claims
}

fn userinfo(kc: &mut Keycloak, realm_name: &str, headers: &HeaderMap) -> Answer {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let valid = kc
        .user_tokens
        .get(token)
        .filter(|t| t.realm == realm_name && t.expires > Instant::now())
        .cloned();
    let Some(token) = valid else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Token verification failed",
        );
    };
    let Some(realm) = kc.realms.get(realm_name) else {
        return not_found("Realm");
    };
    let Some(user) = realm.users.get(&token.user) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "User not found");
    };
    let client = client_by_id(realm, &token.client_id)
        .cloned()
        .unwrap_or(Value::Null);
    answer(
        StatusCode::OK,
        user_claims(realm, &client, &token.user, user),
    )
}
