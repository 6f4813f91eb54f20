//! The Single Sign-On card of Users and access (admins): Keycloak's users,
//! with the bi role their groups give (add, enable or disable, reset the
//! password, change the role), and its clients, read live from Keycloak.

use bi_api::auth::Role;
use bi_api::sso::{NewSsoUser, SsoUserChange};
use leptos::prelude::*;

use crate::api::sso::{SsoChangeUser, SsoCreateUser, read_sso};
use crate::components::feedback::{ErrorNote, messages_for};

const CARD: &str =
    "mt-6 max-w-5xl rounded-lg border border-slate-200 bg-white p-5 text-sm shadow-sm";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";
const BUTTON: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";
const SMALL: &str = "rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-100";

/// `None` as "none", a role as its name.
fn role_name(role: Option<Role>) -> &'static str {
    role.map_or("none", Role::as_str)
}

/// Keycloak's users and clients (admins only).
#[component]
pub fn SsoUsers() -> impl IntoView {
    let create = ServerAction::<SsoCreateUser>::new();
    let change = ServerAction::<SsoChangeUser>::new();
    let realm = Resource::new(
        move || (create.version().get(), change.version().get()),
        |_| read_sso(),
    );
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Some(Role::Viewer));
    let reset_for = RwSignal::new(None::<String>);
    let reset_to = RwSignal::new(String::new());
    let problems = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| error.problems())
            .unwrap_or_default()
    };
    let failure = move || {
        [
            create
                .value()
                .get()
                .and_then(Result::err)
                .filter(|e| e.problems().is_empty()),
            change.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let set = move |username: String, change_to: SsoUserChange| {
        change.dispatch(SsoChangeUser {
            username,
            change: change_to,
        });
    };
    let role_options = move |current: Option<Role>| {
        std::iter::once(None)
            .chain(Role::ALL.into_iter().rev().map(Some))
            .map(|r| view! { <option value=role_name(r) selected=r == current>{role_name(r)}</option> })
            .collect_view()
    };
    view! {
        <section class=CARD data-testid="sso">
            <h2 class="text-base font-semibold">"Single Sign-On (Keycloak)"</h2>
            <p class="mt-1 text-slate-600">
                "People who sign in through Keycloak. Their role in bi is their group: bi-admins, bi-editors or bi-viewers. "
                "A new user gets a temporary password that Keycloak asks them to change at their first sign-in."
            </p>
            <Transition fallback=|| view! { <p class="mt-3 text-slate-500">"Reading Keycloak…"</p> }>
                {move || realm.get().map(|result| match result {
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                    Ok(view) if view.problem.is_some() => view! {
                        <p class="mt-3 text-amber-800" data-testid="sso-problem">{view.problem.clone()}</p>
                    }.into_any(),
                    Ok(view) => {
                        let browser = view.browser_url.clone();
                        view! {
                            <p class="mt-2 text-slate-600">
                                "Realm " <strong>{view.realm.clone()}</strong>
                                {browser.map(|url| view! { ", at " <a class="text-indigo-700 hover:underline" href=format!("{url}/account")>{url.clone()}</a> })}
                            </p>
                            <form
                                class="mt-3 grid grid-cols-1 gap-3 sm:grid-cols-[1fr_1fr_1fr_8rem_auto] sm:items-end"
                                on:submit=move |ev| {
                                    ev.prevent_default();
                                    let email = email.get_untracked();
                                    create.dispatch(SsoCreateUser {
                                        user: NewSsoUser {
                                            username: username.get_untracked(),
                                            email: (!email.trim().is_empty()).then(|| email.trim().to_owned()),
                                            role: role.get_untracked(),
                                            password: password.get_untracked(),
                                        },
                                    });
                                    password.set(String::new());
                                }
                            >
                                <label class="block">
                                    "Username"
                                    <input class=INPUT name="sso-username" prop:value=move || username.get()
                                        on:input=move |ev| username.set(event_target_value(&ev)) />
                                    {move || messages_for(&problems(), "username").into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
                                </label>
                                <label class="block">
                                    "Email"
                                    <input class=INPUT name="sso-email" type="email" prop:value=move || email.get()
                                        on:input=move |ev| email.set(event_target_value(&ev)) />
                                    {move || messages_for(&problems(), "email").into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
                                </label>
                                <label class="block">
                                    "Temporary password"
                                    <input class=INPUT type="password" name="sso-password" autocomplete="new-password" prop:value=move || password.get()
                                        on:input=move |ev| password.set(event_target_value(&ev)) />
                                    {move || messages_for(&problems(), "password").into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
                                </label>
                                <label class="block">
                                    "Role"
                                    <select class=INPUT name="sso-role" on:change=move |ev| {
                                        let picked = event_target_value(&ev);
                                        role.set(picked.parse::<Role>().ok());
                                    }>
                                        {role_options(Some(Role::Viewer))}
                                    </select>
                                </label>
                                <button type="submit" class=BUTTON disabled=move || create.pending().get()>"Add SSO user"</button>
                            </form>
                            <table class="mt-3 w-full text-left">
                                <thead class="text-xs uppercase text-slate-500">
                                    <tr><th>"Username"</th><th>"Email"</th><th>"Role"</th><th>"State"</th><th>"Next sign-in"</th><th></th></tr>
                                </thead>
                                <tbody>
                                    {view.users.into_iter().map(|user| {
                                        let name = user.username.clone();
                                        let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
                                        let enabled = user.enabled;
                                        let current = user.role;
                                        view! {
                                            <tr class="border-t border-slate-100" data-testid="sso-user" data-username=name.clone()>
                                                <td class="py-1">
                                                    {name.clone()}
                                                    {user.managed.then(|| view! { <span class="ml-1 rounded bg-slate-100 px-1 text-xs text-slate-600" title="bi created this user: the SSO battery's admin_username">"bi"</span> })}
                                                </td>
                                                <td>{user.email.clone().unwrap_or_default()}</td>
                                                <td>
                                                    <select class="rounded border border-slate-300 px-1 py-0.5 text-xs" aria-label=format!("SSO role of {name}")
                                                        on:change=move |ev| {
                                                            let picked = event_target_value(&ev).parse::<Role>().ok();
                                                            set(n1.clone(), SsoUserChange::SetRole { role: picked });
                                                        }>
                                                        {role_options(current)}
                                                    </select>
                                                </td>
                                                <td>{if enabled { "enabled" } else { "disabled" }}</td>
                                                <td>{user.required_actions.join(", ")}</td>
                                                <td class="space-x-1 whitespace-nowrap">
                                                    <button type="button" class=SMALL on:click=move |_| {
                                                        set(n2.clone(), if enabled { SsoUserChange::Disable } else { SsoUserChange::Enable });
                                                    }>{if enabled { "Disable" } else { "Enable" }}</button>
                                                    <button type="button" class=SMALL on:click=move |_| {
                                                        reset_to.set(String::new());
                                                        reset_for.set(Some(n3.clone()));
                                                    }>"Reset password"</button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h3 class="mt-5 text-sm font-semibold">"Clients"</h3>
                            <table class="mt-2 w-full text-left" data-testid="sso-clients">
                                <thead class="text-xs uppercase text-slate-500">
                                    <tr><th>"Client"</th><th>"Redirects to"</th><th>"Kept by"</th></tr>
                                </thead>
                                <tbody>
                                    {view.clients.into_iter().filter(|c| c.managed).map(|client| view! {
                                        <tr class="border-t border-slate-100" data-testid="sso-client">
                                            <td class="py-1 font-mono">{client.client_id.clone()}</td>
                                            <td class="break-all">{client.redirect_uris.join(", ")}</td>
                                            <td>"bi"</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                })}
            </Transition>
            {move || reset_for.get().map(|name| {
                let target = name.clone();
                view! {
                    <form class="mt-3 flex flex-wrap items-end gap-3" data-testid="sso-reset"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            set(target.clone(), SsoUserChange::ResetPassword { password: reset_to.get_untracked() });
                            reset_for.set(None);
                        }>
                        <label class="block">
                            {format!("New temporary password for {name}")}
                            <input class=INPUT type="password" name="sso-reset-password" autocomplete="new-password"
                                prop:value=move || reset_to.get() on:input=move |ev| reset_to.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit" class=BUTTON>"Set password"</button>
                    </form>
                }
            })}
            {move || failure().map(|error| view! { <ErrorNote error /> })}
        </section>
    }
}
