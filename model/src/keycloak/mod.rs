//! Keycloak, bi's second apply target: the realm, groups and OIDC clients
//! Single Sign-On needs, generated from the desired state by pure functions
//! and hashed like resources. (The engine does not apply them yet: see
//! issue 19.)

mod item;
mod realm;

pub use item::{KeycloakItem, KeycloakKind, KeycloakPath};
pub use realm::{BI_CLIENT, GROUPS, GROUPS_CLAIM, client_id, client_secret_key, generate};

#[cfg(test)]
mod tests;
