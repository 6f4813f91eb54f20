//! The pages shown before signing in: sign-in and the first admin's
//! set-up. Plain HTML forms rendered on the server, without the app around
//! them and without JavaScript: nothing here needs the browser bundle, and
//! nothing of the installation shows to someone not signed in.

use leptos::prelude::*;
use leptos::tachys::view::RenderHtml;

/// A line shown above a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// What went wrong.
    Error(String),
}

/// The sign-in page; `next` is where to go afterwards, `csrf` the token
/// of the browser's cookie.
///
/// With `sso`, it also offers signing in through Keycloak (Single Sign-On).
pub fn sign_in_page(next: &str, csrf: &str, notice: Option<Notice>, sso: bool) -> String {
    let sso_link = format!("/auth/oidc/start?next={}", url_escape(next));
    let next = next.to_owned();
    let csrf = csrf.to_owned();
    document(
        "Sign in",
        view! {
            <h1 class="text-xl font-semibold">"Sign in to bi"</h1>
            {notice_view(notice)}
            <form method="post" action="/auth/sign-in" class="mt-4 space-y-4">
                <input type="hidden" name="next" value=next />
                <input type="hidden" name=bi_api::auth::CSRF_FIELD value=csrf />
                {field("username", "Username", "text", "username")}
                {field("password", "Password", "password", "current-password")}
                <button type="submit" class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700">
                    "Sign in"
                </button>
            </form>
            {sso.then(|| view! {
                <div class="mt-4 border-t border-slate-200 pt-4">
                    <a href=sso_link data-testid="sso-sign-in"
                        class="block w-full rounded-md border border-indigo-600 px-3 py-2 text-center text-sm font-medium text-indigo-700 hover:bg-indigo-50">
                        "Sign in with Single Sign-On (Keycloak)"
                    </a>
                    <p class="mt-2 text-xs text-slate-500">
                        "Your role in bi follows your Keycloak groups: bi-admins, bi-editors or bi-viewers. "
                        "Local accounts keep working beside it."
                    </p>
                </div>
            })}
            <p class="mt-4 text-xs text-slate-500">
                "No account? An admin creates one in Settings → Users and access, or with "
                <code>"bi users add"</code>"."
            </p>
        }
        .to_html(),
    )
}

/// `text` as a query value: everything but unreserved characters escaped.
fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The first admin's page; `token` is the setup token from the link,
/// `csrf` the token of the browser's cookie.
pub fn setup_page(token: &str, csrf: &str, notice: Option<Notice>) -> String {
    let token = token.to_owned();
    let csrf = csrf.to_owned();
    document(
        "Set up bi",
        view! {
            <h1 class="text-xl font-semibold">"Set up bi"</h1>
            <p class="mt-2 text-sm text-slate-600">
                "Create the first admin. The setup token is in the link "<code>"bi start"</code>
                " printed, and in the data directory's "<code>"setup-token"</code>" file."
            </p>
            {notice_view(notice)}
            <form method="post" action="/auth/setup" class="mt-4 space-y-4">
                <input type="hidden" name=bi_api::auth::CSRF_FIELD value=csrf />
                {field_with("token", "Setup token", "password", "off", token)}
                {field("username", "Admin username", "text", "username")}
                {field("password", "Password (at least 12 characters)", "password", "new-password")}
                {field("confirm", "Password again", "password", "new-password")}
                <button type="submit" class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700">
                    "Create the admin and sign in"
                </button>
            </form>
        }
        .to_html(),
    )
}

fn notice_view(notice: Option<Notice>) -> impl IntoView {
    notice.map(|Notice::Error(message)| {
        view! {
            <p role="alert" class="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
                {message}
            </p>
        }
    })
}

fn field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
) -> impl IntoView {
    field_with(name, label, kind, autocomplete, String::new())
}

fn field_with(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
) -> impl IntoView {
    view! {
        <label class="block text-sm font-medium text-slate-700">
            {label}
            <input
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required
                class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none"
            />
        </label>
    }
}

/// The document around a form: bi's stylesheet, no scripts.
fn document(title: &str, body: String) -> String {
    let title = view! { <title>{format!("{title} · bi")}</title> }.to_html();
    format!(
        "<!DOCTYPE html><html lang=\"en\" class=\"h-full\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/pkg/bi.css\">{title}</head>\
         <body class=\"h-full bg-slate-50 text-slate-900 antialiased\">\
         <main class=\"mx-auto mt-24 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm\">{body}</main>\
         </body></html>"
    )
}
