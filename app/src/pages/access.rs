//! Users and access: your API tokens (create, shown once; revoke) and, for
//! admins, every account (add, change role, disable, unlock, remove) and
//! every token.

use bi_api::auth::{AccountChange, Role, last};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::users::{
    ChangeOwnPassword, ChangeUser, CreateToken, CreateUser, RemoveUser, RevokeToken, list_tokens,
    list_users,
};
use crate::components::access::{IfAllowed, UserState};
use crate::components::feedback::{ErrorNote, messages_for};

const CARD: &str =
    "mt-6 max-w-5xl rounded-lg border border-slate-200 bg-white p-5 text-sm shadow-sm";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";
const BUTTON: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";
const SMALL: &str = "rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-100";

/// The Users and access page.
#[component]
pub fn Access() -> impl IntoView {
    let user = expect_context::<UserState>();
    view! {
        <Title text="Users and access" />
        <h1 class="text-2xl font-semibold">"Users and access"</h1>
        <p class="mt-1 max-w-5xl text-sm text-slate-600">
            "Admins manage accounts and every token; editors change batteries, projects and services, deploy and roll back; viewers read. Tokens are for the CLI and scripts: send one as "
            <code>"Authorization: Bearer …"</code> " or log in with " <code>"bi login"</code> "."
        </p>
        <Transition fallback=|| ()>
            {move || user.me.get().and_then(Result::ok).map(|me| view! {
                <p class="mt-2 text-sm" data-testid="access-me">
                    "You are " <strong>{me.username.clone()}</strong> ", " {me.role.to_string()} "."
                </p>
            })}
        </Transition>
        <Tokens />
        <Password />
        <IfAllowed role=Role::Admin>
            <Users />
            <super::sso::SsoUsers />
        </IfAllowed>
    }
}

