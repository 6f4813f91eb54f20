//! One service (`/services/:name`): its status in the cluster (workloads,
//! Knative's condition and URL), a form for its image, environment, ports,
//! scale, memory and CPU (checked by `bi-model` as you type, with the live
//! preview of what saving does), the connection Secrets it can read, the
//! Kubernetes Events about it and bi's recent writes of its objects.

use bi_model::FieldError;
use bi_model::generate::{ConnectionSecret, DesiredState};
use bi_model::objects::{ObjectKind, ProjectObject};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::reach::installation_reach;
use crate::api::services::{ApplyOutcome, ServiceDetail, ServiceEvent, UpdateService, get_service};
use crate::components::addresses::AddressList;
use crate::components::change_preview::ChangePreview;
use crate::components::feedback::{
    ChangedMeanwhileNote, ErrorNote, Loading, StatusBadge, messages_for,
};
use crate::components::text_field::{INPUT, TextField};
use bi_model::input::service_form::{
    EnvRow, KindFields, PortRow, ServiceForm, form_key, suggested_name,
};

const SMALL_BUTTON: &str = "rounded-md border border-slate-300 px-2 py-1 text-sm hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-200";
const CARD: &str = "card p-4";

/// The service page.
#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let detail = Resource::new(name, get_service);
    // NB: a fresh read re-renders the form from the current settings and
    // version (what "Reload" after a conflict wants).
    let reload = Callback::new(move |()| detail.refetch());
    view! {
        <Title text="Service" />
        <p class="text-sm text-slate-500">
            <a href="/services" class="hover:underline">"Services"</a>
        </p>
        <h1 class="mt-1 text-2xl font-semibold">{name}</h1>
        <Transition fallback=Loading>
            {move || {
                detail
                    .get()
                    .map(|result| match result {
                        Ok(detail) => view! { <Detail detail reload /> }.into_any(),
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// Everything about one service; `reload` reads it again.
#[component]
fn Detail(detail: ServiceDetail, reload: Callback<()>) -> impl IntoView {
    let kind_label = if detail.kind() == ObjectKind::KnativeService {
        "Knative service"
    } else {
        "traditional service"
    };
    let status = detail.status.clone();
    let secrets = status
        .as_ref()
        .map(|status| status.connection_secrets.clone())
        .unwrap_or_default();
    let namespace = status.as_ref().and_then(|status| status.namespace.clone());
    let events = status
        .as_ref()
        .map(|status| status.events.clone())
        .unwrap_or_default();
    let pods = status
        .as_ref()
        .map(|status| status.pods.clone())
        .unwrap_or_default();
    let outcomes = status.map(|status| status.outcomes).unwrap_or_default();
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-3 text-sm">
            <span class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700">{kind_label}</span>
            {detail.object.project().map(str::to_owned).map(|project| view! {
                <a href=format!("/projects/{project}") class="text-indigo-700 hover:underline">{format!("project {project}")}</a>
            })}
            {namespace.map(|namespace| view! {
                <span class="text-slate-500">"namespace " <span class="font-mono">{namespace}</span></span>
            })}
        </div>
        <Status detail=detail.clone() />
        <section class="mt-4 max-w-5xl card p-4" data-testid="pods">
            <h2 class="font-semibold">"Pods"</h2>
            {super::pods::pods_table(pods)}
        </section>
        <div class="mt-4 grid grid-cols-1 gap-6 xl:grid-cols-[minmax(0,1fr)_26rem]">
            <EditForm name=detail.name.clone() object=detail.object.clone() secrets version=detail.version reload />
        </div>
        <Events events />
        <Outcomes outcomes />
    }
}

/// Readiness, workloads, Knative's condition and URL.
#[component]
fn Status(detail: ServiceDetail) -> impl IntoView {
    let (workloads, url, condition) = detail.status.clone().map_or_else(
        || (Vec::new(), None, None),
        |status| (status.workloads, status.url, status.condition),
    );
    view! {
        <section class=format!("mt-4 max-w-5xl {CARD}") data-testid="service-status">
            <h2 class="text-base font-semibold">"Status"</h2>
            <p class="mt-1 text-sm">
                <span data-testid="service-readiness"><StatusBadge status=detail.readiness().to_owned() /></span>
                {(detail.readiness() == "configured").then(|| view! {
                    <span class="ml-2 text-slate-500">"Knative runs its Pods; bi watches the service's own condition."</span>
                })}
            </p>
            {detail.cluster_error.clone().map(|error| view! { <p class="mt-1 text-sm text-red-700">{error}</p> })}
            <ul class="mt-2 text-sm">
                {workloads.into_iter().map(|w| {
                    let ready = w.ready.map_or_else(|| "not in the cluster yet".to_owned(), |r| format!("{r}/{} ready", w.desired));
                    let what = format!("{} {}", w.path.kind, w.path.name);
                    view! { <li><span class="font-mono">{what}</span> ": " {ready}</li> }
                }).collect_view()}
            </ul>
            <ServiceAddress name=detail.name.clone() />
            {url.map(|url| view! { <p class="mt-1 text-sm text-slate-600">"Knative's URL: " <span class="font-mono">{url}</span></p> })}
            {condition.map(|condition| view! { <p class="mt-1 text-sm text-slate-600">{condition}</p> })}
        </section>
    }
}

/// Where the service opens, with its status; or that it is not exposed.
#[component]
fn ServiceAddress(name: String) -> impl IntoView {
    let reach = Resource::new(|| (), |_| installation_reach());
    view! {
        <Transition fallback=|| ()>
            {move || {
                let name = name.clone();
                reach.get().map(move |result| match result {
                    Ok(reach) => match reach.of_object(&name).cloned() {
                        Some(address) => view! { <AddressList addresses=vec![address] /> }.into_any(),
                        None => view! {
                            <p class="mt-1 text-sm text-slate-500" data-testid="no-address">
                                {if reach.gateway.is_some() {
                                    "Not exposed: reachable only inside the cluster."
                                } else {
                                    "Reachable only inside the cluster: install the Istio Ingress Gateway to give it an address."
                                }}
                            </p>
                        }
                            .into_any(),
                    },
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })
            }}
        </Transition>
    }
}

/// The edit form with its preview beside it. Saving sends `version`, the
/// version the form was filled in from: a change made meanwhile is shown
/// (with `reload`) instead of being overwritten.
#[component]
fn EditForm(
    name: String,
    object: ProjectObject,
    secrets: Vec<ConnectionSecret>,
    version: i32,
    reload: Callback<()>,
) -> impl IntoView {
    let Some(initial) = ServiceForm::of(&object) else {
        return view! { <p class="text-sm text-red-700">"This object is not a service."</p> }
            .into_any();
    };
    let form = RwSignal::new(initial.clone());
    let object = StoredValue::new(object);
    let built = Memo::new(move |_| {
        form.with(|form| object.with_value(|object| form.apply(object)))
            .map_err(|problems| problems.iter().cloned().collect::<Vec<FieldError>>())
    });
    let is_knative = matches!(initial.kind, KindFields::Knative(_));
    let initial = StoredValue::new(initial);
    let changed =
        Memo::new(move |_| form.with(|form| initial.with_value(|initial| form != initial)));
    let save = ServerAction::<UpdateService>::new();
    let server_problems = move || {
        save.value()
            .get()
            .and_then(Result::err)
            .map(|error| error.problems())
            .unwrap_or_default()
            .into_iter()
            .map(|mut problem| {
                problem.field = form_key(&problem.field).to_owned();
                problem
            })
            .collect::<Vec<_>>()
    };
    let problems = Signal::derive(move || {
        let mut problems = built.get().err().unwrap_or_default();
        problems.extend(server_problems());
        problems
    });
    let other_error = move || {
        save.value()
            .get()
            .and_then(Result::err)
            .filter(|error| error.problems().is_empty())
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(version)) = save.value().get() {
            navigate(
                &format!("/deploys/live?after={version}"),
                Default::default(),
            );
        }
    });
    let name = StoredValue::new(name);
    let secrets = StoredValue::new(secrets);
    view! {
        <form
            class=format!("space-y-4 {CARD}")
            data-testid="service-form"
            on:submit=move |ev| {
                ev.prevent_default();
                if built.get_untracked().is_ok() {
                    let json = form.with_untracked(|form| serde_json::to_string(form).unwrap_or_default());
                    save.dispatch(UpdateService {
                        name: name.get_value(),
                        form: json,
                        expected_version: Some(version),
                    });
                }
            }
        >
            <h2 class="text-base font-semibold">"Settings"</h2>
            <TextField id="svc-image" label="Image" field="image" problems
                get=move || form.with(|f| f.image.clone())
                set=move |v| form.update(|f| f.image = v) />
            {if is_knative { view! { <KnativeInputs form problems /> }.into_any() } else { view! { <TraditionalInputs form problems /> }.into_any() }}
            <EnvEditor form problems secrets />
            <label class="flex items-center gap-2 text-sm">
                <input
                    type="checkbox"
                    data-testid="svc-expose"
                    prop:checked=move || form.with(|f| f.expose)
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        form.update(|f| f.expose = checked);
                    }
                />
                "Reachable from outside the cluster at its hostname (through the ingress gateway)"
            </label>
            <ul class="text-sm text-red-700" data-testid="form-errors">
                {move || messages_for(&problems.get(), "kind").into_iter().chain(messages_for(&problems.get(), "form")).map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul>
            {move || other_error().map(|error| view! { <ErrorNote error /> })}
            {move || {
                save.value()
                    .get()
                    .and_then(Result::err)
                    .map(|error| view! { <ChangedMeanwhileNote error reload /> })
            }}
            <div class="flex flex-wrap items-center gap-3">
                <button
                    type="submit"
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-50"
                    disabled=move || built.get().is_err() || !changed.get() || save.pending().get()
                >
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                {move || (!changed.get()).then(|| view! { <span class="text-sm text-slate-500">"No changes yet."</span> })}
            </div>
        </form>
        <ChangePreview change=move |current: &DesiredState| {
            let object = built.get().ok()?;
            let mut state = current.clone();
            object.replace_in(&mut state);
            Some(state)
        } />
    }
    .into_any()
}

/// Scale and port of a Knative service.
#[component]
fn KnativeInputs(form: RwSignal<ServiceForm>, problems: Signal<Vec<FieldError>>) -> impl IntoView {
    let get = move |pick: fn(&bi_model::input::service_form::KnativeFields) -> String| {
        move || {
            form.with(|form| match &form.kind {
                KindFields::Knative(fields) => pick(fields),
                KindFields::Traditional(_) => String::new(),
            })
        }
    };
    let set = move |put: fn(&mut bi_model::input::service_form::KnativeFields, String)| {
        move |value: String| {
            form.update(|form| {
                if let KindFields::Knative(fields) = &mut form.kind {
                    put(fields, value);
                }
            });
        }
    };
    view! {
        <div class="grid grid-cols-2 gap-3 sm:grid-cols-4">
            <TextField id="svc-min_scale" label="Min instances" field="min_scale" problems
                get=get(|f| f.min_scale.clone()) set=set(|f, v| f.min_scale = v) />
            <TextField id="svc-max_scale" label="Max instances" field="max_scale" problems
                get=get(|f| f.max_scale.clone()) set=set(|f, v| f.max_scale = v) />
            <TextField id="svc-concurrency_target" label="Requests per instance" field="concurrency_target" problems
                get=get(|f| f.concurrency_target.clone()) set=set(|f, v| f.concurrency_target = v) />
            <TextField id="svc-port" label="Port" field="port" problems
                get=get(|f| f.port.clone()) set=set(|f, v| f.port = v) />
        </div>
        <p class="text-xs text-slate-500">"Min instances 0 lets the service scale to zero when idle."</p>
    }
}

/// Replicas, memory, CPU and ports of a traditional service.
#[component]
fn TraditionalInputs(
    form: RwSignal<ServiceForm>,
    problems: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let get = move |pick: fn(&bi_model::input::service_form::TraditionalFields) -> String| {
        move || {
            form.with(|form| match &form.kind {
                KindFields::Traditional(fields) => pick(fields),
                KindFields::Knative(_) => String::new(),
            })
        }
    };
    let set = move |put: fn(&mut bi_model::input::service_form::TraditionalFields, String)| {
        move |value: String| {
            form.update(|form| {
                if let KindFields::Traditional(fields) = &mut form.kind {
                    put(fields, value);
                }
            });
        }
    };
    let port_count = move || {
        form.with(|form| match &form.kind {
            KindFields::Traditional(fields) => fields.ports.len(),
            KindFields::Knative(_) => 0,
        })
    };
    let port_text = move |i: usize, pick: fn(&PortRow) -> String| {
        move || {
            form.with(|form| match &form.kind {
                KindFields::Traditional(fields) => {
                    fields.ports.get(i).map(pick).unwrap_or_default()
                }
                KindFields::Knative(_) => String::new(),
            })
        }
    };
    let set_port = move |i: usize, put: fn(&mut PortRow, String)| {
        move |value: String| {
            form.update(|form| {
                if let KindFields::Traditional(fields) = &mut form.kind
                    && let Some(port) = fields.ports.get_mut(i)
                {
                    put(port, value);
                }
            });
        }
    };
    let ports_problems = move || messages_for(&problems.get(), "ports").join(" ");
    view! {
        <div class="grid grid-cols-1 gap-3 sm:grid-cols-3">
            <TextField id="svc-replicas" label="Replicas" field="replicas" problems
                get=get(|f| f.replicas.clone()) set=set(|f, v| f.replicas = v) />
            <TextField id="svc-memory" label="Memory per replica" field="memory" problems
                get=get(|f| f.memory.clone()) set=set(|f, v| f.memory = v) />
            <TextField id="svc-cpu" label="CPU per replica" field="cpu" problems
                get=get(|f| f.cpu.clone()) set=set(|f, v| f.cpu = v) />
        </div>
        <fieldset data-testid="ports">
            <legend class="text-sm font-medium text-slate-700">"Ports"</legend>
            <p class="text-xs text-slate-500">"Exposed by the service's ClusterIP Service; a port named metrics is scraped."</p>
            <For each=move || 0..port_count() key=|i| *i let:i>
                <div class="mt-2 grid grid-cols-2 items-start gap-2 sm:grid-cols-[minmax(0,1fr)_6rem_9rem_auto]" data-testid=format!("port-{i}")>
                    <TextField id=format!("svc-port-{i}-name") label=format!("Port {} name", i + 1) field=format!("ports[{i}].name") problems compact=true
                        get=port_text(i, |p| p.name.clone()) set=set_port(i, |p, v| p.name = v) />
                    <TextField id=format!("svc-port-{i}-number") label=format!("Port {} number", i + 1) field=format!("ports[{i}].number") problems compact=true
                        get=port_text(i, |p| p.number.clone()) set=set_port(i, |p, v| p.number = v) />
                    <div>
                        <label for=format!("svc-port-{i}-protocol") class="sr-only">{format!("Port {} protocol", i + 1)}</label>
                        <select
                            id=format!("svc-port-{i}-protocol")
                            class=INPUT
                            prop:value=port_text(i, |p| p.protocol.clone())
                            on:change=set_port(i, |p, v| p.protocol = v).into_event_handler()
                        >
                            <option value="http">"HTTP"</option>
                            <option value="http2">"HTTP/2, gRPC"</option>
                            <option value="tcp">"TCP"</option>
                        </select>
                    </div>
                    <button type="button" class=SMALL_BUTTON aria-label=format!("Remove port {}", i + 1)
                        on:click=move |_| form.update(|form| {
                            if let KindFields::Traditional(fields) = &mut form.kind && i < fields.ports.len() {
                                fields.ports.remove(i);
                            }
                        })>"Remove"</button>
                </div>
            </For>
            <p class="text-xs text-red-700">{ports_problems}</p>
            <button type="button" class=format!("mt-2 {SMALL_BUTTON}")
                on:click=move |_| form.update(|form| {
                    if let KindFields::Traditional(fields) = &mut form.kind {
                        fields.ports.push(PortRow::default());
                    }
                })>"Add port"</button>
        </fieldset>
    }
}

/// An `on:change` handler from a value setter.
trait IntoEventHandler {
    fn into_event_handler(self) -> impl FnMut(leptos::ev::Event) + 'static;
}

impl<S: Fn(String) + 'static> IntoEventHandler for S {
    fn into_event_handler(self) -> impl FnMut(leptos::ev::Event) + 'static {
        move |ev| self(event_target_value(&ev))
    }
}

