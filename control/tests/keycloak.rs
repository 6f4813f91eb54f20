//! Keycloak as the engine's second apply target, against the sandbox
//! Keycloak (a server speaking the subset of Keycloak 26's Admin REST API
//! bi uses) beside the sandbox and a real kube-apiserver: one snapshot
//! writes both, a second writes neither, an edit in Keycloak behind bi's
//! back is found by the drift sweep and repaired, and uninstalling SSO
//! removes what bi created there. Keycloak itself cannot run here: what a
//! real Keycloak pod adds (its start-up time, its database) is not shown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use bi_api::auth::Role;
use bi_api::sso::{NewSsoUser, SsoUserChange};
use bi_control::desired_state;
use bi_control::engine::history;
use bi_control::engine::{Engine, EngineSettings, SnapshotReport, SnapshotStatus};
use bi_control::entities::resource_body;
use bi_control::events::EventBus;
use bi_control::keycloak::KeycloakAccess;
use bi_control::operations::batteries;
use bi_model::catalog::BatteryKind;
use bi_sandbox::keycloak::SandboxKeycloak;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use support::cluster::on_sandbox_and_real;

fn settings(keycloak: &str) -> EngineSettings {
    EngineSettings {
        webhook_wait: Duration::from_secs(2),
        base_backoff: Duration::from_millis(20),
        keycloak: KeycloakAccess::Url(keycloak.to_owned()),
        keycloak_wait: Duration::from_secs(1),
        ..EngineSettings::default()
    }
}

/// The Keycloak outcomes of `report`, as `path outcome`.
fn keycloak_outcomes(report: &SnapshotReport) -> Vec<String> {
    report
        .outcomes
        .iter()
        .filter(|(path, _)| path.api_version == "keycloak/v26")
        .map(|(path, outcome)| format!("{path} {}", outcome.as_str()))
        .collect()
}

