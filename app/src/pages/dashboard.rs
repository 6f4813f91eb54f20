//! The dashboard: what this installation is, its installed batteries, the
//! last snapshots, the recent audit trail, and renaming it.

use bi_api::auth::Role;
use bi_model::{ClusterSummary, InstallationName, InstallationOverview};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiError;
use crate::api::activity::recent_changes;
use crate::api::batteries::installed_batteries;
use crate::api::deploys::list_snapshots;
use crate::api::health::installation_health;
use crate::api::installation::RenameInstallation;
use crate::api::reach::installation_reach;
use crate::components::access::IfAllowed;
use crate::components::addresses::ReachSummary;
use crate::components::feedback::{ErrorNote, StatusBadge};
use crate::shell::InstallationState;

/// The installation's facts, fetched through a server function.
#[component]
pub fn Dashboard() -> impl IntoView {
    let state = expect_context::<InstallationState>();
    let drift = super::drift::DriftState::new();
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
        <div class="mt-6 grid max-w-4xl grid-cols-1 gap-6 lg:grid-cols-2">
            <InstalledBatteries />
            <LastSnapshots />
        </div>
        <Open />
        <ClusterHealth />
        <super::drift::DriftCard state=drift />
        <RecentActivity />
        <IfAllowed role=Role::Editor>
            <RenameForm rename=state.rename />
        </IfAllowed>
    }
}

/// A card with a title, for the dashboard's lists.
#[component]
fn Card(title: &'static str, testid: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="min-w-0 rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid=testid>
            <h2 class="text-base font-semibold">{title}</h2>
            {children()}
        </section>
    }
}

/// A [`Card`] showing `resource` with `show` once it is loaded, or the
/// error where it failed.
#[component]
fn LoadedCard<T, F, V>(
    title: &'static str,
    testid: &'static str,
    resource: Resource<Result<T, ApiError>>,
    show: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Card title testid>
            <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || {
                    let show = show.clone();
                    resource
                        .get()
                        .map(move |result| match result {
                            Ok(value) => Either::Left(show(value)),
                            Err(error) => Either::Right(view! { <ErrorNote error /> }),
                        })
                }}
            </Transition>
        </Card>
    }
}

/// The installed batteries, each linking to its page.
#[component]
fn InstalledBatteries() -> impl IntoView {
    let batteries = Resource::new(|| (), |_| installed_batteries());
    view! {
            <LoadedCard title="Installed batteries" testid="installed-batteries" resource=batteries show=move |rows| {
                                    view! {
                                        <ul class="mt-2 flex flex-wrap gap-2 text-sm">
                                            {rows
                                                .into_iter()
                                                .map(|row| {
                                                    view! {
                                                        <li>
                                                            <a
                                                                href=format!("/batteries/{}", row.kind.id())
                                                                class="inline-block rounded-md bg-emerald-50 px-2 py-1 text-emerald-800 hover:underline"
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
    } />
        }
}

/// Where to open each battery UI and exposed service.
#[component]
fn Open() -> impl IntoView {
    let reach = Resource::new(|| (), |_| installation_reach());
    view! {
        <div class="mt-6 max-w-4xl">
            <LoadedCard title="Open" testid="open" resource=reach show=move |reach| view! { <ReachSummary reach /> } />
        </div>
    }
}

/// The five newest snapshots with their status.
#[component]
fn LastSnapshots() -> impl IntoView {
    let snapshots = Resource::new(|| (), |_| list_snapshots());
    view! {
            <LoadedCard title="Last snapshots" testid="last-snapshots" resource=snapshots show=move |rows| {
                                    view! {
                                        <ul class="mt-2 space-y-1 text-sm">
                                            {rows.is_empty().then(|| view! { <li class="text-slate-500">"No snapshot yet."</li> })}
                                            {rows
                                                .into_iter()
                                                .take(5)
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
    } />
        }
}

/// Each battery's and object's readiness in the cluster, and the capacity
/// the desired state requests of what the nodes offer.
#[component]
fn ClusterHealth() -> impl IntoView {
    let health = Resource::new(|| (), |_| installation_health());
    view! {
            <div class="mt-6 max-w-4xl">
                <LoadedCard title="Health and capacity" testid="health" resource=health show=move |view| {
                                        view! {
                                            <div class="mt-3 space-y-2">
                                                {view
                                                    .usage
                                                    .into_iter()
                                                    .map(|usage| {
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
                                                    })
                                                    .collect_view()}
                                                <p class="text-xs text-slate-500">{format!("{} nodes", view.nodes)}</p>
                                            </div>
                                            <ul class="mt-4 divide-y divide-slate-100 text-sm">
                                                {view
                                                    .apps
                                                    .into_iter()
                                                    .map(|app| {
                                                        let replicas = (app.desired > 0)
                                                            .then(|| format!("{}/{} ready", app.ready, app.desired));
                                                        view! {
                                                            <li class="flex flex-wrap items-center justify-between gap-2 py-1" data-testid=format!("health-{}", app.app)>
                                                                <span>{app.name}</span>
                                                                <span class="flex items-center gap-2">
                                                                    <span class="text-xs text-slate-500">{replicas}</span>
                                                                    <ReadinessBadge readiness=app.readiness />
                                                                </span>
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
    } />
            </div>
        }
}

/// `ready` in green, `progressing` in blue, `missing` in amber, else grey.
#[component]
fn ReadinessBadge(readiness: String) -> impl IntoView {
    let colour = match readiness.as_str() {
        "ready" => "bg-emerald-100 text-emerald-800",
        "progressing" => "bg-sky-100 text-sky-800",
        "missing" => "bg-amber-100 text-amber-800",
        _ => "bg-slate-100 text-slate-700",
    };
    view! {
        <span class=format!("inline-block rounded-full px-2 py-0.5 text-xs font-medium {colour}")>
            {readiness}
        </span>
    }
}

/// The newest changes of the audit trail: who, when, what.
#[component]
fn RecentActivity() -> impl IntoView {
    let changes = Resource::new(|| (), |_| recent_changes());
    view! {
            <div class="mt-6 max-w-4xl">
                <LoadedCard title="Recent activity" testid="recent-activity" resource=changes show=move |rows| {
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
    } />
            </div>
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
                        <div class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
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
            class="mt-6 max-w-4xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
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
        <section class="mt-8 max-w-xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
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
