//! The middleware around the whole router: nothing reaches a handler, a
//! server function or a page without passing [`guard`].
//!
//! In order: the `Host` must be one bi serves (else 421: DNS rebinding);
//! the caller is found from `Authorization: Bearer` or the session cookie;
//! a change (any method but GET/HEAD/OPTIONS) or a websocket made with a
//! cookie must come from bi's own pages (`Sec-Fetch-Site`, else `Origin`;
//! else 403: cross-site request forgery); then the route's [`Need`]; a
//! change made with a cookie must also carry the token bi's page got for
//! that cookie (a header, or a field of a form; else 403). A
//! page asked for without a session redirects to the sign-in page; a
//! program gets 401. Every answer gets the security headers.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use bi_api::ApiError;
use bi_api::auth::{Access, CSRF_FIELD, CSRF_HEADER, Credential};
use bi_control::Database;
use bi_control::auth::{Principal, Secret, SessionCookie, sessions, tokens};

use super::policy::{self, Need, Policy};
use super::{AuthConfig, FORM_COOKIE, SESSION_COOKIE};

/// What the guard needs to decide.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Where sessions and tokens are kept.
    pub db: Database,
    /// Hosts, set-up state.
    pub auth: AuthConfig,
    /// Who each route needs.
    pub policy: Arc<Policy>,
}

/// The middleware: admits the request (with its [`Principal`] in the
/// extensions) or answers in its place.
pub async fn guard(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let mut response = match admit(&guard, &mut request).await {
        Ok(csrf) => match csrf_checked(request, csrf).await {
            Ok(request) => next.run(request).await,
            Err(refusal) => refusal,
        },
        Err(refusal) => refusal,
    };
    security_headers(response.headers_mut());
    response
}

/// What a change must carry to show it came from bi's own page.
enum Csrf {
    /// Nothing: it reads, or comes with a bearer token or without cookies.
    NotNeeded,
    /// The token of this cookie (the session's, else the form's).
    TokenOf(Secret),
    /// A token, but the browser has no cookie it could be of: refused.
    NoCookie,
}

/// Admits the request or refuses it; when admitted, what cross-site
/// request forgery token it must also carry.
async fn admit(guard: &Guard, request: &mut Request) -> Result<Csrf, Response> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // NB: only code in this process (the CLI's offline mode) can put a
    // principal in the extensions; nothing from the network can.
    let local = request
        .extensions()
        .get::<Principal>()
        .filter(|principal| principal.me.credential == Credential::Local)
        .cloned();
    let headers = request.headers();
    let host = host_of(request);
    // NB: probes and scrapers name the pod's address; /metrics needs a
    // bearer token, which a rebinding page cannot send.
    let probe = path == "/healthz" || path == "/readyz" || path == "/metrics";
    if local.is_none() && !probe && !guard.auth.hosts.allows(&host) {
        return Err(misdirected(&host, &guard.auth));
    }
    let need = guard.policy.need(&method, &path);
    if need == Need::Access(Access::Scrape) && scrape_token(&guard.db, headers).await {
        return Ok(Csrf::NotNeeded);
    }
    let principal = match local {
        Some(local) => Some(local),
        None => match authenticate(&guard.db, headers).await {
            Ok(principal) => principal,
            // NB: a public route answers whatever the credential.
            Err(_) if need == Need::Access(Access::Public) => None,
            Err(refusal) => return Err(refusal),
        },
    };
    let bearer = principal.as_ref().is_some_and(|p| {
        matches!(
            p.me.credential,
            Credential::Token { .. } | Credential::Local
        )
    });
    if !bearer && changes(&method, headers) && !same_origin(headers, &host) {
        tracing::warn!(%method, path, origin = ?headers.get(header::ORIGIN), "refused a cross-site request");
        return Err(ApiError::Forbidden(
            "refused: this request came from another site; bi accepts changes only from its own pages or with an API token"
                .into(),
        )
        .into_response());
    }
    match need {
        Need::NoPolicy => {
            tracing::error!(%method, path, "no access policy covers this route: refused");
            return Err(ApiError::Forbidden(format!(
                "refused: no access policy covers {method} {path}"
            ))
            .into_response());
        }
        Need::Access(access) => {
            // NB: without the scrape token, /metrics is a viewer's.
            let needed = match access {
                Access::Public => None,
                Access::Role(role) => Some(role),
                Access::Scrape => Some(bi_api::auth::Role::Viewer),
            };
            if let Some(needed) = needed {
                match &principal {
                    None => return Err(sign_in_first(&path, request, &guard.auth)),
                    Some(principal) if !principal.me.may(needed) => {
                        return Err(ApiError::Forbidden(format!(
                            "{} is a {}: {method} {path} needs the {needed} role",
                            principal.me.username, principal.me.role
                        ))
                        .into_response());
                    }
                    Some(_) => {}
                }
            }
        }
    }
    // NB: a browser sends cookies with a change whoever asked for it; the
    // token in the page proves bi's own page did. Programs use a bearer.
    let csrf = if !bearer && method_changes(&method) {
        csrf_of(request.headers(), &path)
    } else {
        Csrf::NotNeeded
    };
    if let Some(cookie) = session_cookie(request.headers()) {
        request
            .extensions_mut()
            .insert(SessionCookie(Secret::from_client(&cookie)));
    }
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    Ok(csrf)
}