/// The environment: literal values or keys of Secrets, with the connection
/// Secrets one click away.
#[component]
fn EnvEditor(
    form: RwSignal<ServiceForm>,
    problems: Signal<Vec<FieldError>>,
    secrets: StoredValue<Vec<ConnectionSecret>>,
) -> impl IntoView {
    let count = move || form.with(|form| form.env.len());
    let text = move |i: usize, pick: fn(&EnvRow) -> String| {
        move || form.with(|form| form.env.get(i).map(pick).unwrap_or_default())
    };
    let set = move |i: usize, put: fn(&mut EnvRow, String)| {
        move |value: String| {
            form.update(|form| {
                if let Some(row) = form.env.get_mut(i) {
                    put(row, value);
                }
            });
        }
    };
    let from_secret =
        move |i: usize| form.with(|form| form.env.get(i).is_some_and(|row| row.from_secret));
    let add = move |row: EnvRow| form.update(|form| form.env.push(row));
    let names: Vec<String> = secrets.with_value(|s| s.iter().map(|s| s.name.clone()).collect());
    let keys: Vec<String> = secrets.with_value(|s| {
        let mut keys: Vec<String> = s.iter().flat_map(|s| s.keys.clone()).collect();
        keys.sort();
        keys.dedup();
        keys
    });
    view! {
        <fieldset data-testid="env">
            <legend class="text-sm font-medium text-slate-700">"Environment"</legend>
            <datalist id="connection-secrets">
                {names.into_iter().map(|name| view! { <option value=name /> }).collect_view()}
            </datalist>
            <datalist id="connection-keys">
                {keys.into_iter().map(|key| view! { <option value=key /> }).collect_view()}
            </datalist>
            <For each=move || 0..count() key=|i| *i let:i>
                <div class="mt-2 grid grid-cols-[minmax(0,1fr)_9rem_auto] items-start gap-2 border-b border-slate-100 pb-2" data-testid=format!("env-{i}")>
                    <TextField id=format!("svc-env-{i}-name") label=format!("Variable {} name", i + 1) field=format!("env[{i}].name") problems compact=true
                        get=text(i, |r| r.name.clone()) set=set(i, |r, v| r.name = v) />
                    <div>
                        <label for=format!("svc-env-{i}-source") class="sr-only">{format!("Variable {} source", i + 1)}</label>
                        <select
                            id=format!("svc-env-{i}-source")
                            class=INPUT
                            prop:value=move || if from_secret(i) { "secret" } else { "value" }
                            on:change=set(i, |r, v| r.from_secret = v == "secret").into_event_handler()
                        >
                            <option value="value">"value"</option>
                            <option value="secret">"from Secret"</option>
                        </select>
                    </div>
                    {move || if from_secret(i) {
                        view! {
                            <div class="order-last col-span-3 grid grid-cols-[minmax(0,2fr)_minmax(0,1fr)] gap-2">
                                <TextField id=format!("svc-env-{i}-secret") label=format!("Variable {} Secret", i + 1) field=format!("env[{i}].value.secret_ref.secret") problems compact=true list="connection-secrets"
                                    get=text(i, |r| r.secret.clone()) set=set(i, |r, v| r.secret = v) />
                                <TextField id=format!("svc-env-{i}-key") label=format!("Variable {} key", i + 1) field=format!("env[{i}].value.secret_ref.key") problems compact=true list="connection-keys"
                                    get=text(i, |r| r.key.clone()) set=set(i, |r, v| r.key = v) />
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <div class="order-last col-span-3">
                            <TextField id=format!("svc-env-{i}-value") label=format!("Variable {} value", i + 1) field=format!("env[{i}].value") problems compact=true
                                get=text(i, |r| r.value.clone()) set=set(i, |r, v| r.value = v) />
                            </div>
                        }.into_any()
                    }}
                    <button type="button" class=SMALL_BUTTON aria-label=format!("Remove variable {}", i + 1)
                        on:click=move |_| form.update(|form| { if i < form.env.len() { form.env.remove(i); } })>"Remove"</button>
                </div>
            </For>
            <button type="button" class=format!("mt-2 {SMALL_BUTTON}") on:click=move |_| add(EnvRow::default())>"Add variable"</button>
            <div class="mt-3 rounded-md bg-slate-50 p-3 text-sm" data-testid="connection-secrets">
                <p class="font-medium">"Connection Secrets"</p>
                <p class="text-xs text-slate-500">
                    "Your databases' connection details, never shown here: a variable reads one key. bi publishes them in this service's namespace."
                </p>
                {move || secrets.with_value(|secrets| secrets.is_empty()).then(|| view! {
                    <p class="mt-1 text-slate-500">"None yet: add a PostgreSQL cluster, Redis or FerretDB to a project."</p>
                })}
                <ul class="mt-1 space-y-1">
                    {secrets.get_value().into_iter().map(|secret| {
                        let ConnectionSecret { name, app, keys } = secret;
                        view! {
                            <li>
                                <span class="font-mono break-all">{name.clone()}</span>
                                <span class="ml-1 inline-flex flex-wrap gap-1">
                                    {keys.into_iter().map(|key| {
                                        let row = EnvRow {
                                            name: suggested_name(&app, &key),
                                            from_secret: true,
                                            secret: name.clone(),
                                            key: key.clone(),
                                            ..EnvRow::default()
                                        };
                                        view! {
                                            <button type="button" class="rounded border border-slate-300 bg-white px-1.5 text-xs hover:bg-indigo-50"
                                                data-testid=format!("use-{name}-{key}")
                                                title=format!("Add a variable read from {key}")
                                                on:click=move |_| add(row.clone())>
                                                {format!("+ {key}")}
                                            </button>
                                        }
                                    }).collect_view()}
                                </span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </fieldset>
    }
}

/// Kubernetes Events about the service's objects.
#[component]
fn Events(events: Vec<ServiceEvent>) -> impl IntoView {
    view! {
        <section class=format!("mt-6 max-w-5xl {CARD}") data-testid="service-events">
            <h2 class="text-base font-semibold">"Events"</h2>
            {events.is_empty().then(|| view! { <p class="mt-1 text-sm text-slate-500">"No events about this service in the cluster."</p> })}
            <ul class="mt-2 divide-y divide-slate-100 text-sm">
                {events.into_iter().map(|event| {
                    let colour = if event.kind == "Warning" { "text-amber-800" } else { "text-slate-700" };
                    view! {
                        <li class="flex flex-wrap gap-x-3 py-1">
                            <span class=format!("font-medium {colour}")>{event.reason}</span>
                            <span class="text-slate-500">{event.object}</span>
                            <span class="min-w-0 flex-1 break-words">{event.message}</span>
                            <span class="text-xs text-slate-500">{format!("×{} {}", event.count, event.last_seen.unwrap_or_default())}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// bi's recent writes of the service's objects.
#[component]
fn Outcomes(outcomes: Vec<ApplyOutcome>) -> impl IntoView {
    view! {
        <section class=format!("mt-4 max-w-5xl {CARD}") data-testid="service-outcomes">
            <h2 class="text-base font-semibold">"Applied by bi"</h2>
            {outcomes.is_empty().then(|| view! { <p class="mt-1 text-sm text-slate-500">"Not applied yet."</p> })}
            <ul class="mt-2 divide-y divide-slate-100 text-sm">
                {outcomes.into_iter().map(|row| view! {
                    <li class="flex flex-wrap items-center gap-x-3 py-1">
                        <a href=format!("/deploys/{}", row.snapshot) class="text-indigo-700 hover:underline">{format!("#{}", row.snapshot)}</a>
                        <StatusBadge status=row.outcome />
                        <span class="min-w-0 break-all font-mono text-xs">{row.path}</span>
                        {row.message.map(|message| view! { <span class="text-red-700">{message}</span> })}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}
