//! The battery catalog (`/batteries`) and one battery (`/batteries/:kind`):
//! install with a preview of what comes along, configure through a typed
//! form checked by `bi-model` as you type, uninstall.

use bi_api::auth::Role;
use bi_model::FieldError;
use bi_model::catalog::{BatteryConfig, BatteryGroup, BatteryKind};
use bi_model::generate::DesiredState;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::ApiError;
use crate::api::batteries::{
    BatteryDetail, BatteryStatus, InstallBattery, SaveBatteryConfig, UninstallBattery, get_battery,
    list_batteries, preview_install,
};
use crate::api::reach::installation_reach;
use crate::components::access::IfAllowed;
use crate::components::addresses::AddressList;
use crate::components::change_preview::ChangePreview;
use crate::components::feedback::{
    ActionError, ChangedMeanwhileNote, ErrorNote, Loading, StatusBadge, messages_for,
};
use bi_model::input::form::{FieldShape, FormField, decode};

/// What an installed battery runs: its pods and its drift, boxed (the
/// battery page is deep enough without them).
fn running(
    kind: BatteryKind,
    pods: Resource<Result<Vec<crate::api::explorer::PodRow>, ApiError>>,
    drift: super::drift::DriftState,
) -> AnyView {
    view! {
        <super::pods::PodsCard pods />
        <super::drift::DriftCard state=drift app=kind.id().to_owned() />
    }
    .into_any()
}