/// The cookie a browser's change must carry the token of: its session, else
/// (the sign-in and set-up forms) its form cookie. A change without either
/// needs no token: no cookie, no forgery. NB: the forms under `/auth/` need
/// one all the same, so that nobody is signed in as someone else by a form
/// on another site.
fn csrf_of(headers: &HeaderMap, path: &str) -> Csrf {
    let cookie = session_cookie(headers).or_else(|| cookie_value(headers, FORM_COOKIE));
    match cookie {
        Some(cookie) => Csrf::TokenOf(Secret::from_client(&cookie)),
        None if path.starts_with("/auth/") => Csrf::NoCookie,
        None => Csrf::NotNeeded,
    }
}

/// The largest form body the guard reads to find the token in it.
const FORM_LIMIT: usize = 1 << 20;

/// Lets `request` through when it carries the token `csrf` needs in the
/// [`CSRF_HEADER`] or, in a form body, the [`CSRF_FIELD`]; else 403.
async fn csrf_checked(request: Request, csrf: Csrf) -> Result<Request, Response> {
    let basis = match csrf {
        Csrf::NotNeeded => return Ok(request),
        Csrf::TokenOf(basis) => Some(basis),
        Csrf::NoCookie => None,
    };
    let path = request.uri().path().to_owned();
    let refused = || {
        tracing::warn!(path, "refused a change without its page's CSRF token");
        ApiError::Forbidden(
            "refused: the change carries no valid CSRF token (the page is older than the sign-in): reload the page and try again"
                .into(),
        )
        .into_response()
    };
    let Some(basis) = basis else {
        return Err(refused());
    };
    if let Some(offered) = request.headers().get(CSRF_HEADER) {
        return if basis.csrf_matches(offered.to_str().unwrap_or_default()) {
            Ok(request)
        } else {
            Err(refused())
        };
    }
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(refused());
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT).await.map_err(|_| {
        ApiError::BadRequest(format!("the form is larger than {FORM_LIMIT} bytes")).into_response()
    })?;
    let offered = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if basis.csrf_matches(&offered) {
        Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
    } else {
        Err(refused())
    }
}

/// Whether the request's bearer is the installation's metrics scrape token.
async fn scrape_token(db: &Database, headers: &HeaderMap) -> bool {
    let Some(offered) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return false;
    };
    match bi_control::auth::scrape::matches(db, offered).await {
        Ok(matches) => matches,
        Err(err) => {
            tracing::warn!(error = %err, "could not read the metrics scrape token");
            false
        }
    }
}

