//! Shared renders: identical page requests that arrive while that page is
//! being rendered share the next render, as reads do in
//! [`bi_control::coalesce`].
//!
//! A page is the same for every request with the same path, query, host
//! and credential (the session cookie or bearer token: the same user, role
//! and CSRF token), except for its Content-Security-Policy nonce. So when a
//! hundred tabs, a wall screen or a monitoring script ask for the dashboard
//! at once, the server renders it once per render's duration instead of
//! once per request, and each response still gets its own nonce. A caller
//! never gets a render that began before it asked (it waits for the next
//! one), so nothing is stale and there is nothing to invalidate. Requests
//! of different users, or of the same user through different credentials,
//! never share. Only pages (GET, rendered by Leptos) are shared: server
//! functions, the JSON API and files are not.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bi_control::auth::Secret;
use bi_control::coalesce::Coalescer;
use sha2::{Digest, Sha256};

use crate::metrics::Metrics;

/// The largest page kept to share (a bigger one fails that render).
const PAGE_LIMIT: usize = 16 << 20;

/// The renders being shared, and where they are counted.
#[derive(Clone)]
pub struct SharedPages {
    renders: Coalescer,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for SharedPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPages").finish_non_exhaustive()
    }
}

impl SharedPages {
    /// No render running; each one counted in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            renders: Coalescer::default(),
            metrics,
        }
    }
}

/// One render: what every request sharing it is answered, but the nonce.
struct Rendered {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// The nonce the render wrote into its policy and scripts.
    nonce: Option<String>,
}

/// Answers a page request with a render shared with identical requests.
pub async fn shared_pages(
    State(pages): State<SharedPages>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let key = key(&request);
    let metrics = Arc::clone(&pages.metrics);
    let rendered = pages
        .renders
        .read(&key, move || async move {
            metrics.page_rendered();
            let (parts, body) = next.run(request).await.into_parts();
            let body = axum::body::to_bytes(body, PAGE_LIMIT)
                .await
                .map_err(|err| bi_control::Error::Internal(format!("rendering the page: {err}")))?;
            let nonce = parts
                .headers
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|policy| policy.to_str().ok())
                .and_then(nonce_of);
            Ok(Rendered {
                status: parts.status,
                headers: parts.headers,
                body,
                nonce,
            })
        })
        .await;
    match rendered {
        Ok(rendered) => answer(&rendered),
        Err(err) => {
            tracing::error!(error = %err, "a page render failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// What makes two requests' pages the same: path and query, the
/// credential and the host asked for (hashed: the key is not a secret's
/// copy).
fn key(request: &Request) -> String {
    let mut hash = Sha256::new();
    for name in [header::AUTHORIZATION, header::COOKIE, header::HOST] {
        for value in request.headers().get_all(name) {
            hash.update(value.as_bytes());
            hash.update([0]);
        }
        hash.update([1]);
    }
    let credential = hash.finalize();
    let uri = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    format!("{credential:x} {uri}")
}

/// The nonce in a policy's `'nonce-…'` source.
fn nonce_of(policy: &str) -> Option<String> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(policy[start..start + len].to_owned()).filter(|nonce| !nonce.is_empty())
}

/// The shared render with a nonce of this response's own.
fn answer(rendered: &Rendered) -> Response {
    let mut headers = rendered.headers.clone();
    headers.remove(header::CONTENT_LENGTH);
    let body = match &rendered.nonce {
        Some(old) => {
            let fresh = Secret::generate("");
            let fresh = fresh.expose();
            if let Some(policy) = headers
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|policy| policy.to_str().ok())
                .and_then(|policy| HeaderValue::from_str(&policy.replace(old, fresh)).ok())
            {
                headers.insert(header::CONTENT_SECURITY_POLICY, policy);
            }
            match std::str::from_utf8(&rendered.body) {
                Ok(text) => Body::from(text.replace(old.as_str(), fresh)),
                Err(_) => Body::from(rendered.body.clone()),
            }
        }
        None => Body::from(rendered.body.clone()),
    };
    let mut response = Response::new(body);
    *response.status_mut() = rendered.status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_nonce_is_read_from_the_policy() {
        assert_eq!(
            nonce_of("default-src 'self'; script-src 'nonce-abc_D-9' 'strict-dynamic'").as_deref(),
            Some("abc_D-9")
        );
        assert_eq!(nonce_of("default-src 'self'"), None);
        assert_eq!(nonce_of("script-src 'nonce-'"), None);
    }

    #[test]
    fn requests_share_only_with_the_same_page_and_credential() {
        let request = |uri: &str, cookie: &str| {
            Request::get(uri)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap()
        };
        let a = key(&request("/?tab=1", "bi_session=a"));
        assert_eq!(a, key(&request("/?tab=1", "bi_session=a")));
        assert_ne!(a, key(&request("/?tab=2", "bi_session=a")));
        assert_ne!(a, key(&request("/?tab=1", "bi_session=b")));
        assert!(!a.contains("bi_session"), "the key holds no credential");
        let bearer = Request::get("/?tab=1")
            .header(header::AUTHORIZATION, "bi_session=a")
            .body(Body::empty())
            .unwrap();
        assert_ne!(a, key(&bearer), "a header's value counts with its name");
    }
}
