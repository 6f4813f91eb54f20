//! The Keycloak side of the desired state, generated like resources by a
//! pure function: the installation's realm, the groups that map to bi's
//! roles, and one OIDC client per UI that Single Sign-On protects (each
//! oauth2-proxy signs in with its own client and secret, redirecting only to
//! its own host) plus one for bi itself.

use serde_json::{Value, json};

use super::item::{KeycloakItem, KeycloakKind, KeycloakPath};
use crate::catalog::{BatteryConfig, BatteryKind, sso};
use crate::generate::{Context, GenerateError};
use crate::reach::{self, Backend};

/// The groups bi creates, and the role each grants in bi.
pub const GROUPS: [(&str, &str); 3] = [
    ("bi-admins", "admin"),
    ("bi-editors", "editor"),
    ("bi-viewers", "viewer"),
];

/// The OIDC client bi itself signs people in with.
pub const BI_CLIENT: &str = "bi";

/// The client id of the oauth2-proxy named `oauth2-proxy-<name>`.
pub fn client_id(name: &str) -> String {
    format!("bi-{name}")
}

/// The stored secret of the client of `name` (`sso/clients/<name>`).
pub fn client_secret_key(name: &str) -> String {
    format!("sso/clients/{name}")
}

/// The required action that enrols a second factor (TOTP).
pub const TOTP: &str = "CONFIGURE_TOTP";

/// The stored initial password of the Keycloak user `username`.
pub fn initial_password_key(username: &str) -> String {
    format!("sso/users/{username}")
}

/// The claim every client's tokens carry the user's groups in.
pub const GROUPS_CLAIM: &str = "groups";

fn path(kind: KeycloakKind, name: &str) -> KeycloakPath {
    KeycloakPath {
        kind,
        realm: sso::REALM.to_owned(),
        name: name.to_owned(),
    }
}

fn groups_mapper() -> Value {
    json!({
        "name": GROUPS_CLAIM,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-group-membership-mapper",
        "config": {
            "claim.name": GROUPS_CLAIM,
            "full.path": "false",
            "id.token.claim": "true",
            "access.token.claim": "true",
            "userinfo.token.claim": "true",
        },
    })
}

/// A confidential client with the authorization-code flow and PKCE,
/// redirecting only to `redirects`.
fn client(
    ctx: &Context<'_>,
    id: &str,
    name: &str,
    secret_key: &str,
    redirects: &[String],
    origins: &[String],
) -> Result<KeycloakItem, GenerateError> {
    let body = json!({
        "clientId": id,
        "name": name,
        "protocol": "openid-connect",
        "enabled": true,
        "publicClient": false,
        "clientAuthenticatorType": "client-secret",
        "secret": ctx.secret(secret_key)?,
        "standardFlowEnabled": true,
        "implicitFlowEnabled": false,
        "directAccessGrantsEnabled": false,
        "serviceAccountsEnabled": false,
        "redirectUris": redirects,
        "webOrigins": origins,
        "attributes": { "pkce.code.challenge.method": "S256" },
        "protocolMappers": [groups_mapper()],
    });
    Ok(KeycloakItem::new(
        path(KeycloakKind::Client, id),
        sso::INFO.id,
        body,
        &["/secret"],
    ))
}

