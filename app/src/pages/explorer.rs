//! The Kubernetes explorer: `/explorer` lists every kind with its objects
//! counted and a kind's objects with filters (namespace, labels, battery),
//! kept current from the cluster cache while the page is open;
//! `/explorer/object?path=…` shows one object: what bi knows of it, its
//! conditions, owners, children, events and YAML.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::explorer::{
    ExplorerQuery, KindRow, ObjectDetail, ObjectList, explorer_kinds, explorer_object,
    explorer_objects,
};
use crate::components::feedback::ErrorNote;

const CARD: &str = "min-w-0 card p-4";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 text-sm";

/// The kind shown when none is asked for.
const FIRST_KIND: &str = "v1/Pod";

/// A link to an object's page.
pub fn object_href(path: &str) -> String {
    format!("/explorer/object?path={}", encode(path))
}

/// Percent-encodes what a query value cannot hold as it is.
pub(crate) fn encode(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' | '~' | '/' => c.to_string(),
            other => {
                let mut bytes = [0; 4];
                other
                    .encode_utf8(&mut bytes)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

/// `/explorer`: kinds on the left, the chosen kind's objects on the right.
#[component]
pub fn Explorer() -> impl IntoView {
    let query = use_query_map();
    let read = move |key: &str| query.with(|q| q.get(key).filter(|v| !v.is_empty()));
    let wanted = move || ExplorerQuery {
        kind: read("kind").unwrap_or_else(|| FIRST_KIND.to_owned()),
        namespace: read("namespace"),
        labels: read("labels"),
        app: read("app"),
        project: read("project"),
    };
    // NB: bumped by the change stream while the page is open.
    let changed = RwSignal::new(0_u64);
    let kinds = Resource::new(move || changed.get(), |_| explorer_kinds());
    let objects = Resource::new(
        move || (wanted(), changed.get()),
        |(query, _)| explorer_objects(query),
    );
    #[cfg(feature = "hydrate")]
    follow_stream("/api/v1/cluster/changes", changed);
    view! {
        <Title text="Cluster" />
        <h1 class="text-2xl font-semibold">"Cluster"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "What the cluster holds, kept current by watches: every kind bi shows, and each object with what bi knows of it."
        </p>
        <div class="mt-4 grid grid-cols-1 gap-4 lg:grid-cols-[16rem_minmax(0,1fr)]">
            <aside class=CARD data-testid="explorer-kinds">
                <h2 class="text-sm font-semibold">"Kinds"</h2>
                <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                    {move || kinds.get().map(|result| match result {
                        Ok(rows) => kind_list(rows, wanted().kind).into_any(),
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })}
                </Transition>
            </aside>
            <section class=CARD data-testid="explorer-objects">
                <Filters wanted=Signal::derive(wanted) />
                <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                    {move || objects.get().map(|result| match result {
                        Ok(list) => object_table(list).into_any(),
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })}
                </Transition>
            </section>
        </div>
    }
}

/// Bumps `changed` at each message of the server-sent events at `url` (the
/// cluster cache's changes, bi's timeline writes).
#[cfg(feature = "hydrate")]
pub(crate) fn follow_stream(url: &'static str, changed: RwSignal<u64>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    Effect::new(move |_| {
        let Ok(source) = EventSource::new(url) else {
            return;
        };
        // NB: the first message is the revision when the stream opened,
        // which may be newer than the one the page was drawn at (a change
        // between the two): it reloads too, never misses one.
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            changed.try_update(|n| *n += 1);
        });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let source = SendWrapper::new(source);
        on_cleanup(move || source.close());
    });
}

