//! Pages whose features are not built yet. They say what is coming and do
//! not pretend to work.

use leptos::prelude::*;
use leptos_meta::Title;

/// A section of the UI that a later release fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedPage {
    /// The battery catalog.
    Batteries,
    /// Projects grouping services and data.
    Projects,
    /// User services (Knative and traditional).
    Services,
    /// Snapshots, the live plan and rollback.
    Deploys,
    /// Installation settings.
    Settings,
}

impl PlannedPage {
    fn title(self) -> &'static str {
        match self {
            Self::Batteries => "Batteries",
            Self::Projects => "Projects",
            Self::Services => "Services",
            Self::Deploys => "Deploys",
            Self::Settings => "Settings",
        }
    }

    fn coming(self) -> &'static str {
        match self {
            Self::Batteries => {
                "The battery catalog: browse PostgreSQL, Redis, Grafana, Istio and the rest by group, \
                 install one with its dependencies, and edit its typed configuration."
            }
            Self::Projects => {
                "Projects: group databases, caches, notebooks and services, and install or remove them together."
            }
            Self::Services => {
                "Services: run your own containers as Knative or traditional services, with \
                 connection details of your databases injected."
            }
            Self::Deploys => {
                "Deploys: every snapshot with its plan and per-resource outcome, the live plan \
                 as it applies, and rollback to any earlier state."
            }
            Self::Settings => {
                "Settings: cluster connection, snapshot schedule and apply rate limits. \
                 The installation can already be renamed from the dashboard."
            }
        }
    }
}

/// A page that names what will be here, marked as not available yet.
#[component]
pub fn Planned(page: PlannedPage) -> impl IntoView {
    view! {
        <Title text=page.title() />
        <h1 class="text-2xl font-semibold">{page.title()}</h1>
        <div class="mt-6 max-w-2xl rounded-lg border border-dashed border-slate-300 bg-white p-6">
            <span class="inline-block rounded-full bg-amber-100 px-2.5 py-0.5 text-xs font-medium text-amber-800">
                "Not available yet"
            </span>
            <p class="mt-3 text-slate-700" data-testid="planned-description">
                {page.coming()}
            </p>
        </div>
    }
}
