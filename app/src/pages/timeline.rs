//! `/timeline`: what happened in the cluster (its Events) and in bi
//! (changes, snapshots, drift, deletions, undeletes), newest first, with
//! filters kept in the URL; read again each time bi writes it (server-sent
//! events from `/api/v1/timeline/changes`).
//! `/deleted`: the archive of objects bi managed that were deleted, with
//! an undelete for each and, at `?show=ID`, one's last body.

use bi_api::auth::Role;
use bi_api::timeline::CATEGORIES;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::explorer::encode;
use crate::api::timeline::{
    DeletedObject, TimelineEntry, TimelinePage, TimelineQuery, UndeleteObject, read_deleted,
    read_deleted_object, read_timeline,
};
use crate::components::access::IfAllowed;
use crate::components::feedback::ErrorNote;

const CARD: &str = "mt-4 min-w-0 card p-4";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 text-sm";
const SMALL: &str =
    "rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-100 disabled:opacity-50";

/// The server-sent events that say bi wrote the timeline or the archive.
#[cfg(feature = "hydrate")]
const CHANGES: &str = "/api/v1/timeline/changes";

/// The filter fields, as they appear in the URL.
const FIELDS: [(&str, &str, &str); 5] = [
    ("battery", "Battery", "redis"),
    ("project", "Project", "shop"),
    ("kind", "Kind", "Deployment"),
    ("category", "Category", ""),
    ("search", "Search", "BackOff"),
];

