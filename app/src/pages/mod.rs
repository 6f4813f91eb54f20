//! One module per page.
//!
//! Every page but the dashboard, settings and "not found" is a lazy route: in
//! a `--split` build its view code lives in its own WASM chunk, which the
//! router loads together with the page's data, so the first page load only
//! fetches the core bundle.

mod access;
mod batteries;
mod dashboard;
mod deploys;
mod drift;
mod explorer;
mod live;
mod not_found;
mod pods;
mod projects;
mod service;
mod services;
mod settings;
#[cfg(feature = "ssr")]
pub mod sign_in;
mod sso;
mod timeline;

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

pub use access::Access;
pub use batteries::{Batteries, BatteryPage};
pub use dashboard::Dashboard;
pub use deploys::{Deploys, DiffPage, SnapshotPage};
pub use explorer::{Explorer, ExplorerObject};
pub use live::LivePlan;
pub use not_found::NotFound;
pub use pods::LogsPage;
pub use projects::{ProjectPage, Projects};
pub use service::ServicePage;
pub use services::Services;
pub use settings::Settings;
pub use timeline::{Deleted, Timeline};

/// Declares a lazy route (`$route`) whose view is the page component
/// `$page`; use it as `view=Lazy::<$route>::new()`.
macro_rules! lazy_page {
    ($($(#[$doc:meta])* $route:ident => $page:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            // NB: the page fetches its own data (its resources must be created
            // in the same order on the server and in the browser to hydrate).
            // `data-page-hydrated` turns "true" once this chunk has hydrated
            // the page, which can be after the shell's `data-hydrated`.
            fn view(_this: Self) -> AnyView {
                let ready = RwSignal::new(false);
                Effect::new(move |_| ready.set(true));
                view! {
                    <div class="contents" data-page-hydrated=move || ready.get().to_string()>
                        <$page />
                    </div>
                }
                .into_any()
            }
        }
    )*};
}

lazy_page! {
    /// Users and access, loaded on demand.
    AccessRoute => Access;
    /// The batteries catalog, loaded on demand.
    BatteriesRoute => Batteries;
    /// One battery's page and configuration form, loaded on demand.
    BatteryRoute => BatteryPage;
    /// The projects list, loaded on demand.
    ProjectsRoute => Projects;
    /// One project's page, loaded on demand.
    ProjectRoute => ProjectPage;
    /// The services page, loaded on demand.
    ServicesRoute => Services;
    /// One service's page, loaded on demand.
    ServiceRoute => ServicePage;
    /// The deploy history, loaded on demand.
    DeploysRoute => Deploys;
    /// The live plan viewer, loaded on demand.
    LivePlanRoute => LivePlan;
    /// The snapshot diff page, loaded on demand.
    DiffRoute => DiffPage;
    /// One snapshot's page, loaded on demand.
    SnapshotRoute => SnapshotPage;
    /// The Kubernetes explorer, loaded on demand.
    ExplorerRoute => Explorer;
    /// One cluster object's page, loaded on demand.
    ExplorerObjectRoute => ExplorerObject;
    /// A container's log, loaded on demand.
    LogsRoute => LogsPage;
    /// The timeline, loaded on demand.
    TimelineRoute => Timeline;
    /// The archive of deleted objects, loaded on demand.
    DeletedRoute => Deleted;
}
