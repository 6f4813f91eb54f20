//! Keycloak, bi's second apply target: the realm, groups and OIDC clients
//! Single Sign-On needs, generated from the desired state by pure functions
//! and hashed like resources. (The engine does not apply them yet: see
//! issue 19.)

mod item;
mod realm;
mod target;

pub use item::{KeycloakItem, KeycloakKind, KeycloakPath};
pub use realm::{
    BI_CLIENT, GROUPS, GROUPS_CLAIM, TOTP, client_id, client_secret_key, generate,
    initial_password_key,
};
pub use target::{
    API_VERSION, GROUP, HASH_ATTRIBUTE, MANAGED_ATTRIBUTE, drifted, is_keycloak, kept, marked,
    observed, redacted, resources,
};

#[cfg(test)]
mod tests;
