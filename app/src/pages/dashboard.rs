//! The dashboard: what this installation is, its installed batteries, the
//! last snapshots, health and capacity, where to open things, drift, the
//! recent audit trail, and renaming it.

use bi_api::auth::Role;
use bi_api::health::{AppRow, HealthSummary, HealthView, Usage};
use bi_model::{ClusterSummary, InstallationName, InstallationOverview};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::ApiError;
use crate::api::dashboard::{
    AuditEntry, DashboardCards, InstalledBattery, SnapshotSummary, dashboard_view,
};
use crate::api::health::InstallationHealth;
use crate::api::installation::RenameInstallation;
use crate::components::access::IfAllowed;
use crate::components::addresses::ReachSummary;
use crate::components::feedback::{ErrorNote, StatusBadge, status_class};
use crate::shell::InstallationState;

/// The installation's facts and the cards, each card from one read of
/// the dashboard's server function (one suspense boundary for all).
#[component]
pub fn Dashboard() -> impl IntoView {
    let state = expect_context::<InstallationState>();
    let drift = super::drift::DriftState::new();
    let cards = Resource::new(|| (), |_| dashboard_view());
    let every_app = EveryApp::new();
    view! {
        <Title text="Dashboard" />
        <h1 class="text-2xl font-semibold">"Dashboard"</h1>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
            {move || {
                state
                    .overview
                    .get()
                    .map(|overview| match overview {
                        Ok(overview) => {
                            let cluster = overview.cluster.clone();
                            view! {
                                <Overview overview />
                                {cluster.map(|cluster| view! { <Cluster cluster /> })}
                            }
                                .into_any()
                        }
                        Err(err) => {
                            view! {
                                <p class="mt-6 text-red-700" role="alert">
                                    {err.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
            {move || {
                cards
                    .get()
                    .map(move |result| match result {
                        Ok(view) => Either::Left(cards_view(view, every_app)),
                        Err(error) => Either::Right(view! { <ErrorNote error /> }),
                    })
            }}
        </Transition>
        <super::drift::DriftCard state=drift />
        <IfAllowed role=Role::Editor>
            <RenameForm rename=state.rename />
        </IfAllowed>
    }
}

/// The cards, each showing its part or the error reading it.
fn cards_view(view: DashboardCards, every_app: EveryApp) -> AnyView {
    let DashboardCards {
        batteries,
        snapshots,
        reach,
        health,
        activity,
    } = view;
    view! {
        <div class="mt-6 grid max-w-4xl grid-cols-1 gap-6 lg:grid-cols-2">
            <Card title="Installed batteries" testid="installed-batteries">
                {shown(batteries, installed_batteries)}
            </Card>
            <Card title="Last snapshots" testid="last-snapshots">
                {shown(snapshots, last_snapshots)}
            </Card>
        </div>
        <div class="mt-6 max-w-4xl">
            <Card title="Health and capacity" testid="health">
                {shown(health, move |summary| health_card(summary, every_app))}
            </Card>
        </div>
        <div class="mt-6 max-w-4xl">
            <Card title="Open" testid="open">
                {shown(reach, |reach| view! { <ReachSummary reach /> })}
            </Card>
        </div>
        <div class="mt-6 max-w-4xl">
            <Card title="Recent activity" testid="recent-activity">
                {shown(activity, recent_activity)}
            </Card>
        </div>
    }
    .into_any()
}

/// `show` of the part, or the error reading it.
fn shown<T, V: IntoView>(part: Result<T, ApiError>, show: impl FnOnce(T) -> V) -> impl IntoView {
    match part {
        Ok(value) => Either::Left(show(value)),
        Err(error) => Either::Right(view! { <ErrorNote error /> }),
    }
}

/// A card with a title, for the dashboard's lists.
#[component]
fn Card(title: &'static str, testid: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="card min-w-0 p-5" data-testid=testid>
            <h2 class="text-base font-semibold">{title}</h2>
            {children()}
        </section>
    }
}

/// The installed batteries, each linking to its page.
fn installed_batteries(rows: Vec<InstalledBattery>) -> impl IntoView {
    view! {
        <ul class="mt-2 flex flex-wrap gap-2 text-sm">
            {rows
                .into_iter()
                .map(|row| {
                    view! {
                        <li>
                            <a
                                href=format!("/batteries/{}", row.kind.id())
                                class="chip"
                                data-testid=format!("installed-{}", row.kind.id())
                            >
                                {row.name}
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The newest snapshots with their status.
fn last_snapshots(rows: Vec<SnapshotSummary>) -> impl IntoView {
    view! {
        <ul class="mt-2 space-y-1 text-sm">
            {rows.is_empty().then(|| view! { <li class="text-slate-500">"No snapshot yet."</li> })}
            {rows
                .into_iter()
                .map(|row| {
                    view! {
                        <li class="flex flex-wrap items-center gap-2">
                            <a href=format!("/deploys/{}", row.id) class="text-indigo-700 hover:underline">
                                {format!("Snapshot {}", row.id)}
                            </a>
                            <StatusBadge status=row.status.to_string() />
                            <span class="text-xs text-slate-500">{row.trigger}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The "every app" list of the health card: fetched when opened (the
/// dashboard itself carries only the apps that need attention), again at
/// each opening so it is current.
#[derive(Clone, Copy)]
struct EveryApp {
    open: RwSignal<bool>,
    read: ServerAction<InstallationHealth>,
}

impl EveryApp {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            read: ServerAction::<InstallationHealth>::new(),
        }
    }

    /// Opens the list (reading it) or closes it.
    fn toggle(self) {
        let open = !self.open.get_untracked();
        if open {
            self.read.dispatch(InstallationHealth {});
        }
        self.open.set(open);
    }
}

/// Capacity, how many apps are in each readiness, the apps that need
/// attention, and every app on demand.
fn health_card(summary: HealthSummary, every_app: EveryApp) -> impl IntoView {
    let HealthSummary {
        usage,
        nodes,
        apps,
        counts,
        attention,
    } = summary;
    let calm = attention.is_empty();
    view! {
        <div class="mt-3 space-y-2">
            {usage.into_iter().map(usage_meter).collect_view()}
            <p class="text-xs text-slate-500">{format!("{nodes} nodes")}</p>
        </div>
        <p class="mt-4 flex flex-wrap items-center gap-2 text-sm" data-testid="health-counts">
            {format!("{apps} apps:")}
            {counts
                .into_iter()
                .map(|(word, count)| {
                    view! {
                        <span class=status_class(&word) data-testid=format!("count-{word}")>
                            {format!("{count} {word}")}
                        </span>
                    }
                })
                .collect_view()}
        </p>
        {if calm {
            Either::Left(view! {
                <p class="mt-2 text-sm text-emerald-800" data-testid="health-calm">
                    "Every app with workloads has all its replicas ready."
                </p>
            })
        } else {
            Either::Right(view! {
                <ul class="mt-2 divide-y divide-slate-100 text-sm" data-testid="health-attention">
                    {attention.into_iter().map(|app| app_row(app, "health")).collect_view()}
                </ul>
            })
        }}
        <button
            type="button"
            class="mt-3 text-sm text-indigo-700 hover:underline"
            data-testid="every-app"
            aria-expanded=move || every_app.open.get().to_string()
            on:click=move |_| every_app.toggle()
        >
            {move || {
                if every_app.open.get() {
                    "Hide the list of every app".to_owned()
                } else {
                    format!("Show every app ({apps})")
                }
            }}
        </button>
        {move || every_app.open.get().then(|| every_app_list(every_app.read))}
    }
}

/// Every app as the health card's rows, once read.
fn every_app_list(read: ServerAction<InstallationHealth>) -> impl IntoView {
    move || match read.value().get() {
        None => Either::Left(view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }),
        Some(result) => Either::Right(shown(result, |view: HealthView| {
            view! {
                <ul class="mt-2 divide-y divide-slate-100 text-sm" data-testid="every-app-list">
                    {view.apps.into_iter().map(|app| app_row(app, "app")).collect_view()}
                </ul>
            }
        })),
    }
}

/// One resource's use, with a meter where it is bounded.
fn usage_meter(usage: Usage) -> impl IntoView {
    let width = usage.percent.map(|p| p.min(100));
    let over = usage.percent.is_some_and(|p| p > 100);
    let what = usage.what.clone();
    let testid = format!("usage-{}", usage.what.to_lowercase());
    view! {
        <div class="text-sm" data-testid=testid>
            <div class="flex flex-wrap justify-between gap-2">
                <span class="font-medium">{usage.what}</span>
                <span class=if over { "text-red-700" } else { "text-slate-600" }>{usage.words}</span>
            </div>
            {width.map(|width| view! {
                <meter
                    class="mt-1 h-2 w-full"
                    min="0"
                    max="100"
                    high="90"
                    optimum="0"
                    value=width.to_string()
                    aria-label=format!("{} requested", what)
                >
                    {format!("{width}%")}
                </meter>
            })}
        </div>
    }
}

/// An app's name, replicas and readiness; `prefix` names its test id.
fn app_row(app: AppRow, prefix: &'static str) -> impl IntoView {
    let replicas = (app.desired > 0).then(|| format!("{}/{} ready", app.ready, app.desired));
    view! {
        <li class="flex flex-wrap items-center justify-between gap-2 py-1" data-testid=format!("{prefix}-{}", app.app)>
            <span>{app.name}</span>
            <span class="flex items-center gap-2">
                <span class="text-xs text-slate-500">{replicas}</span>
                <StatusBadge status=app.readiness />
            </span>
        </li>
    }
}

/// The newest changes of the audit trail: who, when, what.
fn recent_activity(rows: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <ul class="mt-2 divide-y divide-slate-100 text-sm">
            {rows
                .into_iter()
                .map(|row| {
                    view! {
                        <li class="flex flex-wrap gap-x-3 py-1">
                            <span class="text-slate-500">{format!("v{}", row.version)}</span>
                            <span class="min-w-0 flex-1 break-words">{row.summary}</span>
                            <span class="text-xs text-slate-500">
                                {format!("{} · {}", row.author, row.created_at.readable())}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The cards with the installation's facts.
#[component]
fn Overview(overview: InstallationOverview) -> impl IntoView {
    // "2026-11-24T23:47:05Z" reads as "2026-11-24 23:47 UTC"; the exact time is the tooltip.
    let created = overview.created_at.get(..16).map_or_else(
        || overview.created_at.clone(),
        |minutes| format!("{} UTC", minutes.replace('T', " ")),
    );
    let facts = [
        (
            "Installation",
            overview.name.to_string(),
            "installation-name",
            None,
        ),
        ("Version", overview.version, "version", None),
        (
            "Database",
            overview.database_backend,
            "database-backend",
            None,
        ),
        ("Created", created, "created-at", Some(overview.created_at)),
    ];
    view! {
        <dl class="mt-6 grid max-w-4xl grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4">
            {facts
                .into_iter()
                .map(|(label, value, testid, title)| {
                    view! {
                        <div class="card p-4">
                            <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">
                                {label}
                            </dt>
                            <dd class="mt-1 truncate text-base font-semibold" data-testid=testid title=title>
                                {value}
                            </dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

/// Where the cluster is, and a plain warning when it is the sandbox.
#[component]
pub fn Cluster(cluster: ClusterSummary) -> impl IntoView {
    view! {
        <section
            class="mt-6 max-w-4xl card p-5"
            data-testid="cluster"
        >
            <h2 class="text-base font-semibold">
                {if cluster.sandbox { "Cluster: embedded sandbox" } else { "Cluster" }}
            </h2>
            {cluster
                .sandbox
                .then(|| {
                    view! {
                        <p class="mt-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
                            "This is bi's sandbox: it speaks the Kubernetes API and stores every object, but nothing runs in it. Connect a real cluster to run workloads."
                        </p>
                    }
                })}
            <dl class="mt-3 grid grid-cols-1 gap-2 text-sm sm:grid-cols-[8rem_1fr]">
                <dt class="text-slate-500">"API server"</dt>
                <dd class="font-mono" data-testid="cluster-url">{cluster.url}</dd>
                {cluster
                    .kubeconfig
                    .map(|path| {
                        view! {
                            <dt class="text-slate-500">"kubeconfig"</dt>
                            <dd class="font-mono break-all" data-testid="cluster-kubeconfig">{path}</dd>
                        }
                    })}
            </dl>
        </section>
    }
}

/// Renames the installation. The name is checked as you type by the same
/// `bi-model` rule the server applies again before storing it.
#[component]
fn RenameForm(rename: ServerAction<RenameInstallation>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let checked = Memo::new(move |_| {
        let text = draft.get();
        (!text.trim().is_empty()).then(|| InstallationName::parse(&text))
    });
    let local_error = move || checked.get().and_then(Result::err).map(|err| err.message);
    let can_save = move || matches!(checked.get(), Some(Ok(_))) && !rename.pending().get();
    let server_result = move || {
        rename.value().get().map(|result| match result {
            Ok(overview) => view! {
                <p class="mt-2 text-sm text-emerald-700" role="status" data-testid="rename-saved">
                    "Renamed to " {overview.name.to_string()} "."
                </p>
            }
            .into_any(),
            Err(ApiError::Invalid(err)) => view! {
                <p class="mt-2 text-sm text-red-700" role="alert">{err.message}</p>
            }
            .into_any(),
            Err(err) => view! {
                <p class="mt-2 text-sm text-red-700" role="alert">{err.to_string()}</p>
            }
            .into_any(),
        })
    };
    let save = move || {
        if can_save() {
            rename.dispatch(RenameInstallation {
                name: draft.get_untracked(),
            });
        }
    };

    view! {
        <section class="mt-8 max-w-xl card p-5">
            <h2 class="text-base font-semibold">"Rename installation"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Lowercase letters, digits and '-', up to 63 characters, starting with a letter."
            </p>
            <form
                class="mt-3 flex gap-2"
                on:submit=move |ev| {
                    ev.prevent_default();
                    save();
                }
            >
                <label for="installation-name-input" class="sr-only">"New name"</label>
                <input
                    id="installation-name-input"
                    name="name"
                    type="text"
                    autocomplete="off"
                    placeholder="e.g. prod-eu-1"
                    class="flex-1 rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200 aria-[invalid=true]:border-red-500"
                    aria-invalid=move || local_error().is_some().to_string()
                    aria-describedby="installation-name-error"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
                <button
                    type="submit"
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-50"
                    disabled=move || !can_save()
                >
                    {move || if rename.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </form>
            <p
                id="installation-name-error"
                class="mt-2 text-sm text-red-700"
                data-testid="rename-error"
            >
                {local_error}
            </p>
            {server_result}
        </section>
    }
}
