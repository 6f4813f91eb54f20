//! The page's cross-site request forgery token: the server derives it from
//! the browser's session cookie and writes it into the page (a `<meta>`
//! and the sign-out form); the browser's server-function calls send it
//! back in a header ([`Client`]). A page on another site can neither read
//! it nor compute it, so the guard refuses a change without it.

use bi_api::auth::CSRF_HEADER;
#[cfg(feature = "hydrate")]
use bi_api::auth::CSRF_META;
use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;

/// This page's token: on the server, derived from the request's session
/// cookie; in the browser, read from the page. Empty without a session.
pub fn token() -> String {
    #[cfg(feature = "ssr")]
    {
        session_cookie()
            .map(|session| session.csrf_token())
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| {
                document
                    .query_selector(&format!("meta[name=\"{CSRF_META}\"]"))
                    .ok()
                    .flatten()
            })
            .and_then(|meta| meta.get_attribute("content"))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        String::new()
    }
}

/// The session cookie of the request being served, if it has one (the
/// server's guard found it).
#[cfg(feature = "ssr")]
pub(crate) fn session_cookie() -> Option<bi_control::auth::Secret> {
    leptos::prelude::use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<bi_control::auth::SessionCookie>()
            .map(|cookie| cookie.0.clone())
    })
}

/// The browser's server-function client: the standard one, with the
/// page's token on every call.
#[derive(Debug, Clone, Copy)]
pub struct Client;

impl<E, IS, OS> leptos::server_fn::client::Client<E, IS, OS> for Client
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(request: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        request.headers().set(CSRF_HEADER, &token());
        <BrowserClient as leptos::server_fn::client::Client<E, IS, OS>>::send(request)
    }

    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<leptos::server_fn::Bytes, leptos::server_fn::Bytes>>
                + Send
                + 'static,
                impl futures::Sink<leptos::server_fn::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as leptos::server_fn::client::Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as leptos::server_fn::client::Client<E, IS, OS>>::spawn(future);
    }
}