/// Everything bi keeps in Keycloak, in creation order (realm, its TOTP
/// required action, groups,
/// clients); empty unless Single Sign-On is installed.
///
/// Reads the stored secret `sso/clients/<name>` of each client.
pub fn generate(ctx: &Context<'_>) -> Result<Vec<KeycloakItem>, GenerateError> {
    let Some(BatteryConfig::Sso(config)) = ctx.state.batteries.get(&BatteryKind::Sso) else {
        return Ok(Vec::new());
    };
    let app = sso::INFO.id;
    let realm = json!({
        "realm": sso::REALM,
        "displayName": format!("{} (bi)", ctx.state.installation),
        "enabled": true,
        "sslRequired": "external",
        "registrationAllowed": false,
        "loginWithEmailAllowed": true,
        "duplicateEmailsAllowed": false,
        "resetPasswordAllowed": true,
        "bruteForceProtected": true,
    });
    let mut out = vec![KeycloakItem::new(
        KeycloakPath {
            kind: KeycloakKind::Realm,
            realm: sso::REALM.to_owned(),
            name: sso::REALM.to_owned(),
        },
        app,
        realm,
        &[],
    )];
    // NB: every realm has this required action; Keycloak takes the realm's
    // `requiredActions` only when it imports a realm, so bi sets it itself.
    out.push(KeycloakItem::new(
        path(KeycloakKind::RequiredAction, TOTP),
        app,
        json!({
            "alias": TOTP,
            "name": "Configure OTP",
            "providerId": TOTP,
            "enabled": true,
            "defaultAction": config.mfa,
            "priority": 10,
        }),
        &[],
    ));
    for (group, role) in GROUPS {
        out.push(KeycloakItem::new(
            path(KeycloakKind::Group, group),
            app,
            json!({ "name": group, "attributes": { "bi-role": [role] } }),
            &[],
        ));
    }

    // The first administrator: a temporary password, changed at first sign-in.
    let admin = config.admin_username.as_str();
    out.push(KeycloakItem::new(
        path(KeycloakKind::User, admin),
        app,
        json!({
            "username": admin,
            "enabled": true,
            "requiredActions": ["UPDATE_PASSWORD"],
            "groups": [format!("/{}", GROUPS[0].0)],
            "credentials": [{
                "type": "password",
                "value": ctx.secret(&initial_password_key(admin))?,
                "temporary": true,
            }],
        }),
        &["/credentials"],
    ));

    // bi itself: on its host behind the gateway, and where `bi start` serves
    // it, on a loopback port of its choosing (RFC 8252's loopback redirect;
    // Keycloak matches a redirect URI ending in `*` as a prefix).
    let endpoints = reach::endpoints(ctx);
    let mut redirects = vec![
        "http://127.0.0.1:*".to_owned(),
        "http://localhost:*".to_owned(),
    ];
    let origins = vec!["+".to_owned()];
    if let Some(control) = endpoints.iter().find(|e| {
        matches!(
            e.owner,
            reach::Owner::Battery {
                battery: BatteryKind::BatteryCore
            }
        )
    }) {
        redirects.push(format!("https://{}/auth/oidc/callback", control.host));
    }
    out.push(client(
        ctx,
        BI_CLIENT,
        "bi",
        &client_secret_key(BI_CLIENT),
        &redirects,
        &origins,
    )?);

    // One client per oauth2-proxy the gateway routes to.
    let mut proxied: Vec<(String, String, Vec<String>)> = Vec::new();
    for endpoint in &endpoints {
        let Backend::Service {
            service,
            signed_in: true,
            ..
        } = &endpoint.backend
        else {
            continue;
        };
        let Some(name) = service.strip_prefix(sso::PROXY_PREFIX) else {
            continue;
        };
        let redirect = format!("https://{}{}", endpoint.host, callback_path(endpoint));
        match proxied.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, redirects)) => redirects.push(redirect),
            None => proxied.push((name.to_owned(), endpoint.owner.label(), vec![redirect])),
        }
    }
    proxied.sort();
    for (name, label, redirects) in proxied {
        let origins: Vec<String> = redirects
            .iter()
            .map(|r| r.split('/').take(3).collect::<Vec<_>>().join("/"))
            .collect();
        out.push(client(
            ctx,
            &client_id(&name),
            &label,
            &client_secret_key(&name),
            &redirects,
            &origins,
        )?);
    }
    Ok(out)
}

/// Where oauth2-proxy takes the callback: under the address's path prefix
/// for a notebook (its proxy sees only `/<name>/…`), at the root otherwise.
fn callback_path(endpoint: &reach::Endpoint) -> String {
    match &endpoint.backend {
        Backend::Service {
            path_prefix: Some(prefix),
            ..
        } => format!("{prefix}/oauth2/callback"),
        _ => "/oauth2/callback".to_owned(),
    }
}
