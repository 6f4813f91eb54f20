//! Every HTTP route of the control server, in one place, each with who may
//! call it. The whole router sits behind [`crate::auth::guard`].

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, on};
use bi_api::auth::Access::{self, Public};
use bi_api::auth::Role::{Admin, Editor, Viewer};
use bi_app::{App, shell};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};

use crate::auth::guard::{Guard, guard};
use crate::auth::oidc;
use crate::auth::policy::{Policy, RouteEntry};
use crate::auth::routes as auth;
use crate::state::AppState;
use crate::{api, health};

/// Registers routes and records who each needs, so that the guard and the
/// tests read the same table the router was built from.
struct Table {
    router: Router<AppState>,
    entries: Vec<RouteEntry>,
}

impl Table {
    fn route<H, T>(mut self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("{method} is not a method axum routes"));
        self.router = self.router.route(path, on(filter, handler));
        self.entries.push(RouteEntry {
            method,
            path,
            access,
        });
        self
    }
}

fn role(role: bi_api::auth::Role) -> Access {
    Access::Role(role)
}

/// The routes of the JSON API and of the sign-in forms, with who may call
/// each (the pages and server functions are added by [`router`]).
fn table() -> Table {
    use Method as M;
    let t = Table {
        router: Router::new(),
        entries: Vec::new(),
    };
    t.route(M::GET, "/healthz", Public, health::healthz)
        // Prometheus and VictoriaMetrics: a viewer, or the scrape token.
        .route(M::GET, "/metrics", Access::Scrape, crate::metrics::metrics)
        .route(M::GET, "/readyz", Public, health::readyz)
        // Signing in, for browsers (HTML forms) and for programs (JSON).
        .route(M::GET, "/sign-in", Public, auth::sign_in_page)
        .route(M::GET, "/setup", Public, auth::setup_page)
        .route(M::POST, "/auth/sign-in", Public, auth::sign_in)
        .route(M::POST, "/auth/sign-out", Public, auth::sign_out)
        .route(M::POST, "/auth/setup", Public, auth::setup)
        // Single Sign-On through Keycloak (OIDC with PKCE).
        .route(M::GET, "/auth/oidc/start", Public, oidc::start)
        .route(M::GET, "/auth/oidc/callback", Public, oidc::callback)
        .route(M::POST, "/api/v1/login", Public, auth::login)
        .route(M::POST, "/api/v1/setup", Public, auth::setup_api)
        .route(M::GET, "/api/v1/me", role(Viewer), auth::me)
        .route(
            M::POST,
            "/api/v1/me/password",
            role(Viewer),
            auth::change_password,
        )
        .route(M::GET, "/api/v1/users", role(Admin), auth::list_users)
        .route(M::POST, "/api/v1/users", role(Admin), auth::create_user)
        .route(
            M::PATCH,
            "/api/v1/users/{name}",
            role(Admin),
            auth::change_user,
        )
        .route(
            M::DELETE,
            "/api/v1/users/{name}",
            role(Admin),
            auth::remove_user,
        )
        // Everyone manages their own tokens; admins everyone's.
        .route(M::GET, "/api/v1/tokens", role(Viewer), auth::list_tokens)
        .route(M::POST, "/api/v1/tokens", role(Viewer), auth::create_token)
        .route(
            M::DELETE,
            "/api/v1/tokens/{id}",
            role(Viewer),
            auth::revoke_token,
        )
        .route(M::GET, "/api/v1/events", role(Viewer), api::events::events)
        .route(M::GET, "/api/v1/status", role(Viewer), api::status::status)
        .route(M::GET, "/api/v1/reach", role(Viewer), api::reach::reach)
        .route(M::GET, "/api/v1/drift", role(Viewer), api::drift::view)
        .route(
            M::GET,
            "/api/v1/timeline",
            role(Viewer),
            api::timeline::timeline,
        )
        .route(
            M::GET,
            "/api/v1/timeline/changes",
            role(Viewer),
            api::timeline::changes,
        )
        .route(
            M::GET,
            "/api/v1/deleted",
            role(Viewer),
            api::timeline::deleted,
        )
        .route(
            M::GET,
            "/api/v1/deleted/{id}",
            role(Viewer),
            api::timeline::deleted_object,
        )
        .route(
            M::POST,
            "/api/v1/deleted/{id}/undelete",
            role(Editor),
            api::timeline::undelete,
        )
        .route(
            M::GET,
            "/api/v1/cluster/kinds",
            role(Viewer),
            api::cluster::kinds,
        )
        .route(
            M::GET,
            "/api/v1/cluster/objects",
            role(Viewer),
            api::cluster::objects,
        )
        .route(
            M::GET,
            "/api/v1/cluster/object",
            role(Viewer),
            api::cluster::object,
        )
        .route(
            M::GET,
            "/api/v1/cluster/changes",
            role(Viewer),
            api::cluster::changes,
        )
        .route(
            M::GET,
            "/api/v1/cluster/pods",
            role(Viewer),
            api::cluster::pods,
        )
        .route(
            M::GET,
            "/api/v1/cluster/logs",
            role(Viewer),
            api::cluster::logs,
        )
        .route(
            M::GET,
            "/api/v1/cluster/logs/events",
            role(Viewer),
            api::cluster::log_events,
        )
        .route(
            M::POST,
            "/api/v1/drift/sweep",
            role(Editor),
            api::drift::sweep,
        )
        .route(
            M::POST,
            "/api/v1/drift/repair",
            role(Editor),
            api::drift::repair,
        )
        .route(M::POST, "/api/v1/drift/mode", role(Admin), api::drift::mode)
        .route(M::GET, "/api/v1/sso", role(Admin), api::sso::view)
        .route(
            M::POST,
            "/api/v1/sso/users",
            role(Admin),
            api::sso::create_user,
        )
        .route(
            M::POST,
            "/api/v1/sso/users/{username}",
            role(Admin),
            api::sso::change_user,
        )
        .route(
            M::GET,
            "/api/v1/sso/initial-password",
            role(Admin),
            api::sso::initial_password,
        )
        .route(
            M::GET,
            "/api/v1/ca.crt",
            role(Viewer),
            api::reach::ca_certificate,
        )
        .route(
            M::GET,
            "/api/v1/settings",
            role(Viewer),
            api::settings::show,
        )
        .route(M::PUT, "/api/v1/settings", role(Admin), api::settings::save)
        .route(
            M::DELETE,
            "/api/v1/settings",
            role(Admin),
            api::settings::reset,
        )
        .route(
            M::GET,
            "/api/v1/batteries",
            role(Viewer),
            api::batteries::list,
        )
        .route(
            M::GET,
            "/api/v1/batteries/{id}",
            role(Viewer),
            api::batteries::show,
        )
        .route(
            M::DELETE,
            "/api/v1/batteries/{id}",
            role(Editor),
            api::batteries::uninstall,
        )
        .route(
            M::GET,
            "/api/v1/batteries/{id}/install",
            role(Viewer),
            api::batteries::preview_install,
        )
        .route(
            M::POST,
            "/api/v1/batteries/{id}/install",
            role(Editor),
            api::batteries::install,
        )
        .route(
            M::POST,
            "/api/v1/batteries/{id}/configure",
            role(Editor),
            api::batteries::configure,
        )
        .route(
            M::GET,
            "/api/v1/projects",
            role(Viewer),
            api::projects::list,
        )
        .route(
            M::POST,
            "/api/v1/projects",
            role(Editor),
            api::projects::create,
        )
        .route(
            M::GET,
            "/api/v1/projects/{name}",
            role(Viewer),
            api::projects::show,
        )
        .route(
            M::DELETE,
            "/api/v1/projects/{name}",
            role(Editor),
            api::projects::delete,
        )
        .route(
            M::POST,
            "/api/v1/projects/{name}/rename",
            role(Editor),
            api::projects::rename,
        )
        .route(
            M::GET,
            "/api/v1/objects",
            role(Viewer),
            api::projects::objects,
        )
        .route(
            M::POST,
            "/api/v1/objects",
            role(Editor),
            api::projects::add_object,
        )
        .route(
            M::GET,
            "/api/v1/objects/{kind}/{name}",
            role(Viewer),
            api::projects::object,
        )
        .route(
            M::PUT,
            "/api/v1/objects/{kind}/{name}",
            role(Editor),
            api::projects::update_object,
        )
        .route(
            M::DELETE,
            "/api/v1/objects/{kind}/{name}",
            role(Editor),
            api::projects::remove_object,
        )
        .route(
            M::POST,
            "/api/v1/objects/{kind}/{name}/scale",
            role(Editor),
            api::projects::scale,
        )
        .route(M::GET, "/api/v1/plan", role(Viewer), api::snapshots::plan)
        .route(
            M::GET,
            "/api/v1/snapshots",
            role(Viewer),
            api::snapshots::list,
        )
        .route(
            M::POST,
            "/api/v1/snapshots",
            role(Editor),
            api::snapshots::request,
        )
        .route(
            M::GET,
            "/api/v1/snapshots/diff",
            role(Viewer),
            api::snapshots::diff,
        )
        .route(
            M::GET,
            "/api/v1/snapshots/{id}",
            role(Viewer),
            api::snapshots::show,
        )
        .route(
            M::POST,
            "/api/v1/snapshots/prune",
            role(Admin),
            api::snapshots::prune_history,
        )
        .route(
            M::POST,
            "/api/v1/rollback",
            role(Editor),
            api::snapshots::rollback,
        )
        .route(
            M::GET,
            "/api/v1/orphans",
            role(Viewer),
            api::snapshots::orphans,
        )
        .route(
            M::POST,
            "/api/v1/orphans/prune",
            role(Editor),
            api::snapshots::prune_orphans,
        )
        .route(
            M::GET,
            "/api/v1/export",
            role(Viewer),
            api::desired_state::export,
        )
        .route(
            M::GET,
            "/api/v1/audit",
            role(Viewer),
            api::desired_state::audit,
        )
}

