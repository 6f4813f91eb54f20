//! Pods and logs: a service's or battery's pods (status, restarts, node),
//! and `/explorer/logs?namespace=…&pod=…`, a container's log from the
//! cluster's pod log API, with container choice, the previous container,
//! follow (lines arrive as server-sent events) and a search within the page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::explorer::object_href;
use crate::api::explorer::{LogQuery, PodRow, pods_of, read_log};
use crate::components::feedback::ErrorNote;

const CARD: &str = "mt-6 max-w-4xl card p-5";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 text-sm";

/// The lines the page keeps while following (the oldest go first).
#[cfg(feature = "hydrate")]
const KEPT_LINES: usize = 5_000;

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The log page of `pod`'s `container`.
pub fn logs_href(pod: &PodRow, container: &str) -> String {
    format!(
        "/explorer/logs?namespace={}&pod={}&container={}",
        encode(&pod.namespace),
        encode(&pod.name),
        encode(container)
    )
}

/// The pods of a service or battery (`of`: its name), read at the page's
/// top level (a resource made inside a rendered panel would be made again
/// at each render, and the browser would not find the server's reading).
pub fn pods_resource(
    of: impl Fn() -> String + Send + Sync + 'static,
) -> Resource<Result<Vec<PodRow>, crate::ApiError>> {
    Resource::new(of, pods_of)
}

