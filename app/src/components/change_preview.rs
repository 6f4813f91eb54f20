//! The live preview beside a form: what saving the change would do to the
//! cluster (the engine's plan against the last succeeded snapshot, each
//! object's changed fields and YAML) and to its capacity, recomputed in the
//! browser by `bi-model` on every edit.
//!
//! Only lazy routes use it, so the generators it pulls in stay out of the
//! core WASM bundle.
//!
//! While changes saved earlier are still being applied (the base's snapshot
//! is older than the desired state), the base is loaded again, sooner at
//! first and then less often, so the plan catches up once they are applied
//! instead of showing objects that are already there as "to create".

use bi_model::capacity::{self, ClusterCapacity, Impact};
use bi_model::generate::{
    Action, DesiredState, FieldChange, Preview, PreviewItem, preview, value_text,
};
use leptos::prelude::*;

use crate::ApiError;
use crate::api::preview::{PreviewBase, load_preview_base};
use crate::components::feedback::{ErrorNote, in_browser};

/// How many written objects are listed before "and N more".
const LISTED: usize = 60;

/// The first wait before loading a pending base again, in milliseconds; it
/// doubles after each load that is still pending, up to [`LAST_RECHECK_MS`].
const FIRST_RECHECK_MS: u64 = 1_000;
/// The longest wait between two loads of a pending base.
const LAST_RECHECK_MS: u64 = 16_000;

/// A preview base that is loaded again whenever `track` changes and, in the
/// browser, while saved changes are still being applied (see the module's
/// documentation).
pub fn preview_base(
    track: impl Fn() + Send + Sync + 'static,
) -> LocalResource<Result<PreviewBase, ApiError>> {
    let tick = RwSignal::new(0_u32);
    let base = LocalResource::new(move || {
        track();
        tick.track();
        load_preview_base()
    });
    // NB: at most one timer per load: the effect also runs while a load is
    // in flight, with the previous value.
    let scheduled_for = StoredValue::new(None::<u32>);
    let wait_ms = StoredValue::new(FIRST_RECHECK_MS);
    Effect::new(move |_| {
        let Some(Ok(loaded)) = base.get() else { return };
        if !loaded.pending() {
            wait_ms.set_value(FIRST_RECHECK_MS);
            return;
        }
        let now = tick.get_untracked();
        if scheduled_for.get_value() == Some(now) {
            return;
        }
        scheduled_for.set_value(Some(now));
        let wait = wait_ms.get_value();
        wait_ms.set_value((wait * 2).min(LAST_RECHECK_MS));
        set_timeout(
            move || {
                tick.try_update(|tick| *tick += 1);
            },
            std::time::Duration::from_millis(wait),
        );
    });
    base
}

/// The preview of the change `change` makes to the current desired state
/// (None while the form is invalid). With `compact`, the plan's list starts
/// folded (for the smaller forms on a project page).
#[component]
pub fn ChangePreview<F>(
    change: F,
    #[prop(optional)] compact: bool,
    /// The base to preview on, when the page shares one among several
    /// forms; else the preview loads its own.
    #[prop(optional)]
    base: Option<LocalResource<Result<PreviewBase, ApiError>>>,
) -> impl IntoView
where
    F: Fn(&DesiredState) -> Option<DesiredState> + Send + Sync + 'static,
{
    // NB: a LocalResource: the preview is the browser's work. The server
    // renders the "computing" line and never loads the base, and the
    // hydrating browser renders the same line before it loads it (a server
    // Resource here made the server's HTML and the browser's first render
    // differ now and then: an unrecoverable hydration error).
    let base = base.unwrap_or_else(|| preview_base(|| ()));
    let mounted = in_browser();
    let computed = Memo::new(move |_| {
        let base = base.get()?.ok()?;
        let after = change(&base.current)?;
        let result = preview(&base.applied, &after).map_err(|err| err.to_string());
        Some(result.map(|preview| {
            let impact = base
                .capacity
                .as_ref()
                .map(|capacity| impact(capacity, &preview));
            (preview, impact)
        }))
    });
    view! {
        <section
            class="rounded-lg border border-slate-200 bg-white p-4 text-sm"
            data-testid="change-preview"
            aria-live="polite"
        >
            <h2 class="font-semibold">"What saving does"</h2>
            <Show when=move || mounted.get() fallback=|| view! {
                <p class="mt-2 text-slate-500" data-testid="preview-summary">"Computing what saving would do…"</p>
            }>
            <Transition fallback=|| view! { <p class="mt-1 text-slate-500">"Loading the last snapshot…"</p> }>
                {move || {
                    base.get()
                        .map(|result| match result {
                            Err(error) => view! { <ErrorNote error /> }.into_any(),
                            Ok(base) => {
                                view! { <Against base /> }.into_any()
                            }
                        })
                }}
                {move || match computed.get() {
                    None => {
                        view! {
                            <p class="mt-2 text-slate-500" data-testid="preview-summary">
                                "Fix the form to see what saving would do."
                            </p>
                        }
                            .into_any()
                    }
                    Some(Err(message)) => {
                        view! {
                            <p class="mt-2 rounded-md bg-red-50 px-3 py-2 text-red-800" role="alert">
                                "This change cannot be generated: " {message}
                            </p>
                        }
                            .into_any()
                    }
                    Some(Ok((preview, impact))) => {
                        view! { <PreviewBody preview impact compact /> }.into_any()
                    }
                }}
            </Transition>
            </Show>
        </section>
    }
}

