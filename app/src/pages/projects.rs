//! Projects (`/projects`) and one project (`/projects/:name`): create,
//! rename, delete; list the objects in a project; add any kind of object
//! (with capacity advice and a live preview of what it generates); change a
//! cluster's storage.

use std::collections::BTreeMap;

use bi_model::FieldError;
use bi_model::generate::DesiredState;
use bi_model::objects::ObjectKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::ApiError;
use crate::api::preview::PreviewBase;
use crate::api::projects::{
    AddObject, CreateProject, DeleteProject, ProjectMember, RemoveObject, RenameProject,
    ResizePostgresCluster, get_project, list_projects,
};
use crate::api::reach::installation_reach;
use crate::components::addresses::AddressList;
use crate::components::change_preview::{ChangePreview, preview_base};
use crate::components::feedback::{ActionError, ErrorNote, Loading, in_browser, messages_for};
use crate::components::text_field::TextField;
use bi_model::input::object_form::{
    ADDABLE, AddField, add_fields, form_key, new_object, short, titles,
};

const BUTTON: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-50";

/// The problems a failed action reports, with the form's own.
fn with_server(local: Vec<FieldError>, server: Option<ApiError>) -> Vec<FieldError> {
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
                <TextField id="project-name" label="New project" field="name" problems get=move || name.get() set=move |v| name.set(v) />
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
                                                    <a href=format!("/projects/{}", row.project.name) class="font-medium text-indigo-700 hover:underline">
                                                        {row.project.name.clone()}
                                                    </a>
                                                    <span class="text-slate-500">{format!("{} objects", row.object_count)}</span>
                                                    <span class="text-slate-600">{row.project.description}</span>
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
    let add = ServerAction::<AddObject>::new();
    let resize = ServerAction::<ResizePostgresCluster>::new();
    let remove = ServerAction::<RemoveObject>::new();
    let project = Resource::new(
        move || {
            (
                name(),
                add.version().get(),
                resize.version().get(),
                remove.version().get(),
            )
        },
        |(name, ..)| get_project(name),
    );
    let reload = Callback::new(move |()| project.refetch());
    // NB: every action's answer reads the project again, so what the page
    // shows and the version its actions send always go together.
    let version = Signal::derive(move || {
        project
            .get()
            .and_then(Result::ok)
            .map(|detail| detail.version)
    });
    let remove_error = move || remove.value().get().and_then(Result::err);
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
                            let version = view.version;
                            view! {
                                <ul class="mt-4 max-w-3xl divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" data-testid="objects">
                                    {view.objects.is_empty().then(|| view! { <li class="px-4 py-3 text-sm text-slate-600">"Nothing in this project yet."</li> })}
                                    {view
                                        .objects
                                        .into_iter()
                                        .map(|object| view! { <ObjectItem object version resize remove /> })
                                        .collect_view()}
                                </ul>
                                {move || remove_error().map(|error| view! { <ActionError error reload /> })}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
        <ProjectAddresses project=Signal::derive(name) />
        <AddObjects project=Signal::derive(name) action=add />
        <ProjectSettings project=Signal::derive(name) version reload />
    }
}

/// Where the project's services and notebooks open, with their status.
#[component]
fn ProjectAddresses(project: Signal<String>) -> impl IntoView {
    let reach = Resource::new(|| (), |_| installation_reach());
    view! {
        <Transition fallback=|| ()>
            {move || {
                reach.get().map(move |result| match result {
                    Ok(reach) => {
                        let project = project.get();
                        let addresses: Vec<_> = reach.of_project(&project).cloned().collect();
                        (!addresses.is_empty()).then(|| view! {
                            <section class="mt-4 max-w-3xl rounded-lg border border-slate-200 bg-white p-4" data-testid="project-addresses">
                                <h2 class="text-base font-semibold">"Open"</h2>
                                <AddressList addresses show_label=true />
                            </section>
                        }).into_any()
                    }
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })
            }}
        </Transition>
    }
}

