//! The HTML document, the router and the state shared by every page.

use bi_model::InstallationOverview;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

use crate::ApiError;
use crate::api::installation::{RenameInstallation, get_installation_overview};
use crate::components::layout::Layout;
use crate::pages::{
    AccessRoute, BatteriesRoute, BatteryRoute, Dashboard, DeletedRoute, DeploysRoute, DiffRoute,
    ExplorerObjectRoute, ExplorerRoute, LivePlanRoute, LogsRoute, NotFound, ProjectRoute,
    ProjectsRoute, ServiceRoute, ServicesRoute, Settings, SnapshotRoute, TimelineRoute,
};

/// The whole HTML document, rendered on the server around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    let csrf = crate::csrf::token();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <meta name=bi_api::auth::CSRF_META content=csrf />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="h-full bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from bi's own files
/// and the inline scripts this render wrote (they carry its nonce; what
/// they load is trusted through `strict-dynamic`), WebAssembly allowed, no
/// framing, no plugins, forms and connections to bi only.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The installation overview and the rename action, shared by the top bar
/// and the dashboard so a rename shows everywhere at once.
#[derive(Clone, Copy)]
pub struct InstallationState {
    /// The overview, fetched again after every rename.
    pub overview: Resource<Result<InstallationOverview, ApiError>>,
    /// Renames the installation through the server.
    pub rename: ServerAction<RenameInstallation>,
}

impl std::fmt::Debug for InstallationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallationState").finish_non_exhaustive()
    }
}

/// The application: routes inside the common layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let rename = ServerAction::<RenameInstallation>::new();
    let overview = Resource::new(
        move || rename.version().get(),
        |_| get_installation_overview(),
    );
    provide_context(InstallationState { overview, rename });
    let me = Resource::new(|| (), |()| crate::api::users::current_user());
    provide_context(crate::components::access::UserState { me });

    view! {
        <Stylesheet id="leptos" href="/pkg/bi.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "bi".to_owned() } else { format!("{page} · bi") }
        } />
        <Router>
            <Layout>
                // NB: Async SSR waits for every resource, so pages read
                // fully without JavaScript (out-of-order streaming needs it).
                <Routes fallback=NotFound>
                    <Route ssr=SsrMode::Async path=path!("") view=Dashboard />
                    <Route ssr=SsrMode::Async path=path!("batteries") view={Lazy::<BatteriesRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("batteries/:kind") view={Lazy::<BatteryRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("projects") view={Lazy::<ProjectsRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("projects/:name") view={Lazy::<ProjectRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("services") view={Lazy::<ServicesRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("services/:name") view={Lazy::<ServiceRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("deploys") view={Lazy::<DeploysRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("deploys/live") view={Lazy::<LivePlanRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("deploys/diff") view={Lazy::<DiffRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("deploys/:id") view={Lazy::<SnapshotRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("explorer") view={Lazy::<ExplorerRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("explorer/object") view={Lazy::<ExplorerObjectRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("explorer/logs") view={Lazy::<LogsRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("timeline") view={Lazy::<TimelineRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("deleted") view={Lazy::<DeletedRoute>::new()} />
                    <Route ssr=SsrMode::Async path=path!("settings") view=Settings />
                    <Route ssr=SsrMode::Async path=path!("access") view={Lazy::<AccessRoute>::new()} />
                </Routes>
            </Layout>
        </Router>
    }
}
