//! Installing, configuring and uninstalling batteries, for the web UI and
//! the `bi` CLI alike.
//!
//! Plans come from `bi_model::dependencies` (what comes along, what would
//! break), typed configs from `bi_model::input`; every change is one
//! [`desired_state::change`], so a battery and the dependencies it brings
//! are stored together or not at all, with an audit summary such as
//! `install sso (with cloudnative_pg, keycloak)`.
//!
//! Writes to an installed battery take the `expected_version` their caller
//! read it at (see [`crate::staleness`]): refused when that battery's
//! config changed since, whatever else did.

use std::collections::BTreeSet;

use bi_model::catalog::{self, BatteryConfig, BatteryKind};
use bi_model::dependencies::{DependencyError, closure, plan_install, plan_uninstall};
use bi_model::generate::DesiredState;
use bi_model::input::{apply_settings, changed_settings, describe_settings, valid_keys, validated};
use bi_model::{Problems, Rule};
use serde_json::Value;

use super::projects::{CHANGED_MEANWHILE, join, objects_run_by};
use crate::Database;
use crate::desired_state;
use crate::error::{Error, Result};
use crate::staleness::ReadAt;

pub use bi_api::batteries::{
    BatteryDetail, BatteryStatus, InstallOutcome, InstallPreview, InstalledBattery,
    IntegrationNote, IntegrationStatus, UninstallOutcome,
};

/// Every catalog battery in catalog order, with whether it is installed.
pub async fn list(db: &Database) -> Result<Vec<BatteryStatus>> {
    let (_, state) = desired_state::current(db).await?;
    Ok(catalog::all()
        .map(|info| {
            let config = state.batteries.get(&info.kind).cloned();
            BatteryStatus {
                kind: info.kind,
                name: info.name.to_owned(),
                group: info.group,
                description: info.description.to_owned(),
                offered: info.offered_on(state.provider),
                installed: config.is_some(),
                config,
            }
        })
        .collect())
}

/// The installed batteries, in catalog order.
pub async fn list_installed(db: &Database) -> Result<Vec<InstalledBattery>> {
    let (_, state) = desired_state::current(db).await?;
    Ok(catalog::all()
        .filter(|info| state.batteries.contains_key(&info.kind))
        .map(|info| InstalledBattery {
            kind: info.kind,
            name: info.name.to_owned(),
        })
        .collect())
}

/// Everything about `kind`: its catalog entry, config and dependents.
pub async fn show(db: &Database, kind: BatteryKind) -> Result<BatteryDetail> {
    let (version, state) = desired_state::current(db).await?;
    let info = kind.info();
    let installed_config = state.batteries.get(&kind);
    let config = installed_config
        .cloned()
        .unwrap_or_else(|| BatteryConfig::default_for(kind));
    let stored = serde_json::to_value(&config).map_err(|source| Error::Encode {
        what: "battery config",
        source,
    })?;
    let installed = installed(&state);
    Ok(BatteryDetail {
        kind,
        name: info.name.to_owned(),
        group: info.group,
        description: info.description.to_owned(),
        dependencies: info.dependencies.to_vec(),
        integrations: info
            .integrations
            .iter()
            .map(|integration| IntegrationStatus {
                partner: integration.partner,
                what: integration.what.to_owned(),
                active: installed.contains(&kind) && installed.contains(&integration.partner),
            })
            .collect(),
        removable: info.removable,
        offered: info.offered_on(state.provider),
        installed: installed_config.is_some(),
        config: stored
            .get("config")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        settings: valid_keys(&config),
        dependents: dependents(&installed, kind).map_err(Error::Rejected)?,
        version,
    })
}

/// What installing `kind` would bring: missing dependencies in order and
/// the integrations that turn on. Refused like [`install`] would be.
pub async fn preview_install(db: &Database, kind: BatteryKind) -> Result<InstallPreview> {
    let (_, state) = desired_state::current(db).await?;
    plan(&state, kind).map_err(Error::Rejected)
}

