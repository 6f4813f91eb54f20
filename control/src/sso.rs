//! Single Sign-On's Keycloak for people: where its realm is (for a browser
//! and for bi), its users and clients as Keycloak holds them now, and an
//! admin's changes to users. Users other than the first administrator are
//! not in the desired state: they live in Keycloak, as an identity
//! provider's users do, and these calls change them there at once.

use bi_api::auth::Role;
use bi_api::sso::{NewSsoUser, SsoClient, SsoUser, SsoUserChange, SsoView};
use bi_model::catalog::{BatteryConfig, BatteryKind, sso};
use bi_model::generate::{Context, DesiredState, Secrets};
use bi_model::keycloak::{GROUPS, KeycloakKind, KeycloakPath, MANAGED_ATTRIBUTE};
use bi_model::{Problems, Rule};
use serde_json::{Value, json};

use crate::auth::accounts::{check_password, check_username};
use crate::db::Database;
use crate::desired_state;
use crate::error::{Error, Result};
use crate::keycloak::{Admin, KeycloakAccess, admin_for};

/// Where the realm is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmUrls {
    /// `…/realms/batterycore` as a browser reaches it.
    pub browser: String,
    /// `…/realms/batterycore` as bi reaches it.
    pub server: String,
}

/// The realm of `state`'s Single Sign-On reached through `access`, or why
/// there is none (SSO not installed; no address a browser can open).
pub fn realm_urls(
    state: &DesiredState,
    access: &KeycloakAccess,
) -> std::result::Result<RealmUrls, String> {
    if !state.batteries.contains_key(&BatteryKind::Sso) {
        return Err("Single Sign-On is not installed".to_owned());
    }
    let ctx = Context::new(state, Secrets::Preview);
    let public = bi_model::catalog::keycloak::public_url(&ctx);
    let no_public = || {
        "Keycloak has no address a browser can open: install the Istio Ingress Gateway \
         (https://keycloak.<domain>), or start bi with --keycloak-url"
            .to_owned()
    };
    let path = format!("/realms/{}", sso::REALM);
    let (browser, server) = match access {
        KeycloakAccess::Url(url) => (url.clone(), url.clone()),
        KeycloakAccess::InCluster => (
            public.ok_or_else(no_public)?,
            bi_model::catalog::keycloak::internal_url(&ctx),
        ),
        KeycloakAccess::Outside => {
            let public = public.ok_or_else(no_public)?;
            (public.clone(), public)
        }
    };
    Ok(RealmUrls {
        browser: format!("{}{path}", browser.trim_end_matches('/')),
        server: format!("{}{path}", server.trim_end_matches('/')),
    })
}

/// The SSO battery's first administrator, when SSO is installed.
fn first_admin(state: &DesiredState) -> Option<String> {
    match state.batteries.get(&BatteryKind::Sso) {
        Some(BatteryConfig::Sso(config)) => Some(config.admin_username.as_str().to_owned()),
        _ => None,
    }
}

/// Keycloak's administrator client for the current desired state.
async fn admin(db: &Database, access: &KeycloakAccess) -> Result<(DesiredState, Admin)> {
    let (_, state) = desired_state::current(db).await?;
    if !state.batteries.contains_key(&BatteryKind::Sso) {
        return Err(Error::NotFound(
            "Single Sign-On is not installed: `bi batteries install sso`".to_owned(),
        ));
    }
    let secrets = desired_state::secrets(db).await?;
    let admin = admin_for(&state, &secrets, access).map_err(Error::Unavailable)?;
    Ok((state, admin))
}

fn keycloak_error(err: crate::keycloak::KeycloakError) -> Error {
    match err {
        crate::keycloak::KeycloakError::Refused {
            status: 409,
            message,
            ..
        } => Error::Conflict(message),
        other => Error::Unavailable(other.to_string()),
    }
}

/// The realm's users and clients as Keycloak holds them now; a Keycloak
/// that cannot be read is said in `problem`.
pub async fn view(db: &Database, access: &KeycloakAccess) -> Result<SsoView> {
    let (_, state) = desired_state::current(db).await?;
    let mut view = SsoView {
        realm: sso::REALM.to_owned(),
        browser_url: realm_urls(&state, access).ok().map(|urls| urls.browser),
        problem: None,
        users: Vec::new(),
        clients: Vec::new(),
    };
    let admin = match admin(db, access).await {
        Ok((_, admin)) => admin,
        Err(err) => {
            view.problem = Some(err.to_string());
            return Ok(view);
        }
    };
    match read(&admin, first_admin(&state).as_deref()).await {
        Ok((users, clients)) => {
            view.users = users;
            view.clients = clients;
        }
        Err(err) => view.problem = Some(err.to_string()),
    }
    Ok(view)
}

