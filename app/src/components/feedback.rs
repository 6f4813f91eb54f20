//! Small pieces every page uses to say how things stand: errors, badges,
//! and the problems of one form field.

use bi_model::FieldError;
use leptos::prelude::*;

use crate::ApiError;

/// An error from the server, shown where the thing failed. A page that
/// shows a [`ApiError::NotFound`] is answered with status 404.
#[component]
pub fn ErrorNote(error: ApiError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if matches!(error, ApiError::NotFound(_))
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <p class="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" role="alert">
            {error.to_string()}
        </p>
    }
}

/// A "Loading…" line for Suspense fallbacks.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="mt-6 text-slate-500">"Loading…"</p> }
}

/// A small rounded label whose colour follows `status` (`succeeded`,
/// `failed`, `running`, `installed`, …).
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let colour = match status.as_str() {
        "succeeded" | "installed" | "created" | "updated" | "deleted" | "done" | "ready" => {
            "bg-emerald-100 text-emerald-800"
        }
        "failed" | "interrupted" => "bg-red-100 text-red-800",
        "running" | "applying" | "progressing" => "bg-sky-100 text-sky-800",
        "missing" | "waiting" | "held back" | "held_back" => "bg-amber-100 text-amber-800",
        _ => "bg-slate-100 text-slate-700",
    };
    view! {
        <span class=format!("inline-block rounded-full px-2 py-0.5 text-xs font-medium {colour}")>
            {status}
        </span>
    }
}

/// The problems in `problems` whose field is `field`, one line each.
pub fn messages_for(problems: &[FieldError], field: &str) -> Vec<String> {
    problems
        .iter()
        .filter(|problem| problem.field == field)
        .map(|problem| problem.message.clone())
        .collect()
}

/// False on the server and while the browser hydrates the page, true once
/// the browser has taken over. Parts computed only in the browser (the live
/// preview, capacity advice) render behind it, so the server's HTML and the
/// hydrating browser always agree, whichever resource resolved first.
pub fn in_browser() -> ReadSignal<bool> {
    let (mounted, set_mounted) = signal(false);
    Effect::new(move |_| set_mounted.set(true));
    mounted
}
