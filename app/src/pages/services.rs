//! Services (`/services`): every Knative and traditional service, in any
//! project, with its image and scale, scaled in place.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ApiError;
use crate::api::services::{
    ScaleKnative, ScaleTraditional, ServiceRow, ServiceScale, count, list_services,
};
use crate::components::feedback::{ActionError, ErrorNote, Loading};

const SMALL_INPUT: &str =
    "w-20 rounded-md border border-slate-300 px-2 py-1 text-sm aria-[invalid=true]:border-red-500";
const SMALL_BUTTON: &str =
    "rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 disabled:opacity-50";

/// The services list.
#[component]
pub fn Services() -> impl IntoView {
    let scale_knative = ServerAction::<ScaleKnative>::new();
    let scale_traditional = ServerAction::<ScaleTraditional>::new();
    let services = Resource::new(
        move || {
            (
                scale_knative.version().get(),
                scale_traditional.version().get(),
            )
        },
        |_| list_services(),
    );
    let reload = Callback::new(move |()| services.refetch());
    let server_error = move || {
        [scale_knative.value().get(), scale_traditional.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
    };
    view! {
        <Title text="Services" />
        <h1 class="text-2xl font-semibold">"Services"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Knative and traditional services of every project. Add them on a project's page."
        </p>
        {move || server_error().map(|error| view! { <ActionError error reload /> })}
        <Transition fallback=Loading>
            {move || {
                services
                    .get()
                    .map(|result| match result {
                        Ok(rows) => {
                            view! {
                                <ul class="mt-4 max-w-5xl divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" data-testid="services">
                                    {rows.is_empty().then(|| view! { <li class="px-4 py-3 text-sm text-slate-600">"No services yet."</li> })}
                                    {rows
                                        .into_iter()
                                        .map(|row| view! { <ServiceItem row scale_knative scale_traditional /> })
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

/// One service with its scale form.
#[component]
fn ServiceItem(
    row: ServiceRow,
    scale_knative: ServerAction<ScaleKnative>,
    scale_traditional: ServerAction<ScaleTraditional>,
) -> impl IntoView {
    let name = row.name.clone();
    let version = row.version;
    let form = match row.scale {
        ServiceScale::Knative { min, max } => {
            let min_text = RwSignal::new(min.to_string());
            let max_text = RwSignal::new(max.to_string());
            let problem = move || -> Option<String> {
                let min = count("min_scale", &min_text.get()).err();
                let max = count("max_scale", &max_text.get()).err();
                min.or(max).map(|error: ApiError| error.to_string())
            };
            let name = name.clone();
            view! {
                <span class="text-xs text-slate-500">"knative"</span>
                <form
                    class="flex flex-wrap items-center gap-2"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        scale_knative.dispatch(ScaleKnative {
                            name: name.clone(),
                            min: min_text.get_untracked(),
                            max: max_text.get_untracked(),
                            expected_version: Some(version),
                        });
                    }
                >
                    <label class="text-sm">
                        "min "
                        <input type="text" class=SMALL_INPUT value=min.to_string() prop:value=move || min_text.get() on:input=move |ev| min_text.set(event_target_value(&ev)) />
                    </label>
                    <label class="text-sm">
                        "max "
                        <input type="text" class=SMALL_INPUT value=max.to_string() prop:value=move || max_text.get() on:input=move |ev| max_text.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class=SMALL_BUTTON disabled=move || problem().is_some()>"Scale"</button>
                    <span class="text-sm text-red-700">{problem}</span>
                </form>
            }
                .into_any()
        }
        ServiceScale::Traditional { replicas } => {
            let text = RwSignal::new(replicas.to_string());
            let problem = move || {
                count("replicas", &text.get())
                    .err()
                    .map(|error| error.to_string())
            };
            let name = name.clone();
            view! {
                <span class="text-xs text-slate-500">"traditional"</span>
                <form
                    class="flex flex-wrap items-center gap-2"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        scale_traditional.dispatch(ScaleTraditional {
                            name: name.clone(),
                            replicas: text.get_untracked(),
                            expected_version: Some(version),
                        });
                    }
                >
                    <label class="text-sm">
                        "replicas "
                        <input type="text" class=SMALL_INPUT value=replicas.to_string() prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class=SMALL_BUTTON disabled=move || problem().is_some()>"Scale"</button>
                    <span class="text-sm text-red-700">{problem}</span>
                </form>
            }
                .into_any()
        }
    };
    let summary = match row.scale {
        ServiceScale::Knative { min, max } => format!("{min}–{max} instances"),
        ServiceScale::Traditional { replicas } => format!("{replicas} replicas"),
    };
    view! {
        <li class="flex flex-wrap items-center gap-3 px-4 py-3 text-sm" data-testid=format!("service-{}", row.name)>
            <a href=format!("/services/{}", row.name) class="font-medium text-indigo-700 hover:underline">{row.name.clone()}</a>
            {row.project.map(|project| view! {
                <a href=format!("/projects/{project}") class="text-indigo-700 hover:underline">{project.clone()}</a>
            })}
            <span class="min-w-0 break-all font-mono text-xs text-slate-600">{row.image}</span>
            <span class="text-slate-600" data-testid="service-scale">{summary}</span>
            {form}
        </li>
    }
}
