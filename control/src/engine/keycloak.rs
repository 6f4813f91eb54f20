//! The engine's Keycloak side: reading what Keycloak holds into the plan's
//! [`Observed`], and applying the Keycloak stage (the plan's last) through
//! the Admin REST API.
//!
//! Keycloak starts after its Deployment is applied, often a minute later;
//! the stage waits (`keycloak_wait`) for it to take bi's administrator, and
//! otherwise leaves its items `waiting`, which the reconciler retries soon,
//! as it does for admission webhooks. A refused item fails alone; an item
//! whose realm failed is held back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bi_model::generate::DesiredState;
use bi_model::generate::{Action, Observed, PlanItem, Resource, ResourcePath};
use bi_model::keycloak::{self as model, KeycloakKind, KeycloakPath};
use serde_json::Value;
use tokio::time::Instant;

use super::apply::{Outcome, Progress};
use crate::desired_state::StoredSecrets;
use crate::keycloak::{Admin, KeycloakAccess, KeycloakError};

/// The battery whose objects every Keycloak item needs.
pub(crate) const KEYCLOAK_APP: &str = "keycloak";
/// How often a starting Keycloak is asked again.
const POLL: Duration = Duration::from_secs(1);

/// The Keycloak a snapshot writes to, or why there is none.
#[derive(Debug)]
pub(crate) enum Target {
    /// Signed in as its administrator (lazily, on the first request).
    Admin(Admin),
    /// None can be reached: why.
    Unavailable(String),
}

impl Target {
    /// The Keycloak of `state`, reached through `access` as the
    /// administrator bi generated.
    pub(crate) fn of(
        state: &DesiredState,
        secrets: &StoredSecrets,
        access: &KeycloakAccess,
    ) -> Self {
        match crate::keycloak::admin_for(state, secrets, access) {
            Ok(admin) => Self::Admin(admin),
            Err(why) => Self::Unavailable(why),
        }
    }
}

/// What Keycloak holds of the items bi wants or last applied
/// (`desired` and `inventory`, Kubernetes objects among them), and their
/// representations by path (what the drift sweep compares).
///
/// When Keycloak cannot be read, every item of the inventory is taken to be
/// there with an unknown hash: the plan updates what is still wanted and
/// deletes what is not, and the apply says why it cannot.
pub(crate) async fn observe(
    target: &Target,
    desired: &[Resource],
    inventory: &BTreeSet<ResourcePath>,
) -> (Vec<Observed>, BTreeMap<ResourcePath, Value>) {
    let wanted: BTreeMap<&ResourcePath, &Resource> = desired
        .iter()
        .filter(|resource| model::is_keycloak(&resource.path))
        .map(|resource| (&resource.path, resource))
        .collect();
    let known: BTreeSet<KeycloakPath> = wanted
        .keys()
        .copied()
        .chain(inventory.iter())
        .filter_map(KeycloakPath::of)
        .collect();
    if known.is_empty() {
        return (Vec::new(), BTreeMap::new());
    }
    let read = match target {
        Target::Admin(admin) => read_all(admin, &known).await,
        Target::Unavailable(why) => Err(KeycloakError::Unreachable(why.clone())),
    };
    match read {
        Ok(found) => {
            let mut observed = Vec::with_capacity(found.len());
            let mut live = BTreeMap::new();
            for (path, body) in found {
                let resource_path = path.resource_path();
                observed.push(model::observed(
                    &path,
                    &body,
                    wanted.get(&resource_path).copied(),
                ));
                live.insert(resource_path, body);
            }
            (observed, live)
        }
        Err(err) => {
            tracing::warn!(%err, "cannot read Keycloak: its items are planned from the inventory");
            let observed = inventory
                .iter()
                .filter(|path| model::is_keycloak(path))
                .map(|path| Observed {
                    path: path.clone(),
                    managed: true,
                    hash: None,
                    owned: false,
                })
                .collect();
            (observed, BTreeMap::new())
        }
    }
}

