//! Drift on screen: objects changed behind bi's back, from the database
//! (so a restart forgets nothing), with a sweep on demand, a repair and the
//! drift mode. The dashboard shows every finding; a battery's page shows
//! its own.

use bi_api::auth::Role;
use leptos::prelude::*;

use crate::api::drift::{
    DriftFinding, DriftView, RepairDriftNow, SetDriftMode, SweepForDrift, read_drift,
};
use crate::components::access::{IfAllowed, UserState};
use crate::components::feedback::ErrorNote;

const CARD: &str = "mt-6 max-w-4xl card p-5";
const SMALL: &str =
    "rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-100 disabled:opacity-50";

/// The drift card's actions and its reading, made at the page's top level
/// (a resource made inside a rendered panel would be made again at each
/// render, and the browser would not find the server's reading).
#[derive(Clone, Copy)]
pub struct DriftState {
    sweep: ServerAction<SweepForDrift>,
    repair: ServerAction<RepairDriftNow>,
    mode: ServerAction<SetDriftMode>,
    drift: Resource<Result<DriftView, crate::ApiError>>,
}

impl std::fmt::Debug for DriftState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriftState").finish_non_exhaustive()
    }
}

impl Default for DriftState {
    fn default() -> Self {
        Self::new()
    }
}

impl DriftState {
    /// The actions, and the findings read again after each.
    pub fn new() -> Self {
        let sweep = ServerAction::<SweepForDrift>::new();
        let repair = ServerAction::<RepairDriftNow>::new();
        let mode = ServerAction::<SetDriftMode>::new();
        let drift = Resource::new(
            move || {
                (
                    sweep.version().get(),
                    repair.version().get(),
                    mode.version().get(),
                )
            },
            |_| read_drift(),
        );
        Self {
            sweep,
            repair,
            mode,
            drift,
        }
    }
}

/// The drift card: every finding when `app` is None, else the findings of
/// the battery or object `app`.
#[component]
pub fn DriftCard(state: DriftState, #[prop(optional, into)] app: Option<String>) -> impl IntoView {
    let DriftState {
        sweep,
        repair,
        mode,
        drift,
    } = state;
    let user = expect_context::<UserState>();
    let failed = move || {
        [
            sweep.value().get().and_then(Result::err),
            repair.value().get().and_then(Result::err),
            mode.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let app = StoredValue::new(app);
    view! {
        <section class=CARD data-testid="drift">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h2 class="text-base font-semibold">"Drift"</h2>
                <IfAllowed role=Role::Editor>
                    <button
                        type="button"
                        class=SMALL
                        data-testid="drift-check"
                        disabled=move || sweep.pending().get()
                        on:click=move |_| {
                            sweep.dispatch(SweepForDrift {});
                        }
                    >
                        {move || if sweep.pending().get() { "Checking…" } else { "Check now" }}
                    </button>
                </IfAllowed>
            </div>
            {move || failed().map(|error| view! { <ErrorNote error /> })}
            <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || {
                    drift
                        .get()
                        .map(|result| match result {
                            Ok(view) => {
                                let app = app.get_value();
                                findings(view, app, repair, mode, user.may(Role::Editor), user.may(Role::Admin)).into_any()
                            }
                            Err(error) => view! { <ErrorNote error /> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// The card's body: the mode, the last sweep, open and closed findings.
fn findings(
    view: DriftView,
    app: Option<String>,
    repair: ServerAction<RepairDriftNow>,
    mode: ServerAction<SetDriftMode>,
    editor: bool,
    admin: bool,
) -> impl IntoView {
    let mine = |finding: &DriftFinding| app.as_ref().is_none_or(|app| &finding.app == app);
    let open: Vec<DriftFinding> = view.open.iter().filter(|f| mine(f)).cloned().collect();
    let closed: Vec<DriftFinding> = view.closed.iter().filter(|f| mine(f)).cloned().collect();
    let report_only = view.report_only;
    let mode_words = if report_only {
        "Drift is only reported: bi re-applies drifted objects when you ask."
    } else {
        "bi repairs drift on its own: the snapshot after a sweep re-applies what drifted."
    };
    let sweep_words = view
        .last_sweep
        .as_ref()
        .map(|sweep| format!("Last check {}.", sweep.words()));
    let any_open = !open.is_empty();
    view! {
        <p class="mt-2 text-sm text-slate-600" data-testid="drift-mode">
            {mode_words}
            {admin.then(|| view! {
                " "
                <button
                    type="button"
                    class=SMALL
                    data-testid="drift-mode-toggle"
                    on:click=move |_| {
                        mode.dispatch(SetDriftMode { report_only: !report_only });
                    }
                >
                    {if report_only { "Repair on its own" } else { "Only report" }}
                </button>
            })}
        </p>
        {sweep_words.map(|words| view! { <p class="mt-1 text-xs text-slate-500" data-testid="drift-last-sweep">{words}</p> })}
        {if any_open {
            view! {
                <div class="mt-3 flex flex-wrap items-center justify-between gap-2">
                    <p class="text-sm font-medium text-amber-800" data-testid="drift-open-count">
                        {format!("{} changed outside bi", count(open.len()))}
                    </p>
                    {editor.then(|| view! {
                        <button
                            type="button"
                            class=SMALL
                            data-testid="drift-repair"
                            disabled=move || repair.pending().get()
                            on:click=move |_| {
                                repair.dispatch(RepairDriftNow {});
                            }
                        >
                            {move || if repair.pending().get() { "Repairing…" } else { "Repair now" }}
                        </button>
                    })}
                </div>
                {table(open, "drift-open")}
            }
                .into_any()
        } else {
            view! {
                <p class="mt-3 text-sm text-emerald-800" data-testid="drift-none">
                    "No open drift: every object checked is as bi applied it."
                </p>
            }
                .into_any()
        }}
        {(!closed.is_empty()).then(|| view! {
            <details class="mt-3 text-sm">
                <summary class="cursor-pointer text-slate-600">{format!("Closed lately ({})", closed.len())}</summary>
                {table(closed, "drift-closed")}
            </details>
        })}
    }
}

fn count(objects: usize) -> String {
    if objects == 1 {
        "1 object".to_owned()
    } else {
        format!("{objects} objects")
    }
}

/// Findings as rows: object, fields, found, last seen, how it ended.
fn table(findings: Vec<DriftFinding>, testid: &'static str) -> impl IntoView {
    view! {
        <div class="mt-2 overflow-x-auto">
            <table class="w-full text-left text-sm" data-testid=testid>
                <thead class="text-xs uppercase text-slate-500">
                    <tr><th>"Object"</th><th>"Fields"</th><th>"Found"</th><th>"Last seen"</th><th>"Ended"</th></tr>
                </thead>
                <tbody>
                    {findings.into_iter().map(|finding| {
                        let ended = match (&finding.resolution, finding.snapshot) {
                            (Some(resolution), Some(snapshot)) => format!("{resolution} by snapshot {snapshot}"),
                            (Some(resolution), None) => resolution.clone(),
                            _ => "open".to_owned(),
                        };
                        view! {
                            <tr class="border-t border-slate-100 align-top" data-testid="drift-row">
                                <td class="py-1 pr-2 font-mono text-xs break-all">{finding.path.clone()}</td>
                                <td class="pr-2 font-mono text-xs">{finding.fields.join(" ")}</td>
                                <td class="pr-2 text-xs">{finding.found_at.readable_without_zone()}</td>
                                <td class="pr-2 text-xs">{finding.last_seen_at.readable_without_zone()}</td>
                                <td class="text-xs">{ended}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
