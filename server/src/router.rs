//! Every HTTP route of the control server, in one place.

use axum::Router;
use axum::routing::{get, post};
use bi_app::{App, shell};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};

use crate::state::AppState;
use crate::{api, health};

/// The router: health checks, the JSON API (`/api/v1/…`, documented in
/// [`crate::api`]), the Leptos pages and server functions (`/api/…`), and
/// the built UI's static files.
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
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/events", get(api::events::events))
        .route("/api/v1/status", get(api::status::status))
        .route(
            "/api/v1/settings",
            get(api::settings::show)
                .put(api::settings::save)
                .delete(api::settings::reset),
        )
        .route("/api/v1/batteries", get(api::batteries::list))
        .route(
            "/api/v1/batteries/{id}",
            get(api::batteries::show).delete(api::batteries::uninstall),
        )
        .route(
            "/api/v1/batteries/{id}/install",
            get(api::batteries::preview_install).post(api::batteries::install),
        )
        .route(
            "/api/v1/batteries/{id}/configure",
            post(api::batteries::configure),
        )
        .route(
            "/api/v1/projects",
            get(api::projects::list).post(api::projects::create),
        )
        .route(
            "/api/v1/projects/{name}",
            get(api::projects::show).delete(api::projects::delete),
        )
        .route(
            "/api/v1/projects/{name}/rename",
            post(api::projects::rename),
        )
        .route(
            "/api/v1/objects",
            get(api::projects::objects).post(api::projects::add_object),
        )
        .route(
            "/api/v1/objects/{kind}/{name}",
            get(api::projects::object)
                .put(api::projects::update_object)
                .delete(api::projects::remove_object),
        )
        .route(
            "/api/v1/objects/{kind}/{name}/scale",
            post(api::projects::scale),
        )
        .route("/api/v1/plan", get(api::snapshots::plan))
        .route(
            "/api/v1/snapshots",
            get(api::snapshots::list).post(api::snapshots::request),
        )
        .route("/api/v1/snapshots/diff", get(api::snapshots::diff))
        .route("/api/v1/snapshots/{id}", get(api::snapshots::show))
        .route("/api/v1/rollback", post(api::snapshots::rollback))
        .route("/api/v1/export", get(api::desired_state::export))
        .route("/api/v1/audit", get(api::desired_state::audit))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state)
}
