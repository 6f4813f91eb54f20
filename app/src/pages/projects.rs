//! Projects (`/projects`) and one project (`/projects/:name`): create,
//! rename, delete; list the objects in a project; add a PostgreSQL cluster,
//! a Knative service or a traditional service (with capacity advice);
//! change a cluster's storage.

use bi_model::FieldError;
use bi_model::capacity::Demand;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::AppError;
use crate::api::health::cluster_capacity;
use crate::api::projects::{
    AddKnativeService, AddPostgresCluster, AddTraditionalService, CreateProject, DeleteProject,
    ObjectRow, RenameProject, ResizePostgresCluster, get_project, knative_service, list_projects,
    postgres_cluster, traditional_service,
};
use crate::components::feedback::{ErrorNote, Loading, messages_for};

const INPUT: &str = "w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200 aria-[invalid=true]:border-red-500";
const BUTTON: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-50";

/// The problems a failed action reports, with the form's own.
fn with_server(local: Vec<FieldError>, server: Option<AppError>) -> Vec<FieldError> {
    let mut problems = local;
    if let Some(error) = server {
        problems.extend(error.problems().into_iter().map(|mut problem| {
            if let Some(rest) = problem.field.strip_prefix("object.") {
                problem.field = rest.to_owned();
            }
            problem
        }));
    }
    problems
}

/// A labelled text input with its problems under it.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    field: &'static str,
    #[prop(into)] problems: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let messages = move || messages_for(&problems.get(), field).join(" ");
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=id
                type="text"
                autocomplete="off"
                class=INPUT
                aria-invalid=move || (!messages().is_empty()).to_string()
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <p class="mt-1 text-sm text-red-700" data-testid=format!("error-{id}")>{messages}</p>
        </div>
    }
}

