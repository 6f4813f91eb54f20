//! Signing in and out, the first admin, accounts and tokens.
//!
//! For browsers, HTML forms that work without JavaScript:
//! `GET /sign-in`, `POST /auth/sign-in`, `POST /auth/sign-out`,
//! `GET /setup?token=…`, `POST /auth/setup`. For the CLI and scripts, JSON:
//! `POST /api/v1/login`, `POST /api/v1/setup`, `GET /api/v1/me`,
//! `/api/v1/users…` (admins) and `/api/v1/tokens…`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bi_api::ApiError;
use bi_api::auth::{
    AccountChange, AccountView, CreatedToken, Login, Me, NewAccount, NewToken, PasswordChange,
    Setup, TokenView,
};
use bi_app::pages::sign_in::{self, Notice};
use bi_control::auth::{Principal, Secret, accounts, sessions, tokens};
use chrono::Utc;
use serde::Deserialize;

use super::guard::{cookie_value, session_cookie};
use super::{Caller, FORM_COOKIE, SESSION_COOKIE};
use crate::state::AppState;

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// The set-up form's fields.
#[derive(Debug, Deserialize)]
pub struct SetupForm {
    token: String,
    username: String,
    password: String,
    confirm: String,
}

/// `?next=` and `?token=` of the pages.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    token: String,
}

/// `GET /sign-in`.
pub async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    if state.auth.pending_setup().is_some() {
        return Redirect::to(super::policy::SETUP_PAGE).into_response();
    }
    let (csrf, cookie) = form_token(&headers, state.auth.tls);
    let sso = super::oidc::offered(&state).await;
    with_cookie(
        page(
            StatusCode::OK,
            sign_in::sign_in_page(&safe_next(&query.next), &csrf, None, sso),
        ),
        cookie,
    )
}

/// `POST /auth/sign-in`: a session cookie and back to where the user was
/// going, or the form again with what went wrong.
pub async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let addr = client_addr(&request);
    let (csrf, _) = form_token(request.headers(), state.auth.tls);
    let form = match form::<SignInForm>(request).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let next = safe_next(&form.next);
    if !state.auth.limiter.allow(addr.ip(), Instant::now()) {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            sign_in::sign_in_page(
                &next,
                &csrf,
                Some(Notice::Error(
                    "too many sign-in attempts from this address: wait a minute".into(),
                )),
                false,
            ),
        );
    }
    let now = Utc::now();
    let principal = match accounts::sign_in(&state.db, &form.username, &form.password, now).await {
        Ok(principal) => principal,
        Err(err) => {
            let err = ApiError::from(err);
            let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return page(
                status,
                sign_in::sign_in_page(&next, &csrf, Some(Notice::Error(err.to_string())), false),
            );
        }
    };
    start_session(&state, &principal, &next).await
}

