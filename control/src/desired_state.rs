//! The desired state's history: everything a user configured, versioned.
//!
//! The database never updates the desired state in place. [`change`] reads
//! the newest version, applies an edit, validates the whole result with
//! `bi-model` and stores it as the next version with its author and summary,
//! all in one transaction: an invalid change stores nothing. The same
//! transaction creates every secret the new state needs that does not exist
//! yet; secrets that exist are never touched, so passwords survive every
//! later change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bi_model::catalog::{BatteryConfig, BatteryKind};
use bi_model::generate::{DesiredState, Owned, Seed, required_secrets};
use bi_model::objects::{Project, validate_pools};
use bi_model::{Problems, Rule};
use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::Database;
use crate::entities::desired_state_version::{self, Entity as Version};
use crate::entities::stored_secret::{self, Entity as StoredSecret, SecretValue};
use crate::error::{Error, Result, db_error};
use crate::staleness::{ReadAt, changed_meanwhile, check_version};

/// Length of a generated secret: 43 characters from `[A-Za-z0-9]` carry
/// 43 × log2(62) ≈ 256 bits.
pub const SECRET_LENGTH: usize = 43;

pub use bi_api::audit::AuditEntry;

/// The stored secrets by key, for generation. `Debug` shows the keys only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredSecrets(BTreeMap<String, String>);

impl StoredSecrets {
    /// The values by key, for `bi_model::generate::Secrets::Stored`.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The value of `key`, if stored.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// How many secrets are stored.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no secret is stored.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for StoredSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|key| (key, "<redacted>")))
            .finish()
    }
}

/// The newest version number (0 when nothing was stored yet) and its state;
/// before the first change, an empty state with battery_core installed.
pub async fn current(db: &Database) -> Result<(i32, DesiredState)> {
    db.shared("desired-state", |db| async move {
        newest(db.connection()).await
    })
    .await
}

/// Applies `edit` to the current state, validates the result and stores it
/// as the next version, by `author` with `summary`; returns the new version.
///
/// Refused with every problem found ([`Error::Rejected`]) when the edit or
/// the result is invalid; then nothing is stored, not even secrets.
pub async fn change(
    db: &Database,
    author: &str,
    summary: &str,
    edit: impl FnOnce(&mut DesiredState) -> Result<(), Problems>,
) -> Result<i32> {
    change_based_on(db, author, summary, None, edit).await
}