async fn read(
    admin: &Admin,
    first_admin: Option<&str>,
) -> std::result::Result<(Vec<SsoUser>, Vec<SsoClient>), crate::keycloak::KeycloakError> {
    let realm = sso::REALM;
    let mut users = Vec::new();
    for user in admin.users(realm).await? {
        let id = user["id"].as_str().unwrap_or_default().to_owned();
        let groups: Vec<String> = admin
            .user_groups(realm, &id)
            .await?
            .iter()
            .filter_map(|group| group["name"].as_str().map(str::to_owned))
            .collect();
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        let username = user["username"].as_str().unwrap_or_default().to_owned();
        users.push(SsoUser {
            managed: Some(username.as_str()) == first_admin,
            username,
            email: user["email"].as_str().map(str::to_owned),
            enabled: user["enabled"] == true,
            role: role_of(&names),
            groups,
            required_actions: strings(&user["requiredActions"]),
        });
    }
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let mut clients: Vec<SsoClient> = admin
        .list(realm)
        .await?
        .into_iter()
        .filter(|(path, _)| path.kind == KeycloakKind::Client)
        .map(|(path, client)| SsoClient {
            client_id: path.name,
            name: client["name"].as_str().map(str::to_owned),
            enabled: client["enabled"] == true,
            redirect_uris: strings(&client["redirectUris"]),
            managed: client["attributes"][MANAGED_ATTRIBUTE] == "true",
        })
        .collect();
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    Ok((users, clients))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// The highest role bi's groups among `groups` give.
pub fn role_of(groups: &[&str]) -> Option<Role> {
    GROUPS
        .iter()
        .find(|(group, _)| groups.contains(group))
        .and_then(|(_, role)| role.parse().ok())
}

/// bi's group for `role`.
fn group_of(role: Role) -> &'static str {
    GROUPS
        .iter()
        .find(|(_, r)| *r == role.as_str())
        .map_or(GROUPS[2].0, |(group, _)| group)
}

/// Adds `new` to the realm, with a temporary password and the group of
/// their role. Refused with every problem of the input, or when the name
/// is taken (409).
pub async fn create_user(db: &Database, access: &KeycloakAccess, new: NewSsoUser) -> Result<()> {
    let mut problems = Problems::new();
    check_username(&new.username, &mut problems);
    check_password(&new.password, "password", &mut problems);
    if let Some(email) = &new.email
        && !(email.contains('@') && !email.starts_with('@') && !email.ends_with('@'))
    {
        problems.push(
            "email",
            Rule::Format,
            "say an address like alice@example.com",
        );
    }
    problems.into_result().map_err(Error::Rejected)?;
    let (_, admin) = admin(db, access).await?;
    let mut body = json!({
        "username": new.username,
        "enabled": true,
        "requiredActions": ["UPDATE_PASSWORD"],
        "credentials": [{"type": "password", "value": new.password, "temporary": true}],
    });
    if let Some(email) = &new.email {
        body["email"] = json!(email);
    }
    if let Some(role) = new.role {
        body["groups"] = json!([format!("/{}", group_of(role))]);
    }
    let path = KeycloakPath {
        kind: KeycloakKind::User,
        realm: sso::REALM.to_owned(),
        name: new.username.clone(),
    };
    let created = admin.create(&path, &body).await.map_err(keycloak_error)?;
    if !created {
        return Err(Error::Conflict(format!(
            "there is already a user {:?} in Keycloak",
            new.username
        )));
    }
    tracing::info!(username = %new.username, role = ?new.role, "added a single sign-on user");
    Ok(())
}

/// Changes the user `username` as `change` says.
pub async fn change_user(
    db: &Database,
    access: &KeycloakAccess,
    username: &str,
    change: SsoUserChange,
) -> Result<()> {
    if let SsoUserChange::ResetPassword { password } = &change {
        let mut problems = Problems::new();
        check_password(password, "password", &mut problems);
        problems.into_result().map_err(Error::Rejected)?;
    }
    let (_, admin) = admin(db, access).await?;
    let realm = sso::REALM;
    let path = KeycloakPath {
        kind: KeycloakKind::User,
        realm: realm.to_owned(),
        name: username.to_owned(),
    };
    let Some(user) = admin.read(&path).await.map_err(keycloak_error)? else {
        return Err(Error::NotFound(format!(
            "there is no user {username:?} in Keycloak"
        )));
    };
    let id = user.id;
    match change {
        SsoUserChange::Enable | SsoUserChange::Disable => {
            let enabled = matches!(change, SsoUserChange::Enable);
            admin
                .update_user(realm, &id, &json!({ "enabled": enabled }))
                .await
                .map_err(keycloak_error)?;
        }
        SsoUserChange::ResetPassword { password } => {
            admin
                .reset_password(realm, &id, &password, true)
                .await
                .map_err(keycloak_error)?;
        }
        SsoUserChange::SetRole { role } => {
            let groups = admin.list(realm).await.map_err(keycloak_error)?;
            let member_of = admin
                .user_groups(realm, &id)
                .await
                .map_err(keycloak_error)?;
            for (group, _) in GROUPS {
                let Some((_, found)) = groups
                    .iter()
                    .find(|(p, _)| p.kind == KeycloakKind::Group && p.name == group)
                else {
                    continue;
                };
                let group_id = found["id"].as_str().unwrap_or_default();
                let wanted = role.is_some_and(|role| group_of(role) == group);
                let member = member_of.iter().any(|g| g["id"] == group_id);
                if wanted != member {
                    admin
                        .membership(realm, &id, group_id, wanted)
                        .await
                        .map_err(keycloak_error)?;
                }
            }
        }
    }
    tracing::info!(username, "changed a single sign-on user");
    Ok(())
}