/// The pods card of a battery page: each pod with its status, restarts,
/// node and logs.
#[component]
pub fn PodsCard(pods: Resource<Result<Vec<PodRow>, crate::ApiError>>) -> impl IntoView {
    view! {
        <section class=CARD data-testid="pods">
            <h2 class="text-base font-semibold">"Pods"</h2>
            <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || pods.get().map(|result| match result {
                    Ok(pods) => pods_table(pods),
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// Pods as a table (or a line saying there are none).
pub fn pods_table(pods: Vec<PodRow>) -> AnyView {
    if pods.is_empty() {
        return view! { <p class="mt-2 text-sm text-slate-500">"No pods (yet)."</p> }.into_any();
    }
    view! {
        <div class="mt-2 overflow-x-auto">
            <table class="w-full text-left text-sm">
                <thead class="text-xs uppercase text-slate-500">
                    <tr><th>"Pod"</th><th>"Status"</th><th>"Ready"</th><th>"Restarts"</th><th>"Node"</th><th>"Logs"</th></tr>
                </thead>
                <tbody>{pods.into_iter().map(pod_row).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn pod_row(pod: PodRow) -> AnyView {
    let path = format!("v1/Pod/{}/{}", pod.namespace, pod.name);
    let logs: Vec<(String, String)> = pod
        .containers
        .iter()
        .map(|c| (c.clone(), logs_href(&pod, c)))
        .collect();
    view! {
        <tr class="border-t border-slate-100" data-testid="pod-row">
            <td class="py-1 pr-2"><a class="text-indigo-700 hover:underline" href=object_href(&path)>{pod.name.clone()}</a></td>
            <td class="pr-2" data-testid="pod-phase">{pod.phase.clone()}</td>
            <td class="pr-2">{pod.ready.clone()}</td>
            <td class="pr-2" data-testid="pod-restarts">{pod.restarts}</td>
            <td class="pr-2 text-xs">{pod.node.clone().unwrap_or_else(|| "not scheduled".to_owned())}</td>
            <td class="space-x-2">
                {logs.into_iter().map(|(container, href)| view! {
                    <a class="text-indigo-700 hover:underline" href=href data-testid="pod-logs">{container}</a>
                }).collect_view()}
            </td>
        </tr>
    }
    .into_any()
}

/// `/explorer/logs?namespace=…&pod=…&container=…&previous=true`.
#[component]
pub fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        query.with(|q| LogQuery {
            namespace: q.get("namespace").unwrap_or_default(),
            pod: q.get("pod").unwrap_or_default(),
            container: q.get("container").filter(|c| !c.is_empty()),
            previous: q.get("previous").as_deref() == Some("true"),
            tail: None,
            follow: false,
        })
    };
    let log = Resource::new(wanted, read_log);
    let search = RwSignal::new(String::new());
    let follow = RwSignal::new(false);
    // NB: lines that arrived while following, after the first read.
    let followed = RwSignal::new(Vec::<String>::new());
    let ended = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    follow_log(wanted, follow, followed, ended);
    let previous_href = move || {
        let q = wanted();
        format!(
            "/explorer/logs?namespace={}&pod={}&container={}&previous={}",
            encode(&q.namespace),
            encode(&q.pod),
            encode(q.container.as_deref().unwrap_or_default()),
            !q.previous
        )
    };
    view! {
        <Title text="Logs" />
        <p class="text-sm">
            <a class="text-indigo-700 hover:underline" href=move || object_href(&format!("v1/Pod/{}/{}", wanted().namespace, wanted().pod))>"← the pod"</a>
        </p>
        <h1 class="mt-2 font-mono text-lg font-semibold" data-testid="logs-title">
            {move || {
                let q = wanted();
                format!("{}/{} {}{}", q.namespace, q.pod, q.container.unwrap_or_default(), if q.previous { " (previous)" } else { "" })
            }}
        </h1>
        <div class="mt-3 flex flex-wrap items-end gap-3">
            <label class="block text-xs text-slate-600">
                "Search"
                <input class=INPUT type="search" data-testid="logs-search" prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev)) />
            </label>
            <label class="flex items-center gap-1 text-sm">
                <input type="checkbox" data-testid="logs-follow" prop:checked=move || follow.get()
                    on:change=move |ev| follow.set(event_target_checked(&ev)) />
                "Follow"
            </label>
            <a class="text-sm text-indigo-700 hover:underline" href=previous_href data-testid="logs-previous">
                {move || if wanted().previous { "Current container" } else { "Previous container" }}
            </a>
        </div>
        <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
            {move || log.get().map(|result| match result {
                Ok(lines) => {
                    let lines = StoredValue::new(lines);
                    view! {
                        <pre class="mt-3 max-h-[40rem] overflow-auto rounded bg-slate-900 p-3 font-mono text-xs text-slate-100" data-testid="logs">
                            {move || {
                                let needle = search.get().to_lowercase();
                                lines
                                    .get_value()
                                    .into_iter()
                                    .chain(followed.get())
                                    .filter(|line| needle.is_empty() || line.to_lowercase().contains(&needle))
                                    .map(|line| format!("{line}\n"))
                                    .collect::<String>()
                            }}
                        </pre>
                    }.into_any()
                }
                Err(error) => view! { <ErrorNote error /> }.into_any(),
            })}
        </Transition>
        {move || ended.get().map(|why| view! { <p class="mt-2 text-sm text-slate-600" data-testid="logs-ended">{why}</p> })}
    }
}

/// While `follow` is on, listens to the log's server-sent events and
/// appends each line to `followed`.
#[cfg(feature = "hydrate")]
fn follow_log(
    wanted: impl Fn() -> LogQuery + Send + Sync + 'static,
    follow: RwSignal<bool>,
    followed: RwSignal<Vec<String>>,
    ended: RwSignal<Option<String>>,
) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{Event, EventSource, MessageEvent};

    let open: StoredValue<Option<SendWrapper<EventSource>>, LocalStorage> =
        StoredValue::new_local(None);
    Effect::new(move |_| {
        let on = follow.get();
        if let Some(source) = open.try_update_value(Option::take).flatten() {
            source.close();
        }
        if !on {
            return;
        }
        let q = wanted();
        // NB: only what comes after the lines already shown.
        let url = format!(
            "/api/v1/cluster/logs/events?namespace={}&pod={}&container={}&previous={}&follow=true&tail=0",
            encode(&q.namespace),
            encode(&q.pod),
            encode(q.container.as_deref().unwrap_or_default()),
            q.previous
        );
        let Ok(source) = EventSource::new(&url) else {
            return;
        };
        ended.set(None);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(line) = event.data().as_string() {
                followed.try_update(|lines| {
                    lines.push(line);
                    let extra = lines.len().saturating_sub(KEPT_LINES);
                    lines.drain(..extra);
                });
            }
        });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let closing = source.clone();
        let on_end = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            closing.close();
            ended.try_set(Some("The log ended.".to_owned()));
        });
        let _ = source.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
        on_end.forget();
        let refusing = source.clone();
        let on_refused = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            refusing.close();
            ended.try_set(Some(event.data().as_string().unwrap_or_default()));
        });
        let _ =
            source.add_event_listener_with_callback("refused", on_refused.as_ref().unchecked_ref());
        on_refused.forget();
        open.set_value(Some(SendWrapper::new(source)));
    });
}