/// What the capacity numbers become once the changed state is applied.
fn impact(capacity: &ClusterCapacity, preview: &Preview) -> Vec<Impact> {
    let after = capacity::requested(&preview.resources, capacity.nodes);
    capacity::impact(capacity, &after)
}

/// Which snapshot the plan is made against.
#[component]
fn Against(base: PreviewBase) -> impl IntoView {
    let against = match base.snapshot {
        Some(id) => format!("Planned against snapshot #{id}, the last that succeeded."),
        None => "No snapshot has succeeded yet: planned against an empty cluster.".to_owned(),
    };
    let pending = (base.pending() && base.snapshot.is_some()).then(|| {
            view! {
                <p class="mt-1 text-amber-800" data-testid="preview-pending">
                    "Includes changes saved since then that are not applied yet; this plan updates once they are."
                </p>
            }
        });
    let unknown = base.capacity_error.map(|error| {
        view! {
            <p class="mt-1 text-slate-500">"Capacity unknown: " {error}</p>
        }
    });
    view! {
        <p class="mt-1 text-slate-600">{against}</p>
        {pending}
        {unknown}
    }
}

/// The plan's counts, the capacity impact and the written objects.
#[component]
fn PreviewBody(preview: Preview, impact: Option<Vec<Impact>>, compact: bool) -> impl IntoView {
    let counts = preview.counts;
    let summary = if counts.writes() == 0 {
        "Saving changes nothing in the cluster.".to_owned()
    } else {
        format!(
            "{} to create, {} to update, {} to delete; {} unchanged.",
            counts.create, counts.update, counts.delete, counts.unchanged
        )
    };
    let total = preview.items.len();
    let more = total.saturating_sub(LISTED);
    let items = preview
        .items
        .into_iter()
        .take(LISTED)
        .map(|item| view! { <ItemRow item /> })
        .collect_view();
    let list = view! {
        <ul class="mt-2 divide-y divide-slate-100" data-testid="preview-items">
            {items}
        </ul>
        {(more > 0).then(|| view! { <p class="mt-1 text-slate-500">"and " {more} " more"</p> })}
    };
    view! {
        <p class="mt-2 font-medium" data-testid="preview-summary">{summary}</p>
        {impact.map(|rows| view! { <CapacityImpact rows /> })}
        {(total > 0)
            .then(|| {
                if compact {
                    view! {
                        <details class="mt-2">
                            <summary class="cursor-pointer text-indigo-700">"Objects written"</summary>
                            {list}
                        </details>
                    }
                        .into_any()
                } else {
                    list.into_any()
                }
            })}
    }
}