/// Every item Keycloak holds in the realms of `known`: each realm, its
/// groups and clients, and the required actions and users in `known`.
async fn read_all(
    admin: &Admin,
    known: &BTreeSet<KeycloakPath>,
) -> Result<Vec<(KeycloakPath, Value)>, KeycloakError> {
    let realms: BTreeSet<&str> = known.iter().map(|path| path.realm.as_str()).collect();
    let mut found = Vec::new();
    for realm in realms {
        let realm_path = KeycloakPath {
            kind: KeycloakKind::Realm,
            realm: realm.to_owned(),
            name: realm.to_owned(),
        };
        let Some(live) = admin.read(&realm_path).await? else {
            continue;
        };
        found.push((realm_path, live.body));
        found.extend(admin.list(realm).await?);
        for path in known.iter().filter(|path| {
            path.realm == realm
                && matches!(path.kind, KeycloakKind::RequiredAction | KeycloakKind::User)
        }) {
            if let Some(live) = admin.read(path).await? {
                found.push((path.clone(), live.body));
            }
        }
    }
    Ok(found)
}

/// The order items are written in: a realm before what it holds.
fn rank(kind: KeycloakKind) -> u8 {
    match kind {
        KeycloakKind::Realm => 0,
        KeycloakKind::RequiredAction => 1,
        KeycloakKind::Group => 2,
        KeycloakKind::Client => 3,
        KeycloakKind::User => 4,
    }
}

/// Applies the Keycloak stage `chunk` (all writes or all deletions);
/// `decided[i]` is item i's outcome when it is not to be attempted (held
/// back, unchanged). One outcome per item, in `chunk`'s order; each is
/// published as it is reached.
pub(crate) async fn apply(
    chunk: &[PlanItem],
    mut decided: Vec<Option<Outcome>>,
    bodies: &BTreeMap<&ResourcePath, &Resource>,
    target: Option<&Target>,
    wait: Duration,
    progress: &Progress,
) -> Vec<Outcome> {
    let mut order: Vec<(usize, KeycloakPath)> = chunk
        .iter()
        .enumerate()
        .filter(|(index, _)| decided[*index].is_none())
        .filter_map(|(index, item)| KeycloakPath::of(&item.path).map(|path| (index, path)))
        .collect();
    let deleting = chunk
        .first()
        .is_some_and(|item| item.action == Action::Delete);
    order.sort_by_key(|(index, path)| {
        let rank = rank(path.kind);
        (if deleting { u8::MAX - rank } else { rank }, *index)
    });
    let admin = match target {
        Some(Target::Admin(admin)) => admin,
        Some(Target::Unavailable(why)) => {
            return settle(
                chunk,
                decided,
                &order,
                &Outcome::Failed(why.clone()),
                progress,
            );
        }
        None => {
            let none = Outcome::Failed("no Keycloak is installed".to_owned());
            return settle(chunk, decided, &order, &none, progress);
        }
    };
    if !order.is_empty()
        && let Err(err) = ready(admin, wait).await
    {
        return settle(
            chunk,
            decided,
            &order,
            &stopped(&err, admin, wait),
            progress,
        );
    }

    let mut stop: Option<Outcome> = None;
    let mut failed_realms: BTreeMap<String, String> = BTreeMap::new();
    for (index, path) in order {
        let item = &chunk[index];
        let outcome = if let Some(outcome) = &stop {
            outcome.clone()
        } else if let Some(realm) = failed_realms.get(&path.realm).filter(|_| !deleting) {
            Outcome::HeldBack(format!("its realm {realm} was refused"))
        } else {
            let result = if deleting {
                delete(admin, &path).await
            } else {
                match bodies.get(&item.path) {
                    Some(resource) => write(admin, &path, item.action, resource).await,
                    None => Ok(Outcome::Failed("no desired body".to_owned())),
                }
            };
            match result {
                Ok(outcome) => outcome,
                Err(err) if err.is_unreachable() => {
                    let outcome = stopped(&err, admin, wait);
                    stop = Some(outcome.clone());
                    outcome
                }
                Err(err) => Outcome::Failed(err.to_string()),
            }
        };
        if path.kind == KeycloakKind::Realm && outcome.is_failed() {
            failed_realms.insert(path.realm.clone(), item.path.to_string());
        }
        progress.applied(&item.path, &outcome);
        decided[index] = Some(outcome);
    }
    finished(decided)
}