/// `/timeline`.
#[component]
pub fn Timeline() -> impl IntoView {
    let query = use_query_map();
    let read = move |key: &str| query.with(|q| q.get(key).filter(|v| !v.trim().is_empty()));
    let wanted = move || TimelineQuery {
        battery: read("battery"),
        project: read("project"),
        kind: read("kind"),
        category: read("category"),
        warnings: read("warnings").is_some_and(|v| v == "true"),
        search: read("search"),
        before: read("before").and_then(|v| v.parse().ok()),
        limit: None,
    };
    let written = RwSignal::new(0_u64);
    let page = Resource::new(
        move || (wanted(), written.get()),
        |(query, _)| read_timeline(query),
    );
    #[cfg(feature = "hydrate")]
    super::explorer::follow_stream(CHANGES, written);
    view! {
        <Title text="Timeline" />
        <h1 class="text-2xl font-semibold">"Timeline"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "What happened in the cluster and in bi: Kubernetes Events, changes and who made them, snapshots, drift, deletions and undeletes. "
            <a href="/deleted" class="text-indigo-700 hover:underline">"Deleted objects"</a>
        </p>
        <section class=CARD>
            <TimelineFilters wanted=Signal::derive(wanted) />
        </section>
        <section class=CARD data-testid="timeline">
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || page.get().map(|result| match result {
                    Ok(page) => timeline_table(page, wanted()).into_any(),
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The URL of the timeline narrowed by `query`.
fn timeline_href(query: &TimelineQuery) -> String {
    let mut parts = Vec::new();
    for (key, value) in [
        ("battery", &query.battery),
        ("project", &query.project),
        ("kind", &query.kind),
        ("category", &query.category),
        ("search", &query.search),
    ] {
        if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            parts.push(format!("{key}={}", encode(value)));
        }
    }
    if query.warnings {
        parts.push("warnings=true".to_owned());
    }
    if let Some(before) = query.before {
        parts.push(format!("before={before}"));
    }
    if parts.is_empty() {
        "/timeline".to_owned()
    } else {
        format!("/timeline?{}", parts.join("&"))
    }
}

#[component]
fn TimelineFilters(wanted: Signal<TimelineQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let values: Vec<RwSignal<String>> = FIELDS
        .iter()
        .map(|_| RwSignal::new(String::new()))
        .collect();
    let warnings = RwSignal::new(false);
    let fields = StoredValue::new(values.clone());
    Effect::new(move |_| {
        let query = wanted.get();
        let now = [
            query.battery,
            query.project,
            query.kind,
            query.category,
            query.search,
        ];
        for (signal, value) in fields.get_value().iter().zip(now) {
            signal.set(value.unwrap_or_default());
        }
        warnings.set(query.warnings);
    });
    let inputs = FIELDS
        .iter()
        .zip(values)
        .map(|((key, label, placeholder), value)| {
            if *key == "category" {
                return view! {
                    <label class="block text-xs text-slate-600">
                        {*label}
                        <select class=INPUT name=*key data-testid="timeline-category"
                            prop:value=move || value.get()
                            on:change=move |ev| value.set(event_target_value(&ev))>
                            <option value="">"any"</option>
                            {CATEGORIES.iter().map(|category| view! { <option value=*category>{*category}</option> }).collect_view()}
                        </select>
                    </label>
                }
                .into_any();
            }
            view! {
                <label class="block text-xs text-slate-600">
                    {*label}
                    <input class=INPUT name=*key placeholder=*placeholder data-testid=format!("timeline-{key}")
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev)) />
                </label>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <form
            method="get"
            action="/timeline"
            class="grid grid-cols-1 gap-2 sm:grid-cols-3 lg:grid-cols-[repeat(5,1fr)_auto_auto] lg:items-end"
            data-testid="timeline-filters"
            on:submit=move |ev| {
                ev.prevent_default();
                let get = |i: usize| {
                    let value = fields.get_value()[i].get_untracked();
                    Some(value).filter(|v| !v.trim().is_empty())
                };
                let query = TimelineQuery {
                    battery: get(0),
                    project: get(1),
                    kind: get(2),
                    category: get(3),
                    search: get(4),
                    warnings: warnings.get_untracked(),
                    ..TimelineQuery::default()
                };
                navigate(&timeline_href(&query), Default::default());
            }
        >
            {inputs}
            <label class="flex items-center gap-1 text-xs text-slate-600">
                <input type="checkbox" name="warnings" value="true" data-testid="timeline-warnings"
                    prop:checked=move || warnings.get()
                    on:change=move |ev| warnings.set(event_target_checked(&ev)) />
                "Warnings only"
            </label>
            <button type="submit" class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">"Filter"</button>
        </form>
    }
}

fn timeline_table(page: TimelinePage, query: TimelineQuery) -> impl IntoView {
    let recording = if page.recording {
        format!(
            "Recording; entries are kept for {}.",
            page.retention.unwrap_or_default()
        )
    } else {
        "Not recording: install the Timeline battery to record what happens. What was recorded stays until its retention ends.".to_owned()
    };
    let older = page.next_before.map(|before| {
        timeline_href(&TimelineQuery {
            before: Some(before),
            ..query.clone()
        })
    });
    let newest = query.before.map(|_| {
        timeline_href(&TimelineQuery {
            before: None,
            ..query.clone()
        })
    });
    let empty = page.entries.is_empty();
    view! {
        <p class="text-xs text-slate-500" data-testid="timeline-recording">{recording}</p>
        {empty.then(|| view! { <p class="mt-2 text-sm text-slate-500">"Nothing recorded matches."</p> })}
        <div class="mt-2 overflow-x-auto">
            <table class="min-w-full text-left text-sm">
                <thead class="text-xs uppercase text-slate-500">
                    <tr>
                        <th class="py-1 pr-3">"When"</th>
                        <th class="py-1 pr-3">"What"</th>
                        <th class="py-1 pr-3">"Battery / project"</th>
                        <th class="py-1 pr-3">"Object"</th>
                        <th class="py-1">"Message"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.entries.into_iter().map(entry_row).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="mt-2 flex gap-3 text-sm">
            {newest.map(|href| view! { <a href=href class="text-indigo-700 hover:underline">"Newest"</a> })}
            {older.map(|href| view! { <a href=href class="text-indigo-700 hover:underline" data-testid="timeline-older">"Older"</a> })}
        </div>
    }
}

fn entry_row(entry: TimelineEntry) -> impl IntoView {
    let owner = match (&entry.battery, &entry.project) {
        (Some(battery), Some(project)) => format!("{battery} / {project}"),
        (Some(battery), None) => battery.clone(),
        (None, Some(project)) => format!("project {project}"),
        (None, None) => String::new(),
    };
    let object = match (&entry.kind, &entry.name) {
        (Some(kind), Some(name)) => match &entry.namespace {
            Some(namespace) => format!("{kind} {namespace}/{name}"),
            None => format!("{kind} {name}"),
        },
        _ => String::new(),
    };
    let count = (entry.count > 1).then(|| format!(" (×{})", entry.count));
    let what = format!("{} · {}", entry.category, entry.reason);
    let class = if entry.warning {
        "border-t border-slate-100 align-top bg-amber-50"
    } else {
        "border-t border-slate-100 align-top"
    };
    view! {
        <tr class=class data-testid="timeline-entry" data-category=entry.category.clone() data-warning=entry.warning.to_string()>
            <td class="whitespace-nowrap py-1 pr-3 text-xs text-slate-500">{entry.at.readable()}</td>
            <td class="whitespace-nowrap py-1 pr-3 text-xs">
                <span class="rounded bg-slate-100 px-1">{entry.source.clone()}</span>" "{what}
            </td>
            <td class="py-1 pr-3 text-xs">{owner}</td>
            <td class="py-1 pr-3 font-mono text-xs">{object}</td>
            <td class="py-1 text-xs">{entry.message.clone()}{count}</td>
        </tr>
    }
}

/// `/deleted`.
#[component]
pub fn Deleted() -> impl IntoView {
    let undelete = ServerAction::<UndeleteObject>::new();
    let written = RwSignal::new(0_u64);
    let list = Resource::new(
        move || (undelete.version().get(), written.get()),
        |_| read_deleted(),
    );
    #[cfg(feature = "hydrate")]
    super::explorer::follow_stream(CHANGES, written);
    let query = use_query_map();
    let shown = move || query.with(|q| q.get("show").and_then(|id| id.parse::<i64>().ok()));
    let body = Resource::new(shown, |shown| async move {
        match shown {
            Some(id) => read_deleted_object(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Title text="Deleted objects" />
        <h1 class="text-2xl font-semibold">"Deleted objects"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "Every object bi managed that was deleted, by bi (its battery or object was removed) or by anyone else, with its last body. "
            "Undelete brings it back: an object bi still wants is created again by a snapshot; one it no longer wants is created from its last body and is no longer managed by bi."
        </p>
        {move || undelete.value().get().map(|result| match result {
            Ok(done) => view! { <p class="mt-3 rounded-md bg-emerald-50 p-2 text-sm text-emerald-900" data-testid="undeleted">{done.message}</p> }.into_any(),
            Err(error) => view! { <ErrorNote error /> }.into_any(),
        })}
        <section class=CARD data-testid="deleted">
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || list.get().map(|result| match result {
                    Ok(list) => deleted_table(list.objects, undelete).into_any(),
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })}
            </Transition>
        </section>
        <Transition fallback=|| ()>
            {move || body.get().map(|result| match result {
                Ok(Some(detail)) => view! {
                    <section class=CARD data-testid="deleted-body">
                        <div class="flex items-baseline justify-between gap-3">
                            <h2 class="font-mono text-sm font-semibold">{detail.object.path.clone()}</h2>
                            <a href="/deleted" class="text-xs text-indigo-700 hover:underline">"Close"</a>
                        </div>
                        <p class="mt-1 text-xs text-slate-500">
                            {format!("Its last body, as archived {}; a Secret's values read <redacted>.", detail.object.deleted_at.readable())}
                        </p>
                        <pre class="mt-2 max-h-[32rem] overflow-auto rounded bg-slate-50 p-2 text-xs">{detail.yaml}</pre>
                    </section>
                }
                .into_any(),
                Ok(None) => ().into_any(),
                Err(error) => view! { <ErrorNote error /> }.into_any(),
            })}
        </Transition>
    }
}

fn deleted_table(
    objects: Vec<DeletedObject>,
    undelete: ServerAction<UndeleteObject>,
) -> impl IntoView {
    if objects.is_empty() {
        return view! { <p class="text-sm text-slate-500">"Nothing bi managed has been deleted."</p> }
            .into_any();
    }
    view! {
        <div class="overflow-x-auto">
            <table class="min-w-full text-left text-sm">
                <thead class="text-xs uppercase text-slate-500">
                    <tr>
                        <th class="py-1 pr-3">"#"</th>
                        <th class="py-1 pr-3">"Object"</th>
                        <th class="py-1 pr-3">"Battery or object"</th>
                        <th class="py-1 pr-3">"Deleted"</th>
                        <th class="py-1">""</th>
                    </tr>
                </thead>
                <tbody>
                    {objects.into_iter().map(|object| deleted_row(object, undelete)).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn deleted_row(object: DeletedObject, undelete: ServerAction<UndeleteObject>) -> impl IntoView {
    let by = match object.snapshot {
        Some(snapshot) => view! {
            "by bi, "<a href=format!("/deploys/{snapshot}") class="text-indigo-700 hover:underline">{format!("snapshot {snapshot}")}</a>
        }
        .into_any(),
        None => view! { <span class="text-amber-800">{object.deleted_by.clone()}</span> }.into_any(),
    };
    let id = object.id;
    let state = match (&object.undeleted_by, &object.restored) {
        (Some(who), restored) => view! {
            <span class="text-xs text-emerald-800" data-testid="restored">
                {format!("restored by {who}{}", restored.as_deref().map(|how| format!(" ({how})")).unwrap_or_default())}
            </span>
        }
        .into_any(),
        (None, _) => {
            let hint = if object.desired {
                "bi still wants it: a snapshot creates it again"
            } else {
                "created from its last body, no longer managed by bi"
            };
            view! {
                <IfAllowed role=Role::Editor>
                    <button type="button" class=SMALL title=hint data-testid="undelete"
                        disabled=move || undelete.pending().get()
                        on:click=move |_| { undelete.dispatch(UndeleteObject { id }); }>
                        "Undelete"
                    </button>
                </IfAllowed>
            }
            .into_any()
        }
    };
    view! {
        <tr class="border-t border-slate-100 align-top" data-testid="deleted-object" data-path=object.path.clone()>
            <td class="py-1 pr-3 text-xs text-slate-500">{id}</td>
            <td class="py-1 pr-3 font-mono text-xs">{object.path.clone()}</td>
            <td class="py-1 pr-3 text-xs">{object.app.clone()}</td>
            <td class="py-1 pr-3 text-xs">{object.deleted_at.readable()}" "{by}</td>
            <td class="py-1 text-right">
                <a href=format!("/deleted?show={id}") class="mr-2 text-xs text-indigo-700 hover:underline" data-testid="show-body">"Last body"</a>
                {state}
            </td>
        </tr>
    }
}