/// CPU, memory and storage requests now and after the change, with a red
/// explanation where the change does not fit.
#[component]
fn CapacityImpact(rows: Vec<Impact>) -> impl IntoView {
    let problems: Vec<String> = rows.iter().filter_map(|row| row.problem.clone()).collect();
    view! {
        <table class="mt-3 w-full text-left" data-testid="capacity-impact">
            <caption class="text-left font-medium text-slate-700">"Requests in the cluster"</caption>
            <thead class="text-xs text-slate-500">
                <tr>
                    <th class="py-1 font-normal">""</th>
                    <th class="py-1 font-normal">"now"</th>
                    <th class="py-1 font-normal">"after"</th>
                    <th class="py-1 font-normal">"nodes offer"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let class = if row.problem.is_some() {
                            "font-medium text-red-700"
                        } else if row.grows {
                            "font-medium"
                        } else {
                            ""
                        };
                        view! {
                            <tr>
                                <th class="py-0.5 pr-2 font-normal text-slate-600">{row.what}</th>
                                <td class="py-0.5 pr-2">{row.before}</td>
                                <td class=format!("py-0.5 pr-2 {class}")>{row.after}</td>
                                <td class="py-0.5">{row.allocatable.unwrap_or_else(|| "—".to_owned())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        {(!problems.is_empty())
            .then(|| {
                view! {
                    <div class="mt-2 rounded-md bg-red-50 p-3 text-red-800" role="alert" data-testid="capacity-problem">
                        <p class="font-medium">"This change does not fit in the cluster:"</p>
                        <ul class="list-disc pl-5">
                            {problems.into_iter().map(|problem| view! { <li>{problem}</li> }).collect_view()}
                        </ul>
                    </div>
                }
            })}
    }
}

/// One written object: its action and path; opened, the fields an update
/// changes and the object's YAML (rendered only when opened).
#[component]
fn ItemRow(item: PreviewItem) -> impl IntoView {
    let (label, colour) = match item.action {
        Action::Create => ("create", "bg-emerald-100 text-emerald-800"),
        Action::Update => ("update", "bg-sky-100 text-sky-800"),
        Action::Delete => ("delete", "bg-red-100 text-red-800"),
        Action::Unchanged => ("unchanged", "bg-slate-100 text-slate-700"),
    };
    let name = match &item.path.namespace {
        Some(namespace) => format!("{namespace}/{}", item.path.name),
        None => item.path.name.clone(),
    };
    let open = RwSignal::new(false);
    let fields = item.fields;
    let body = StoredValue::new(item.body);
    let yaml = move || {
        body.with_value(|body| {
            serde_yaml_ng::to_string(body).unwrap_or_else(|err| format!("# cannot show: {err}"))
        })
    };
    view! {
        <li class="py-1" data-testid="preview-item">
            <button
                type="button"
                class="w-full text-left hover:bg-slate-50"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|open| *open = !*open)
            >
                <span class=format!("mr-2 inline-block rounded px-1.5 text-xs font-medium {colour}")>{label}</span>
                <span class="text-slate-500">{item.path.kind.clone()} " "</span>
                <span class="font-mono break-all">{name}</span>
            </button>
            {move || {
                open.get()
                    .then(|| {
                        view! {
                            {(!fields.is_empty()).then(|| view! { <FieldChanges fields=fields.clone() /> })}
                            <pre class="mt-1 max-h-80 overflow-auto rounded bg-slate-900 p-2 text-xs text-slate-100" data-testid="preview-yaml">
                                {yaml()}
                            </pre>
                        }
                    })
            }}
        </li>
    }
}

/// Each changed field of an update: where, before and after.
#[component]
fn FieldChanges(fields: Vec<FieldChange>) -> impl IntoView {
    let shown = |value: Option<serde_json::Value>| {
        value
            .as_ref()
            .map_or_else(|| "(none)".to_owned(), value_text)
    };
    view! {
        <ul class="mt-1 space-y-0.5 pl-2 font-mono text-xs" data-testid="preview-fields">
            {fields
                .into_iter()
                .map(|field| {
                    view! {
                        <li>
                            <span class="text-slate-500">{field.pointer}</span> ": "
                            <span class="text-red-700 line-through">{shown(field.before)}</span> " → "
                            <span class="text-emerald-700">{shown(field.after)}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