/// Installs `config` (its battery with that typed configuration, as the
/// input layer `bi_model::input` made it from a form or from `key=value`
/// settings) plus every missing dependency with its defaults, in one change.
///
/// Refused when it is already installed, not offered on this cluster, or
/// the config or the resulting state is invalid; then nothing is stored.
pub async fn install(db: &Database, author: &str, config: BatteryConfig) -> Result<InstallOutcome> {
    let kind = config.kind();
    validated(&config).map_err(Error::Rejected)?;
    let settings = changed_settings(&BatteryConfig::default_for(kind), &config);
    let (_, before) = desired_state::current(db).await?;
    let planned = plan(&before, kind).map_err(Error::Rejected)?;
    let summary = install_summary(&planned, &settings);
    // NB: the summary must be known before `change` reads the state in its
    // transaction; the plan is made again there and must match, so the
    // audit trail never says something other than what was stored.
    let version = desired_state::change(db, author, &summary, |state| {
        if plan(state, kind)? != planned {
            return Err(problem(Rule::Consistency, CHANGED_MEANWHILE));
        }
        for dependency in planned
            .to_install
            .iter()
            .filter(|battery| **battery != kind)
        {
            state
                .batteries
                .insert(*dependency, BatteryConfig::default_for(*dependency));
        }
        state.batteries.insert(kind, config);
        Ok(())
    })
    .await?;
    Ok(InstallOutcome {
        version,
        installed: planned.to_install,
        integrations: planned.integrations_on,
    })
}

/// Applies `settings` to the installed config of `kind`; returns the new
/// desired-state version. Refused when it is not installed, and when its
/// config changed after `expected_version` (if given).
pub async fn configure(
    db: &Database,
    author: &str,
    kind: BatteryKind,
    settings: &[(String, String)],
    expected_version: Option<i32>,
) -> Result<i32> {
    if settings.is_empty() {
        return Err(Error::Rejected(problem(
            Rule::Required,
            format!("say what to change in {kind}, as key=value settings"),
        )));
    }
    let summary = format!("configure {kind}: {}", describe_settings(settings));
    let read_at = read_at(expected_version, kind);
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        let Some(current) = state.batteries.get(&kind) else {
            return Err(not_installed(kind));
        };
        let updated = apply_settings(current, settings)?;
        state.batteries.insert(kind, updated);
        Ok(())
    })
    .await
}

/// Replaces the installed config of `config.kind()` with `config`, as the
/// UI's typed form sends it; returns the new desired-state version.
/// Refused when that config changed after `expected_version` (if given),
/// naming what changed: the form was filled in from an older config.
pub async fn replace_config(
    db: &Database,
    author: &str,
    config: BatteryConfig,
    expected_version: Option<i32>,
) -> Result<i32> {
    let kind = config.kind();
    validated(&config).map_err(Error::Rejected)?;
    let (_, before) = desired_state::current(db).await?;
    let Some(old) = before.batteries.get(&kind) else {
        return Err(Error::Rejected(not_installed(kind)));
    };
    let changed = changed_settings(old, &config);
    let summary = if changed.is_empty() {
        format!("configure {kind} (no change)")
    } else {
        format!("configure {kind}: {}", describe_settings(&changed))
    };
    let read_at = read_at(expected_version, kind);
    desired_state::change_based_on(db, author, &summary, read_at, |state| {
        match state.batteries.get(&kind) {
            None => return Err(not_installed(kind)),
            Some(current) if current != old => {
                return Err(problem(Rule::Consistency, CHANGED_MEANWHILE));
            }
            Some(_) => {}
        }
        state.batteries.insert(kind, config);
        Ok(())
    })
    .await
}

/// Uninstalls `kind`; returns what stopped working with it.
///
/// Refused while other installed batteries need it (naming them), when bi
/// cannot run without it, while user objects run on it (naming them), and
/// when its config changed after `expected_version` (if given).
pub async fn uninstall(
    db: &Database,
    author: &str,
    kind: BatteryKind,
    expected_version: Option<i32>,
) -> Result<UninstallOutcome> {
    let summary = format!("uninstall {kind}");
    let mut integrations_off = Vec::new();
    let read_at = read_at(expected_version, kind);
    let version = desired_state::change_based_on(db, author, &summary, read_at, |state| {
        let plan = plan_uninstall(&installed(state), kind).map_err(dependency_problem)?;
        let users = objects_run_by(state, kind);
        if !users.is_empty() {
            return Err(problem(
                Rule::Dependency,
                format!(
                    "cannot uninstall {kind}: {} need(s) it; remove them first",
                    join(&users)
                ),
            ));
        }
        if kind == BatteryKind::Metallb && !state.ip_address_pools.is_empty() {
            let pools: Vec<&str> = state
                .ip_address_pools
                .iter()
                .map(|pool| pool.name.as_str())
                .collect();
            return Err(problem(
                Rule::Dependency,
                format!(
                    "cannot uninstall {kind}: IP address pool(s) {} need it; remove them first",
                    pools.join(", ")
                ),
            ));
        }
        state.batteries.remove(&kind);
        integrations_off = plan.integrations_off.iter().map(Into::into).collect();
        Ok(())
    })
    .await?;
    Ok(UninstallOutcome {
        version,
        battery: kind,
        integrations_off,
    })
}

