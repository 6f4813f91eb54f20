//! Server functions: the browser's typed calls into the control server.
//!
//! Each body is the same four steps: authorize → validate with `bi-model`
//! → call `bi-control` → map to a response type.
//!
//! Authorization happens before a body runs: the server's guard admits a
//! call to `/api/<endpoint>` only for a signed-in user whose role is at
//! least the one [`ACCESS`] names for that endpoint (and refuses every
//! endpoint missing there). A body that changes something names its
//! author with [`caller`].

pub mod batteries;
pub mod dashboard;
pub mod deploys;
pub mod drift;
pub mod explorer;
pub mod health;
pub mod installation;
pub mod preview;
pub mod projects;
pub mod reach;
pub mod services;
pub mod settings;
pub mod sso;
pub mod timeline;
pub mod users;

use bi_api::auth::Role;

/// The role each server function needs, by endpoint (the path after
/// `/api/`). The guard reads it; a test checks that every registered
/// server function is here.
pub const ACCESS: &[(&str, Role)] = &[
    ("auth/me", Role::Viewer),
    ("auth/password", Role::Viewer),
    ("batteries/list", Role::Viewer),
    ("batteries/show", Role::Viewer),
    ("batteries/preview-install", Role::Viewer),
    ("batteries/install", Role::Editor),
    ("batteries/configure", Role::Editor),
    ("batteries/uninstall", Role::Editor),
    ("dashboard/view", Role::Viewer),
    ("deleted/list", Role::Viewer),
    ("deleted/show", Role::Viewer),
    ("deleted/undelete", Role::Editor),
    ("deploys/list", Role::Viewer),
    ("deploys/show", Role::Viewer),
    ("deploys/diff", Role::Viewer),
    ("deploys/rollback", Role::Editor),
    ("deploys/orphans", Role::Viewer),
    ("deploys/prune-orphans", Role::Editor),
    ("drift/view", Role::Viewer),
    ("drift/sweep", Role::Editor),
    ("drift/repair", Role::Editor),
    ("drift/mode", Role::Admin),
    ("explorer/kinds", Role::Viewer),
    ("explorer/list", Role::Viewer),
    ("explorer/object", Role::Viewer),
    ("explorer/pods", Role::Viewer),
    ("explorer/log", Role::Viewer),
    ("installation/health", Role::Viewer),
    ("installation/overview", Role::Viewer),
    ("installation/preview-base", Role::Viewer),
    ("installation/reach", Role::Viewer),
    ("installation/rename", Role::Editor),
    ("projects/list", Role::Viewer),
    ("projects/show", Role::Viewer),
    ("projects/create", Role::Editor),
    ("projects/rename", Role::Editor),
    ("projects/delete", Role::Editor),
    ("projects/add-object", Role::Editor),
    ("projects/remove-object", Role::Editor),
    ("projects/resize-postgres", Role::Editor),
    ("services/list", Role::Viewer),
    ("services/show", Role::Viewer),
    ("services/scale", Role::Editor),
    ("services/scale-knative", Role::Editor),
    ("services/update", Role::Editor),
    ("settings/show", Role::Viewer),
    ("timeline/list", Role::Viewer),
    ("sso/view", Role::Admin),
    ("sso/create-user", Role::Admin),
    ("sso/change-user", Role::Admin),
    ("settings/save", Role::Admin),
    ("settings/reset", Role::Admin),
    ("users/list", Role::Admin),
    ("users/create", Role::Admin),
    ("users/change", Role::Admin),
    ("users/remove", Role::Admin),
    ("tokens/list", Role::Viewer),
    ("tokens/create", Role::Viewer),
    ("tokens/revoke", Role::Viewer),
];

/// Who is calling: the signed-in user the guard admitted. Refused when
/// nobody is (a server function rendered for a page no one signed in to).
#[cfg(feature = "ssr")]
pub(crate) fn caller() -> Result<bi_control::auth::Principal, crate::ApiError> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<bi_control::auth::Principal>()
                .cloned()
        })
        .ok_or_else(|| crate::ApiError::Unauthenticated("sign in first".into()))
}

/// Who the audit trail names for a change made by this call.
#[cfg(feature = "ssr")]
pub(crate) fn author() -> Result<String, crate::ApiError> {
    caller().map(|caller| caller.author())
}

/// The database handle that the server provides to every request.
#[cfg(feature = "ssr")]
pub(crate) fn database() -> Result<bi_control::Database, crate::ApiError> {
    leptos::prelude::use_context::<bi_control::Database>().ok_or_else(|| {
        crate::ApiError::Internal("the database is not available to this request".into())
    })
}

/// The reconciler (and through it the engine) of this server.
#[cfg(feature = "ssr")]
pub(crate) fn reconciler() -> Result<bi_control::reconciler::Reconciler, crate::ApiError> {
    leptos::prelude::use_context::<bi_control::reconciler::Reconciler>().ok_or_else(|| {
        crate::ApiError::Internal("the engine is not available to this request".into())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// Every server function sends the page's CSRF token: the browser's
    /// calls without it are refused by the guard.
    #[test]
    fn every_server_function_uses_the_csrf_client() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text
                .lines()
                .filter(|line| line.trim_start().starts_with("#[server("))
            {
                seen += 1;
                assert!(
                    line.contains("client = crate::csrf::Client"),
                    "{}: {line}",
                    path.display()
                );
            }
        }
        assert_eq!(seen, super::ACCESS.len());
    }
}