/// The access table of the routes [`router`] registers: the guard's, and
/// what the tests walk.
pub fn policy() -> Policy {
    Policy::new(table().entries)
}

/// The router: health checks, sign-in, the JSON API (`/api/v1/…`,
/// documented in [`crate::api`]), the Leptos pages and server functions
/// (`/api/…`), and the built UI's static files, all behind the guard.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let db = state.db.clone();
    let cluster = state.cluster.clone();
    let reconciler = state.reconciler.clone();
    let facts = state.facts.clone();
    let context = move || {
        provide_context(db.clone());
        provide_context(cluster.clone());
        provide_context(reconciler.clone());
        provide_context(facts.clone());
    };
    let options = state.leptos_options.clone();
    let Table { router, entries } = table();
    let guard_state = Guard {
        db: state.db.clone(),
        auth: state.auth.clone(),
        policy: Arc::new(Policy::new(entries)),
    };
    // NB: only the pages share renders; the layer wraps just their routes.
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .layer(axum::middleware::from_fn_with_state(
            crate::shared_pages::SharedPages::new(Arc::clone(&state.metrics)),
            crate::shared_pages::shared_pages,
        ));
    router
        .merge(pages)
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn_with_state(guard_state, guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::count_requests,
        ))
        .with_state(state)
}

/// The largest server-function error body read to find its status.
const ERROR_LIMIT: usize = 1 << 20;

/// A server function's error answers with the status its kind has in the
/// JSON API (422 for a rejected input, 404, 409, …) instead of Leptos's
/// 500 for every error, so that logs, proxies and scripts tell a user's
/// mistake from a fault.
async fn server_fn_status(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let response = next.run(request).await;
    if !server_fn || response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_LIMIT).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<bi_api::ApiError>(&bytes)
        && let Ok(status) = axum::http::StatusCode::from_u16(error.status())
    {
        parts.status = status;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
