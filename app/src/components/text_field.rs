//! The forms' text input: a label, an optional hint, the input, an optional
//! note, and the problems `bi-model` (or the server) found for its field
//! under it, tied to the input for screen readers (`aria-invalid`,
//! `aria-describedby`). The error line's test id is `error-<id>`.

use bi_model::FieldError;
use leptos::prelude::*;

use crate::components::feedback::messages_for;

/// The input's classes: full width, red border while invalid.
pub const INPUT: &str = "w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200 aria-[invalid=true]:border-red-500";

/// A labelled text input bound through `get`/`set`, with the problems of
/// `field` under it.
#[component]
pub fn TextField<G, S>(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    /// The field problems name (`memory`, `env[1].name`).
    #[prop(into)]
    field: String,
    #[prop(into)] problems: Signal<Vec<FieldError>>,
    get: G,
    set: S,
    /// A line under the label; empty for none.
    #[prop(optional, into)]
    hint: String,
    /// A line under the input (test id `note-<id>`).
    #[prop(optional, into)]
    note: Option<String>,
    /// The id of a `<datalist>` of suggestions.
    #[prop(optional, into)]
    list: Option<String>,
    /// Hide the label (a table's column says it) and use small type.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView
where
    G: Fn() -> String + Send + Sync + Copy + 'static,
    S: Fn(String) + Send + Sync + 'static,
{
    let field = StoredValue::new(field);
    let messages = move || field.with_value(|field| messages_for(&problems.get(), field).join(" "));
    let error_id = format!("error-{id}");
    let (label_class, error_class) = if compact {
        ("sr-only", "mt-0.5 text-xs text-red-700")
    } else {
        (
            "block text-sm font-medium text-slate-700",
            "mt-1 text-sm text-red-700",
        )
    };
    let note = note.map(|note| {
        view! { <p class="mt-1 text-xs text-slate-500" data-testid=format!("note-{id}")>{note}</p> }
    });
    view! {
        <div>
            <label for=id.clone() class=label_class>{label}</label>
            {(!hint.is_empty()).then(|| view! { <p class="text-xs text-slate-500">{hint}</p> })}
            <input
                id=id
                type="text"
                autocomplete="off"
                class=INPUT
                list=list
                aria-invalid=move || (!messages().is_empty()).to_string()
                aria-describedby=error_id.clone()
                value=get
                prop:value=get
                on:input=move |ev| set(event_target_value(&ev))
            />
            {note}
            <p id=error_id.clone() class=error_class data-testid=error_id>{messages}</p>
        </div>
    }
}
