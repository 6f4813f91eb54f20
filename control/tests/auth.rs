//! Accounts, sessions and tokens, on SQLite and on PostgreSQL: the rules a
//! team relies on (lock-out, the last admin, revoked and expired tokens,
//! disabled accounts) and that no secret is stored as given.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_api::auth::{AccountChange, Credential, Login, NewAccount, NewToken, Role};
use bi_control::Error;
use bi_control::auth::{Secret, accounts, sessions, tokens};
use chrono::{TimeDelta, Utc};
use sea_orm::{ConnectionTrait, Statement};
use support::on_every_backend;

const PASSWORD: &str = "correct horse battery staple";

async fn account(db: &bi_control::Database, username: &str, role: Role) {
    accounts::create(
        db,
        NewAccount {
            username: username.into(),
            password: PASSWORD.into(),
            role,
        },
    )
    .await
    .unwrap();
}

/// Every text value stored in the auth tables, to look for secrets in.
async fn stored_text(db: &bi_control::Database) -> String {
    let backend = db.connection().get_database_backend();
    let mut all = String::new();
    for (table, columns) in [
        ("account", "username || ' ' || password_hash"),
        ("session", "secret_hash"),
        ("api_token", "name || ' ' || prefix || ' ' || secret_hash"),
    ] {
        let rows = db
            .connection()
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT {columns} AS v FROM {table}"),
            ))
            .await
            .unwrap();
        for row in rows {
            all.push_str(&row.try_get::<String>("", "v").unwrap());
            all.push('\n');
        }
    }
    all
}

#[tokio::test]
async fn the_first_admin_is_created_once_and_signs_in() {
    on_every_backend(
        "the_first_admin_is_created_once_and_signs_in",
        |t| async move {
            t.db.migrate().await.unwrap();
            assert_eq!(accounts::count(&t.db).await.unwrap(), 0);
            let admin = accounts::create_first_admin(&t.db, "root", PASSWORD)
                .await
                .unwrap();
            assert_eq!(admin.role, Role::Admin);
            let again = accounts::create_first_admin(&t.db, "mallory", PASSWORD).await;
            assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
            assert_eq!(accounts::count(&t.db).await.unwrap(), 1);

            let principal = accounts::sign_in(&t.db, "root", PASSWORD, Utc::now())
                .await
                .unwrap();
            assert_eq!(principal.me.role, Role::Admin);
            assert_eq!(principal.author(), "root");
            let stored = stored_text(&t.db).await;
            assert!(stored.contains("$argon2id$"), "{stored}");
            assert!(!stored.contains(PASSWORD));
        },
    )
    .await;
}