/// Gives every item of `order` the one `outcome` (no Keycloak to write to,
/// or none answering), publishing each; one outcome per item of `chunk`.
fn settle(
    chunk: &[PlanItem],
    mut decided: Vec<Option<Outcome>>,
    order: &[(usize, KeycloakPath)],
    outcome: &Outcome,
    progress: &Progress,
) -> Vec<Outcome> {
    for (index, _) in order {
        progress.applied(&chunk[*index].path, outcome);
        decided[*index] = Some(outcome.clone());
    }
    finished(decided)
}

/// One outcome per item: those not attempted are unchanged.
fn finished(decided: Vec<Option<Outcome>>) -> Vec<Outcome> {
    decided
        .into_iter()
        .map(|outcome| outcome.unwrap_or(Outcome::Unchanged))
        .collect()
}

/// The outcome of the items left when Keycloak stopped answering.
fn stopped(err: &KeycloakError, admin: &Admin, wait: Duration) -> Outcome {
    if err.is_unreachable() {
        Outcome::Waiting(format!(
            "waiting for Keycloak at {}: not answering after {} s ({err})",
            admin.base(),
            wait.as_secs()
        ))
    } else {
        Outcome::Failed(err.to_string())
    }
}

/// Waits until Keycloak takes bi's administrator, or `wait` runs out.
async fn ready(admin: &Admin, wait: Duration) -> Result<(), KeycloakError> {
    let deadline = Instant::now() + wait;
    loop {
        match admin.sign_in().await {
            Err(err) if err.is_unreachable() && Instant::now() < deadline => {
                tokio::time::sleep(POLL).await;
            }
            other => return other,
        }
    }
}

/// Creates or updates the item at `path` as `resource` says, with bi's
/// marker and hash.
async fn write(
    admin: &Admin,
    path: &KeycloakPath,
    action: Action,
    resource: &Resource,
) -> Result<Outcome, KeycloakError> {
    let body = model::marked(path.kind, &resource.body, &resource.hash);
    if path.kind == KeycloakKind::RequiredAction {
        // NB: every realm has its required actions: bi's first write of
        // one is its creation as far as bi's plan and history go.
        admin.create(path, &body).await?;
        return Ok(if action == Action::Create {
            Outcome::Created
        } else {
            Outcome::Updated
        });
    }
    let live = match admin.read(path).await? {
        Some(live) => live,
        None => {
            if admin.create(path, &body).await? {
                return Ok(Outcome::Created);
            }
            // NB: created meanwhile (409): replace it like one found.
            let Some(live) = admin.read(path).await? else {
                return Ok(Outcome::Failed(format!(
                    "{path} was refused as a duplicate but cannot be found"
                )));
            };
            live
        }
    };
    // NB: replace only what bi keeps (a user's password and groups are
    // theirs and their administrators').
    let kept = model::marked(
        path.kind,
        &model::kept(path.kind, &resource.body),
        &resource.hash,
    );
    admin.update(path, &live.id, &kept).await?;
    Ok(Outcome::Updated)
}

/// Deletes the item at `path` if it is there.
async fn delete(admin: &Admin, path: &KeycloakPath) -> Result<Outcome, KeycloakError> {
    if let Some(live) = admin.read(path).await? {
        admin.delete(path, &live.id).await?;
    }
    Ok(Outcome::Deleted)
}
