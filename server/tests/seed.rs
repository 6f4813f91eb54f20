//! bi in its own cluster takes over from the bi that installed it: the
//! seed battery_core publishes starts an empty database, and the server
//! started from it generates byte for byte what the first one did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bi_control::desired_state;
use bi_control::operations::batteries;
use bi_model::catalog::battery_core::{SEED_KEY, SEED_SECRET};
use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::generate::{Resource, Secrets, generate};
use bi_server::serve::open_database;

async fn generated(db: &bi_control::Database) -> Vec<Resource> {
    let (_, state) = desired_state::current(db).await.unwrap();
    let secrets = desired_state::secrets_for(db, &state).await.unwrap();
    generate(&state, Secrets::Stored(secrets.as_map())).unwrap()
}

#[tokio::test]
async fn a_server_started_from_the_seed_generates_what_the_first_one_did() {
    let first_dir = tempfile::tempdir().unwrap();
    let first = support::app(first_dir.path()).await;
    batteries::install(
        &first.db,
        "root",
        BatteryConfig::default_for(BatteryKind::Redis),
    )
    .await
    .unwrap();
    let resources = generated(&first.db).await;
    let seed = resources
        .iter()
        .find(|r| r.path.kind == "Secret" && r.path.name == SEED_SECRET)
        .unwrap();
    let seed_file = first_dir.path().join("seed.json");
    std::fs::write(
        &seed_file,
        seed.body["stringData"][SEED_KEY].as_str().unwrap(),
    )
    .unwrap();

    let second_dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings(second_dir.path());
    settings.seed_file = Some(seed_file.clone());
    let second = open_database(&settings).await.unwrap();
    assert_eq!(generated(&second).await, resources);
    let history = desired_state::history(&second).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].author, desired_state::SEED_AUTHOR);

    // Started again, it keeps its own state: the seed only fills an empty database.
    batteries::uninstall(&second, "root", BatteryKind::Redis, None)
        .await
        .unwrap();
    drop(second);
    let again = open_database(&settings).await.unwrap();
    let (version, state) = desired_state::current(&again).await.unwrap();
    assert_eq!(version, 2);
    assert!(!state.batteries.contains_key(&BatteryKind::Redis));

    // No seed file (the Secret is optional): it starts as it is.
    let third_dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings(third_dir.path());
    settings.seed_file = Some(third_dir.path().join("absent.json"));
    let third = open_database(&settings).await.unwrap();
    assert_eq!(desired_state::current(&third).await.unwrap().0, 0);

    // A file that is not a seed stops the start, saying so.
    let broken = third_dir.path().join("broken.json");
    std::fs::write(&broken, "{\"state\": 1}").unwrap();
    settings.seed_file = Some(broken);
    let err = open_database(&settings).await.unwrap_err();
    assert!(format!("{err:#}").contains("is not a seed"), "{err:#}");
}