fn kind_list(rows: Vec<KindRow>, current: String) -> impl IntoView {
    view! {
        <ul class="mt-2 space-y-0.5 text-sm">
            {rows.into_iter().map(|row| {
                let selected = row.id == current;
                let href = format!("/explorer?kind={}", encode(&row.id));
                let class = if selected {
                    "flex justify-between rounded bg-indigo-50 px-2 py-0.5 font-medium text-indigo-900"
                } else {
                    "flex justify-between rounded px-2 py-0.5 hover:bg-slate-50"
                };
                let title = format!("{} ({})", row.id, row.state);
                let muted = row.state == "absent";
                view! {
                    <li>
                        <a href=href class=class title=title data-testid=format!("kind-{}", row.kind.to_lowercase())>
                            <span class:text-slate-400=muted>{row.kind.clone()}</span>
                            <span class="text-xs text-slate-500" data-testid="kind-count">{row.objects}</span>
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The filters, as a form that navigates (so a filtered list has its URL).
#[component]
fn Filters(wanted: Signal<ExplorerQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let namespace = RwSignal::new(String::new());
    let labels = RwSignal::new(String::new());
    let app = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    Effect::new(move |_| {
        let query = wanted.get();
        namespace.set(query.namespace.unwrap_or_default());
        labels.set(query.labels.unwrap_or_default());
        app.set(query.app.unwrap_or_default());
        project.set(query.project.unwrap_or_default());
    });
    let initial = wanted.get_untracked();
    view! {
        <form
            method="get"
            action="/explorer"
            class="grid grid-cols-1 gap-2 sm:grid-cols-[1fr_1fr_1fr_1fr_auto] sm:items-end"
            data-testid="explorer-filters"
            on:submit=move |ev| {
                ev.prevent_default();
                let mut href = format!("/explorer?kind={}", encode(&wanted.get_untracked().kind));
                for (key, value) in [("namespace", namespace.get_untracked()), ("labels", labels.get_untracked()), ("app", app.get_untracked()), ("project", project.get_untracked())] {
                    if !value.trim().is_empty() {
                        href.push_str(&format!("&{key}={}", encode(value.trim())));
                    }
                }
                navigate(&href, Default::default());
            }
        >
            <input type="hidden" name="kind" value=initial.kind.clone() />
            <label class="block text-xs text-slate-600">
                "Namespace"
                <input class=INPUT name="namespace" placeholder="all" prop:value=move || namespace.get()
                    on:input=move |ev| namespace.set(event_target_value(&ev)) />
            </label>
            <label class="block text-xs text-slate-600">
                "Labels"
                <input class=INPUT name="labels" placeholder="app=web,tier!=db" prop:value=move || labels.get()
                    on:input=move |ev| labels.set(event_target_value(&ev)) />
            </label>
            <label class="block text-xs text-slate-600">
                "Battery or object"
                <input class=INPUT name="app" placeholder="redis" prop:value=move || app.get()
                    on:input=move |ev| app.set(event_target_value(&ev)) />
            </label>
            <label class="block text-xs text-slate-600">
                "Project"
                <input class=INPUT name="project" placeholder="shop" prop:value=move || project.get()
                    on:input=move |ev| project.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">"Filter"</button>
        </form>
    }
}

fn object_table(list: ObjectList) -> impl IntoView {
    let shown = list.objects.len();
    let summary = if list.state == "absent" {
        format!("The cluster does not serve {} (yet).", list.kind)
    } else if shown == list.total {
        format!("{} — {shown} objects", list.kind)
    } else {
        format!("{} — {shown} of {} objects", list.kind, list.total)
    };
    view! {
        <p class="mt-3 text-sm text-slate-600" data-testid="explorer-summary">{summary}</p>
        {list.state.starts_with("failed").then(|| view! { <p class="mt-1 text-sm text-red-700" role="alert">{list.state.clone()}</p> })}
        <div class="mt-2 overflow-x-auto">
            <table class="w-full text-left text-sm">
                <thead class="text-xs uppercase text-slate-500">
                    <tr><th>"Namespace"</th><th>"Name"</th><th>"Status"</th><th>"Battery or object"</th><th>"Created"</th></tr>
                </thead>
                <tbody>
                    {list.objects.into_iter().map(row_view).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn row_view(row: bi_api::explorer::ObjectRow) -> AnyView {
    view! {
                        <tr class="border-t border-slate-100" data-testid="explorer-row">
                            <td class="py-1 pr-2 text-slate-600">{row.namespace.clone().unwrap_or_else(|| "—".to_owned())}</td>
                            <td class="pr-2"><a class="text-indigo-700 hover:underline" href=object_href(&row.path)>{row.name.clone()}</a></td>
                            <td class="pr-2" data-testid="explorer-status">{row.status.clone()}</td>
                            <td class="pr-2">
                                {row.app.clone().unwrap_or_default()}
                                {row.managed.then(|| view! { <span class="ml-1 rounded bg-indigo-50 px-1 text-xs text-indigo-800">"bi"</span> })}
                            </td>
                            <td class="text-xs text-slate-500">{row.created.as_ref().map(|c| c.readable_without_zone()).unwrap_or_default()}</td>
                        </tr>
    }
    .into_any()
}

/// `/explorer/object?path=…`: one object.
#[component]
pub fn ExplorerObject() -> impl IntoView {
    let query = use_query_map();
    let path = move || query.with(|q| q.get("path").unwrap_or_default());
    let object = Resource::new(path, explorer_object);
    view! {
        <Title text="Cluster object" />
        <p class="text-sm"><a class="text-indigo-700 hover:underline" href="/explorer">"← Cluster"</a></p>
        <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
            {move || object.get().map(|result| match result {
                Ok(detail) => object_page(detail).into_any(),
                Err(error) => view! { <ErrorNote error /> }.into_any(),
            })}
        </Transition>
    }
}

fn links(paths: Vec<String>, testid: &'static str) -> impl IntoView {
    view! {
        <ul class="mt-1 space-y-0.5 font-mono text-xs" data-testid=testid>
            {if paths.is_empty() {
                view! { <li class="text-slate-500">"none"</li> }.into_any()
            } else {
                paths.into_iter().map(|path| view! {
                    <li><a class="text-indigo-700 hover:underline break-all" href=object_href(&path)>{path.clone()}</a></li>
                }).collect_view().into_any()
            }}
        </ul>
    }
}

fn object_page(detail: ObjectDetail) -> impl IntoView {
    // NB: each section is its own boxed view: one nested view of the whole
    // page needs more stack than a debug build's threads have to render.
    view! {
        <h1 class="mt-2 break-all font-mono text-lg font-semibold" data-testid="object-path">{detail.path.clone()}</h1>
        <div class="mt-4 grid grid-cols-1 gap-4 lg:grid-cols-2">
            {managed_section(detail.managed)}
            {conditions_section(detail.conditions)}
            {relations_section(detail.owners, detail.children)}
            {events_section(detail.events)}
        </div>
        {yaml_section(detail.yaml)}
    }
}

fn managed_section(managed: Option<bi_api::explorer::Managed>) -> AnyView {
    let body = match managed {
        None => view! { <p class="mt-1 text-sm text-slate-600">"Not managed by bi: bi never changes or deletes it."</p> }.into_any(),
        Some(managed) => {
            let desired = if managed.desired {
                "yes: the current desired state generates it"
            } else {
                "no: the next snapshot deletes it"
            };
            let last_write = match &managed.last_write {
                Some((snapshot, outcome)) => view! {
                    <a class="text-indigo-700 hover:underline" href=format!("/deploys/{snapshot}")>{format!("{outcome} by snapshot {snapshot}")}</a>
                }.into_any(),
                None => view! { "none recorded" }.into_any(),
            };
            let drift = if managed.drifted.is_empty() {
                "none open".to_owned()
            } else {
                format!("changed outside bi: {}", managed.drifted.join(" "))
            };
            view! {
                <dl class="mt-1 grid grid-cols-[8rem_1fr] gap-1 text-sm">
                    <dt class="text-slate-500">"Belongs to"</dt><dd>{managed.app.clone()}</dd>
                    <dt class="text-slate-500">"Desired"</dt><dd>{desired}</dd>
                    <dt class="text-slate-500">"Last write"</dt><dd data-testid="object-last-write">{last_write}</dd>
                    <dt class="text-slate-500">"Applied hash"</dt>
                    <dd class="break-all font-mono text-xs">{managed.applied_hash.clone().unwrap_or_default()}</dd>
                    <dt class="text-slate-500">"Drift"</dt><dd data-testid="object-drift">{drift}</dd>
                </dl>
            }.into_any()
        }
    };
    view! {
        <section class=CARD data-testid="object-managed">
            <h2 class="text-sm font-semibold">"bi"</h2>
            {body}
        </section>
    }
    .into_any()
}

fn conditions_section(conditions: Vec<bi_api::explorer::Condition>) -> AnyView {
    let body = if conditions.is_empty() {
        view! { <p class="mt-1 text-sm text-slate-500">"none reported"</p> }.into_any()
    } else {
        let rows = conditions
            .into_iter()
            .map(|c| {
                let why = [c.reason.clone(), c.message.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                view! {
                    <tr class="border-t border-slate-100 align-top">
                        <td class="py-1 pr-2 font-medium">{c.kind.clone()}</td>
                        <td class="pr-2">{c.status.clone()}</td>
                        <td class="text-xs text-slate-600">{why}</td>
                    </tr>
                }
                .into_any()
            })
            .collect_view();
        view! { <table class="mt-1 w-full text-left text-sm"><tbody>{rows}</tbody></table> }
            .into_any()
    };
    view! {
        <section class=CARD data-testid="object-conditions">
            <h2 class="text-sm font-semibold">"Conditions"</h2>
            {body}
        </section>
    }
    .into_any()
}

fn relations_section(owners: Vec<String>, children: Vec<String>) -> AnyView {
    view! {
        <section class=CARD>
            <h2 class="text-sm font-semibold">"Owned by"</h2>
            {links(owners, "object-owners")}
            <h2 class="mt-3 text-sm font-semibold">"Owns"</h2>
            {links(children, "object-children")}
        </section>
    }
    .into_any()
}

fn events_section(events: Vec<bi_api::services::ServiceEvent>) -> AnyView {
    let body = if events.is_empty() {
        view! { <p class="mt-1 text-sm text-slate-500">"none"</p> }.into_any()
    } else {
        let rows = events
            .into_iter()
            .map(|e| {
                let when = format!(" ×{} {}", e.count, e.last_seen.clone().unwrap_or_default());
                view! {
                    <li class:text-amber-800=e.kind == "Warning">
                        <span class="font-medium">{e.reason.clone()}</span>" "{e.message.clone()}
                        <span class="text-xs text-slate-500">{when}</span>
                    </li>
                }
                .into_any()
            })
            .collect_view();
        view! { <ul class="mt-1 space-y-1 text-sm">{rows}</ul> }.into_any()
    };
    view! {
        <section class=CARD data-testid="object-events">
            <h2 class="text-sm font-semibold">"Events"</h2>
            {body}
        </section>
    }
    .into_any()
}

fn yaml_section(yaml: String) -> AnyView {
    view! {
        <section class=format!("mt-4 {CARD}")>
            <h2 class="text-sm font-semibold">"YAML"</h2>
            <pre class="mt-2 max-h-[32rem] overflow-auto rounded bg-slate-50 p-3 font-mono text-xs" data-testid="object-yaml">{yaml}</pre>
        </section>
    }
    .into_any()
}