/// The caller's tokens (an admin's: everyone's), with the create form.
#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let problems = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| error.problems())
            .unwrap_or_default()
    };
    view! {
        <section class=CARD data-testid="tokens">
            <h2 class="text-base font-semibold">"API tokens"</h2>
            <form
                class="mt-3 grid grid-cols-1 gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-end"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let expires_in_days = days.get_untracked().trim().parse::<u32>().ok();
                    create.dispatch(CreateToken { name: name.get_untracked(), expires_in_days });
                }
            >
                <label class="block">
                    "Name"
                    <input class=INPUT name="token-name" placeholder="ci" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                    {move || messages_for(&problems(), "name").into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
                </label>
                <label class="block">
                    "Expires in days"
                    <input class=INPUT name="token-days" placeholder="never" prop:value=move || days.get()
                        on:input=move |ev| days.set(event_target_value(&ev)) />
                    {move || messages_for(&problems(), "expires_in_days").into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
                </label>
                <button type="submit" class=BUTTON disabled=move || create.pending().get()>"Create token"</button>
            </form>
            {move || create.value().get().map(|result| match result {
                Ok(created) => view! {
                    <div class="mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3" role="status">
                        <p>"Token " <strong>{created.view.name.clone()}</strong> " created. Copy it now: it is not shown again."</p>
                        <code class="mt-1 block break-all font-mono" data-testid="new-token">{created.token.clone()}</code>
                    </div>
                }.into_any(),
                Err(error) if error.problems().is_empty() => view! { <ErrorNote error /> }.into_any(),
                Err(_) => ().into_any(),
            })}
            {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error /> })}
            <Transition fallback=|| ()>
                {move || tokens.get().map(|result| match result {
                    Ok(tokens) if tokens.is_empty() => view! { <p class="mt-3 text-slate-500">"No tokens yet."</p> }.into_any(),
                    Ok(tokens) => view! {
                        <table class="mt-3 w-full text-left">
                            <thead class="text-xs uppercase text-slate-500">
                                <tr><th>"Name"</th><th>"Owner"</th><th>"Token"</th><th>"Last used"</th><th>"State"</th><th></th></tr>
                            </thead>
                            <tbody>
                                {tokens.into_iter().map(|token| {
                                    let id = token.id;
                                    let active = token.revoked_at.is_none();
                                    let state = token.state();
                                    view! {
                                        <tr class="border-t border-slate-100" data-testid="token-row">
                                            <td class="py-1">{token.name.clone()}</td>
                                            <td>{token.owner.clone()}</td>
                                            <td class="font-mono">{format!("{}…", token.prefix)}</td>
                                            <td>{last(token.last_used_at.as_ref())}</td>
                                            <td>{state}</td>
                                            <td>{active.then(|| view! {
                                                <button type="button" class=SMALL on:click=move |_| { revoke.dispatch(RevokeToken { id }); }>"Revoke"</button>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The signed-in user's own password.
#[component]
fn Password() -> impl IntoView {
    let change = ServerAction::<ChangeOwnPassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let mismatch = RwSignal::new(false);
    let problems = move || {
        change
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| error.problems())
            .unwrap_or_default()
    };
    let field = |label: &'static str,
                 name: &'static str,
                 autocomplete: &'static str,
                 value: RwSignal<String>| {
        view! {
            <label class="block">
                {label}
                <input class=INPUT type="password" name=name autocomplete=autocomplete prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev)) />
                {move || messages_for(&problems(), name).into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
            </label>
        }
    };
    view! {
        <section class=CARD data-testid="password">
            <h2 class="text-base font-semibold">"Your password"</h2>
            <p class="mt-1 text-slate-600">"Changing it signs you out everywhere else; your API tokens keep working."</p>
            <form
                class="mt-3 grid grid-cols-1 gap-3 sm:grid-cols-[1fr_1fr_1fr_auto] sm:items-end"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let differ = new.get_untracked() != again.get_untracked();
                    mismatch.set(differ);
                    if !differ {
                        change.dispatch(ChangeOwnPassword {
                            current_password: current.get_untracked(),
                            new_password: new.get_untracked(),
                        });
                    }
                }
            >
                {field("Current password", "current_password", "current-password", current)}
                {field("New password", "new_password", "new-password", new)}
                {field("New password again", "new_password_again", "new-password", again)}
                <button type="submit" class=BUTTON disabled=move || change.pending().get()>"Change password"</button>
            </form>
            {move || mismatch.get().then(|| view! { <p class="mt-2 text-red-700" role="alert">"The two new passwords differ."</p> })}
            {move || change.value().get().map(|result| match result {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    again.set(String::new());
                    view! { <p class="mt-2 text-emerald-700" role="status" data-testid="password-changed">"Password changed."</p> }.into_any()
                }
                Err(error) if error.problems().is_empty() => view! { <ErrorNote error /> }.into_any(),
                Err(_) => ().into_any(),
            })}
        </section>
    }
}

/// Every account, with the add form (admins only).
#[component]
fn Users() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let change = ServerAction::<ChangeUser>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                change.version().get(),
                remove.version().get(),
            )
        },
        |_| list_users(),
    );
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
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
            remove.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let set = move |username: String, change_to: AccountChange| {
        change.dispatch(ChangeUser {
            username,
            change: change_to,
        });
    };
    view! {
        <section class=CARD data-testid="users">
            <h2 class="text-base font-semibold">"Users"</h2>
            <form
                class="mt-3 grid grid-cols-1 gap-3 sm:grid-cols-[1fr_1fr_8rem_auto] sm:items-end"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(CreateUser {
                        username: username.get_untracked(),
                        password: password.get_untracked(),
                        role: role.get_untracked(),
                    });
                    password.set(String::new());
                }
            >
                <label class="block">
                    "Username"
                    <input class=INPUT name="new-username" prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev)) />
                    {move || messages_for(&problems(), "username").into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
                </label>
                <label class="block">
                    "Password"
                    <input class=INPUT type="password" name="new-password" autocomplete="new-password" prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev)) />
                    {move || messages_for(&problems(), "password").into_iter().map(|m| view! { <span class="text-xs text-red-700">{m}</span> }).collect_view()}
                </label>
                <label class="block">
                    "Role"
                    <select class=INPUT name="new-role" on:change=move |ev| {
                        if let Ok(picked) = event_target_value(&ev).parse::<Role>() { role.set(picked); }
                    }>
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=move || role.get() == r>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class=BUTTON disabled=move || create.pending().get()>"Add user"</button>
            </form>
            {move || failure().map(|error| view! { <ErrorNote error /> })}
            <Transition fallback=|| ()>
                {move || users.get().map(|result| match result {
                    Ok(users) => view! {
                        <table class="mt-3 w-full text-left">
                            <thead class="text-xs uppercase text-slate-500">
                                <tr><th>"Username"</th><th>"Role"</th><th>"State"</th><th>"Last sign-in"</th><th></th></tr>
                            </thead>
                            <tbody>
                                {users.into_iter().map(|account| {
                                    let name = account.username.clone();
                                    let state = account.state();
                                    let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name.clone());
                                    let disabled = account.disabled;
                                    let locked = account.locked_until.is_some();
                                    let current = account.role;
                                    view! {
                                        <tr class="border-t border-slate-100" data-testid="user-row" data-username=name.clone()>
                                            <td class="py-1">{name.clone()}</td>
                                            <td>
                                                <select class="rounded border border-slate-300 px-1 py-0.5 text-xs" aria-label=format!("role of {name}")
                                                    on:change=move |ev| {
                                                        if let Ok(picked) = event_target_value(&ev).parse::<Role>() {
                                                            set(n1.clone(), AccountChange { role: Some(picked), ..AccountChange::default() });
                                                        }
                                                    }>
                                                    {Role::ALL.into_iter().map(|r| view! {
                                                        <option value=r.as_str() selected=r == current>{r.as_str()}</option>
                                                    }).collect_view()}
                                                </select>
                                            </td>
                                            <td>{state}</td>
                                            <td>{last(account.last_sign_in_at.as_ref())}</td>
                                            <td class="space-x-1 whitespace-nowrap">
                                                <button type="button" class=SMALL on:click=move |_| {
                                                    set(n2.clone(), AccountChange { disabled: Some(!disabled), ..AccountChange::default() });
                                                }>{if disabled { "Enable" } else { "Disable" }}</button>
                                                {locked.then(|| view! {
                                                    <button type="button" class=SMALL on:click=move |_| {
                                                        set(n3.clone(), AccountChange { unlock: true, ..AccountChange::default() });
                                                    }>"Unlock"</button>
                                                })}
                                                <button type="button" class=SMALL on:click=move |_| {
                                                    remove.dispatch(RemoveUser { username: n4.clone() });
                                                }>"Remove"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
