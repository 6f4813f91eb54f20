//! Apply: executes a plan in order, stage by stage, with server-side apply
//! under the one field manager `bi`. After the CRD stage it waits until the
//! new definitions are established and served; once a stage has failures,
//! the writes of every later stage are skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use bi_model::generate::{Action, Plan, PlanItem, Resource, ResourcePath, Stage};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use tokio::time::Instant;

use super::kinds::Kinds;

/// The field manager of every apply.
const FIELD_MANAGER: &str = "bi";
/// How long a new CRD may take to be established and served.
const CRD_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a CRD's readiness is checked.
const CRD_POLL: Duration = Duration::from_millis(100);

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It was absent and was applied.
    Created,
    /// It differed and was applied.
    Updated,
    /// It was already as desired: no request was made.
    Unchanged,
    /// It was pruned (or was already gone).
    Deleted,
    /// The cluster refused it; the API server's message.
    Failed(String),
    /// Not attempted: an earlier stage failed.
    Skipped,
}

impl Outcome {
    /// The name stored in `snapshot_resource.outcome`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Deleted => "deleted",
            Self::Failed(_) => "failed",
            Self::Skipped => "skipped",
        }
    }

    /// Whether the object failed.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed(_))
    }

    /// Whether the object is now in the cluster as desired (it belongs to the inventory).
    pub fn is_applied(&self) -> bool {
        matches!(self, Self::Created | Self::Updated | Self::Unchanged)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(message) => write!(f, "failed: {message}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Executes `plan` in its order; one outcome per item, in the same order.
pub(crate) async fn apply(
    plan: &Plan,
    desired: &[Resource],
    kinds: &mut Kinds,
) -> Vec<(PlanItem, Outcome)> {
    let bodies: BTreeMap<&ResourcePath, &Resource> = desired
        .iter()
        .map(|resource| (&resource.path, resource))
        .collect();
    let phase = |item: &PlanItem| (item.action == Action::Delete, item.stage);
    let mut outcomes = Vec::with_capacity(plan.items.len());
    let mut failed = false;
    let mut rest = plan.items.as_slice();
    while let Some(first) = rest.first() {
        let current = phase(first);
        let len = rest
            .iter()
            .take_while(|item| phase(item) == current)
            .count();
        let (chunk, tail) = rest.split_at(len);
        rest = tail;

        let mut results = Vec::with_capacity(chunk.len());
        for item in chunk {
            let outcome = if !item.action.writes() {
                Outcome::Unchanged
            } else if failed {
                Outcome::Skipped
            } else {
                execute(item, bodies.get(&item.path).copied(), kinds).await
            };
            results.push(outcome);
        }
        if current == (false, Stage::Crds) {
            wait_until_served(chunk, &mut results, kinds).await;
        }
        failed |= results.iter().any(Outcome::is_failed);
        outcomes.extend(chunk.iter().cloned().zip(results));
    }
    outcomes
}

/// Applies or deletes one object.
async fn execute(item: &PlanItem, resource: Option<&Resource>, kinds: &mut Kinds) -> Outcome {
    let path = &item.path;
    let api = match kinds.api_for(path).await {
        Ok(Some(api)) => api,
        Ok(None) => {
            return Outcome::Failed(format!(
                "the cluster does not serve {} {}",
                path.api_version, path.kind
            ));
        }
        Err(err) => return Outcome::Failed(err.to_string()),
    };
    match item.action {
        Action::Create | Action::Update => {
            let Some(resource) = resource else {
                return Outcome::Failed(format!("no generated body for {path}"));
            };
            let params = PatchParams::apply(FIELD_MANAGER).force();
            match api
                .patch(&path.name, &params, &Patch::Apply(&resource.body))
                .await
            {
                Ok(_) if item.action == Action::Create => Outcome::Created,
                Ok(_) => Outcome::Updated,
                Err(err) => Outcome::Failed(message(&err)),
            }
        }
        Action::Delete => match api.delete(&path.name, &DeleteParams::background()).await {
            Ok(_) => Outcome::Deleted,
            Err(kube::Error::Api(status)) if status.is_not_found() => Outcome::Deleted,
            Err(err) => Outcome::Failed(message(&err)),
        },
        Action::Unchanged => Outcome::Unchanged,
    }
}

/// Waits (bounded) until every CRD just applied is Established and served by
/// discovery; one that is not in time fails, which skips the later stages.
async fn wait_until_served(chunk: &[PlanItem], results: &mut [Outcome], kinds: &mut Kinds) {
    let crds: Api<CustomResourceDefinition> = Api::all(kinds.client().clone());
    let deadline = Instant::now() + CRD_TIMEOUT;
    for (item, outcome) in chunk.iter().zip(results.iter_mut()) {
        if !matches!(outcome, Outcome::Created | Outcome::Updated) {
            continue;
        }
        loop {
            match served(&crds, &item.path.name, kinds).await {
                Ok(true) => break,
                Ok(false) if Instant::now() < deadline => tokio::time::sleep(CRD_POLL).await,
                Ok(false) => {
                    *outcome = Outcome::Failed(format!(
                        "not established and served within {} s",
                        CRD_TIMEOUT.as_secs()
                    ));
                    break;
                }
                Err(err) => {
                    *outcome = Outcome::Failed(err);
                    break;
                }
            }
        }
    }
}

/// Whether the CRD `name` reports Established=True and discovery serves
/// every version it declares served.
async fn served(
    crds: &Api<CustomResourceDefinition>,
    name: &str,
    kinds: &mut Kinds,
) -> Result<bool, String> {
    let crd = match crds.get_opt(name).await {
        Ok(Some(crd)) => crd,
        Ok(None) => return Ok(false),
        Err(err) => return Err(message(&err)),
    };
    let established = crd
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
    if !established {
        return Ok(false);
    }
    let spec = &crd.spec;
    for version in spec.versions.iter().filter(|version| version.served) {
        let api_version = format!("{}/{}", spec.group, version.name);
        match kinds.resolve(&api_version, &spec.names.kind).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(false),
            Err(err) => return Err(err.to_string()),
        }
    }
    Ok(true)
}

/// The API server's message for a refused request, or the client's error.
fn message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}
