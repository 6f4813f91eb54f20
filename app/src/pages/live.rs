//! The live plan viewer (`/deploys/live`): the snapshot being applied, by
//! stage, each object's state changing as the engine's events arrive over
//! the websocket `/api/v1/events`.
//!
//! The server renders a "connecting" shell; the browser opens the socket
//! (from `?since=latest`, after a drop from the last event seen) and feeds
//! every event to [`LiveState`]. `?after=N` waits for a snapshot of
//! desired-state version N or later: the change the user just saved.

use bi_model::events::ResourceState;
use bi_model::generate::{Action, Stage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::feedback::StatusBadge;
use crate::live::{LiveSnapshot, LiveState, readable_duration};

/// Whether the socket is open.
// NB: only the browser build opens or drops it.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Not open yet (and always, on the server).
    Connecting,
    /// Receiving events.
    Open,
    /// Dropped; trying again.
    Reconnecting,
}

/// The live viewer page.
#[component]
pub fn LivePlan() -> impl IntoView {
    let query = use_query_map();
    let min_version = query
        .read_untracked()
        .get("after")
        .and_then(|text| text.parse::<i32>().ok());
    let live = RwSignal::new(LiveState::new(min_version));
    let connection = RwSignal::new(Connection::Connecting);
    let now_ms = RwSignal::new(0_i64);

    #[cfg(feature = "hydrate")]
    socket::open(live, connection, now_ms);

    let status = move || match connection.get() {
        Connection::Connecting => "connecting…",
        Connection::Open => "live",
        Connection::Reconnecting => "reconnecting…",
    };
    view! {
        <Title text="Live plan" />
        <p class="text-sm text-slate-500">
            <a href="/deploys" class="hover:underline">"Deploys"</a>
            " / live"
        </p>
        <div class="mt-1 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold">"Live plan"</h1>
            <span class="text-sm text-slate-500" data-testid="connection">{status}</span>
        </div>
        {move || {
            let state = live.get();
            match state.snapshot {
                None => {
                    view! {
                        <p class="mt-6 text-slate-600" data-testid="live-waiting">
                            {match state.min_version {
                                Some(version) => format!("Waiting for the snapshot that applies version {version}…"),
                                None => "Waiting for a snapshot…".to_owned(),
                            }}
                        </p>
                        {state.error.map(|message| view! {
                            <p class="mt-2 text-sm text-red-700" role="alert">{message}</p>
                        })}
                    }
                        .into_any()
                }
                Some(snapshot) => view! { <SnapshotProgress snapshot now_ms=now_ms.get() /> }.into_any(),
            }
        }}
    }
}

