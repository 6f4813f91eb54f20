//! Deploys: the snapshot history (`/deploys`) with the orphans and their
//! one-click prune, one snapshot (`/deploys/:id`) with rollback behind a
//! confirmation that shows what will change, and the diff between two
//! snapshots (`/deploys/diff?from=&to=`).

use bi_api::auth::Role;
use bi_model::generate::value_text;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::deploys::{
    PruneOrphans, RollbackTo, SnapshotDiff, SnapshotSummary, diff_snapshots, get_snapshot,
    list_orphans, list_snapshots,
};
use crate::components::access::IfAllowed;
use crate::components::feedback::{ErrorNote, Loading, StatusBadge};

fn counts_text(row: &SnapshotSummary) -> String {
    let counts = row.counts;
    format!(
        "{} created · {} updated · {} unchanged · {} deleted · {} failed · {} held back",
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.deleted,
        counts.failed,
        counts.held_back
    )
}

/// The history list, newest first, with a form to compare two snapshots.
#[component]
pub fn Deploys() -> impl IntoView {
    let snapshots = Resource::new(|| (), |_| list_snapshots());
    view! {
        <Title text="Deploys" />
        <div class="flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold">"Deploys"</h1>
            <a href="/deploys/live" class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">
                "Live plan"
            </a>
        </div>
        <OrphanList />
        <Transition fallback=Loading>
            {move || {
                snapshots
                    .get()
                    .map(|result| match result {
                        Ok(rows) => view! { <History rows /> }.into_any(),
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// The orphans, when there are any: managed objects no inventory knows,
/// which snapshots only report; editors delete them in one click.
#[component]
fn OrphanList() -> impl IntoView {
    let prune = ServerAction::<PruneOrphans>::new();
    let orphans = Resource::new(move || prune.version().get(), |_| list_orphans());
    view! {
        <Transition fallback=|| ()>
            {move || {
                orphans
                    .get()
                    .map(|result| match result {
                        Ok(paths) if paths.is_empty() => ().into_any(),
                        Ok(paths) => {
                            let count = paths.len();
                            view! {
                                <section
                                    class="mt-4 max-w-5xl rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm"
                                    data-testid="orphans"
                                >
                                    <h2 class="font-semibold text-amber-900">
                                        {format!("{count} orphaned object{}", if count == 1 { "" } else { "s" })}
                                    </h2>
                                    <p class="mt-1 text-amber-900">
                                        "Managed by bi (labelled battery/managed) but in no snapshot's inventory: left by another bi or a lost database. Snapshots leave them alone."
                                    </p>
                                    <ul class="mt-2 space-y-0.5">
                                        {paths
                                            .into_iter()
                                            .map(|path| view! {
                                                <li class="break-all font-mono text-xs" data-testid="orphan">{path}</li>
                                            })
                                            .collect_view()}
                                    </ul>
                                    <IfAllowed role=Role::Editor>
                                        <button
                                            type="button"
                                            class="mt-3 rounded-md bg-amber-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-amber-500 disabled:opacity-50"
                                            disabled=move || prune.pending().get()
                                            on:click=move |_| {
                                                prune.dispatch(PruneOrphans { paths: None });
                                            }
                                        >
                                            {move || if prune.pending().get() { "Deleting…" } else { "Delete them" }}
                                        </button>
                                    </IfAllowed>
                                </section>
                            }
                            .into_any()
                        }
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
        {move || {
            prune
                .value()
                .get()
                .map(|result| match result {
                    Ok(done) => view! {
                        <p class="mt-2 text-sm text-slate-700" data-testid="orphans-pruned">
                            {format!(
                                "Snapshot {} deleted {} orphan{}{}.",
                                done.snapshot,
                                done.deleted.len(),
                                if done.deleted.len() == 1 { "" } else { "s" },
                                if done.refused.is_empty() {
                                    String::new()
                                } else {
                                    format!("; {} refused (see the snapshot)", done.refused.len())
                                },
                            )}
                        </p>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })
        }}
    }
}

#[component]
fn History(rows: Vec<SnapshotSummary>) -> impl IntoView {
    let newest = rows.first().map(|row| row.id);
    let previous = rows.get(1).map(|row| row.id);
    let options = rows
        .iter()
        .map(|row| view! { <option value=row.id.to_string()>{format!("Snapshot {}", row.id)}</option> })
        .collect_view();
    let options_to = rows
        .iter()
        .map(|row| view! { <option value=row.id.to_string()>{format!("Snapshot {}", row.id)}</option> })
        .collect_view();
    view! {
        <form method="get" action="/deploys/diff" class="mt-4 flex flex-wrap items-end gap-2 text-sm">
            <label class="flex flex-col">
                "From"
                <select name="from" class="rounded-md border border-slate-300 px-2 py-1" prop:value=previous.map(|id| id.to_string()).unwrap_or_default()>
                    {options}
                </select>
            </label>
            <label class="flex flex-col">
                "To"
                <select name="to" class="rounded-md border border-slate-300 px-2 py-1" prop:value=newest.map(|id| id.to_string()).unwrap_or_default()>
                    {options_to}
                </select>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-100">
                "Compare"
            </button>
        </form>
        <ul class="mt-4 max-w-5xl divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" data-testid="snapshots">
            {rows
                .into_iter()
                .map(|row| {
                    let counts = counts_text(&row);
                    view! {
                        <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3 text-sm" data-testid="snapshot-row">
                            <a href=format!("/deploys/{}", row.id) class="font-medium text-indigo-700 hover:underline">
                                {format!("Snapshot {}", row.id)}
                            </a>
                            <StatusBadge status=row.status.to_string() />
                            <span class="text-slate-600">
                                {format!("version {} · {}", row.desired_version, row.trigger)}
                            </span>
                            <span class="text-slate-500">{row.started_at.readable()}</span>
                            <span class="w-full text-xs text-slate-500">{counts}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// One snapshot: its summary, every object and outcome, and rollback.
#[component]
pub fn SnapshotPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let snapshot = Resource::new(id, get_snapshot);
    view! {
        <Title text="Snapshot" />
        <p class="text-sm text-slate-500">
            <a href="/deploys" class="hover:underline">"Deploys"</a>
        </p>
        <Transition fallback=Loading>
            {move || {
                snapshot
                    .get()
                    .map(|result| match result {
                        Ok(view) => {
                            let summary = view.summary.clone();
                            view! {
                                <div class="mt-1 flex flex-wrap items-center gap-3">
                                    <h1 class="text-2xl font-semibold">{format!("Snapshot {}", summary.id)}</h1>
                                    <StatusBadge status=summary.status.to_string() />
                                </div>
                                <p class="mt-1 text-sm text-slate-600">
                                    {format!(
                                        "Applied desired-state version {} ({}), started {}.",
                                        summary.desired_version, summary.trigger, summary.started_at.readable()
                                    )}
                                </p>
                                <p class="mt-1 text-sm text-slate-600">{counts_text(&summary)}</p>
                                <IfAllowed role=Role::Editor>
                                    <Rollback id=summary.id />
                                </IfAllowed>
                                <ul class="mt-6 max-w-5xl divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm">
                                    {view
                                        .resources
                                        .into_iter()
                                        .map(|resource| {
                                            view! {
                                                <li class="flex flex-wrap items-center gap-2 px-4 py-2">
                                                    <StatusBadge status=resource.outcome />
                                                    <span class="text-xs text-slate-500">{resource.action}</span>
                                                    <span class="min-w-0 break-all font-mono text-xs">{resource.path}</span>
                                                    {resource.message.map(|message| view! {
                                                        <span class="w-full text-xs text-red-700">{message}</span>
                                                    })}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// Rollback to snapshot `id`: first the diff from the newest snapshot to
/// it, then the confirmation.
#[component]
fn Rollback(id: i64) -> impl IntoView {
    let asked = RwSignal::new(false);
    let rollback = ServerAction::<RollbackTo>::new();
    let preview = Resource::new(
        move || asked.get(),
        move |asked| async move {
            if !asked {
                return None;
            }
            let newest = match list_snapshots().await {
                Ok(rows) => rows.first().map(|row| row.id),
                Err(error) => return Some(Err(error)),
            };
            let newest = newest?;
            Some(diff_snapshots(newest, id).await)
        },
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(done)) = rollback.value().get() {
            navigate(
                &format!("/deploys/live?after={}", done.desired_version),
                Default::default(),
            );
        }
    });
    view! {
        <section class="mt-4 max-w-5xl">
            <button
                type="button"
                class="rounded-md border border-amber-400 bg-amber-50 px-4 py-2 text-sm font-medium text-amber-900 hover:bg-amber-100"
                on:click=move |_| asked.set(true)
            >
                "Roll back to this snapshot…"
            </button>
            <Show when=move || asked.get()>
                <div class="mt-3 rounded-lg border border-amber-300 bg-white p-4" data-testid="rollback-confirm">
                    <h2 class="font-semibold">"What will change"</h2>
                    <Transition fallback=|| view! { <p class="text-sm">"Comparing…"</p> }>
                        {move || {
                            preview
                                .get()
                                .flatten()
                                .map(|result| match result {
                                    Ok(diff) => view! { <DiffList diff /> }.into_any(),
                                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                                })
                        }}
                    </Transition>
                    <button
                        type="button"
                        class="mt-3 rounded-md bg-amber-600 px-4 py-2 text-sm font-medium text-white hover:bg-amber-500 disabled:opacity-50"
                        disabled=move || rollback.pending().get()
                        on:click=move |_| {
                            rollback.dispatch(RollbackTo { id });
                        }
                    >
                        {move || if rollback.pending().get() { "Rolling back…" } else { "Confirm rollback" }}
                    </button>
                    {move || rollback.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error /> })}
                </div>
            </Show>
        </section>
    }
}

/// The diff page: `?from=A&to=B`.
#[component]
pub fn DiffPage() -> impl IntoView {
    let query = use_query_map();
    let pair = move || {
        let query = query.read();
        let number = |key: &str| query.get(key).and_then(|text| text.parse::<i64>().ok());
        (number("from").unwrap_or(0), number("to").unwrap_or(0))
    };
    let diff = Resource::new(pair, |(from, to)| diff_snapshots(from, to));
    view! {
        <Title text="Diff" />
        <p class="text-sm text-slate-500">
            <a href="/deploys" class="hover:underline">"Deploys"</a>
        </p>
        <h1 class="mt-1 text-2xl font-semibold">
            {move || {
                let (from, to) = pair();
                format!("Snapshot {from} → snapshot {to}")
            }}
        </h1>
        <Transition fallback=Loading>
            {move || {
                diff.get()
                    .map(|result| match result {
                        Ok(diff) => view! { <DiffList diff /> }.into_any(),
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// Added, removed and changed objects, with the fields that differ.
#[component]
fn DiffList(diff: SnapshotDiff) -> impl IntoView {
    let nothing = diff.added.is_empty() && diff.removed.is_empty() && diff.changed.is_empty();
    view! {
        <div class="mt-3 space-y-2 text-sm" data-testid="diff">
            {nothing.then(|| view! { <p class="text-slate-600">"Nothing differs."</p> })}
            {diff
                .added
                .into_iter()
                .map(|path| view! {
                    <p class="break-all font-mono text-xs text-emerald-800">{format!("+ {path}")}</p>
                })
                .collect_view()}
            {diff
                .removed
                .into_iter()
                .map(|path| view! {
                    <p class="break-all font-mono text-xs text-red-800">{format!("− {path}")}</p>
                })
                .collect_view()}
            {diff
                .changed
                .into_iter()
                .map(|changed| {
                    view! {
                        <div>
                            <p class="break-all font-mono text-xs text-amber-800">{format!("~ {}", changed.path)}</p>
                            <ul class="ml-4 text-xs">
                                {changed
                                    .fields
                                    .into_iter()
                                    .map(|field| view! {
                                        <li class="break-all font-mono">
                                            {format!(
                                                "{}: {} → {}",
                                                field.pointer,
                                                field.before.as_ref().map_or_else(|| "(absent)".into(), value_text),
                                                field.after.as_ref().map_or_else(|| "(absent)".into(), value_text),
                                            )}
                                        </li>
                                    })
                                    .collect_view()}
                            </ul>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}
