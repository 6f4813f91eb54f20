//! `generate`: desired state in, every resource out, in apply order.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::context::{Context, Secrets};
use super::error::GenerateError;
use super::network_policy;
use super::order::stage_of;
use super::resource::{Resource, ResourcePath};
use super::state::DesiredState;

/// Every resource the desired state needs, sorted by apply stage and path.
///
/// Pure and deterministic: the same state gives byte-identical output, in
/// whatever order its lists were built. Fails on a missing stored secret or
/// two generators claiming the same path.
pub fn generate(
    state: &DesiredState,
    secrets: Secrets<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let ctx = Context::new(state, secrets);
    let mut generated = Vec::new();
    for config in state.batteries.values() {
        generated.extend(config.generate(&ctx)?);
    }
    generated.extend(crate::reach::generate(&ctx)?);
    generated.extend(network_policy::generate(&ctx, &generated)?);

    let mut by_path: BTreeMap<(super::Stage, ResourcePath), Resource> = BTreeMap::new();
    for resource in generated {
        let key = (stage_of(&resource.path), resource.path.clone());
        if let Some(first) = by_path.get(&key) {
            return Err(GenerateError::Duplicate {
                path: Box::new(resource.path),
                first: first.app.clone(),
                second: resource.app,
            });
        }
        by_path.insert(key, resource);
    }
    Ok(by_path.into_values().collect())
}

/// The keys of every secret generating `state` reads: what the control plane
/// must have created (once, with a CSPRNG) before it generates for real.
pub fn required_secrets(state: &DesiredState) -> Result<BTreeSet<String>, GenerateError> {
    let keys = RefCell::new(BTreeSet::new());
    generate(state, Secrets::Recording(&keys))?;
    crate::keycloak::generate(&Context::new(state, Secrets::Recording(&keys)))?;
    Ok(keys.into_inner())
}
