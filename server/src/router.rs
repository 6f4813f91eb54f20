//! Every HTTP route of the control server, in one place.

use axum::Router;
use axum::routing::get;
use bi_app::{App, shell};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};

use crate::state::AppState;
use crate::{api, health};

/// The router: health checks, the Leptos pages and server functions
/// (`/api/…`), and the built UI's static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let db = state.db.clone();
    let cluster = state.cluster.clone();
    let reconciler = state.reconciler.clone();
    let context = move || {
        provide_context(db.clone());
        provide_context(cluster.clone());
        provide_context(reconciler.clone());
    };
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/events", get(api::events::events))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state)
}