/// [`change`], refused ([`Error::ChangedMeanwhile`]) when `read_at` is given
/// and its target differs between the version its caller read and the
/// newest: a write never silently overwrites a change its caller did not
/// see. Other parts of the state may have changed; that is no conflict.
/// An `expected_version` that is no version is refused ([`Error::Rejected`],
/// naming `expected_version`).
pub async fn change_based_on(
    db: &Database,
    author: &str,
    summary: &str,
    read_at: Option<ReadAt<'_>>,
    edit: impl FnOnce(&mut DesiredState) -> Result<(), Problems>,
) -> Result<i32> {
    let mut problems = Problems::new();
    if author.trim().is_empty() {
        problems.push("author", Rule::Required, "say who makes the change");
    }
    if summary.trim().is_empty() {
        problems.push("summary", Rule::Required, "say what the change does");
    }
    problems.into_result().map_err(Error::Rejected)?;

    let txn = db.begin_write().await?;
    let (version, before) = newest(&txn).await?;
    if let Some(read_at) = &read_at {
        // NB: inside the write transaction, so no change can slip in between
        // this comparison and the insert below.
        check_unchanged(&txn, read_at, version, &before).await?;
    }
    let mut state = before.clone();
    edit(&mut state).map_err(Error::Rejected)?;
    let mut problems = Problems::new();
    problems.merge("", validate(&state));
    problems.merge("", validate_change(&before, &state));
    problems.into_result().map_err(Error::Rejected)?;
    let required = required_secrets(&state).map_err(|source| Error::Generate { source })?;
    let json = serde_json::to_string(&state).map_err(|source| Error::Encode {
        what: "desired state",
        source,
    })?;

    let now = Utc::now();
    let next = version + 1;
    desired_state_version::ActiveModel {
        version: Set(next),
        state: Set(json),
        author: Set(author.to_owned()),
        summary: Set(summary.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(db_error("storing a desired-state version"))?;

    let missing = create_missing_secrets(&txn, &required, now).await?;

    txn.commit()
        .await
        .map_err(db_error("committing a desired-state version"))?;
    db.stored_desired_version(next);
    // NB: keys are names, not values; values are never logged.
    tracing::info!(version = next, author, summary, new_secrets = ?missing, "stored a desired-state version");
    Ok(next)
}

/// Who the audit trail names for a state that came from a seed.
pub const SEED_AUTHOR: &str = "seed";

/// Starts an installation that has no desired state yet from `seed`
/// (another control server's state and stored secrets): its secrets are
/// stored as they are, its state becomes version 1. Returns whether it
/// did; an installation with a desired state is left alone.
pub async fn seed(db: &Database, seed: &Seed) -> Result<bool> {
    let txn = db.begin_write().await?;
    let (version, _) = newest(&txn).await?;
    if version != 0 {
        return Ok(false);
    }
    validate(&seed.state).map_err(Error::Rejected)?;
    let required = required_secrets(&seed.state).map_err(|source| Error::Generate { source })?;
    let json = serde_json::to_string(&seed.state).map_err(|source| Error::Encode {
        what: "desired state",
        source,
    })?;
    let now = Utc::now();
    // NB: the seed's values win over any an earlier, interrupted start made.
    StoredSecret::delete_many()
        .filter(stored_secret::Column::Key.is_in(seed.secrets.keys().cloned()))
        .exec(&txn)
        .await
        .map_err(db_error("replacing stored secrets"))?;
    for (key, value) in &seed.secrets {
        stored_secret::ActiveModel {
            key: Set(key.clone()),
            value: Set(SecretValue(value.clone())),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_error("storing a seeded secret"))?;
    }
    desired_state_version::ActiveModel {
        version: Set(1),
        state: Set(json),
        author: Set(SEED_AUTHOR.to_owned()),
        summary: Set("started from the installation's seed".to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(db_error("storing the seeded desired state"))?;
    let missing = create_missing_secrets(&txn, &required, now).await?;
    txn.commit()
        .await
        .map_err(db_error("committing the seeded desired state"))?;
    db.stored_desired_version(1);
    tracing::info!(seeded_secrets = seed.secrets.len(), new_secrets = ?missing, "started from a seed");
    Ok(true)
}

/// The audit trail, newest first.
pub async fn history(db: &Database) -> Result<Vec<AuditEntry>> {
    history_up_to(db, None).await
}

/// The newest `count` entries of [`history`] (the dashboard's activity).
pub async fn recent_history(db: &Database, count: u64) -> Result<Vec<AuditEntry>> {
    db.shared(
        &format!("desired-state-history/{count}"),
        move |db| async move { history_up_to(&db, Some(count)).await },
    )
    .await
}

async fn history_up_to(db: &Database, count: Option<u64>) -> Result<Vec<AuditEntry>> {
    let rows = Version::find()
        .select_only()
        .columns([
            desired_state_version::Column::Version,
            desired_state_version::Column::Author,
            desired_state_version::Column::Summary,
            desired_state_version::Column::CreatedAt,
        ])
        .order_by_desc(desired_state_version::Column::Version)
        .limit(count)
        .into_tuple::<(i32, String, String, DateTime<Utc>)>()
        .all(db.connection())
        .await
        .map_err(db_error("reading the desired-state history"))?;
    Ok(rows
        .into_iter()
        .map(|(version, author, summary, created_at)| AuditEntry {
            version,
            author,
            summary,
            created_at: created_at.into(),
        })
        .collect())
}

/// The state as stored at `version`, if that version exists; version 0 is
/// the state before the first change (what a fresh installation applies).
pub async fn at_version(db: &Database, version: i32) -> Result<Option<DesiredState>> {
    state_at(db.connection(), version).await
}

/// The stored row of `version`: its state, author, summary and time.
pub async fn version_row(
    db: &Database,
    version: i32,
) -> Result<Option<desired_state_version::Model>> {
    Version::find()
        .filter(desired_state_version::Column::Version.eq(version))
        .one(db.connection())
        .await
        .map_err(db_error("reading a desired-state version"))
}

/// [`at_version`] on `conn` (a transaction, say).
async fn state_at(conn: &impl ConnectionTrait, version: i32) -> Result<Option<DesiredState>> {
    if version == 0 {
        return Ok(Some(initial_state()));
    }
    let row = Version::find()
        .filter(desired_state_version::Column::Version.eq(version))
        .one(conn)
        .await
        .map_err(db_error("reading a desired-state version"))?;
    row.map(|row| parse(&row)).transpose()
}

/// Stores the state of `version` again as the next version, by `author`
/// with the summary "rollback to version N"; returns the new version.
///
/// Validated and audited like [`change`] (missing secrets are created,
/// existing ones kept); refused ([`Error::Rejected`]) when `version` does
/// not exist.
pub async fn restore(db: &Database, version: i32, author: &str) -> Result<i32> {
    let Some(old) = at_version(db, version).await? else {
        let mut problems = Problems::new();
        problems.push(
            "version",
            Rule::Consistency,
            format!("there is no desired-state version {version}"),
        );
        return Err(Error::Rejected(problems));
    };
    // NB: stored versions are never rewritten, so reading `old` outside
    // `change`'s transaction cannot see a state that later changes.
    change(
        db,
        author,
        &format!("rollback to version {version}"),
        |state| {
            *state = old;
            Ok(())
        },
    )
    .await
}

/// Every stored secret, for generation.
pub async fn secrets(db: &Database) -> Result<StoredSecrets> {
    read_secrets(db.connection()).await
}

/// The stored secrets, after creating those `state` needs that do not exist
/// yet: what a snapshot generates with. A state stored before its
/// generators needed a secret (bi was upgraded, or nothing was changed
/// since the first start) gets it here; existing ones are never touched.
pub async fn secrets_for(db: &Database, state: &DesiredState) -> Result<StoredSecrets> {
    let required = required_secrets(state).map_err(|source| Error::Generate { source })?;
    let stored = secrets(db).await?;
    if required.iter().all(|key| stored.get(key).is_some()) {
        return Ok(stored);
    }
    let txn = db.begin_write().await?;
    let missing = create_missing_secrets(&txn, &required, Utc::now()).await?;
    let secrets = read_secrets(&txn).await?;
    txn.commit()
        .await
        .map_err(db_error("storing new secrets"))?;
    // NB: keys are names, not values; values are never logged.
    tracing::info!(new_secrets = ?missing, "created the secrets the desired state needs");
    Ok(secrets)
}

/// Creates every secret of `required` that is not stored; returns their keys.
async fn create_missing_secrets(
    conn: &impl ConnectionTrait,
    required: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let existing: BTreeSet<String> = StoredSecret::find()
        .select_only()
        .column(stored_secret::Column::Key)
        .into_tuple::<String>()
        .all(conn)
        .await
        .map_err(db_error("listing stored secrets"))?
        .into_iter()
        .collect();
    let missing: Vec<String> = required.difference(&existing).cloned().collect();
    for key in &missing {
        stored_secret::ActiveModel {
            key: Set(key.clone()),
            value: Set(SecretValue(new_secret())),
            created_at: Set(now),
        }
        .insert(conn)
        .await
        .map_err(db_error("storing a new secret"))?;
    }
    Ok(missing)
}

async fn read_secrets(conn: &impl ConnectionTrait) -> Result<StoredSecrets> {
    let rows = StoredSecret::find()
        .all(conn)
        .await
        .map_err(db_error("reading the stored secrets"))?;
    Ok(StoredSecrets(
        rows.into_iter().map(|row| (row.key, row.value.0)).collect(),
    ))
}

/// Every problem with `state` as a whole: each battery config and object on
/// its own, batteries' dependencies, objects' batteries and projects.
pub fn validate(state: &DesiredState) -> Result<(), Problems> {
    let mut problems = Problems::new();
    if !state.batteries.contains_key(&BatteryKind::BatteryCore) {
        problems.push(
            "batteries",
            Rule::Dependency,
            format!(
                "{} must be installed: bi needs it",
                BatteryKind::BatteryCore
            ),
        );
    }
    for (kind, config) in &state.batteries {
        let field = format!("batteries.{kind}");
        if config.kind() != *kind {
            problems.push(
                field.as_str(),
                Rule::Consistency,
                format!("holds the config of {}, not of {kind}", config.kind()),
            );
        }
        problems.merge(&field, config.validate());
        if let BatteryConfig::BatteryCore(core) = config
            && let Some(holder) = core.database.battery()
            && !state.batteries.contains_key(&holder)
        {
            problems.push(
                format!("{field}.database").as_str(),
                Rule::Dependency,
                format!(
                    "the control server's database in the cluster needs {holder}; install {holder} first, or keep sqlite"
                ),
            );
        }
        for dependency in kind.info().dependencies {
            if !state.batteries.contains_key(dependency) {
                problems.push(
                    field.as_str(),
                    Rule::Dependency,
                    format!("{kind} needs {dependency}; install {dependency} too"),
                );
            }
        }
    }
    for (i, project) in state.projects.iter().enumerate() {
        problems.merge(&format!("projects[{i}]"), project.validate());
    }
    let mut objects = Objects {
        state,
        problems: &mut problems,
    };
    objects.check(
        "postgres_clusters",
        &state.postgres_clusters,
        BatteryKind::CloudnativePg,
        |o| o.validate(),
    );
    objects.check(
        "redis_instances",
        &state.redis_instances,
        BatteryKind::Redis,
        |o| o.validate(),
    );
    objects.check(
        "ferret_services",
        &state.ferret_services,
        BatteryKind::Ferretdb,
        |o| o.validate(),
    );
    objects.check(
        "knative_services",
        &state.knative_services,
        BatteryKind::Knative,
        |o| o.validate(),
    );
    objects.check(
        "traditional_services",
        &state.traditional_services,
        BatteryKind::TraditionalServices,
        |o| o.validate(),
    );
    objects.check("notebooks", &state.notebooks, BatteryKind::Notebooks, |o| {
        o.validate()
    });
    objects.check(
        "model_instances",
        &state.model_instances,
        BatteryKind::Ollama,
        |o| o.validate(),
    );
    problems.merge("", bi_model::reach::validate(state));
    problems.merge("ip_address_pools", validate_pools(&state.ip_address_pools));
    if !state.ip_address_pools.is_empty() && !state.batteries.contains_key(&BatteryKind::Metallb) {
        problems.push(
            "ip_address_pools",
            Rule::Dependency,
            format!(
                "IP address pools need {}; install it first",
                BatteryKind::Metallb
            ),
        );
    }
    problems.into_result()
}

/// Every problem with going from `before` to `after` that neither state
/// shows alone: uninstalling a battery bi cannot run without.
pub fn validate_change(before: &DesiredState, after: &DesiredState) -> Result<(), Problems> {
    let mut problems = Problems::new();
    for kind in before.batteries.keys() {
        if !kind.info().removable && !after.batteries.contains_key(kind) {
            problems.push(
                format!("batteries.{kind}"),
                Rule::Dependency,
                format!("{kind} cannot be uninstalled: bi needs it"),
            );
        }
    }
    problems.into_result()
}

/// Checks one list of user objects against the state around it.
struct Objects<'a> {
    state: &'a DesiredState,
    problems: &'a mut Problems,
}

impl Objects<'_> {
    fn check<T>(
        &mut self,
        field: &str,
        list: &[Owned<T>],
        battery: BatteryKind,
        validate: impl Fn(&T) -> Result<(), Problems>,
    ) {
        for (i, owned) in list.iter().enumerate() {
            let at = format!("{field}[{i}]");
            self.problems.merge(&at, validate(&owned.object));
            if let Some(project) = &owned.project
                && !self
                    .state
                    .projects
                    .iter()
                    .any(|p: &Project| &p.name == project)
            {
                self.problems.push(
                    format!("{at}.project"),
                    Rule::Consistency,
                    format!("there is no project \"{project}\""),
                );
            }
        }
        if !list.is_empty() && !self.state.batteries.contains_key(&battery) {
            self.problems.push(
                field,
                Rule::Dependency,
                format!("{field} need {battery}; install it first"),
            );
        }
    }
}

/// Refuses (see [`change_based_on`]) when the target of `read_at` differs
/// between the version it was read at and `now`, the state of `newest`.
async fn check_unchanged(
    conn: &impl ConnectionTrait,
    read_at: &ReadAt<'_>,
    newest: i32,
    now: &DesiredState,
) -> Result<()> {
    check_version(read_at.version, newest)?;
    if read_at.version == newest {
        return Ok(());
    }
    let Some(then) = state_at(conn, read_at.version).await? else {
        let mut problems = Problems::new();
        problems.push(
            crate::staleness::EXPECTED_VERSION,
            Rule::Range,
            format!("desired-state version {} is not stored", read_at.version),
        );
        return Err(Error::Rejected(problems));
    };
    let was = (read_at.part)(&then)?;
    let is = (read_at.part)(now)?;
    if was == is {
        return Ok(());
    }
    // NB: only on a conflict, and a read is minutes old: the versions since
    // are a handful, each parsed to see whether it touched the target.
    let since = Version::find()
        .filter(desired_state_version::Column::Version.gt(read_at.version))
        .order_by_asc(desired_state_version::Column::Version)
        .all(conn)
        .await
        .map_err(db_error("reading the desired-state versions since a read"))?;
    let mut touched = Vec::new();
    let mut previous = was.clone();
    for row in &since {
        let part = (read_at.part)(&parse(row)?)?;
        if part != previous {
            touched.push(AuditEntry {
                version: row.version,
                author: row.author.clone(),
                summary: row.summary.clone(),
                created_at: row.created_at.into(),
            });
            previous = part;
        }
    }
    Err(changed_meanwhile(read_at, &was, &is, &touched))
}

/// The newest stored version, or version 0: the state before any change.
async fn newest(conn: &impl ConnectionTrait) -> Result<(i32, DesiredState)> {
    let row = Version::find()
        .order_by_desc(desired_state_version::Column::Version)
        .one(conn)
        .await
        .map_err(db_error("reading the current desired state"))?;
    match row {
        Some(row) => Ok((row.version, parse(&row)?)),
        None => Ok((0, initial_state())),
    }
}

/// What a fresh installation starts from: battery_core alone.
fn initial_state() -> DesiredState {
    let mut state = DesiredState::default();
    state.batteries.insert(
        BatteryKind::BatteryCore,
        BatteryConfig::default_for(BatteryKind::BatteryCore),
    );
    state
}

fn parse(row: &desired_state_version::Model) -> Result<DesiredState> {
    serde_json::from_str(&row.state).map_err(|err| Error::Corrupt {
        what: "desired-state version",
        reason: format!("version {}: {err}", row.version),
    })
}

/// A fresh secret: [`SECRET_LENGTH`] alphanumerics from the thread's CSPRNG
/// (ChaCha, seeded and periodically reseeded from the OS).
fn new_secret() -> String {
    // NB: alphanumerics rather than base64 so the value is safe unquoted in
    // URLs, env vars, connection strings and config files.
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(SECRET_LENGTH)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_alphanumeric_and_differ() {
        let a = new_secret();
        let b = new_secret();
        assert_eq!(a.len(), SECRET_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn stored_secrets_debug_shows_keys_not_values() {
        let secrets = StoredSecrets(BTreeMap::from([(
            "grafana/admin-password".to_owned(),
            "hunter2".to_owned(),
        )]));
        let shown = format!("{secrets:?}");
        assert!(shown.contains("grafana/admin-password"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn the_initial_state_is_valid() {
        assert_eq!(validate(&initial_state()), Ok(()));
    }

    #[test]
    fn a_battery_without_its_dependency_names_the_missing_one() {
        let mut state = DesiredState::default();
        state.batteries.insert(
            BatteryKind::Grafana,
            BatteryConfig::default_for(BatteryKind::Grafana),
        );
        let problems = validate(&state).unwrap_err();
        let error = problems.for_field("batteries.grafana").unwrap();
        assert_eq!(error.rule, Rule::Dependency);
        assert!(error.message.contains("battery_core"), "{}", error.message);
    }
}