/// The caller of a request: a bearer token (refused with 401 when it does
/// not work: a script should fail loudly, not act anonymously), else the
/// session cookie (ignored when unknown or expired), else nobody.
pub async fn authenticate(
    db: &Database,
    headers: &HeaderMap,
) -> Result<Option<Principal>, Response> {
    let now = chrono::Utc::now();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        return match tokens::resolve(db, &Secret::from_client(token), now).await {
            Ok(Some(principal)) => Ok(Some(principal)),
            Ok(None) => Err(unauthenticated(
                "the API token is unknown, expired or revoked: log in again with `bi login`",
            )),
            Err(err) => Err(ApiError::from(err).into_response()),
        };
    }
    let Some(cookie) = session_cookie(headers) else {
        return Ok(None);
    };
    sessions::resolve(db, &Secret::from_client(&cookie), now)
        .await
        .map_err(|err| ApiError::from(err).into_response())
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The value of the cookie `name`, if the request has one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// The host a request names: its `Host` header, or the URI's authority.
fn host_of(request: &Request) -> String {
    request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(ToString::to_string))
        .unwrap_or_default()
}

/// Whether a method changes something.
fn method_changes(method: &Method) -> bool {
    ![Method::GET, Method::HEAD, Method::OPTIONS].contains(method)
}

/// Whether a request changes something (or opens a websocket, which a
/// browser opens cross-site without asking).
fn changes(method: &Method, headers: &HeaderMap) -> bool {
    let safe = !method_changes(method);
    let websocket = headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    !safe || websocket
}

/// Whether a browser says this request comes from bi's own pages:
/// `Sec-Fetch-Site: same-origin` (or `none`: typed in), else an `Origin`
/// naming the host asked. A request with neither comes from a program,
/// which is fine unless it carries the session cookie.
fn same_origin(headers: &HeaderMap, host: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        return url::Url::parse(origin).is_ok_and(|origin| {
            let named = match (origin.host_str(), origin.port()) {
                (Some(name), Some(port)) => format!("{name}:{port}"),
                (Some(name), None) => name.to_owned(),
                _ => return false,
            };
            named.eq_ignore_ascii_case(host)
        });
    }
    session_cookie(headers).is_none()
}

fn unauthenticated(message: &str) -> Response {
    let mut response = ApiError::Unauthenticated(message.to_owned()).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Nobody signed in: a page redirects to the sign-in page (or the set-up
/// page while bi is not set up), a program gets 401.
fn sign_in_first(path: &str, request: &Request, auth: &AuthConfig) -> Response {
    if policy::is_api(path) {
        return unauthenticated(
            "sign in first: send `Authorization: Bearer <token>` (see `bi login` and `bi tokens create`) or a session cookie",
        );
    }
    if auth.pending_setup().is_some() {
        return Redirect::to(policy::SETUP_PAGE).into_response();
    }
    let next = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let target = format!(
        "{}?next={}",
        policy::SIGN_IN_PAGE,
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    Redirect::to(&target).into_response()
}

/// 421: the request names a host this server does not serve.
fn misdirected(host: &str, auth: &AuthConfig) -> Response {
    let mut ours = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "[::1]".to_owned(),
    ];
    ours.extend(auth.hosts.extra().iter().cloned());
    let message = format!(
        "bi does not serve the host {:?}: it answers to {}; to serve another name, start it with --public-url https://<name>",
        policy::strip_port(host),
        ours.join(", ")
    );
    tracing::warn!(host, "refused a request for a host bi does not serve");
    let mut response = ApiError::BadRequest(message).into_response();
    *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
    response
}

/// The Content-Security-Policy of answers that set none themselves (JSON,
/// files, the sign-in page): nothing but bi's own files.
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers every answer carries.
fn security_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, DEFAULT_CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
}
