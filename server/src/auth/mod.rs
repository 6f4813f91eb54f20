//! Every way into the control server is guarded here.
//!
//! - [`policy`]: who each route needs (public, or a role), in one table
//!   with the REST routes, the server functions and the pages.
//! - [`guard`]: the middleware around the whole router: the `Host` check
//!   (DNS rebinding), who is asking (session cookie or bearer token), the
//!   cross-site check for changes and websockets, the role check, and the
//!   security headers on every answer.
//! - [`routes`]: sign-in, sign-out and first-admin set-up for browsers
//!   (HTML forms), and `/api/v1/login`, `/setup`, `/me`, `/users`,
//!   `/tokens` for the CLI and scripts.
//! - [`limiter`]: sign-in attempts per client address.
//! - [`oidc`]: signing in through Keycloak (Single Sign-On).

pub mod guard;
pub mod limiter;
pub mod oidc;
pub mod policy;
pub mod routes;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bi_control::auth::SetupToken;

pub use bi_api::auth::SESSION_COOKIE;

/// The cookie of a browser that has no session yet (the sign-in and set-up
/// forms): the CSRF token of those forms is derived from it.
pub const FORM_COOKIE: &str = "bi_form";

/// What the guard and the sign-in routes share.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The one-time token that creates the first admin, while no account
    /// exists; taken (none) once it has.
    pub setup: Arc<Mutex<Option<SetupToken>>>,
    /// Where the setup token is also written (0600), for headless set-ups;
    /// removed once used.
    pub setup_file: Option<PathBuf>,
    /// The names this server answers to: loopback names, the listen
    /// address, and `--public-url`'s host.
    pub hosts: Arc<policy::Hosts>,
    /// Whether bi serves HTTPS (cookies get `Secure`).
    pub tls: bool,
    /// Sign-in attempts per client address.
    pub limiter: Arc<limiter::Limiter>,
    /// Single Sign-On through Keycloak: where it is, the sign-ins pending.
    pub oidc: Arc<oidc::Oidc>,
    /// `--public-url`, when given: the origin Keycloak sends browsers back to.
    pub public_url: Option<url::Url>,
}

impl AuthConfig {
    /// The setup token, while bi is not set up.
    pub fn pending_setup(&self) -> Option<SetupToken> {
        self.setup.lock().ok().and_then(|setup| setup.clone())
    }

    /// Forgets the setup token (the first admin exists) and its file.
    pub fn finish_setup(&self) {
        if let Ok(mut setup) = self.setup.lock() {
            *setup = None;
        }
        if let Some(file) = &self.setup_file {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// The caller of a request the guard admitted: handlers take it to check
/// finer rules and to name the author of a change.
#[derive(Debug, Clone)]
pub struct Caller(pub bi_control::auth::Principal);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = bi_api::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<bi_control::auth::Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| bi_api::ApiError::Unauthenticated("sign in first".into()))
    }
}

impl Caller {
    /// Who the audit trail names for this caller's changes.
    pub fn author(&self) -> String {
        self.0.author()
    }
}
