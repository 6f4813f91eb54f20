//! Settings: how often the control server checks the cluster on its own
//! (the periodic re-check and the drift sweep, changed here at run time and
//! kept across restarts), and, read-only, the installation, the data
//! directory, the database and the cluster connection.

use bi_api::auth::Role;
use bi_model::{FieldError, ReconcileIntervals};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::settings::{
    ResetSystemSettings, SaveSystemSettings, SystemSettings, get_system_settings,
};
use crate::components::access::IfAllowed;
use crate::components::feedback::ErrorNote;
use crate::components::text_field::TextField;
use crate::pages::dashboard::Cluster;
use crate::shell::InstallationState;

const CARD: &str =
    "mt-6 max-w-4xl rounded-lg border border-slate-200 bg-white p-5 text-sm shadow-sm";

/// The Settings page.
#[component]
pub fn Settings() -> impl IntoView {
    let state = expect_context::<InstallationState>();
    let save = ServerAction::<SaveSystemSettings>::new();
    let reset = ServerAction::<ResetSystemSettings>::new();
    let settings = Resource::new(
        move || (save.version().get(), reset.version().get()),
        |_| get_system_settings(),
    );
    view! {
        <Title text="Settings" />
        <h1 class="text-2xl font-semibold">"Settings"</h1>
        <Transition fallback=|| ()>
            {move || {
                settings
                    .get()
                    .map(|result| match result {
                        Ok(current) => view! {
                            <IfAllowed role=Role::Admin>
                                <Intervals current=current.clone() save reset />
                            </IfAllowed>
                        }.into_any(),
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
        <Transition fallback=|| ()>
            {move || {
                let data_dir = settings.get().and_then(Result::ok).map(|s| s.data_dir);
                state
                    .overview
                    .get()
                    .map(|result| match result {
                        Ok(overview) => {
                            view! {
                                <dl class=format!("{CARD} grid grid-cols-1 gap-2 sm:grid-cols-[12rem_1fr]") data-testid="settings">
                                    <dt class="text-slate-500">"Installation"</dt>
                                    <dd>{overview.name.to_string()} " (rename it on the dashboard)"</dd>
                                    <dt class="text-slate-500">"Version"</dt>
                                    <dd>{overview.version.clone()}</dd>
                                    <dt class="text-slate-500">"Database"</dt>
                                    <dd>{overview.database_backend.clone()}</dd>
                                    <dt class="text-slate-500">"Data directory"</dt>
                                    <dd class="break-all font-mono" data-testid="data-dir">{data_dir}</dd>
                                </dl>
                                <p class="mt-2 max-w-4xl text-xs text-slate-500">
                                    "The database, data directory and cluster are set when the server starts (bi serve --database-url, --data-dir, --kubeconfig, --context)."
                                </p>
                                {overview.cluster.map(|cluster| view! { <Cluster cluster /> })}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// The reconcile intervals' form: typed durations, checked as you type.
#[component]
fn Intervals(
    current: SystemSettings,
    save: ServerAction<SaveSystemSettings>,
    reset: ServerAction<ResetSystemSettings>,
) -> impl IntoView {
    let recheck = RwSignal::new(current.reconcile.intervals.recheck_every.to_string());
    let drift = RwSignal::new(current.reconcile.intervals.drift_every.to_string());
    let checked = Memo::new(move |_| ReconcileIntervals::parse(&recheck.get(), &drift.get()));
    let changed = move || {
        checked
            .get()
            .is_ok_and(|wanted| wanted != current.reconcile.intervals)
    };
    let problems = Signal::derive(move || {
        let mut problems: Vec<FieldError> = checked
            .get()
            .err()
            .map(|found| found.iter().cloned().collect())
            .unwrap_or_default();
        if let Some(Err(error)) = save.value().get() {
            problems.extend(error.problems());
        }
        problems
    });
    let other_error = move || {
        [save.value().get(), reset.value().get()]
            .into_iter()
            .flatten()
            .filter_map(Result::err)
            .find(|error| error.problems().is_empty())
    };
    let source = |set_here: bool, default: String, option: &'static str| {
        if set_here {
            format!("Set here; the server's {option} is {default}.")
        } else {
            format!("The server's {option}.")
        }
    };
    let recheck_source = source(
        current.reconcile.recheck_set_here,
        current.reconcile.defaults.recheck_every.to_string(),
        "--recheck-every",
    );
    let drift_source = source(
        current.reconcile.drift_set_here,
        current.reconcile.defaults.drift_every.to_string(),
        "--drift-every",
    );
    let any_set_here = current.reconcile.recheck_set_here || current.reconcile.drift_set_here;
    view! {
        <form
            class=CARD
            data-testid="intervals"
            on:submit=move |ev| {
                ev.prevent_default();
                if checked.get_untracked().is_ok() {
                    save.dispatch(SaveSystemSettings {
                        recheck_every: recheck.get_untracked(),
                        drift_every: drift.get_untracked(),
                    });
                }
            }
        >
            <h2 class="text-base font-semibold">"Keeping the cluster in the desired state"</h2>
            <p class="mt-1 text-slate-600">
                "Besides every change you save, bi re-applies the desired state on a period (counted from the last snapshot) and looks for drift (objects changed behind its back). Changes take effect at once and are kept across restarts."
            </p>
            <div class="mt-3 grid grid-cols-1 gap-4 sm:grid-cols-2">
                <TextField id="recheck_every" label="Re-check every" field="recheck_every" hint="10s to 24h, e.g. 5m" problems note=recheck_source
                    get=move || recheck.get() set=move |v| recheck.set(v) />
                <TextField id="drift_every" label="Look for drift every" field="drift_every" hint="1m to 168h, e.g. 1h" problems note=drift_source
                    get=move || drift.get() set=move |v| drift.set(v) />
            </div>
            {move || other_error().map(|error| view! { <ErrorNote error /> })}
            <div class="mt-4 flex flex-wrap items-center gap-3">
                <button
                    type="submit"
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-50"
                    disabled=move || checked.get().is_err() || !changed() || save.pending().get()
                >
                    "Save"
                </button>
                {any_set_here.then(|| view! {
                    <button
                        type="button"
                        class="rounded-md border border-slate-300 px-3 py-2 text-sm hover:bg-slate-100"
                        on:click=move |_| { reset.dispatch(ResetSystemSettings {}); }
                    >
                        "Use the server's options"
                    </button>
                })}
                {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! {
                    <span class="text-emerald-700" role="status">"Saved."</span>
                })}
            </div>
        </form>
    }
}
