//! The Keycloak side of the desired state: what it holds, that it matches
//! the oauth2-proxies' settings, and that no secret reaches its hash.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::catalog::BatteryKind;
use crate::catalog::test_support::find_required;
use crate::generate::{
    Context, DesiredState, Owned, SECRET_PLACEHOLDER, Secrets, generate as generate_all,
    required_secrets,
};
use crate::objects::Notebook;

fn state(kinds: &[BatteryKind]) -> DesiredState {
    let mut state = DesiredState::with_batteries(kinds).unwrap();
    state.notebooks.push(Owned::unowned(Notebook {
        name: "lab".to_owned(),
        ..Notebook::default()
    }));
    state
}

fn paths(items: &[KeycloakItem]) -> Vec<String> {
    items.iter().map(|item| item.path.to_string()).collect()
}

#[test]
fn nothing_without_single_sign_on() {
    let state = state(&[BatteryKind::Grafana, BatteryKind::Keycloak]);
    assert!(
        generate(&Context::new(&state, Secrets::Preview))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_realm_groups_and_one_client_per_protected_ui_redirecting_to_its_host() {
    let state = state(&[
        BatteryKind::Sso,
        BatteryKind::Grafana,
        BatteryKind::Notebooks,
        BatteryKind::IstioGateway,
    ]);
    let items = generate(&Context::new(&state, Secrets::Preview)).unwrap();
    assert_eq!(
        paths(&items),
        [
            "keycloak/realm/batterycore",
            "keycloak/required-action/batterycore/CONFIGURE_TOTP",
            "keycloak/group/batterycore/bi-admins",
            "keycloak/group/batterycore/bi-editors",
            "keycloak/group/batterycore/bi-viewers",
            "keycloak/user/batterycore/admin",
            "keycloak/client/batterycore/bi",
            "keycloak/client/batterycore/bi-grafana",
            "keycloak/client/batterycore/bi-notebook-lab",
        ]
    );
    let client = |id: &str| {
        items
            .iter()
            .find(|item| item.path.name == id)
            .unwrap()
            .body
            .clone()
    };
    assert_eq!(
        client("bi-grafana")["redirectUris"],
        json!(["https://grafana.bi.localhost/oauth2/callback"])
    );
    assert_eq!(
        client("bi-grafana")["webOrigins"],
        json!(["https://grafana.bi.localhost"])
    );
    assert_eq!(
        client("bi-notebook-lab")["redirectUris"],
        json!(["https://notebooks.bi.localhost/lab/oauth2/callback"])
    );
    assert_eq!(
        client("bi")["redirectUris"],
        json!([
            "http://127.0.0.1:*",
            "http://localhost:*",
            "https://control.bi.localhost/auth/oidc/callback"
        ])
    );
    for id in ["bi", "bi-grafana", "bi-notebook-lab"] {
        let body = client(id);
        assert_eq!(body["publicClient"], false);
        assert_eq!(body["attributes"]["pkce.code.challenge.method"], "S256");
        assert_eq!(
            body["protocolMappers"][0]["config"]["claim.name"],
            GROUPS_CLAIM
        );
    }
    let admins = &items[2].body;
    assert_eq!(admins["attributes"]["bi-role"], json!(["admin"]));
}

#[test]
fn each_proxy_signs_in_as_its_client_with_the_secret_keycloak_holds() {
    let state = state(&[
        BatteryKind::Sso,
        BatteryKind::Notebooks,
        BatteryKind::IstioGateway,
    ]);
    let keys = required_secrets(&state).unwrap();
    assert!(keys.contains("sso/clients/bi") && keys.contains("sso/clients/notebook-lab"));
    let stored: BTreeMap<String, String> = keys
        .iter()
        .map(|key| (key.clone(), format!("value-of-{key}")))
        .collect();
    let resources = generate_all(&state, Secrets::Stored(&stored)).unwrap();
    let items = generate(&Context::new(&state, Secrets::Stored(&stored))).unwrap();
    let client = items
        .iter()
        .find(|item| item.path.name == "bi-notebook-lab")
        .unwrap();
    // The proxy's Secret publishes the very secret Keycloak's client holds.
    let secret = find_required(&resources, "Secret", "oauth2-proxy-notebook-lab");
    assert_eq!(
        secret.body["stringData"]["client-secret"],
        client.body["secret"]
    );
    let proxy = find_required(&resources, "Deployment", "oauth2-proxy-notebook-lab");
    let args = proxy.body["spec"]["template"]["spec"]["containers"][0]["args"].clone();
    let args: Vec<String> = serde_json::from_value(args).unwrap();
    assert!(args.contains(&"--client-id=bi-notebook-lab".to_owned()));
    assert!(args.contains(&"--proxy-prefix=/lab/oauth2".to_owned()));
}

#[test]
fn secrets_never_reach_the_hash_or_what_is_shown() {
    let state = state(&[
        BatteryKind::Sso,
        BatteryKind::Grafana,
        BatteryKind::IstioGateway,
    ]);
    let keys = required_secrets(&state).unwrap();
    let stored: BTreeMap<String, String> = keys
        .iter()
        .map(|key| (key.clone(), "t0p-s3cret".to_owned()))
        .collect();
    let real = generate(&Context::new(&state, Secrets::Stored(&stored))).unwrap();
    let preview = generate(&Context::new(&state, Secrets::Preview)).unwrap();
    for (real, preview) in real.iter().zip(&preview) {
        assert_eq!(real.hash, preview.hash, "{}", real.path);
        assert!(!real.redacted().to_string().contains("t0p-s3cret"));
    }
    let grafana = real
        .iter()
        .find(|item| item.path.name == "bi-grafana")
        .unwrap();
    assert_eq!(grafana.body["secret"], "t0p-s3cret");
    assert_eq!(grafana.redacted()["secret"], SECRET_PLACEHOLDER);
    // The same state, the same items.
    assert_eq!(
        real,
        generate(&Context::new(&state.canonical(), Secrets::Stored(&stored))).unwrap()
    );
}

#[test]
fn a_second_factor_is_a_default_required_action_of_the_realm() {
    let mut state = state(&[BatteryKind::Sso]);
    if let Some(crate::catalog::BatteryConfig::Sso(sso)) =
        state.batteries.get_mut(&BatteryKind::Sso)
    {
        sso.mfa = true;
    }
    let totp = |state: &DesiredState| {
        let items = generate(&Context::new(state, Secrets::Preview)).unwrap();
        items
            .iter()
            .find(|item| item.path.kind == KeycloakKind::RequiredAction)
            .unwrap()
            .body
            .clone()
    };
    assert_eq!(totp(&state)["alias"], TOTP);
    assert_eq!(totp(&state)["defaultAction"], true);
    let without = self::state(&[BatteryKind::Sso]);
    assert_eq!(totp(&without)["defaultAction"], false);
}

#[test]
fn the_first_administrator_gets_a_stored_temporary_password_and_keeps_it_afterwards() {
    let state = state(&[BatteryKind::Sso]);
    let keys = required_secrets(&state).unwrap();
    assert!(keys.contains("sso/users/admin"), "{keys:?}");
    let stored: BTreeMap<String, String> = keys
        .iter()
        .map(|key| (key.clone(), "first-pa55".to_owned()))
        .collect();
    let items = generate(&Context::new(&state, Secrets::Stored(&stored))).unwrap();
    let user = items
        .iter()
        .find(|item| item.path.kind == KeycloakKind::User)
        .unwrap();
    assert_eq!(user.path.name, "admin");
    assert_eq!(user.body["groups"], json!(["/bi-admins"]));
    assert_eq!(user.body["requiredActions"], json!(["UPDATE_PASSWORD"]));
    assert_eq!(user.body["credentials"][0]["value"], "first-pa55");
    assert_eq!(user.body["credentials"][0]["temporary"], true);
    assert!(!user.redacted().to_string().contains("first-pa55"));
    // What an update sends and drift compares: not the password, required
    // actions or groups, which the user and administrators change.
    let kept = crate::keycloak::kept(KeycloakKind::User, &user.body);
    assert_eq!(kept, json!({"username": "admin", "enabled": true}));
    // Users carry no marker: Keycloak's user profile refuses unknown attributes.
    let marked = crate::keycloak::marked(KeycloakKind::User, &kept, &user.hash);
    assert_eq!(marked, kept);
}
