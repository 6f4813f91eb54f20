//! The frame around every page: top bar with the installation name, and the
//! side navigation.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::access::UserState;
use crate::shell::InstallationState;

/// One entry of the side navigation.
struct NavItem {
    href: &'static str,
    label: &'static str,
}

const NAV: [NavItem; 9] = [
    NavItem {
        href: "/",
        label: "Dashboard",
    },
    NavItem {
        href: "/batteries",
        label: "Batteries",
    },
    NavItem {
        href: "/projects",
        label: "Projects",
    },
    NavItem {
        href: "/services",
        label: "Services",
    },
    NavItem {
        href: "/deploys",
        label: "Deploys",
    },
    NavItem {
        href: "/explorer",
        label: "Cluster",
    },
    NavItem {
        href: "/timeline",
        label: "Timeline",
    },
    NavItem {
        href: "/settings",
        label: "Settings",
    },
    NavItem {
        href: "/access",
        label: "Users and access",
    },
];

/// Top bar, side navigation, and the page in the main area.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // NB: effects run only in the browser, so this flips once hydration is
    // done; browser tests wait for it before they click.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <div class="flex h-full flex-col" data-hydrated=move || hydrated.get().to_string()>
            <TopBar />
            // NB: on narrow screens the navigation is a scrolling row above the page.
            <div class="flex min-h-0 flex-1 flex-col md:flex-row">
                <nav
                    class="shrink-0 overflow-x-auto border-b border-slate-200 bg-white p-2 md:w-56 md:border-b-0 md:border-r md:p-3"
                    aria-label="Main"
                >
                    <ul class="flex gap-1 md:block md:space-y-1">
                        {NAV
                            .iter()
                            .map(|item| {
                                view! {
                                    <li>
                                        <A
                                            href=item.href
                                            exact=true
                                            attr:class="block whitespace-nowrap rounded-md px-3 py-2 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
                                        >
                                            {item.label}
                                        </A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
                <main class="min-w-0 flex-1 overflow-y-auto p-4 md:p-8">
                    <ReadOnlyNote />
                    {children()}
                </main>
            </div>
        </div>
    }
}

/// The bar across the top: bi's mark, the installation name and version.
#[component]
fn TopBar() -> impl IntoView {
    let state = expect_context::<InstallationState>();
    view! {
        <header class="flex h-14 shrink-0 items-center gap-4 border-b border-slate-800 bg-slate-900 px-5 text-white">
            <a href="/" class="text-lg font-bold tracking-tight">
                "bi"
            </a>
            <span class="h-5 w-px bg-slate-700" aria-hidden="true"></span>
            <Transition fallback=|| view! { <span class="text-sm text-slate-400">"…"</span> }>
                {move || {
                    state
                        .overview
                        .get()
                        .map(|overview| match overview {
                            Ok(overview) => {
                                view! {
                                    <span class="text-sm font-medium" data-testid="topbar-installation-name">
                                        {overview.name.to_string()}
                                    </span>
                                    {overview
                                        .cluster
                                        .filter(|cluster| cluster.sandbox)
                                        .map(|_| {
                                            view! {
                                                <span
                                                    class="rounded-full bg-amber-400 px-2.5 py-0.5 text-xs font-semibold text-amber-950"
                                                    data-testid="sandbox-badge"
                                                    title="bi's embedded sandbox cluster: objects are stored, nothing runs in it"
                                                >
                                                    "Sandbox cluster"
                                                </span>
                                            }
                                        })}
                                    <span class="hidden text-xs text-slate-400 sm:inline">
                                        "v"{overview.version}
                                    </span>
                                }
                                    .into_any()
                            }
                            Err(err) => {
                                view! {
                                    <span class="text-sm text-red-300" role="alert">
                                        {err.to_string()}
                                    </span>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            // NB: beside the installation's Transition, not inside it: a
            // Transition nested in another's children does not hydrate.
            <SignedIn />
        </header>
    }
}

/// Who is signed in, and the sign-out button (a plain form: it works
/// before the page hydrates).
#[component]
fn SignedIn() -> impl IntoView {
    let user = expect_context::<UserState>();
    view! {
        <div class="ml-auto flex items-center gap-2">
            <Transition fallback=|| ()>
                {move || {
                    user.me.get().and_then(Result::ok).map(|me| {
                        view! {
                            <span class="text-sm text-slate-300" data-testid="signed-in-as">
                                <span class="hidden sm:inline">{me.username.clone()}</span>
                                <span class="ml-1 rounded bg-slate-700 px-1.5 py-0.5 text-xs" data-testid="signed-in-role">
                                    {me.role.to_string()}
                                </span>
                            </span>
                            <form method="post" action="/auth/sign-out">
                                <input type="hidden" name=bi_api::auth::CSRF_FIELD value=crate::csrf::token() />
                                <button type="submit" class="whitespace-nowrap rounded-md border border-slate-600 px-2 py-1 text-xs hover:bg-slate-800">
                                    "Sign out"
                                </button>
                            </form>
                        }
                    })
                }}
            </Transition>
        </div>
    }
}

/// Tells a viewer that nothing here can be changed with their role.
#[component]
fn ReadOnlyNote() -> impl IntoView {
    let user = expect_context::<UserState>();
    view! {
        <Transition fallback=|| ()>
            {move || {
                user.me.get().and_then(Result::ok).filter(|me| !me.may(bi_api::auth::Role::Editor)).map(|me| {
                    view! {
                        <p class="mb-4 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900" data-testid="read-only">
                            {format!("You are signed in as {}, a viewer: you can read everything, and an admin can give you the editor role to change things.", me.username)}
                        </p>
                    }
                })
            }}
        </Transition>
    }
}
