//! Who each route needs. One table answers for every way in:
//!
//! - the `/api/v1` routes and the browser's form routes, recorded as
//!   [`crate::router`] registers them (a route cannot be registered
//!   without saying who it needs);
//! - the server functions (`/api/<endpoint>`), from
//!   [`bi_app::api::ACCESS`]; one missing there is refused for everyone,
//!   and a test fails;
//! - the pages (any other GET): signed-in users, viewers and up;
//! - public: the health checks, the sign-in and set-up pages, the built
//!   UI's files.
//!
//! Anything else is refused.

use std::net::{IpAddr, SocketAddr};

use axum::http::Method;
use bi_api::auth::{Access, Role};

/// One registered route and who it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// The HTTP method.
    pub method: Method,
    /// The path pattern as axum reads it (`/api/v1/batteries/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

/// What the guard decides a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// This access.
    Access(Access),
    /// Nothing says who may call it: refused.
    NoPolicy,
}

/// Paths anyone may fetch: health checks and the built UI's files (the
/// same for everyone, and needed to draw the sign-in page).
const PUBLIC_PATHS: [&str; 3] = ["/healthz", "/readyz", "/favicon.svg"];

/// The prefix of the built UI's JavaScript, WASM and CSS.
const PUBLIC_PREFIX: &str = "/pkg/";

/// The pages shown before signing in.
pub const SIGN_IN_PAGE: &str = "/sign-in";
/// The first-admin set-up page.
pub const SETUP_PAGE: &str = "/setup";

/// The access table of one router.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    routes: Vec<RouteEntry>,
}

impl Policy {
    /// A table of the routes registered so far.
    pub fn new(routes: Vec<RouteEntry>) -> Self {
        Self { routes }
    }

    /// Every registered route.
    pub fn routes(&self) -> &[RouteEntry] {
        &self.routes
    }

    /// What `method path` needs.
    pub fn need(&self, method: &Method, path: &str) -> Need {
        let read = *method == Method::GET || *method == Method::HEAD;
        if PUBLIC_PATHS.contains(&path) || (read && path.starts_with(PUBLIC_PREFIX)) {
            return Need::Access(Access::Public);
        }
        if read && (path == SIGN_IN_PAGE || path == SETUP_PAGE) {
            return Need::Access(Access::Public);
        }
        let mut path_known = false;
        for entry in &self.routes {
            if matches(entry.path, path) {
                if entry.method == *method
                    || (*method == Method::HEAD && entry.method == Method::GET)
                {
                    return Need::Access(entry.access);
                }
                path_known = true;
            }
        }
        if path_known {
            // NB: a method the path does not have: axum answers 405; only a
            // signed-in user learns that.
            return Need::Access(Access::Role(Role::Viewer));
        }
        if let Some(endpoint) = path.strip_prefix("/api/")
            && !path.starts_with("/api/v1/")
        {
            return bi_app::api::ACCESS
                .iter()
                .find(|(name, _)| *name == endpoint)
                .map_or(Need::NoPolicy, |(_, role)| {
                    Need::Access(Access::Role(*role))
                });
        }
        if read && !path.starts_with("/api/") {
            return Need::Access(Access::Role(Role::Viewer));
        }
        Need::NoPolicy
    }
}

/// Whether `path` fits `pattern`, whose `{name}` segments match any one
/// segment.
fn matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') && !h.is_empty() => {}
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

/// Whether the answer to a request for `path` is for a program (JSON) or
/// a person (a page to redirect to sign-in).
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/auth/") || path == "/metrics"
}

/// The host names this server answers to. A request naming another host
/// (DNS rebinding: `evil.example` resolving to 127.0.0.1) is refused.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    names: Vec<String>,
    public: Option<String>,
}

impl Hosts {
    /// Loopback names (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`),
    /// the bound address when it is a specific one, and `public`'s host.
    pub fn new(listen: SocketAddr, public: Option<&url::Url>) -> Self {
        let mut names = Vec::new();
        let ip = listen.ip();
        if !ip.is_unspecified() && !ip.is_loopback() {
            names.push(host_of_ip(ip));
        }
        if let Some(host) = public.and_then(url::Url::host_str) {
            names.push(host.to_ascii_lowercase());
        }
        let public = public.map(|url| url.as_str().trim_end_matches('/').to_owned());
        Self { names, public }
    }

    /// `--public-url` without a trailing slash, if given.
    pub fn public_base(&self) -> Option<String> {
        self.public.clone()
    }

    /// Whether a `Host` header value (with or without its port) is ours.
    pub fn allows(&self, host: &str) -> bool {
        let name = strip_port(host).to_ascii_lowercase();
        let loopback = name == "localhost"
            || name.ends_with(".localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        loopback || self.names.contains(&name)
    }

    /// The names besides loopback, for the refusal's message.
    pub fn extra(&self) -> &[String] {
        &self.names
    }
}

fn host_of_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// `host:port` → `host`; `[::1]:3000` → `[::1]`.
pub fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Policy {
        Policy::new(vec![
            RouteEntry {
                method: Method::GET,
                path: "/api/v1/batteries/{id}",
                access: Access::Role(Role::Viewer),
            },
            RouteEntry {
                method: Method::DELETE,
                path: "/api/v1/batteries/{id}",
                access: Access::Role(Role::Editor),
            },
        ])
    }

    #[test]
    fn routes_pages_and_files_get_what_they_need() {
        let policy = table();
        let need = |method: Method, path: &str| policy.need(&method, path);
        assert_eq!(
            need(Method::GET, "/api/v1/batteries/redis"),
            Need::Access(Access::Role(Role::Viewer))
        );
        assert_eq!(
            need(Method::DELETE, "/api/v1/batteries/redis"),
            Need::Access(Access::Role(Role::Editor))
        );
        assert_eq!(
            need(Method::PUT, "/api/v1/batteries/redis"),
            Need::Access(Access::Role(Role::Viewer))
        );
        assert_eq!(need(Method::POST, "/api/v1/nothing"), Need::NoPolicy);
        assert_eq!(
            need(Method::POST, "/api/batteries/install"),
            Need::Access(Access::Role(Role::Editor))
        );
        assert_eq!(need(Method::POST, "/api/no/such-function"), Need::NoPolicy);
        assert_eq!(
            need(Method::GET, "/batteries/redis"),
            Need::Access(Access::Role(Role::Viewer))
        );
        assert_eq!(need(Method::POST, "/batteries/redis"), Need::NoPolicy);
        assert_eq!(
            need(Method::GET, "/pkg/bi.wasm"),
            Need::Access(Access::Public)
        );
        assert_eq!(need(Method::POST, "/pkg/bi.wasm"), Need::NoPolicy);
        assert_eq!(need(Method::GET, "/healthz"), Need::Access(Access::Public));
        assert_eq!(need(Method::GET, "/sign-in"), Need::Access(Access::Public));
    }

    #[test]
    fn only_our_host_names_are_answered() {
        let public = url::Url::parse("https://bi.example.com").ok();
        let hosts = Hosts::new(
            "0.0.0.0:3000".parse().unwrap_or_else(|_| unreachable!()),
            public.as_ref(),
        );
        for ok in [
            "localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "app.localhost",
            "bi.example.com",
            "BI.example.com:443",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "rebind.attacker.example",
            "bi.example.com.evil.example",
            "10.0.0.5:3000",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
        let bound = Hosts::new(
            "10.0.0.5:3000".parse().unwrap_or_else(|_| unreachable!()),
            None,
        );
        assert!(bound.allows("10.0.0.5:3000"));
    }
}