/// Every project, and a form to create one.
#[component]
pub fn Projects() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let projects = Resource::new(move || create.version().get(), |_| list_projects());
    let name = RwSignal::new(String::new());
    let local = Memo::new(move |_| {
        let project = bi_model::objects::Project {
            name: name.get().trim().to_owned(),
            description: String::new(),
        };
        if name.get().is_empty() {
            return Vec::new();
        }
        project
            .validate()
            .err()
            .map(|problems| problems.iter().cloned().collect())
            .unwrap_or_default()
    });
    let problems = Signal::derive(move || {
        with_server(local.get(), create.value().get().and_then(Result::err))
    });
    view! {
        <Title text="Projects" />
        <h1 class="text-2xl font-semibold">"Projects"</h1>
        <form
            class="mt-4 flex max-w-xl flex-wrap items-start gap-2"
            on:submit=move |ev| {
                ev.prevent_default();
                if local.get_untracked().is_empty() && !name.get_untracked().is_empty() {
                    create.dispatch(CreateProject { name: name.get_untracked(), description: String::new() });
                }
            }
        >
            <div class="min-w-0 flex-1">
                <TextField id="project-name" label="New project" value=name field="name" problems />
            </div>
            <button type="submit" class=format!("mt-6 {BUTTON}") disabled=move || !local.get().is_empty() || name.get().is_empty()>
                "Create"
            </button>
        </form>
        <Transition fallback=Loading>
            {move || {
                projects
                    .get()
                    .map(|result| match result {
                        Ok(rows) => {
                            view! {
                                <ul class="mt-6 max-w-3xl divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" data-testid="projects">
                                    {rows.is_empty().then(|| view! { <li class="px-4 py-3 text-sm text-slate-600">"No projects yet."</li> })}
                                    {rows
                                        .into_iter()
                                        .map(|row| {
                                            view! {
                                                <li class="flex flex-wrap items-center gap-3 px-4 py-3 text-sm">
                                                    <a href=format!("/projects/{}", row.name) class="font-medium text-indigo-700 hover:underline">
                                                        {row.name.clone()}
                                                    </a>
                                                    <span class="text-slate-500">{format!("{} objects", row.object_count)}</span>
                                                    <span class="text-slate-600">{row.description}</span>
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

/// One project: its objects and the forms that change it.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let add_postgres = ServerAction::<AddPostgresCluster>::new();
    let add_knative = ServerAction::<AddKnativeService>::new();
    let add_traditional = ServerAction::<AddTraditionalService>::new();
    let resize = ServerAction::<ResizePostgresCluster>::new();
    let project = Resource::new(
        move || {
            (
                name(),
                add_postgres.version().get(),
                add_knative.version().get(),
                add_traditional.version().get(),
                resize.version().get(),
            )
        },
        |(name, ..)| get_project(name),
    );
    view! {
        <Title text="Project" />
        <p class="text-sm text-slate-500">
            <a href="/projects" class="hover:underline">"Projects"</a>
        </p>
        <h1 class="mt-1 text-2xl font-semibold">{name}</h1>
        <Transition fallback=Loading>
            {move || {
                project
                    .get()
                    .map(|result| match result {
                        Ok(view) => {
                            view! {
                                <ul class="mt-4 max-w-3xl divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" data-testid="objects">
                                    {view.objects.is_empty().then(|| view! { <li class="px-4 py-3 text-sm text-slate-600">"Nothing in this project yet."</li> })}
                                    {view
                                        .objects
                                        .into_iter()
                                        .map(|object| view! { <ObjectItem object resize /> })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
        <div class="mt-6 grid max-w-5xl grid-cols-1 gap-6 lg:grid-cols-2">
            <AddPostgres project=Signal::derive(name) action=add_postgres />
            <AddKnative project=Signal::derive(name) action=add_knative />
            <AddTraditional project=Signal::derive(name) action=add_traditional />
        </div>
        <ProjectSettings project=Signal::derive(name) />
    }
}

/// One object of the project; a PostgreSQL cluster can change its storage.
#[component]
fn ObjectItem(object: ObjectRow, resize: ServerAction<ResizePostgresCluster>) -> impl IntoView {
    let storage = RwSignal::new(object.storage.clone().unwrap_or_default());
    let name = object.name.clone();
    let local = Memo::new(move |_| {
        bi_model::units::Storage::parse(&storage.get())
            .err()
            .map(|err| vec![err.at("storage")])
            .unwrap_or_default()
    });
    let problems = Signal::derive(move || {
        let mut problems = local.get();
        if let Some(Err(error)) = resize.value().get() {
            problems.extend(error.problems());
        }
        problems
    });
    let testid = format!("object-{}", object.name);
    let input_id = format!("storage-{}", object.name);
    view! {
        <li class="flex flex-wrap items-center gap-3 px-4 py-3 text-sm" data-testid=testid>
            <span class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700">{object.label}</span>
            <span class="font-medium">{object.name.clone()}</span>
            {object.storage.map(|current| {
                let name = name.clone();
                view! {
                    <span class="text-slate-500" data-testid="object-storage">{current}</span>
                    <form
                        class="flex w-full flex-wrap items-start gap-2"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            if local.get_untracked().is_empty() {
                                resize.dispatch(ResizePostgresCluster { name: name.clone(), storage: storage.get_untracked() });
                            }
                        }
                    >
                        <label for=input_id.clone() class="sr-only">"Storage"</label>
                        <input
                            id=input_id.clone()
                            type="text"
                            class="w-32 rounded-md border border-slate-300 px-2 py-1 text-sm"
                            value=storage.get_untracked()
                            prop:value=move || storage.get()
                            on:input=move |ev| storage.set(event_target_value(&ev))
                        />
                        <button type="submit" class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 disabled:opacity-50" disabled=move || !local.get().is_empty()>
                            "Change size"
                        </button>
                        <p class="w-full text-sm text-red-700">{move || messages_for(&problems.get(), "storage").join(" ")}</p>
                    </form>
                }
            })}
        </li>
    }
}

/// Adds a PostgreSQL cluster.
#[component]
fn AddPostgres(project: Signal<String>, action: ServerAction<AddPostgresCluster>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let instances = RwSignal::new("1".to_owned());
    let storage = RwSignal::new("1Gi".to_owned());
    let local = Memo::new(move |_| {
        postgres_cluster(&name.get(), &instances.get(), &storage.get())
            .err()
            .map(|problems| problems.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    });
    let problems = Signal::derive(move || {
        with_server(
            if name.get().is_empty() {
                Vec::new()
            } else {
                local.get()
            },
            action.value().get().and_then(Result::err),
        )
    });
    let other = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .filter(|error| error.problems().is_empty())
    };
    view! {
        <form
            class="space-y-3 rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
            data-testid="add-postgres"
            on:submit=move |ev| {
                ev.prevent_default();
                if local.get_untracked().is_empty() {
                    action.dispatch(AddPostgresCluster {
                        project: project.get_untracked(),
                        name: name.get_untracked(),
                        instances: instances.get_untracked(),
                        storage: storage.get_untracked(),
                    });
                }
            }
        >
            <h2 class="text-base font-semibold">"Add a PostgreSQL cluster"</h2>
            <TextField id="pg-name" label="Name" value=name field="name" problems />
            <TextField id="pg-instances" label="Instances" value=instances field="instances" problems />
            <TextField id="pg-storage" label="Storage" value=storage field="storage" problems />
            {move || other().map(|error| view! { <ErrorNote error /> })}
            {move || messages_for(&problems.get(), "battery").into_iter().chain(messages_for(&problems.get(), "kind")).map(|message| view! { <p class="text-sm text-red-700" role="alert">{message}</p> }).collect_view()}
            <button type="submit" class=BUTTON disabled=move || !local.get().is_empty() || action.pending().get()>
                "Add cluster"
            </button>
        </form>
    }
}

/// Adds a Knative service.
#[component]
fn AddKnative(project: Signal<String>, action: ServerAction<AddKnativeService>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let local = Memo::new(move |_| {
        knative_service(&name.get(), &image.get())
            .err()
            .map(|problems| problems.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    });
    let problems = Signal::derive(move || {
        with_server(
            if name.get().is_empty() && image.get().is_empty() {
                Vec::new()
            } else {
                local.get()
            },
            action.value().get().and_then(Result::err),
        )
    });
    let other = move || {
        action.value().get().and_then(Result::err).filter(|error| {
            error
                .problems()
                .iter()
                .all(|problem| !matches!(problem.field.as_str(), "object.name" | "object.image"))
        })
    };
    view! {
        <form
            class="space-y-3 rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
            data-testid="add-knative"
            on:submit=move |ev| {
                ev.prevent_default();
                if local.get_untracked().is_empty() {
                    action.dispatch(AddKnativeService {
                        project: project.get_untracked(),
                        name: name.get_untracked(),
                        image: image.get_untracked(),
                    });
                }
            }
        >
            <h2 class="text-base font-semibold">"Add a Knative service"</h2>
            <TextField id="kn-name" label="Name" value=name field="name" problems />
            <TextField id="kn-image" label="Image" value=image field="image" problems />
            {move || other().map(|error| view! { <ErrorNote error /> })}
            <button type="submit" class=BUTTON disabled=move || !local.get().is_empty() || action.pending().get()>
                "Add service"
            </button>
        </form>
    }
}

/// Adds a traditional service: image, replicas, port, memory and CPU, with
/// advice when what it asks does not fit in what the cluster has left.
#[component]
fn AddTraditional(
    project: Signal<String>,
    action: ServerAction<AddTraditionalService>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let replicas = RwSignal::new("1".to_owned());
    let port = RwSignal::new("8080".to_owned());
    let memory = RwSignal::new("256Mi".to_owned());
    let cpu = RwSignal::new("250m".to_owned());
    let service = move || {
        traditional_service(
            &name.get(),
            &image.get(),
            &replicas.get(),
            &port.get(),
            &memory.get(),
            &cpu.get(),
        )
    };
    let local = Memo::new(move |_| {
        service()
            .err()
            .map(|problems| problems.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    });
    let problems = Signal::derive(move || {
        with_server(
            if name.get().is_empty() && image.get().is_empty() {
                Vec::new()
            } else {
                local.get()
            },
            action.value().get().and_then(Result::err),
        )
    });
    let other = move || {
        action.value().get().and_then(Result::err).filter(|error| {
            error.problems().iter().all(|problem| {
                !matches!(
                    problem.field.as_str(),
                    "object.name" | "object.image" | "object.replicas"
                )
            })
        })
    };
    // NB: advice, not a refusal: it is about the whole cluster, not one node.
    let capacity = Resource::new(|| (), |_| cluster_capacity());
    let shortfalls = move || {
        let capacity = capacity.get().and_then(Result::ok)?;
        let service = service().ok()?;
        let found = bi_model::capacity::check(&capacity, &Demand::of(&service));
        (!found.is_empty()).then(|| {
            found
                .into_iter()
                .map(|shortfall| shortfall.message)
                .collect::<Vec<_>>()
        })
    };
    view! {
        <form
            class="space-y-3 rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
            data-testid="add-traditional"
            on:submit=move |ev| {
                ev.prevent_default();
                if local.get_untracked().is_empty() {
                    action.dispatch(AddTraditionalService {
                        project: project.get_untracked(),
                        name: name.get_untracked(),
                        image: image.get_untracked(),
                        replicas: replicas.get_untracked(),
                        port: port.get_untracked(),
                        memory: memory.get_untracked(),
                        cpu: cpu.get_untracked(),
                    });
                }
            }
        >
            <h2 class="text-base font-semibold">"Add a traditional service"</h2>
            <TextField id="tr-name" label="Name" value=name field="name" problems />
            <TextField id="tr-image" label="Image" value=image field="image" problems />
            <div class="grid grid-cols-2 gap-3">
                <TextField id="tr-replicas" label="Replicas" value=replicas field="replicas" problems />
                <TextField id="tr-port" label="Port" value=port field="port" problems />
                <TextField id="tr-memory" label="Memory per replica" value=memory field="memory" problems />
                <TextField id="tr-cpu" label="CPU per replica" value=cpu field="cpu" problems />
            </div>
            <Transition fallback=|| ()>
                {move || shortfalls().map(|messages| view! {
                    <div class="rounded-md bg-red-50 p-3 text-sm text-red-800" role="alert" data-testid="tr-capacity">
                        <p class="font-medium">"This does not fit in the cluster:"</p>
                        <ul class="list-disc pl-5">
                            {messages.into_iter().map(|message| view! { <li>{message}</li> }).collect_view()}
                        </ul>
                    </div>
                })}
            </Transition>
            {move || other().map(|error| view! { <ErrorNote error /> })}
            <button type="submit" class=BUTTON disabled=move || !local.get().is_empty() || action.pending().get()>
                "Add service"
            </button>
        </form>
    }
}

/// Rename and delete.
#[component]
fn ProjectSettings(project: Signal<String>) -> impl IntoView {
    let rename = ServerAction::<RenameProject>::new();
    let delete = ServerAction::<DeleteProject>::new();
    let new_name = RwSignal::new(String::new());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = rename.value().get() {
            navigate(
                &format!("/projects/{}", new_name.get_untracked().trim()),
                Default::default(),
            );
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = delete.value().get() {
            navigate("/projects", Default::default());
        }
    });
    let errors = move || {
        [rename.value().get(), delete.value().get()]
            .into_iter()
            .flatten()
            .filter_map(Result::err)
            .collect::<Vec<_>>()
    };
    view! {
        <section class="mt-6 max-w-5xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 class="text-base font-semibold">"Project settings"</h2>
            <form
                class="mt-3 flex flex-wrap items-center gap-2"
                on:submit=move |ev| {
                    ev.prevent_default();
                    rename.dispatch(RenameProject { old: project.get_untracked(), new: new_name.get_untracked() });
                }
            >
                <label for="project-new-name" class="text-sm">"Rename to"</label>
                <input id="project-new-name" type="text" class="rounded-md border border-slate-300 px-2 py-1 text-sm" prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
                <button type="submit" class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">"Rename"</button>
                <button
                    type="button"
                    class="ml-auto rounded-md border border-red-300 px-3 py-1 text-sm text-red-700 hover:bg-red-50"
                    on:click=move |_| {
                        delete.dispatch(DeleteProject { name: project.get_untracked() });
                    }
                >
                    "Delete project"
                </button>
            </form>
            {move || errors().into_iter().map(|error| view! { <ErrorNote error /> }).collect_view()}
        </section>
    }
}