#[tokio::test]
async fn bad_usernames_and_short_passwords_are_refused_by_field() {
    on_every_backend(
        "bad_usernames_and_short_passwords_are_refused_by_field",
        |t| async move {
            t.db.migrate().await.unwrap();
            let refused = accounts::create(
                &t.db,
                NewAccount {
                    username: "Bad Name".into(),
                    password: "short".into(),
                    role: Role::Viewer,
                },
            )
            .await;
            let Err(Error::Rejected(problems)) = refused else {
                panic!("{refused:?}");
            };
            let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(fields, ["username", "password"]);
            account(&t.db, "alice", Role::Editor).await;
            let taken = accounts::create(
                &t.db,
                NewAccount {
                    username: "alice".into(),
                    password: PASSWORD.into(),
                    role: Role::Viewer,
                },
            )
            .await;
            let Err(Error::Rejected(problems)) = taken else {
                panic!("{taken:?}");
            };
            assert_eq!(problems.iter().next().unwrap().field, "username");
            assert_eq!(accounts::count(&t.db).await.unwrap(), 1);
        },
    )
    .await;
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_until_it_expires_or_is_lifted() {
    on_every_backend("repeated_wrong_passwords_lock_the_account", |t| async move {
        t.db.migrate().await.unwrap();
        account(&t.db, "alice", Role::Editor).await;
        let now = Utc::now();
        for _ in 0..accounts::MAX_FAILED_SIGN_INS {
            let wrong = accounts::sign_in(&t.db, "alice", "not the password!", now).await;
            assert!(matches!(wrong, Err(Error::Unauthenticated(_))), "{wrong:?}");
        }
        let locked = accounts::sign_in(&t.db, "alice", PASSWORD, now).await;
        let Err(Error::Locked(message)) = locked else {
            panic!("{locked:?}");
        };
        assert!(message.contains("alice is locked until"), "{message}");
        // Unknown users get the answer a wrong password gets.
        let unknown = accounts::sign_in(&t.db, "nobody", PASSWORD, now).await;
        assert!(matches!(unknown, Err(Error::Unauthenticated(ref m)) if m == "wrong username or password"));

        let later = now + accounts::LOCKOUT + TimeDelta::seconds(1);
        accounts::sign_in(&t.db, "alice", PASSWORD, later).await.unwrap();

        for _ in 0..accounts::MAX_FAILED_SIGN_INS {
            let _ = accounts::sign_in(&t.db, "alice", "not the password!", later).await;
        }
        assert!(accounts::sign_in(&t.db, "alice", PASSWORD, later).await.is_err());
        accounts::change(&t.db, "alice", AccountChange { unlock: true, ..AccountChange::default() })
            .await
            .unwrap();
        accounts::sign_in(&t.db, "alice", PASSWORD, later).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_last_admin_stays() {
    on_every_backend("the_last_admin_stays", |t| async move {
        t.db.migrate().await.unwrap();
        account(&t.db, "root", Role::Admin).await;
        let demote = AccountChange {
            role: Some(Role::Editor),
            ..AccountChange::default()
        };
        let disable = AccountChange {
            disabled: Some(true),
            ..AccountChange::default()
        };
        assert!(matches!(
            accounts::change(&t.db, "root", demote.clone()).await,
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            accounts::change(&t.db, "root", disable).await,
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            accounts::remove(&t.db, "root").await,
            Err(Error::Conflict(_))
        ));
        account(&t.db, "second", Role::Admin).await;
        accounts::change(&t.db, "root", demote).await.unwrap();
        let users = accounts::list(&t.db).await.unwrap();
        let roles: Vec<_> = users
            .iter()
            .map(|u| (u.username.as_str(), u.role))
            .collect();
        assert_eq!(roles, [("root", Role::Editor), ("second", Role::Admin)]);
    })
    .await;
}

#[tokio::test]
async fn sessions_end_on_sign_out_expiry_disable_and_password_change() {
    on_every_backend(
        "sessions_end_on_sign_out_expiry_disable_and_password_change",
        |t| async move {
            t.db.migrate().await.unwrap();
            account(&t.db, "root", Role::Admin).await;
            account(&t.db, "alice", Role::Viewer).await;
            let now = Utc::now();
            let alice = accounts::sign_in(&t.db, "alice", PASSWORD, now)
                .await
                .unwrap();
            let cookie = sessions::start(&t.db, &alice, now).await.unwrap();
            let resolved = sessions::resolve(&t.db, &cookie, now)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(resolved.me.username, "alice");
            assert_eq!(resolved.me.credential, Credential::Session);
            assert!(!stored_text(&t.db).await.contains(cookie.expose()));
            let expired = now + sessions::LIFETIME + TimeDelta::seconds(1);
            assert_eq!(
                sessions::resolve(&t.db, &cookie, expired).await.unwrap(),
                None
            );

            sessions::end(&t.db, &cookie).await.unwrap();
            assert_eq!(sessions::resolve(&t.db, &cookie, now).await.unwrap(), None);

            let cookie = sessions::start(&t.db, &alice, now).await.unwrap();
            accounts::change(
                &t.db,
                "alice",
                AccountChange {
                    password: Some("another long password".into()),
                    ..AccountChange::default()
                },
            )
            .await
            .unwrap();
            assert_eq!(sessions::resolve(&t.db, &cookie, now).await.unwrap(), None);

            let alice = accounts::sign_in(&t.db, "alice", "another long password", now)
                .await
                .unwrap();
            let cookie = sessions::start(&t.db, &alice, now).await.unwrap();
            accounts::change(
                &t.db,
                "alice",
                AccountChange {
                    disabled: Some(true),
                    ..AccountChange::default()
                },
            )
            .await
            .unwrap();
            assert_eq!(sessions::resolve(&t.db, &cookie, now).await.unwrap(), None);
            let refused = accounts::sign_in(&t.db, "alice", "another long password", now).await;
            assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
            assert_eq!(
                sessions::resolve(&t.db, &Secret::from_client("made-up"), now)
                    .await
                    .unwrap(),
                None
            );
        },
    )
    .await;
}

#[tokio::test]
async fn tokens_work_until_revoked_or_expired_and_act_with_their_owners_role() {
    on_every_backend("tokens_work_until_revoked_or_expired", |t| async move {
        t.db.migrate().await.unwrap();
        account(&t.db, "root", Role::Admin).await;
        account(&t.db, "alice", Role::Editor).await;
        account(&t.db, "bob", Role::Viewer).await;
        let now = Utc::now();
        let alice = accounts::sign_in(&t.db, "alice", PASSWORD, now)
            .await
            .unwrap();
        let created = tokens::create(
            &t.db,
            &alice,
            NewToken {
                name: "ci".into(),
                expires_in_days: Some(1),
                owner: None,
            },
            now,
        )
        .await
        .unwrap();
        assert!(created.token.starts_with(tokens::PREFIX));
        assert_eq!(created.view.prefix, &created.token[..8]);
        assert!(!stored_text(&t.db).await.contains(&created.token));
        let secret = Secret::from_client(&created.token);
        let caller = tokens::resolve(&t.db, &secret, now).await.unwrap().unwrap();
        assert_eq!(caller.me.role, Role::Editor);
        assert_eq!(caller.author(), "alice (token ci)");
        let tomorrow = now + TimeDelta::days(1) + TimeDelta::seconds(1);
        assert_eq!(
            tokens::resolve(&t.db, &secret, tomorrow).await.unwrap(),
            None
        );

        // Names are unique per owner; a viewer cannot mint tokens for others.
        let twice = tokens::create(
            &t.db,
            &alice,
            NewToken {
                name: "ci".into(),
                expires_in_days: None,
                owner: None,
            },
            now,
        )
        .await;
        assert!(matches!(twice, Err(Error::Rejected(_))), "{twice:?}");
        let bob = accounts::sign_in(&t.db, "bob", PASSWORD, now)
            .await
            .unwrap();
        let for_alice = tokens::create(
            &t.db,
            &bob,
            NewToken {
                name: "x".into(),
                expires_in_days: None,
                owner: Some("alice".into()),
            },
            now,
        )
        .await;
        assert!(
            matches!(for_alice, Err(Error::Forbidden(_))),
            "{for_alice:?}"
        );

        // Bob sees only his own; the admin sees all; bob cannot revoke alice's.
        assert!(tokens::list(&t.db, &bob).await.unwrap().is_empty());
        let root = accounts::sign_in(&t.db, "root", PASSWORD, now)
            .await
            .unwrap();
        assert_eq!(tokens::list(&t.db, &root).await.unwrap().len(), 1);
        assert!(matches!(
            tokens::revoke(&t.db, &bob, created.view.id, now).await,
            Err(Error::NotFound(_))
        ));
        let revoked = tokens::revoke(&t.db, &root, created.view.id, now)
            .await
            .unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(tokens::resolve(&t.db, &secret, now).await.unwrap(), None);

        // Logging in again from the same machine replaces that machine's token.
        let login = |password: &str| Login {
            username: "bob".into(),
            password: password.into(),
            token_name: "cli@laptop".into(),
        };
        let first = tokens::login(&t.db, login(PASSWORD), now).await.unwrap();
        let second = tokens::login(&t.db, login(PASSWORD), now).await.unwrap();
        assert_eq!(
            tokens::resolve(&t.db, &Secret::from_client(&first.token), now)
                .await
                .unwrap(),
            None
        );
        let bob_cli = tokens::resolve(&t.db, &Secret::from_client(&second.token), now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bob_cli.me.role, Role::Viewer);
        assert!(matches!(
            tokens::login(&t.db, login("wrong password!"), now).await,
            Err(Error::Unauthenticated(_))
        ));

        // Removing the owner stops the token.
        accounts::remove(&t.db, "bob").await.unwrap();
        assert_eq!(
            tokens::resolve(&t.db, &Secret::from_client(&second.token), now)
                .await
                .unwrap(),
            None
        );
    })
    .await;
}
