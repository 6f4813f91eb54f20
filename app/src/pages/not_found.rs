//! The page for a path bi does not know.

use leptos::prelude::*;
use leptos_meta::Title;

/// Says the page does not exist and links back home. On the server it also
/// sets the 404 status, so crawlers and scripts are not told "200 OK".
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <h1 class="text-2xl font-semibold">"Page not found"</h1>
        <p class="mt-2 text-slate-600">
            "There is nothing at this address. " <a href="/" class="text-indigo-600 underline">
                "Back to the dashboard"
            </a>
        </p>
    }
}
