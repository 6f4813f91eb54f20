//! Prepare: everything a plan needs, read before anything is written — the
//! desired state and its generated resources (Keycloak's items among them),
//! the inventory of the last succeeded snapshot, and the managed objects the
//! cluster and Keycloak hold.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use bi_model::generate::{
    Context, MANAGED_LABEL, Observed, Resource, ResourcePath, Secrets, generate,
};
use futures::{StreamExt, stream};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, TypeMeta};
use serde_json::Value;

use super::keycloak::{self, Target};
use super::kinds::Kinds;
use super::record;
use crate::db::Database;
use crate::desired_state;
use crate::error::{Error, Result};
use crate::keycloak::KeycloakAccess;

/// What a snapshot starts from.
pub(crate) struct Prepared {
    /// The desired-state version generated.
    pub(crate) version: i32,
    /// Every resource it needs, in apply order.
    pub(crate) desired: Vec<Resource>,
    /// The paths the last succeeded snapshot applied.
    pub(crate) inventory: BTreeSet<ResourcePath>,
    /// The managed objects found in the cluster and in Keycloak.
    pub(crate) observed: Vec<Observed>,
    /// The Keycloak the snapshot writes to; None when no item is desired
    /// or was applied.
    pub(crate) keycloak: Option<Target>,
    /// Keycloak's items as Keycloak holds them, by path.
    pub(crate) keycloak_live: BTreeMap<ResourcePath, Value>,
    /// The types (apiVersion, kind) the cluster refused to list or
    /// discover: their objects were planned as absent, not seen absent.
    pub(crate) unlisted: BTreeSet<(String, String)>,
}

/// Reads the database and the cluster.
/// Objects in `drifted` are planned as updates whatever their hash says.
pub(crate) async fn prepare(
    db: &Database,
    kinds: &mut Kinds,
    access: &KeycloakAccess,
    drifted: &BTreeSet<ResourcePath>,
) -> Result<Prepared> {
    let (mut prepared, _) = read(db, kinds, access, false).await?;
    for object in &mut prepared.observed {
        if drifted.contains(&object.path) {
            // NB: without a hash the plan updates it, and the apply resets
            // the fields someone changed.
            object.hash = None;
        }
    }
    Ok(prepared)
}

/// Like [`prepare`] (with no drift), also returning every managed object
/// as the cluster holds it, by path: what the drift sweep compares.
pub(crate) async fn prepare_with_live(
    db: &Database,
    kinds: &mut Kinds,
    access: &KeycloakAccess,
) -> Result<(Prepared, BTreeMap<ResourcePath, Value>)> {
    let (prepared, bodies) = read(db, kinds, access, true).await?;
    let live = prepared
        .observed
        .iter()
        .filter(|object| !bi_model::keycloak::is_keycloak(&object.path))
        .map(|object| object.path.clone())
        .zip(bodies)
        .collect();
    Ok((prepared, live))
}

/// What both preparations read: the desired state generated, the
/// inventory, and the managed objects, with their bodies when `bodies`
/// (`bodies[i]` is `observed[i]`'s; empty otherwise).
async fn read(
    db: &Database,
    kinds: &mut Kinds,
    access: &KeycloakAccess,
    bodies: bool,
) -> Result<(Prepared, Vec<Value>)> {
    let (version, state) = desired_state::current(db).await?;
    let secrets = desired_state::secrets_for(db, &state).await?;
    let stored = Secrets::Stored(secrets.as_map());
    let mut desired =
        generate(&state, stored).map_err(|source| Error::Generation { version, source })?;
    desired.extend(
        bi_model::keycloak::resources(&Context::new(&state, stored))
            .map_err(|source| Error::Generation { version, source })?,
    );
    let inventory = record::inventory(db).await?;
    let (found, unlisted) = observe(kinds, &desired, &inventory, bodies).await?;
    let (mut observed, bodies): (Vec<Observed>, Vec<Value>) = found.into_iter().unzip();
    let wants_keycloak = desired
        .iter()
        .map(|resource| &resource.path)
        .chain(&inventory)
        .any(bi_model::keycloak::is_keycloak);
    let mut keycloak_live = BTreeMap::new();
    let keycloak = if wants_keycloak {
        let target = Target::of(&state, &secrets, access);
        let (found, live) = keycloak::observe(&target, &desired, &inventory).await;
        observed.extend(found);
        keycloak_live = live;
        Some(target)
    } else {
        None
    };
    let prepared = Prepared {
        version,
        desired,
        inventory,
        observed,
        keycloak,
        keycloak_live,
        unlisted,
    };
    Ok((prepared, bodies))
}