/// One object of the project, as read at `version` (what its changes
/// send); a PostgreSQL cluster can change its storage.
#[component]
fn ObjectItem(
    object: ProjectMember,
    version: i32,
    resize: ServerAction<ResizePostgresCluster>,
    remove: ServerAction<RemoveObject>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let removal = RemoveObject {
        kind: object.kind.id().to_owned(),
        name: object.name.clone(),
        expected_version: Some(version),
    };
    let label = object.kind.label().to_owned();
    let readers = object.readers.clone();
    let confirm = move || {
        let removal = removal.clone();
        let readers = readers.clone();
        let label = label.clone();
        confirming.get().then(move || {
            let name = removal.name.clone();
            view! {
                <div class="w-full rounded-md bg-red-50 p-3 text-sm text-red-900" role="alertdialog" aria-label=format!("Remove {name}") data-testid="confirm-remove">
                    <p class="font-medium">{format!("Remove the {label} {name}?")}</p>
                    <p>"Everything bi made for it is deleted from the cluster, its data included. A rollback brings back its settings, not its data."</p>
                    {(!readers.is_empty()).then(|| view! {
                        <p class="mt-1 font-medium" data-testid="remove-readers">
                            {format!("These services read its connection Secret and will fail: {}.", readers.join(", "))}
                        </p>
                    })}
                    <div class="mt-2 flex gap-2">
                        <button
                            type="button"
                            class="rounded-md bg-red-600 px-3 py-1 text-white hover:bg-red-500 disabled:opacity-50"
                            disabled=move || remove.pending().get()
                            on:click=move |_| {
                                remove.dispatch(removal.clone());
                                confirming.set(false);
                            }
                        >
                            {format!("Remove {name}")}
                        </button>
                        <button type="button" class="rounded-md border border-slate-300 bg-white px-3 py-1 hover:bg-slate-100" on:click=move |_| confirming.set(false)>
                            "Cancel"
                        </button>
                    </div>
                </div>
            }
        })
    };
    let storage = RwSignal::new(
        object
            .storage
            .map(|current| current.to_string())
            .unwrap_or_default(),
    );
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
            <span class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700">{object.kind.label()}</span>
            {if matches!(object.kind, ObjectKind::KnativeService | ObjectKind::TraditionalService) {
                view! { <a href=format!("/services/{}", object.name) class="font-medium text-indigo-700 hover:underline">{object.name.clone()}</a> }.into_any()
            } else {
                view! { <span class="font-medium">{object.name.clone()}</span> }.into_any()
            }}
            {object.storage.map(|current| {
                let name = name.clone();
                view! {
                    <span class="text-slate-500" data-testid="object-storage">{current.to_string()}</span>
                    <form
                        class="flex w-full flex-wrap items-start gap-2"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            if local.get_untracked().is_empty() {
                                resize.dispatch(ResizePostgresCluster {
                                    name: name.clone(),
                                    storage: storage.get_untracked(),
                                    expected_version: Some(version),
                                });
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
            <button
                type="button"
                class="ml-auto rounded-md border border-slate-300 px-2 py-0.5 text-xs text-red-700 hover:bg-red-50"
                aria-expanded=move || confirming.get().to_string()
                on:click=move |_| confirming.update(|open| *open = !*open)
            >
                "Remove…"
            </button>
            {confirm}
        </li>
    }
}

/// The add forms, one tab per kind of object, each with its capacity
/// advice and the live preview of what adding it does.
#[component]
fn AddObjects(project: Signal<String>, action: ServerAction<AddObject>) -> impl IntoView {
    let chosen = RwSignal::new(ADDABLE[0]);
    let last = RwSignal::new(None);
    // NB: one base for every form's preview and capacity advice.
    let base = preview_base(move || action.version().track());
    view! {
        <section class="mt-6 max-w-6xl" data-testid="add-objects">
            <h2 class="text-lg font-semibold">"Add to this project"</h2>
            <div class="mt-2 flex flex-wrap gap-1" role="tablist" aria-label="Kind of object">
                {ADDABLE
                    .into_iter()
                    .map(|kind| {
                        let (title, _) = titles(kind);
                        let (short, _) = short(kind);
                        view! {
                            <button
                                type="button"
                                role="tab"
                                data-testid=format!("tab-{short}")
                                aria-selected=move || (chosen.get() == kind).to_string()
                                class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 aria-selected:border-indigo-600 aria-selected:bg-indigo-50 aria-selected:text-indigo-800"
                                on:click=move |_| chosen.set(kind)
                            >
                                {title}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            {ADDABLE
                .into_iter()
                .map(|kind| {
                    view! {
                        <div class="mt-3" role="tabpanel" hidden=move || chosen.get() != kind>
                            <AddForm kind project action base last />
                        </div>
                    }
                })
                .collect_view()}
        </section>
    }
}

/// The add form of one kind: its inputs checked by `bi-model` as you type,
/// the advice when it does not fit in the cluster, and the preview.
#[component]
fn AddForm(
    kind: ObjectKind,
    project: Signal<String>,
    action: ServerAction<AddObject>,
    base: LocalResource<Result<PreviewBase, ApiError>>,
    /// The kind whose form dispatched `action` last.
    last: RwSignal<Option<ObjectKind>>,
) -> impl IntoView {
    let fields = add_fields(kind);
    let (short, prefix) = short(kind);
    let (title, button) = titles(kind);
    let texts: Vec<(AddField, RwSignal<String>)> = fields
        .into_iter()
        .map(|field| (field, RwSignal::new(field.default.to_owned())))
        .collect();
    let texts = StoredValue::new(texts);
    let values = move || {
        texts.with_value(|texts| {
            texts
                .iter()
                .map(|(field, text)| (field.key.to_owned(), text.get()))
                .collect::<BTreeMap<String, String>>()
        })
    };
    let built = Memo::new(move |_| {
        new_object(kind, &project.get(), &values())
            .map_err(|problems| problems.iter().cloned().collect::<Vec<FieldError>>())
    });
    let touched = move || {
        texts.with_value(|texts| {
            texts
                .iter()
                .any(|(field, text)| text.with(|text| text != field.default))
        })
    };
    // This form's own outcome: the action is shared by every tab.
    let mine = move || last.get() == Some(kind);
    let server_error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .filter(|_| mine())
    };
    let problems = Signal::derive(move || {
        let local = if touched() {
            built.get().err().unwrap_or_default()
        } else {
            Vec::new()
        };
        with_server(local, server_error())
    });
    let general = move || {
        server_error()
            .map(|error| {
                error
                    .problems()
                    .into_iter()
                    .filter(|problem| {
                        !texts.with_value(|texts| {
                            texts
                                .iter()
                                .any(|(field, _)| field.key == form_key(&problem.field))
                        })
                    })
                    .map(|problem| problem.message)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let other = move || server_error().filter(|error| error.problems().is_empty());
    let added = move || action.value().get().and_then(Result::ok).filter(|_| mine());
    // NB: advice, not a refusal: it is about the whole cluster, not one node.
    let mounted = in_browser();
    let shortfalls = move || {
        if !mounted.get() {
            return None;
        }
        let capacity = base.get()?.ok()?.capacity?;
        let object = built.get().ok()?;
        let found = bi_model::input::object_form::shortfalls(&capacity, &object);
        (!found.is_empty()).then(|| {
            found
                .into_iter()
                .map(|problem| problem.message)
                .collect::<Vec<_>>()
        })
    };
    let rows = texts.with_value(|texts| {
        texts
            .iter()
            .map(|(field, text)| {
                let text = *text;
                view! {
                    <TextField
                        id=format!("{prefix}-{}", field.key)
                        label=field.label
                        hint=field.hint
                        get=move || text.get()
                        set=move |v| text.set(v)
                        field=field.key
                        problems
                    />
                }
            })
            .collect_view()
    });
    view! {
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,1fr)_24rem]">
            <form
                class="space-y-3 card p-5"
                data-testid=format!("add-{short}")
                on:submit=move |ev| {
                    ev.prevent_default();
                    if built.get_untracked().is_ok() {
                        last.set(Some(kind));
                        let values = serde_json::to_string(&values()).unwrap_or_default();
                        action.dispatch(AddObject {
                            project: project.get_untracked(),
                            kind: kind.id().to_owned(),
                            values,
                        });
                    }
                }
            >
                <h3 class="text-base font-semibold">"Add a " {title}</h3>
                <div class="grid grid-cols-1 gap-3 sm:grid-cols-2">{rows}</div>
                <Transition fallback=|| ()>
                    {move || shortfalls().map(|messages| view! {
                        <div class="rounded-md bg-red-50 p-3 text-sm text-red-800" role="alert" data-testid=format!("{prefix}-capacity")>
                            <p class="font-medium">"This does not fit in the cluster:"</p>
                            <ul class="list-disc pl-5">
                                {messages.into_iter().map(|message| view! { <li>{message}</li> }).collect_view()}
                            </ul>
                        </div>
                    })}
                </Transition>
                {move || general().into_iter().map(|message| view! { <p class="text-sm text-red-700" role="alert">{message}</p> }).collect_view()}
                {move || other().map(|error| view! { <ErrorNote error /> })}
                <div class="flex flex-wrap items-center gap-3">
                    <button type="submit" class=BUTTON disabled=move || built.get().is_err() || action.pending().get()>
                        {button}
                    </button>
                    {move || added().map(|version| view! {
                        <a href=format!("/deploys/live?after={version}") class="text-sm text-indigo-700 hover:underline" data-testid=format!("{prefix}-watch")>
                            "Added. Watch it apply →"
                        </a>
                    })}
                </div>
            </form>
            <ChangePreview
                base
                compact=true
                change=move |current: &DesiredState| {
                    let object = built.get().ok()?;
                    let mut state = current.clone();
                    object.insert_into(&mut state);
                    Some(state)
                }
            />
        </div>
    }
}

/// Rename and delete, refused when the project changed after `version`
/// (the one the page shows; None until it is read).
#[component]
fn ProjectSettings(
    project: Signal<String>,
    version: Signal<Option<i32>>,
    reload: Callback<()>,
) -> impl IntoView {
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
        <section class="mt-6 max-w-5xl card p-5">
            <h2 class="text-base font-semibold">"Project settings"</h2>
            <form
                class="mt-3 flex flex-wrap items-center gap-2"
                on:submit=move |ev| {
                    ev.prevent_default();
                    rename.dispatch(RenameProject {
                        old: project.get_untracked(),
                        new: new_name.get_untracked(),
                        expected_version: version.get_untracked(),
                    });
                }
            >
                <label for="project-new-name" class="text-sm">"Rename to"</label>
                <input id="project-new-name" type="text" class="rounded-md border border-slate-300 px-2 py-1 text-sm" prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
                <button type="submit" class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">"Rename"</button>
                <button
                    type="button"
                    class="ml-auto rounded-md border border-red-300 px-3 py-1 text-sm text-red-700 hover:bg-red-50"
                    on:click=move |_| {
                        delete.dispatch(DeleteProject {
                            name: project.get_untracked(),
                            expected_version: version.get_untracked(),
                        });
                    }
                >
                    "Delete project"
                </button>
            </form>
            {move || errors().into_iter().map(|error| view! { <ActionError error reload /> }).collect_view()}
        </section>
    }
}