/// The catalog grouped by category, with a search box.
#[component]
pub fn Batteries() -> impl IntoView {
    let batteries = Resource::new(|| (), |_| list_batteries());
    let query = use_query_map();
    let search = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());
    view! {
        <Title text="Batteries" />
        <h1 class="text-2xl font-semibold">"Batteries"</h1>
        <form method="get" action="/batteries" class="mt-4 max-w-md" on:submit=|ev| ev.prevent_default()>
            <label for="battery-search" class="sr-only">"Search batteries"</label>
            <input
                id="battery-search"
                name="q"
                type="search"
                placeholder="Search batteries…"
                autocomplete="off"
                class="w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200"
                prop:value=move || search.get()
                on:input=move |ev| search.set(event_target_value(&ev))
            />
        </form>
        <Transition fallback=Loading>
            {move || {
                batteries
                    .get()
                    .map(|result| match result {
                        Ok(rows) => view! { <Catalog rows search /> }.into_any(),
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// The catalog's groups, each with the batteries that match the search.
#[component]
fn Catalog(rows: Vec<BatteryStatus>, search: RwSignal<String>) -> impl IntoView {
    let rows = StoredValue::new(rows);
    let matching = move |group: BatteryGroup| {
        let needle = search.get().trim().to_lowercase();
        rows.with_value(|rows| {
            rows.iter()
                .filter(|row| row.group == group)
                .filter(|row| {
                    needle.is_empty()
                        || row.name.to_lowercase().contains(&needle)
                        || row.kind.id().contains(&needle)
                        || row.description.to_lowercase().contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="mt-6 space-y-8">
            {BatteryGroup::ALL
                .into_iter()
                .map(|group| {
                    view! {
                        {move || {
                            let rows = matching(group);
                            (!rows.is_empty())
                                .then(|| {
                                    view! {
                                        <section data-testid=format!("group-{}", group.title())>
                                            <h2 class="text-lg font-semibold text-slate-800">
                                                {group.title()}
                                            </h2>
                                            <ul class="mt-3 grid grid-cols-1 gap-3 md:grid-cols-2 xl:grid-cols-3">
                                                {rows
                                                    .into_iter()
                                                    .map(|row| view! { <BatteryCard row /> })
                                                    .collect_view()}
                                            </ul>
                                        </section>
                                    }
                                })
                        }}
                    }
                })
                .collect_view()}
        </div>
    }
}

/// One battery in the catalog.
#[component]
fn BatteryCard(row: BatteryStatus) -> impl IntoView {
    let href = format!("/batteries/{}", row.kind.id());
    view! {
        <li
            class="card p-4"
            data-testid=format!("battery-{}", row.kind.id())
        >
            <div class="flex items-center justify-between gap-2">
                <a href=href class="font-medium text-indigo-700 hover:underline">
                    {row.name}
                </a>
                {if row.installed {
                    view! { <StatusBadge status="installed".to_owned() /> }.into_any()
                } else if !row.offered {
                    view! { <StatusBadge status="not offered here".to_owned() /> }.into_any()
                } else {
                    view! { <StatusBadge status="not installed".to_owned() /> }.into_any()
                }}
            </div>
            <p class="mt-1 text-sm text-slate-600">{row.description}</p>
        </li>
    }
}

/// One battery: what it is, what it needs, and its config form.
#[component]
pub fn BatteryPage() -> impl IntoView {
    let params = use_params_map();
    let kind = move || params.read().get("kind").unwrap_or_default();
    let battery = Resource::new(kind, get_battery);
    let pods = super::pods::pods_resource(kind);
    let drift = super::drift::DriftState::new();
    // NB: a fresh read re-renders the panel, so the form starts over from
    // the current config and version (what "Reload" after a conflict wants).
    let reload = Callback::new(move |()| battery.refetch());
    view! {
        <Transition fallback=Loading>
            {move || {
                battery
                    .get()
                    .map(|result| match result {
                        Ok(view) => view! { <BatteryPanel view reload pods drift /> }.into_any(),
                        Err(error) => {
                            view! {
                                <Title text="Battery" />
                                <h1 class="text-2xl font-semibold">"Battery"</h1>
                                <ErrorNote error />
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

fn names(kinds: &[BatteryKind]) -> String {
    kinds
        .iter()
        .map(|kind| kind.info().name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The battery's page once read: its facts, the config form and uninstall;
/// `reload` reads it again.
#[component]
fn BatteryPanel(
    view: BatteryDetail,
    reload: Callback<()>,
    pods: Resource<Result<Vec<crate::api::explorer::PodRow>, ApiError>>,
    drift: super::drift::DriftState,
) -> impl IntoView {
    let title = view.name.clone();
    let installed = view.installed;
    let kind = view.kind;
    let version = view.version;
    let form = FormState::new(kind, &view.config);
    view! {
        <Title text=title.clone() />
        <p class="text-sm text-slate-500">
            <a href="/batteries" class="hover:underline">"Batteries"</a>
            " / "
            {view.group.title()}
        </p>
        <div class="mt-1 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold">{title}</h1>
            <span data-testid="battery-status">
                <StatusBadge status=(if installed { "installed" } else { "not installed" }).to_owned() />
            </span>
        </div>
        <p class="mt-2 max-w-3xl text-slate-700">{view.description.clone()}</p>
        {(installed && bi_model::reach::has_ui(kind)).then(|| view! { <BatteryAddresses kind /> })}
        <div class="mt-6 grid max-w-6xl grid-cols-1 gap-6 lg:grid-cols-[minmax(0,1fr)_24rem]">
            <div class="min-w-0">
                {(!installed).then(|| view! { <InstallPreview kind /> })}
                <ConfigForm kind installed form version reload />
                {installed.then(|| running(kind, pods, drift))}
                {installed.then(|| {
                    let removable = view.removable;
                    view! {
                        <IfAllowed role=Role::Editor>
                            <Uninstall kind removable version reload />
                        </IfAllowed>
                    }
                })}
            </div>
            <aside class="min-w-0 space-y-4 text-sm">
                <ChangePreview change=move |current: &DesiredState| with_config(current, kind, form.decoded.get()) />
                <div class="rounded-lg border border-slate-200 bg-white p-4">
                    <h2 class="font-semibold">"Needs"</h2>
                    <p class="mt-1 text-slate-600">
                        {if view.dependencies.is_empty() {
                            "nothing else".to_owned()
                        } else {
                            names(&view.dependencies)
                        }}
                    </p>
                    <h2 class="mt-3 font-semibold">"Needed by"</h2>
                    <p class="mt-1 text-slate-600" data-testid="dependents">
                        {if view.dependents.is_empty() {
                            "no installed battery".to_owned()
                        } else {
                            names(&view.dependents)
                        }}
                    </p>
                </div>
                <div class="rounded-lg border border-slate-200 bg-white p-4">
                    <h2 class="font-semibold">"Integrations"</h2>
                    <ul class="mt-1 space-y-1 text-slate-600">
                        {view
                            .integrations
                            .iter()
                            .map(|integration| {
                                view! {
                                    <li>
                                        {integration.partner.info().name} ": " {integration.what.clone()}
                                        {integration
                                            .active
                                            .then(|| view! { <span class="ml-1 text-emerald-700">"(on)"</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </div>
            </aside>
        </div>
    }
}

/// Where this battery's UI opens, with its status; or that nothing routes
/// to it and what to install.
#[component]
fn BatteryAddresses(kind: BatteryKind) -> impl IntoView {
    let reach = Resource::new(|| (), |_| installation_reach());
    view! {
        <section class="mt-3 max-w-3xl" data-testid="battery-addresses">
            <Transition fallback=|| ()>
                {move || {
                    reach
                        .get()
                        .map(|result| match result {
                            Ok(reach) => {
                                let addresses: Vec<_> = reach.of_battery(kind).cloned().collect();
                                let unreachable: Vec<String> = reach
                                    .unreachable
                                    .iter()
                                    .filter(|u| u.battery == kind)
                                    .map(|u| u.words.clone())
                                    .collect();
                                view! {
                                    <AddressList addresses />
                                    {unreachable
                                        .into_iter()
                                        .map(|words| view! { <p class="mt-1 text-sm text-amber-800" data-testid="unreachable">{words}</p> })
                                        .collect_view()}
                                }
                                    .into_any()
                            }
                            Err(error) => view! { <ErrorNote error /> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// What installing this battery brings along, before confirming.
#[component]
fn InstallPreview(kind: BatteryKind) -> impl IntoView {
    let preview = Resource::new(move || kind.id().to_owned(), preview_install);
    view! {
        <section
            class="mb-6 rounded-lg border border-indigo-200 bg-indigo-50 p-4 text-sm"
            data-testid="install-preview"
        >
            <h2 class="font-semibold text-indigo-900">"Installing brings"</h2>
            <Transition fallback=|| view! { <p>"…"</p> }>
                {move || {
                    preview
                        .get()
                        .map(|result| match result {
                            Ok(preview) => {
                                let others: Vec<BatteryKind> = preview
                                    .to_install
                                    .iter()
                                    .copied()
                                    .filter(|other| *other != kind)
                                    .collect();
                                view! {
                                    <p class="mt-1">
                                        {if others.is_empty() {
                                            "No other battery: its dependencies are installed.".to_owned()
                                        } else {
                                            format!("Also installs: {}.", names(&others))
                                        }}
                                    </p>
                                    <ul class="mt-1 list-disc pl-5">
                                        {preview
                                            .integrations_on
                                            .into_iter()
                                            .map(|note| {
                                                view! {
                                                    <li>
                                                        "Switches on: " {note.battery.info().name} " ↔ "
                                                        {note.partner.info().name} ": " {note.what}
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
        </section>
    }
}

/// `memory_limit` → `Memory limit`.
fn field_label(key: &str) -> String {
    let text = key.replace('_', " ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The config form's state: one text per field, and what they decode to
/// (checked by `bi-model` on every change).
#[derive(Debug, Clone, Copy)]
struct FormState {
    fields: StoredValue<Vec<FormField>>,
    texts: StoredValue<Vec<RwSignal<String>>>,
    decoded: Memo<Result<BatteryConfig, Vec<FieldError>>>,
}

impl FormState {
    /// A form over `config`'s fields (the battery's stored or default config).
    fn new(kind: BatteryKind, config: &serde_json::Value) -> Self {
        let fields = FormField::all(config);
        let texts: Vec<RwSignal<String>> = fields
            .iter()
            .map(|field| RwSignal::new(field.text.clone()))
            .collect();
        let fields = StoredValue::new(fields);
        let texts = StoredValue::new(texts);
        let decoded = Memo::new(move |_| {
            decode(kind, &edited(fields, texts))
                .map_err(|problems| problems.iter().cloned().collect::<Vec<FieldError>>())
        });
        Self {
            fields,
            texts,
            decoded,
        }
    }

    /// The fields as edited, as the JSON object the server takes.
    fn edited(&self) -> serde_json::Value {
        edited(self.fields, self.texts)
    }
}

fn edited(
    fields: StoredValue<Vec<FormField>>,
    texts: StoredValue<Vec<RwSignal<String>>>,
) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    fields.with_value(|fields| {
        texts.with_value(|texts| {
            for (field, text) in fields.iter().zip(texts) {
                object.insert(field.key.clone(), field.value(&text.get()));
            }
        })
    });
    serde_json::Value::Object(object)
}

/// The desired state with the form's config saved: installed with its
/// dependencies when it is not yet. None while the form is invalid.
fn with_config(
    current: &DesiredState,
    kind: BatteryKind,
    config: Result<BatteryConfig, Vec<FieldError>>,
) -> Option<DesiredState> {
    let config = config.ok()?;
    let mut state = current.clone();
    state.install(&[kind]).ok()?;
    state.batteries.insert(kind, config);
    Some(state)
}

/// The battery's config, one input per field, checked by `bi-model` on
/// every change; installs or saves through the server, which checks again
/// and refuses a save when the config changed after `version`, the version
/// the form was filled in from (then a banner says what changed and
/// `reload` takes the current values).
#[component]
fn ConfigForm(
    kind: BatteryKind,
    installed: bool,
    form: FormState,
    version: i32,
    reload: Callback<()>,
) -> impl IntoView {
    let FormState { fields, texts, .. } = form;
    let local_problems = Memo::new(move |_| form.decoded.get().err().unwrap_or_default());
    let install = ServerAction::<InstallBattery>::new();
    let save = ServerAction::<SaveBatteryConfig>::new();
    let pending = move || install.pending().get() || save.pending().get();
    let server_error = move || {
        let result = if installed {
            save.value().get().map(|result| result.map(|_| ()))
        } else {
            install.value().get().map(|result| result.map(|_| ()))
        };
        result.and_then(Result::err)
    };
    // Server problems name `grafana.storage`; the form's fields are `storage`.
    let server_problems = move || {
        let prefix = format!("{}.", kind.id());
        server_error()
            .map(|error| error.problems())
            .unwrap_or_default()
            .into_iter()
            .map(|mut problem| {
                if let Some(rest) = problem.field.strip_prefix(&prefix) {
                    problem.field = rest.to_owned();
                } else if problem.field == kind.id() {
                    problem.field = String::new();
                }
                problem
            })
            .collect::<Vec<_>>()
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        let version = if installed {
            save.value().get().and_then(Result::ok)
        } else {
            install.value().get().and_then(Result::ok)
        };
        if let Some(version) = version {
            navigate(
                &format!("/deploys/live?after={version}"),
                Default::default(),
            );
        }
    });
    let submit = move || {
        if !local_problems.get_untracked().is_empty() {
            return;
        }
        let config = form.edited().to_string();
        if installed {
            save.dispatch(SaveBatteryConfig {
                kind: kind.id().to_owned(),
                config,
                expected_version: Some(version),
            });
        } else {
            install.dispatch(InstallBattery {
                kind: kind.id().to_owned(),
                config,
            });
        }
    };
    let general_problems = move || {
        let mut problems = messages_for(&local_problems.get(), "");
        problems.extend(messages_for(&server_problems(), ""));
        problems.extend(messages_for(&server_problems(), "battery"));
        problems
    };
    let other_error = move || server_error().filter(|error| error.problems().is_empty());
    let rows = fields.with_value(|fields| {
        texts.with_value(|texts| {
            fields
                .iter()
                .cloned()
                .zip(texts.iter().copied())
                .map(|(field, text)| {
                    view! { <ConfigField field text local_problems server_problems=Signal::derive(server_problems) /> }
                })
                .collect_view()
        })
    });
    view! {
        <form
            class="card p-5"
            data-testid="config-form"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            <h2 class="text-base font-semibold">"Configuration"</h2>
            <div class="mt-3 space-y-4">{rows}</div>
            <ul class="mt-3 text-sm text-red-700" data-testid="form-errors">
                {move || general_problems().into_iter().map(|message| view! { <li>{message}</li> }).collect_view()}
            </ul>
            {move || other_error().map(|error| view! { <ErrorNote error /> })}
            {move || server_error().map(|error| view! { <ChangedMeanwhileNote error reload /> })}
            <IfAllowed role=Role::Editor>
                <button
                    type="submit"
                    class="mt-4 rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-50"
                    disabled=move || !local_problems.get().is_empty() || pending()
                >
                    {move || match (installed, pending()) {
                        (_, true) => "Saving…",
                        (true, false) => "Save",
                        (false, false) => "Install",
                    }}
                </button>
            </IfAllowed>
        </form>
    }
}

/// One input of the config form, with its problems under it.
#[component]
fn ConfigField(
    field: FormField,
    text: RwSignal<String>,
    local_problems: Memo<Vec<FieldError>>,
    server_problems: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let id = format!("field-{}", field.key);
    let error_id = format!("error-{}", field.key);
    let key = field.key.clone();
    let messages = move || {
        let mut messages = messages_for(&local_problems.get(), &key);
        for message in messages_for(&server_problems.get(), &key) {
            if !messages.contains(&message) {
                messages.push(message);
            }
        }
        messages
    };
    let invalid = {
        let messages = messages.clone();
        move || (!messages().is_empty()).to_string()
    };
    let input_class = "w-full rounded-md border border-slate-300 px-3 py-2 text-sm font-mono focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200 aria-[invalid=true]:border-red-500";
    let input = match field.shape {
        FieldShape::Flag => view! {
            <input
                id=id.clone()
                type="checkbox"
                class="h-4 w-4"
                checked=field.text == "true"
                prop:checked=move || text.get() == "true"
                on:change=move |ev| text.set(event_target_checked(&ev).to_string())
            />
        }
        .into_any(),
        FieldShape::Json => view! {
            <textarea
                id=id.clone()
                rows="4"
                class=input_class
                aria-invalid=invalid.clone()
                aria-describedby=error_id.clone()
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            >
                {text.get_untracked()}
            </textarea>
        }
        .into_any(),
        FieldShape::Text | FieldShape::Number | FieldShape::Optional => view! {
            <input
                id=id.clone()
                type="text"
                autocomplete="off"
                class=input_class
                aria-invalid=invalid.clone()
                aria-describedby=error_id.clone()
                // NB: the attribute is for pages read without JavaScript.
                value=field.text.clone()
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
        }
        .into_any(),
    };
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">
                {field_label(&field.key)}
            </label>
            <div class="mt-1">{input}</div>
            <p id=error_id.clone() class="mt-1 text-sm text-red-700" data-testid=error_id>
                {move || messages().join(" ")}
            </p>
        </div>
    }
}

/// Uninstalls the battery; the server refuses, naming them, while others
/// need it, and when its config changed after `version` (the one shown).
#[component]
fn Uninstall(
    kind: BatteryKind,
    removable: bool,
    version: i32,
    reload: Callback<()>,
) -> impl IntoView {
    let uninstall = ServerAction::<UninstallBattery>::new();
    let confirming = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(version)) = uninstall.value().get() {
            navigate(
                &format!("/deploys/live?after={version}"),
                Default::default(),
            );
        }
    });
    let error = move || uninstall.value().get().and_then(Result::err);
    view! {
        <section class="mt-6 rounded-lg border border-red-200 bg-white p-5">
            <h2 class="text-base font-semibold text-red-800">"Uninstall"</h2>
            {if removable {
                view! {
                    <div class="mt-2 flex flex-wrap gap-2">
                        <button
                            type="button"
                            class="rounded-md border border-red-300 px-4 py-2 text-sm font-medium text-red-700 hover:bg-red-50"
                            on:click=move |_| confirming.set(true)
                        >
                            "Uninstall…"
                        </button>
                        <Show when=move || confirming.get()>
                            <button
                                type="button"
                                class="rounded-md bg-red-600 px-4 py-2 text-sm font-medium text-white hover:bg-red-500"
                                on:click=move |_| {
                                    uninstall.dispatch(UninstallBattery {
                                        kind: kind.id().to_owned(),
                                        expected_version: Some(version),
                                    });
                                }
                            >
                                "Yes, uninstall"
                            </button>
                        </Show>
                    </div>
                }
                    .into_any()
            } else {
                view! { <p class="mt-1 text-sm text-slate-600">"bi cannot run without this battery."</p> }
                    .into_any()
            }}
            {move || error().map(|error: ApiError| view! { <ActionError error reload /> })}
        </section>
    }
}