/// One type's managed objects, with their bodies when asked for.
type Listed = Vec<(Observed, Value)>;

/// Lists of managed types in flight at once.
const LISTS_IN_FLIGHT: usize = 8;

/// Lists the managed objects of every type bi generates or last applied,
/// with their bodies when `bodies` (else only their metadata, which is all
/// a plan reads: a fraction of the bytes); types the cluster does not serve
/// yet hold nothing. Also the types it refused to discover or list.
async fn observe(
    kinds: &mut Kinds,
    desired: &[Resource],
    inventory: &BTreeSet<ResourcePath>,
    bodies: bool,
) -> Result<(Listed, BTreeSet<(String, String)>)> {
    let mut types = Vec::new();
    let mut seen = HashSet::new();
    for path in desired
        .iter()
        .map(|resource| &resource.path)
        .chain(inventory)
        .filter(|path| !bi_model::keycloak::is_keycloak(path))
    {
        if seen.insert((path.api_version.as_str(), path.kind.as_str())) {
            types.push((path.api_version.clone(), path.kind.clone()));
        }
    }
    // NB: types are resolved one by one (discovery is cached and needs
    // `&mut Kinds`); the lists themselves go concurrently.
    let mut served = Vec::with_capacity(types.len());
    let mut unlisted = BTreeSet::new();
    for (api_version, kind) in types {
        match kinds.resolve(&api_version, &kind).await {
            Ok(Some((resource, _))) => served.push(resource),
            Ok(None) => {}
            // NB: as for a refused list below: one group's discovery failing
            // (an aggregated API that is down) must not stop every snapshot.
            Err(Error::Cluster { source, .. }) if is_refusal(&source) => {
                tracing::warn!(%source, api_version, kind, "cannot discover a managed type: its objects are re-applied");
                unlisted.insert((api_version, kind));
            }
            Err(err) => return Err(err),
        }
    }
    let client = kinds.client().clone();
    let lists: Vec<(ApiResource, Result<Option<Listed>>)> = stream::iter(served)
        .map(|resource| {
            let client = client.clone();
            async move {
                let listed = list_managed(client, resource.clone(), bodies).await;
                (resource, listed)
            }
        })
        .buffered(LISTS_IN_FLIGHT)
        .collect()
        .await;
    let mut observed = Vec::new();
    for (resource, list) in lists {
        match list? {
            Some(found) => observed.extend(found),
            None => {
                unlisted.insert((resource.api_version, resource.kind));
            }
        }
    }
    Ok((observed, unlisted))
}

/// The managed objects of one type (see [`observe`]); None when the API
/// server refused the list.
async fn list_managed(
    client: kube::Client,
    resource: ApiResource,
    bodies: bool,
) -> Result<Option<Listed>> {
    let selector = ListParams::default().labels(&format!("{MANAGED_LABEL}=true"));
    let api: Api<DynamicObject> = Api::all_with(client, &resource);
    // NB: a metadata-only list is read into the same object, without data.
    let listed = if bodies {
        api.list(&selector).await.map(|list| list.items)
    } else {
        api.list_metadata(&selector).await.map(|list| {
            list.items
                .into_iter()
                .map(|object| DynamicObject {
                    types: None,
                    metadata: object.metadata,
                    data: Value::Object(serde_json::Map::new()),
                })
                .collect()
        })
    };
    let items = match listed {
        Ok(items) => items,
        // NB: a CRD deleted since discovery: nothing of it is left.
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(Some(Vec::new())),
        // NB: one type bi cannot list (RBAC, a broken aggregated API)
        // must not stop every snapshot: its objects are planned as
        // absent, and server-side apply creates or updates them alike.
        Err(err) if is_refusal(&err) => {
            tracing::warn!(%err, api_version = resource.api_version, kind = resource.kind, "cannot list a managed type: its objects are re-applied");
            return Ok(None);
        }
        Err(source) => {
            return Err(Error::Cluster {
                action: format!("listing {} {}", resource.api_version, resource.kind),
                source,
            });
        }
    };
    let mut observed = Vec::with_capacity(items.len());
    for mut object in items {
        // NB: list items need not carry apiVersion and kind; the list's type does.
        object.types = Some(TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        });
        let value = serde_json::to_value(&object).map_err(|source| Error::Encode {
            what: "observed object",
            source,
        })?;
        if let Some(found) = Observed::from_object(&value) {
            observed.push((found, if bodies { value } else { Value::Null }));
        }
    }
    Ok(Some(observed))
}

/// Whether the API server refused a request for this type alone (as opposed
/// to being unreachable, which stops the snapshot).
fn is_refusal(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if matches!(status.code, 403 | 405 | 406 | 501 | 503))
}
