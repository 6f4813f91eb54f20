//! Who is signed in, for the whole UI: [`UserState`] is provided by the
//! app, and [`IfAllowed`] shows its children only to roles that may use
//! them (the server refuses the rest anyway: this only spares a viewer
//! buttons that would fail).

use bi_api::auth::{Me, Role};
use leptos::prelude::*;

use crate::ApiError;

/// The signed-in user, fetched once per page load.
#[derive(Clone, Copy)]
pub struct UserState {
    /// Who is signed in, with the role.
    pub me: Resource<Result<Me, ApiError>>,
}

impl std::fmt::Debug for UserState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserState").finish_non_exhaustive()
    }
}

impl UserState {
    /// Whether the signed-in user's role allows `needed` (false until known).
    pub fn may(&self, needed: Role) -> bool {
        self.me
            .get()
            .and_then(Result::ok)
            .is_some_and(|me| me.may(needed))
    }
}

/// Its children, only for users whose role allows `role`.
#[component]
pub fn IfAllowed(role: Role, children: ChildrenFn) -> impl IntoView {
    let user = expect_context::<UserState>();
    view! {
        <Transition fallback=|| ()>
            {
                let children = children.clone();
                move || user.may(role).then(|| children())
            }
        </Transition>
    }
}
