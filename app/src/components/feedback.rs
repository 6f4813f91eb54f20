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

/// The banner of a save refused because what the form was filled in from
/// changed meanwhile ([`ApiError::ChangedMeanwhile`]): who changed what,
/// each changed field with its value then and now, and "Reload", which
/// takes the current values (and version). Until then the form keeps what
/// the user typed. Nothing for any other error.
#[component]
pub fn ChangedMeanwhileNote(error: ApiError, reload: Callback<()>) -> impl IntoView {
    let ApiError::ChangedMeanwhile { message, changes } = error else {
        return None;
    };
    Some(view! {
        <div
            class="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900"
            role="alert"
            data-testid="changed-meanwhile"
        >
            <p class="font-medium">"Changed meanwhile: your changes were not saved."</p>
            <p class="mt-1">{message}</p>
            <ul class="mt-1 list-disc pl-5">
                {changes
                    .iter()
                    .map(|change| {
                        view! {
                            <li>
                                <span class="font-mono">{change.field.clone()}</span>
                                ": "
                                {change.message.clone()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <button
                type="button"
                class="mt-2 rounded-md border border-amber-400 bg-white px-3 py-1 text-sm font-medium text-amber-900 hover:bg-amber-100"
                data-testid="reload-current"
                on:click=move |_| reload.run(())
            >
                "Reload"
            </button>
        </div>
    })
}

/// An action's error: the changed-meanwhile banner (with `reload`) when
/// what the page showed changed meanwhile, else an [`ErrorNote`].
#[component]
pub fn ActionError(error: ApiError, reload: Callback<()>) -> impl IntoView {
    if matches!(error, ApiError::ChangedMeanwhile { .. }) {
        view! { <ChangedMeanwhileNote error reload /> }.into_any()
    } else {
        view! { <ErrorNote error /> }.into_any()
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
    let class = status_class(&status);
    view! { <span class=class>{status}</span> }
}

/// The classes of a badge showing `status` (or a count of it): green for
/// what went well, red for failures, blue for what is under way, amber
/// for what waits, grey for the rest.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" | "installed" | "created" | "updated" | "deleted" | "done" | "ready"
        | "routed" | "issued" => "badge bg-emerald-100 text-emerald-800",
        "failed" | "interrupted" => "badge bg-red-100 text-red-800",
        "running" | "applying" | "progressing" => "badge bg-sky-100 text-sky-800",
        "missing" | "waiting" | "held back" | "held_back" | "pending" | "not applied" => {
            "badge bg-amber-100 text-amber-800"
        }
        _ => "badge bg-slate-100 text-slate-700",
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