/// The plan by stage, progress, elapsed time and the final summary.
#[component]
fn SnapshotProgress(snapshot: LiveSnapshot, now_ms: i64) -> impl IntoView {
    let percent = snapshot.percent();
    let elapsed = match &snapshot.outcome {
        Some(outcome) => outcome.elapsed_ms,
        None => u64::try_from(now_ms.saturating_sub(snapshot.started_at_ms)).unwrap_or(0),
    };
    let phase = match &snapshot.outcome {
        Some(outcome) => outcome.status.clone(),
        None if snapshot.planned => "applying".to_owned(),
        None => "planning".to_owned(),
    };
    let stages = [
        Stage::Namespaces,
        Stage::Crds,
        Stage::Config,
        Stage::Workloads,
        Stage::Webhooks,
        Stage::CustomResources,
        Stage::Keycloak,
    ];
    view! {
        <section class="mt-6 max-w-5xl card p-5">
            <div class="flex flex-wrap items-center gap-3 text-sm">
                <a href=format!("/deploys/{}", snapshot.id) class="font-semibold text-indigo-700 hover:underline">
                    {format!("Snapshot {}", snapshot.id)}
                </a>
                <span class="text-slate-600">
                    {format!("version {} · {}", snapshot.desired_version, snapshot.trigger)}
                </span>
                <span data-testid="live-phase"><StatusBadge status=phase /></span>
                <span class="ml-auto text-slate-600" data-testid="live-elapsed">
                    {readable_duration(elapsed)}
                </span>
            </div>
            <div
                class="mt-3 h-2 w-full overflow-hidden rounded-full bg-slate-100"
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=percent.to_string()
            >
                <div class=format!("h-2 bg-indigo-500 {}", width_class(percent))></div>
            </div>
            <p class="mt-1 text-xs text-slate-500">
                {format!(
                    "{} of {} changes · {} unchanged",
                    snapshot.done(),
                    snapshot.items.len(),
                    snapshot.unchanged,
                )}
            </p>
            {snapshot.outcome.clone().map(|outcome| {
                let counts = outcome.counts;
                view! {
                    <p
                        class="mt-3 rounded-md bg-slate-50 px-3 py-2 text-sm"
                        data-testid="live-summary"
                    >
                        {format!(
                            "Done: {} · {} created, {} updated, {} unchanged, {} deleted, {} failed, {} held back, {} waiting in {}",
                            outcome.status,
                            counts.created,
                            counts.updated,
                            counts.unchanged,
                            counts.deleted,
                            counts.failed,
                            counts.held_back,
                            counts.waiting,
                            readable_duration(outcome.elapsed_ms),
                        )}
                    </p>
                }
            })}
            {stages
                .into_iter()
                .filter_map(|stage| {
                    let (unchanged, items): (Vec<_>, Vec<_>) = snapshot
                        .items
                        .iter()
                        .filter(|item| item.planned.stage == stage)
                        .cloned()
                        .partition(|item| item.planned.action == Action::Unchanged);
                    (!items.is_empty() || !unchanged.is_empty())
                        .then(|| {
                            view! {
                                <h3 class="mt-5 text-sm font-semibold text-slate-700">
                                    {stage_title(stage)}
                                </h3>
                                <ul class="mt-1 divide-y divide-slate-100 text-sm">
                                    {items
                                        .into_iter()
                                        .map(|item| {
                                            view! {
                                                <li class="flex flex-wrap items-center gap-2 py-1">
                                                    <StatusBadge status=state_name(item.state).to_owned() />
                                                    <span class="min-w-0 break-all font-mono text-xs">
                                                        {item.planned.path.to_string()}
                                                    </span>
                                                    {item.message.map(|message| view! {
                                                        <span class="w-full text-xs text-red-700">{message}</span>
                                                    })}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                {(!unchanged.is_empty()).then(|| view! {
                                    <details class="mt-1 text-xs text-slate-500">
                                        <summary class="cursor-pointer">
                                            {format!("{} unchanged", unchanged.len())}
                                        </summary>
                                        <ul class="mt-1 space-y-0.5">
                                            {unchanged
                                                .into_iter()
                                                .map(|item| view! {
                                                    <li class="break-all font-mono">{item.planned.path.to_string()}</li>
                                                })
                                                .collect_view()}
                                        </ul>
                                    </details>
                                })}
                            }
                        })
                })
                .collect_view()}
        </section>
    }
}

/// A Tailwind width class for the progress bar (no inline styles).
fn width_class(percent: usize) -> &'static str {
    match percent {
        0 => "w-0",
        1..=12 => "w-1/12",
        13..=25 => "w-3/12",
        26..=37 => "w-4/12",
        38..=50 => "w-6/12",
        51..=62 => "w-7/12",
        63..=75 => "w-9/12",
        76..=87 => "w-10/12",
        88..=99 => "w-11/12",
        _ => "w-full",
    }
}

fn stage_title(stage: Stage) -> &'static str {
    match stage {
        Stage::Namespaces => "Namespaces",
        Stage::Crds => "Custom resource definitions",
        Stage::Config => "Configuration",
        Stage::Workloads => "Workloads",
        Stage::Webhooks => "Admission webhooks",
        Stage::CustomResources => "Custom resources",
        Stage::Keycloak => "Keycloak (realm, groups, clients)",
    }
}

fn state_name(state: ResourceState) -> &'static str {
    match state {
        ResourceState::Pending => "pending",
        ResourceState::Applying => "applying",
        ResourceState::Created => "created",
        ResourceState::Updated => "updated",
        ResourceState::Unchanged => "unchanged",
        ResourceState::Deleted => "deleted",
        ResourceState::Failed => "failed",
        ResourceState::Waiting => "waiting",
        ResourceState::HeldBack => "held back",
    }
}

/// The browser side: the websocket, its reconnection and the clock.
#[cfg(feature = "hydrate")]
mod socket {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use bi_model::events::EventEnvelope;
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{MessageEvent, WebSocket};

    use super::Connection;
    use crate::live::{Follow, LiveState};

    /// How long to wait before reconnecting after a drop.
    const RECONNECT_AFTER: Duration = Duration::from_secs(1);

    /// The open socket, shared by the callbacks and the page's cleanup.
    #[derive(Clone, Default)]
    struct Shared {
        socket: Rc<RefCell<Option<WebSocket>>>,
        stopped: Rc<RefCell<bool>>,
    }

    /// Opens the socket once the page is in the browser, and closes it when
    /// the page goes away.
    pub(super) fn open(
        live: RwSignal<LiveState>,
        connection: RwSignal<Connection>,
        now_ms: RwSignal<i64>,
    ) {
        let shared = Shared::default();
        connect(shared.clone(), live, connection);
        now_ms.set(js_sys::Date::now() as i64);
        let clock = set_interval_with_handle(
            move || {
                now_ms.try_set(js_sys::Date::now() as i64);
            },
            Duration::from_millis(250),
        )
        .ok();
        let cleanup = SendWrapper::new(shared);
        on_cleanup(move || {
            if let Some(clock) = clock {
                clock.clear();
            }
            *cleanup.stopped.borrow_mut() = true;
            if let Some(socket) = cleanup.socket.borrow_mut().take() {
                let _ = socket.close();
            }
        });
    }

    fn url(live: &RwSignal<LiveState>) -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        let host = location.host().ok()?;
        let since = live
            .try_with_untracked(|state| state.last_seq)
            .flatten()
            .map_or_else(|| "latest".to_owned(), |seq| seq.to_string());
        Some(format!("{scheme}://{host}/api/v1/events?since={since}"))
    }

    fn connect(shared: Shared, live: RwSignal<LiveState>, connection: RwSignal<Connection>) {
        if *shared.stopped.borrow() {
            return;
        }
        let Some(url) = url(&live) else { return };
        let Ok(socket) = WebSocket::new(&url) else {
            reconnect_later(shared, live, connection);
            return;
        };

        let on_open = Closure::<dyn FnMut()>::new(move || {
            connection.try_set(Connection::Open);
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            let Ok(envelope) = serde_json::from_str::<EventEnvelope>(&text) else {
                return;
            };
            let follow = live.try_update(|state| state.apply(envelope));
            if follow == Some(Follow::Reload) {
                let _ = window().location().reload();
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();

        let on_close = {
            let shared = shared.clone();
            Closure::<dyn FnMut()>::new(move || {
                if *shared.stopped.borrow() {
                    return;
                }
                connection.try_set(Connection::Reconnecting);
                reconnect_later(shared.clone(), live, connection);
            })
        };
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();

        *shared.socket.borrow_mut() = Some(socket);
    }

    fn reconnect_later(
        shared: Shared,
        live: RwSignal<LiveState>,
        connection: RwSignal<Connection>,
    ) {
        let shared = SendWrapper::new(shared);
        set_timeout(
            move || connect(shared.take(), live, connection),
            RECONNECT_AFTER,
        );
    }
}