/// What a write to `kind` was based on, when its caller says: the
/// battery's config fields (`Null` while it is not installed), with
/// changed fields named `<battery>.<field>` like the form's problems.
fn read_at(expected_version: Option<i32>, kind: BatteryKind) -> Option<ReadAt<'static>> {
    expected_version.map(|version| ReadAt {
        version,
        what: kind.to_string(),
        field: kind.id().to_owned(),
        prefix: kind.id().to_owned(),
        part: Box::new(move |state: &DesiredState| config_fields(state.batteries.get(&kind))),
    })
}

/// The fields of `config` as JSON (as [`show`] returns them); `Null` for none.
fn config_fields(config: Option<&BatteryConfig>) -> Result<Value> {
    let Some(config) = config else {
        return Ok(Value::Null);
    };
    let stored = serde_json::to_value(config).map_err(|source| Error::Encode {
        what: "battery config",
        source,
    })?;
    // NB: a config without fields is still installed, so never Null.
    Ok(stored
        .get("config")
        .cloned()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new())))
}

/// The installed batteries of `state`.
fn installed(state: &DesiredState) -> BTreeSet<BatteryKind> {
    state.batteries.keys().copied().collect()
}

/// Installed batteries other than `kind` whose dependency closure holds it.
fn dependents(
    installed: &BTreeSet<BatteryKind>,
    kind: BatteryKind,
) -> Result<Vec<BatteryKind>, Problems> {
    let mut dependents = Vec::new();
    for other in installed.iter().filter(|other| **other != kind) {
        if closure(&[*other])
            .map_err(dependency_problem)?
            .contains(&kind)
        {
            dependents.push(*other);
        }
    }
    Ok(dependents)
}

/// The install plan of `kind` on `state`, refused when it is installed.
fn plan(state: &DesiredState, kind: BatteryKind) -> Result<InstallPreview, Problems> {
    if state.batteries.contains_key(&kind) {
        return Err(problem(
            Rule::Consistency,
            format!("{kind} is already installed; use configure to change it"),
        ));
    }
    let plan =
        plan_install(&installed(state), &[kind], state.provider).map_err(dependency_problem)?;
    Ok(InstallPreview {
        battery: kind,
        to_install: plan.to_install,
        integrations_on: plan.integrations_on.iter().map(Into::into).collect(),
    })
}

/// `install sso (with cloudnative_pg, keycloak): mfa=true`.
fn install_summary(plan: &InstallPreview, settings: &[(String, String)]) -> String {
    let mut summary = format!("install {}", plan.battery);
    let with: Vec<&str> = plan
        .to_install
        .iter()
        .filter(|kind| **kind != plan.battery)
        .map(|kind| kind.id())
        .collect();
    if !with.is_empty() {
        summary.push_str(&format!(" (with {})", with.join(", ")));
    }
    if !settings.is_empty() {
        summary.push_str(&format!(": {}", describe_settings(settings)));
    }
    summary
}

/// One problem on the field `battery`.
fn problem(rule: Rule, message: impl Into<String>) -> Problems {
    let mut problems = Problems::new();
    problems.push("battery", rule, message);
    problems
}

fn not_installed(kind: BatteryKind) -> Problems {
    problem(
        Rule::Consistency,
        format!("{kind} is not installed; install it first"),
    )
}

/// A dependency refusal as a problem on `battery`, in the model's words.
fn dependency_problem(err: DependencyError) -> Problems {
    let rule = match err {
        DependencyError::NotInstalled(_) => Rule::Consistency,
        _ => Rule::Dependency,
    };
    problem(rule, err.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn summaries_name_dependencies_and_settings() {
        let plan = InstallPreview {
            battery: BatteryKind::Sso,
            to_install: vec![
                BatteryKind::CloudnativePg,
                BatteryKind::Keycloak,
                BatteryKind::Sso,
            ],
            integrations_on: Vec::new(),
        };
        assert_eq!(
            install_summary(&plan, &[("mfa".into(), "true".into())]),
            "install sso (with cloudnative_pg, keycloak): mfa=true"
        );
    }

    #[test]
    fn installing_twice_is_refused_with_a_pointer_to_configure() {
        let state = DesiredState::with_batteries(&[BatteryKind::Redis]).unwrap();
        let problems = plan(&state, BatteryKind::Redis).unwrap_err();
        let error = problems.for_field("battery").unwrap();
        assert_eq!(error.rule, Rule::Consistency);
        assert_eq!(
            error.message,
            "redis is already installed; use configure to change it"
        );
    }
}