/// A console user: the administrator calling Keycloak's Admin REST API.
struct Console {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Console {
    async fn sign_in(base: &str, username: &str, password: &str) -> Console {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let reply: Value = http
            .post(format!(
                "{base}/realms/master/protocol/openid-connect/token"
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=password&client_id=admin-cli&username={username}&password={password}"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Console {
            http,
            base: base.to_owned(),
            token: reply["access_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, body: &Value) -> u16 {
        self.http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn client(&self, client_id: &str) -> Value {
        let (_, found) = self
            .get(&format!(
                "/admin/realms/batterycore/clients?clientId={client_id}"
            ))
            .await;
        found[0].clone()
    }
}

#[tokio::test]
async fn sso_is_applied_to_keycloak_in_the_same_snapshot_kept_and_removed() {
    on_sandbox_and_real(
        "sso_is_applied_to_keycloak_in_the_same_snapshot_kept_and_removed",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            let client = cluster.client();
            desired_state::change(&t.db, "test", "sso and grafana", |s| {
                s.install(&[
                    BatteryKind::Sso,
                    BatteryKind::Grafana,
                    BatteryKind::IstioGateway,
                ])
                .unwrap();
                Ok(())
            })
            .await
            .unwrap();
            let (_, state) = desired_state::current(&t.db).await.unwrap();
            let secrets = desired_state::secrets_for(&t.db, &state).await.unwrap();
            let password = secrets.get("keycloak/admin-password").unwrap().to_owned();

            // Keycloak not answering yet: its items wait, the cluster's are applied.
            let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let nowhere = format!("http://{}", silent.local_addr().unwrap());
            drop(silent);
            let early = Engine::with_settings(
                t.db.clone(),
                client.clone(),
                settings(&nowhere),
                EventBus::new(),
            )
            .await
            .unwrap();
            let first = early.snapshot("test").await.unwrap();
            assert_eq!(first.status, SnapshotStatus::Waiting, "{first:?}");
            let waiting: Vec<_> = first
                .outcomes
                .iter()
                .filter(|(path, _)| path.api_version == "keycloak/v26")
                .collect();
            assert_eq!(
                waiting.len(),
                8,
                "realm, TOTP, three groups, admin, bi and bi-grafana"
            );
            for (path, outcome) in waiting {
                assert!(outcome.is_waiting(), "{path}: {outcome}");
                let message = outcome.message().unwrap();
                assert!(message.contains("waiting for Keycloak at"), "{message}");
                assert!(!message.contains(&password), "no secret in messages");
            }

            // Keycloak up: the next snapshot creates bi's realm, groups and clients.
            let keycloak = SandboxKeycloak::start("batteryadmin", &password)
                .await
                .unwrap();
            let engine = Engine::with_settings(
                t.db.clone(),
                client.clone(),
                settings(&keycloak.url()),
                EventBus::new(),
            )
            .await
            .unwrap();
            let applied = engine.snapshot("test").await.unwrap();
            let mut created = keycloak_outcomes(&applied);
            created.sort();
            assert_eq!(
                created,
                [
                    "keycloak/v26/Client/batterycore/bi created",
                    "keycloak/v26/Client/batterycore/bi-grafana created",
                    "keycloak/v26/Group/batterycore/bi-admins created",
                    "keycloak/v26/Group/batterycore/bi-editors created",
                    "keycloak/v26/Group/batterycore/bi-viewers created",
                    "keycloak/v26/Realm/batterycore created",
                    "keycloak/v26/RequiredAction/batterycore/CONFIGURE_TOTP created",
                    "keycloak/v26/User/batterycore/admin created",
                ]
            );
            let console = Console::sign_in(&keycloak.url(), "batteryadmin", &password).await;
            let grafana = console.client("bi-grafana").await;

            // History has them like any object, their secrets as placeholders.
            let diff = history::diff(&t.db, first.id, applied.id)
                .await
                .unwrap()
                .unwrap();
            assert!(
                diff.added
                    .contains(&"keycloak/v26/Client/batterycore/bi-grafana".to_owned()),
                "{diff:?}"
            );
            let bodies = resource_body::Entity::find()
                .all(t.db.connection())
                .await
                .unwrap();
            let stored = bodies
                .iter()
                .find(|row| row.body.contains(r#""clientId":"bi-grafana""#))
                .expect("the client's body is stored");
            assert!(stored.body.contains("<secret>"), "{}", stored.body);
            assert!(
                !stored.body.contains(grafana["secret"].as_str().unwrap()),
                "no client secret in history"
            );
            let initial = secrets.get("sso/users/admin").unwrap();
            assert!(
                bodies.iter().all(|row| !row.body.contains(initial)),
                "no initial password in history"
            );
            assert_eq!(
                grafana["redirectUris"],
                json!(["https://grafana.bi.localhost/oauth2/callback"])
            );
            assert_eq!(grafana["attributes"]["bi.managed"], "true");
            assert_eq!(grafana["protocolMappers"][0]["name"], "groups");
            let (_, groups) = console
                .get("/admin/realms/batterycore/groups?briefRepresentation=false")
                .await;
            assert_eq!(groups.as_array().unwrap().len(), 3);
            // The first administrator, in bi-admins, must change the password bi stored.
            let (_, users) = console
                .get("/admin/realms/batterycore/users?username=admin&exact=true")
                .await;
            let admin = &users[0];
            assert_eq!(admin["requiredActions"], json!(["UPDATE_PASSWORD"]));
            let (_, member_of) = console
                .get(&format!(
                    "/admin/realms/batterycore/users/{}/groups",
                    admin["id"].as_str().unwrap()
                ))
                .await;
            assert_eq!(member_of[0]["name"], "bi-admins");
            assert!(secrets.get("sso/users/admin").is_some());

            // The proxy's Secret in the cluster holds the secret Keycloak's client has.
            let proxies: Api<Secret> = Api::namespaced(client.clone(), "battery-monitoring");
            let proxy = proxies.get("oauth2-proxy-grafana").await.unwrap();
            let published = proxy.data.unwrap()["client-secret"].0.clone();
            assert_eq!(
                String::from_utf8(published).unwrap(),
                grafana["secret"].as_str().unwrap()
            );

            // A second snapshot writes nothing to either, even with its token expired.
            let writes = keycloak.writes();
            keycloak.expire_tokens();
            let again = engine.snapshot("test").await.unwrap();
            assert_eq!(keycloak.writes(), writes, "nothing written to Keycloak");
            assert_eq!(
                again.counts.created + again.counts.updated + again.counts.deleted,
                0,
                "nothing written to the cluster: {:?}",
                again.counts
            );
            assert!(
                keycloak_outcomes(&again)
                    .iter()
                    .all(|o| o.ends_with(" unchanged")),
                "{:?}",
                keycloak_outcomes(&again)
            );

            // An edit in Keycloak's console, behind bi's back: the hash attribute is
            // untouched, so only the drift sweep sees it; the next snapshot repairs it.
            let console = Console::sign_in(&keycloak.url(), "batteryadmin", &password).await;
            let mut edited = grafana.clone();
            edited["redirectUris"] = json!(["https://evil.example/oauth2/callback"]);
            edited["enabled"] = json!(false);
            let id = grafana["id"].as_str().unwrap();
            assert_eq!(
                console
                    .put(&format!("/admin/realms/batterycore/clients/{id}"), &edited)
                    .await,
                204
            );
            let sweep = engine.sweep_drift().await.unwrap();
            let drift = sweep
                .drifted
                .iter()
                .find(|d| d.path.to_string() == "keycloak/v26/Client/batterycore/bi-grafana")
                .expect("the edited client drifted");
            assert_eq!(drift.fields, ["/enabled", "/redirectUris"]);
            let repaired = engine.snapshot("test").await.unwrap();
            assert!(
                keycloak_outcomes(&repaired)
                    .contains(&"keycloak/v26/Client/batterycore/bi-grafana updated".to_owned()),
                "{:?}",
                keycloak_outcomes(&repaired)
            );
            let restored = console.client("bi-grafana").await;
            assert_eq!(restored["enabled"], true);
            assert_eq!(restored["redirectUris"], grafana["redirectUris"]);
            assert_eq!(restored["secret"], grafana["secret"]);
            assert!(engine.sweep_drift().await.unwrap().drifted.is_empty());

            // A setting changes Keycloak in the next snapshot; rollback puts it back.
            let before_mfa = repaired.id;
            desired_state::change(&t.db, "test", "mfa", |s| {
                if let Some(bi_model::catalog::BatteryConfig::Sso(sso)) =
                    s.batteries.get_mut(&BatteryKind::Sso)
                {
                    sso.mfa = true;
                }
                Ok(())
            })
            .await
            .unwrap();
            let mfa = engine.snapshot("test").await.unwrap();
            assert_eq!(
                keycloak_outcomes(&mfa)
                    .into_iter()
                    .filter(|o| !o.ends_with(" unchanged"))
                    .collect::<Vec<_>>(),
                ["keycloak/v26/RequiredAction/batterycore/CONFIGURE_TOTP updated"]
            );
            let totp = "/admin/realms/batterycore/authentication/required-actions/CONFIGURE_TOTP";
            assert_eq!(console.get(totp).await.1["defaultAction"], true);
            let back = bi_control::engine::rollback(&engine, &t.db, before_mfa, "test")
                .await
                .unwrap();
            assert!(
                keycloak_outcomes(&back).contains(
                    &"keycloak/v26/RequiredAction/batterycore/CONFIGURE_TOTP updated".to_owned()
                ),
                "{:?}",
                keycloak_outcomes(&back)
            );
            assert_eq!(console.get(totp).await.1["defaultAction"], false);

            // An admin's users live in Keycloak: added with a temporary password and
            // the group of their role, changed there at once.
            let access = KeycloakAccess::Url(keycloak.url());
            let refused = bi_control::sso::create_user(
                &t.db,
                &access,
                NewSsoUser {
                    username: "Alice!".to_owned(),
                    email: Some("alice".to_owned()),
                    role: Some(Role::Editor),
                    password: "short".to_owned(),
                },
            )
            .await
            .unwrap_err();
            let problems = bi_api::ApiError::from(refused).problems();
            let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(fields, ["username", "password", "email"], "{problems:?}");
            bi_control::sso::create_user(
                &t.db,
                &access,
                NewSsoUser {
                    username: "alice".to_owned(),
                    email: Some("alice@example.com".to_owned()),
                    role: Some(Role::Editor),
                    password: "alice's first password".to_owned(),
                },
            )
            .await
            .unwrap();
            let again = bi_control::sso::create_user(
                &t.db,
                &access,
                NewSsoUser {
                    username: "alice".to_owned(),
                    email: None,
                    role: None,
                    password: "alice's first password".to_owned(),
                },
            )
            .await
            .unwrap_err();
            assert!(again.to_string().contains("already a user"), "{again}");
            for change in [
                SsoUserChange::SetRole {
                    role: Some(Role::Admin),
                },
                SsoUserChange::Disable,
                SsoUserChange::ResetPassword {
                    password: "alice's second password".to_owned(),
                },
            ] {
                bi_control::sso::change_user(&t.db, &access, "alice", change)
                    .await
                    .unwrap();
            }
            let view = bi_control::sso::view(&t.db, &access).await.unwrap();
            assert_eq!(view.problem, None);
            let alice = view.users.iter().find(|u| u.username == "alice").unwrap();
            assert_eq!(alice.role, Some(Role::Admin));
            assert_eq!(alice.groups, ["bi-admins"]);
            assert!(!alice.enabled);
            assert_eq!(alice.required_actions, ["UPDATE_PASSWORD"]);
            let admin = view.users.iter().find(|u| u.username == "admin").unwrap();
            assert!(admin.managed && !alice.managed);
            let kept: Vec<&str> = view
                .clients
                .iter()
                .filter(|c| c.managed)
                .map(|c| c.client_id.as_str())
                .collect();
            assert_eq!(kept, ["bi", "bi-grafana"]);
            // A user bi did not create is not drift, and no snapshot touches them.
            let writes = keycloak.writes();
            engine.snapshot("test").await.unwrap();
            assert_eq!(keycloak.writes(), writes);

            // Uninstalling SSO removes the realm bi created, with what it holds.
            batteries::uninstall(&t.db, "test", BatteryKind::Sso, None)
                .await
                .unwrap();
            let removed = engine.snapshot("test").await.unwrap();
            let outcomes = keycloak_outcomes(&removed);
            assert!(
                outcomes.contains(&"keycloak/v26/Realm/batterycore deleted".to_owned()),
                "{outcomes:?}"
            );
            assert!(
                outcomes.iter().all(|o| o.ends_with(" deleted")),
                "{outcomes:?}"
            );
            let (status, _) = console.get("/admin/realms/batterycore").await;
            assert_eq!(status, 404);
            assert!(keycloak.realms().is_empty());
            let after = engine.snapshot("test").await.unwrap();
            assert!(keycloak_outcomes(&after).is_empty());
            cluster.shutdown().await;
        },
    )
    .await;
}