pub(super) async fn start_session(state: &AppState, principal: &Principal, next: &str) -> Response {
    match sessions::start(&state.db, principal, Utc::now()).await {
        Ok(secret) => {
            tracing::info!(username = %principal.me.username, "signed in");
            let mut response = Redirect::to(next).into_response();
            set_cookie(
                response.headers_mut(),
                &session_cookie_for(&secret, state.auth.tls),
            );
            response
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// `POST /auth/sign-out`: ends the session and clears the cookie.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(cookie) = session_cookie(&headers)
        && let Err(err) = sessions::end(&state.db, &Secret::from_client(&cookie)).await
    {
        return ApiError::from(err).into_response();
    }
    let mut response = Redirect::to(super::policy::SIGN_IN_PAGE).into_response();
    let cleared = cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    set_cookie(response.headers_mut(), &cleared.to_string());
    response
}

/// `GET /setup?token=…`: the first admin's form, while bi is not set up.
pub async fn setup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    if state.auth.pending_setup().is_none() {
        return Redirect::to(super::policy::SIGN_IN_PAGE).into_response();
    }
    let (csrf, cookie) = form_token(&headers, state.auth.tls);
    with_cookie(
        page(
            StatusCode::OK,
            sign_in::setup_page(&query.token, &csrf, None),
        ),
        cookie,
    )
}

/// `POST /auth/setup`: creates the first admin and signs them in.
pub async fn setup(State(state): State<AppState>, request: Request) -> Response {
    let addr = client_addr(&request);
    let (csrf, _) = form_token(request.headers(), state.auth.tls);
    let form = match form::<SetupForm>(request).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let again = |status: StatusCode, message: String| {
        page(
            status,
            sign_in::setup_page(&form.token, &csrf, Some(Notice::Error(message))),
        )
    };
    if !state.auth.limiter.allow(addr.ip(), Instant::now()) {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "too many attempts from this address: wait a minute".into(),
        );
    }
    if form.password != form.confirm {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "confirm: the two passwords differ".into(),
        );
    }
    let body = Setup {
        setup_token: form.token.clone(),
        username: form.username.clone(),
        password: form.password.clone(),
    };
    match first_admin(&state, &body).await {
        Ok(_) => {}
        Err(err) => {
            let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return again(status, err.to_string());
        }
    }
    match accounts::sign_in(&state.db, &form.username, &form.password, Utc::now()).await {
        Ok(principal) => start_session(&state, &principal, "/").await,
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// Creates the first admin if `body` carries the pending setup token.
async fn first_admin(state: &AppState, body: &Setup) -> Result<AccountView, ApiError> {
    let Some(token) = state.auth.pending_setup() else {
        return Err(ApiError::Conflict(
            "bi is already set up: sign in, or ask an admin for an account".into(),
        ));
    };
    if !token.matches(&body.setup_token) {
        tracing::warn!("refused a set-up with a wrong setup token");
        return Err(ApiError::Unauthenticated(
            "the setup token is wrong: use the link `bi start` printed, or the token in the data directory's setup-token file".into(),
        ));
    }
    let created = accounts::create_first_admin(&state.db, &body.username, &body.password).await?;
    state.auth.finish_setup();
    Ok(created)
}

/// `POST /api/v1/setup`: the first admin, for scripts.
pub async fn setup_api(
    State(state): State<AppState>,
    Json(body): Json<Setup>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    Ok((StatusCode::CREATED, Json(first_admin(&state, &body).await?)))
}

/// `POST /api/v1/login`: a password exchanged for an API token.
pub async fn login(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<CreatedToken>, ApiError> {
    let addr = client_addr(&request);
    let Json(login) = Json::<Login>::from_request(request, &())
        .await
        .map_err(|err| ApiError::BadRequest(err.body_text()))?;
    if !state.auth.limiter.allow(addr.ip(), Instant::now()) {
        return Err(ApiError::TooManyRequests(
            "too many sign-in attempts from this address: wait a minute".into(),
        ));
    }
    Ok(Json(tokens::login(&state.db, login, Utc::now()).await?))
}

/// `GET /api/v1/me`: who is asking.
pub async fn me(caller: Caller) -> Json<Me> {
    Json(caller.0.me)
}

/// `POST /api/v1/me/password`: the caller's own password. Their other
/// sessions end; the browser it came from stays signed in.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<PasswordChange>,
) -> Result<Json<Me>, ApiError> {
    let keep = session_cookie(&headers).map(|cookie| Secret::from_client(&cookie));
    accounts::change_own_password(&state.db, &caller.0, &body, keep.as_ref(), Utc::now()).await?;
    Ok(Json(caller.0.me))
}

/// `GET /api/v1/users`.
pub async fn list_users(State(state): State<AppState>) -> Result<Json<Vec<AccountView>>, ApiError> {
    Ok(Json(accounts::list(&state.db).await?))
}

/// `POST /api/v1/users`.
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewAccount>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let created = accounts::create(&state.db, body).await?;
    tracing::info!(by = %caller.author(), username = %created.username, "account created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PATCH /api/v1/users/{name}`.
pub async fn change_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<AccountChange>,
) -> Result<Json<AccountView>, ApiError> {
    let changed = accounts::change(&state.db, &name, body).await?;
    tracing::info!(by = %caller.author(), username = %name, "account changed");
    Ok(Json(changed))
}

/// `DELETE /api/v1/users/{name}`.
pub async fn remove_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    accounts::remove(&state.db, &name).await?;
    tracing::info!(by = %caller.author(), username = %name, "account removed");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/tokens`: the caller's tokens (an admin's: everyone's).
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(tokens::list(&state.db, &caller.0).await?))
}

/// `POST /api/v1/tokens`: a new token, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = tokens::create(&state.db, &caller.0, body, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/v1/tokens/{id}`.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TokenView>, ApiError> {
    Ok(Json(
        tokens::revoke(&state.db, &caller.0, id, Utc::now()).await?,
    ))
}

fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A form body; a malformed one is 400.
async fn form<T: serde::de::DeserializeOwned>(request: Request) -> Result<T, Response> {
    axum::Form::<T>::from_request(request, &())
        .await
        .map(|axum::Form(form)| form)
        .map_err(|err| {
            ApiError::BadRequest(format!("the form is incomplete: {}", err.body_text()))
                .into_response()
        })
}

/// The client's address (loopback when served in-process).
fn client_addr(request: &Request) -> SocketAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |info| info.0)
}

/// Where to go after signing in: a path on this server only (never
/// `//evil.example` or `https://…`: no open redirect).
pub(super) fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

fn session_cookie_for(secret: &Secret, tls: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, secret.expose().to_owned()))
        .path("/")
        .http_only(true)
        .secure(tls)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(
            sessions::LIFETIME.num_seconds(),
        ))
        .build()
        .to_string()
}

/// The CSRF token of a form page, from the browser's session or form
/// cookie; with a new form cookie to set when it has neither.
pub(super) fn form_token(headers: &HeaderMap, tls: bool) -> (String, Option<String>) {
    if let Some(basis) = session_cookie(headers).or_else(|| cookie_value(headers, FORM_COOKIE)) {
        return (Secret::from_client(&basis).csrf_token(), None);
    }
    let secret = Secret::for_form();
    let cookie = cookie::Cookie::build((FORM_COOKIE, secret.expose().to_owned()))
        .path("/")
        .http_only(true)
        .secure(tls)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::days(1))
        .build()
        .to_string();
    (secret.csrf_token(), Some(cookie))
}

pub(super) fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(cookie) = cookie {
        set_cookie(response.headers_mut(), &cookie);
    }
    response
}

fn set_cookie(headers: &mut HeaderMap, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next("/batteries?x=1"), "/batteries?x=1");
        for outside in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(outside), "/", "{outside}");
        }
    }
}
