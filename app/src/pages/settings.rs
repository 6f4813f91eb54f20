//! Settings (read-only for now): the installation and the cluster
//! connection this server uses.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::feedback::ErrorNote;
use crate::pages::dashboard::Cluster;
use crate::shell::InstallationState;

/// The installation's settings as they are; change them with `bi serve`'s
/// options (`--recheck-every`, `--drift-every`, `--kubeconfig`, `--data-dir`).
#[component]
pub fn Settings() -> impl IntoView {
    let state = expect_context::<InstallationState>();
    view! {
        <Title text="Settings" />
        <h1 class="text-2xl font-semibold">"Settings"</h1>
        <p class="mt-2 max-w-3xl text-sm text-slate-600">
            "Read-only: these are set when the server starts (bi serve --recheck-every, --drift-every, --kubeconfig, --data-dir). The installation can be renamed from the dashboard."
        </p>
        <Transition fallback=|| ()>
            {move || {
                state
                    .overview
                    .get()
                    .map(|result| match result {
                        Ok(overview) => {
                            view! {
                                <dl class="mt-6 grid max-w-4xl grid-cols-1 gap-2 rounded-lg border border-slate-200 bg-white p-5 text-sm shadow-sm sm:grid-cols-[12rem_1fr]" data-testid="settings">
                                    <dt class="text-slate-500">"Installation"</dt>
                                    <dd>{overview.name.to_string()}</dd>
                                    <dt class="text-slate-500">"Version"</dt>
                                    <dd>{overview.version.clone()}</dd>
                                    <dt class="text-slate-500">"Database"</dt>
                                    <dd>{overview.database_backend.clone()}</dd>
                                </dl>
                                {overview.cluster.map(|cluster| view! { <Cluster cluster /> })}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNote error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}
