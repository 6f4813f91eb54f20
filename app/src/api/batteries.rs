//! Server functions about batteries: the catalog, one battery, install
//! preview, install, configure and uninstall.
//!
//! Configs travel as JSON text (`{"storage": "1Gi", …}`, the fields of the
//! battery's stored config) so the browser can edit them field by field and
//! decode them with `bi-model` before sending.

use bi_model::catalog::{BatteryGroup, BatteryKind};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Who the audit trail names for changes made in the browser.
#[cfg(feature = "ssr")]
pub(crate) const AUTHOR: &str = "web-ui";

/// One catalog battery, for the catalog list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatteryRow {
    /// Which battery.
    pub kind: BatteryKind,
    /// Its display name.
    pub name: String,
    /// The catalog group.
    pub group: BatteryGroup,
    /// What it does.
    pub description: String,
    /// Whether it is offered where this cluster runs.
    pub offered: bool,
    /// Whether it is installed.
    pub installed: bool,
}

/// One integration a battery declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationView {
    /// The battery that declares it.
    pub battery: BatteryKind,
    /// The partner battery.
    pub partner: BatteryKind,
    /// What it does.
    pub what: String,
    /// Whether both batteries are installed.
    pub active: bool,
}

/// Everything about one battery, for its page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatteryView {
    /// Which battery.
    pub kind: BatteryKind,
    /// Its display name.
    pub name: String,
    /// The catalog group.
    pub group: BatteryGroup,
    /// What it does.
    pub description: String,
    /// Batteries it needs.
    pub dependencies: Vec<BatteryKind>,
    /// Its optional integrations.
    pub integrations: Vec<IntegrationView>,
    /// False when bi cannot run without it.
    pub removable: bool,
    /// Whether it is offered where this cluster runs.
    pub offered: bool,
    /// Whether it is installed.
    pub installed: bool,
    /// Its config fields (installed config, else the defaults).
    pub config: serde_json::Value,
    /// Installed batteries that need it.
    pub dependents: Vec<BatteryKind>,
}

/// What installing a battery brings, shown before confirming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallPreviewView {
    /// Batteries installed, dependencies first, the battery last.
    pub to_install: Vec<BatteryKind>,
    /// Integrations that start working.
    pub integrations_on: Vec<IntegrationView>,
}

/// Reads a battery identifier sent by the browser.
#[cfg(feature = "ssr")]
fn battery_kind(kind: &str) -> Result<BatteryKind, AppError> {
    kind.parse::<BatteryKind>()
        .map_err(|err| AppError::NotFound(err.to_string()))
}

/// Decodes and validates a config sent as the JSON of its fields; the
/// problems name `<battery>.<field>`, as the other battery operations do.
#[cfg(feature = "ssr")]
fn battery_config(
    kind: BatteryKind,
    fields: &str,
) -> Result<bi_model::catalog::BatteryConfig, AppError> {
    use bi_model::{Problems, Rule};

    let mut problems = Problems::new();
    match serde_json::from_str::<serde_json::Value>(fields) {
        Ok(fields) => match bi_model::input::form::decode(kind, &fields) {
            Ok(config) => return Ok(config),
            Err(nested) => problems.extend_under(kind.id(), nested),
        },
        Err(err) => problems.push(kind.id(), Rule::Format, format!("not a JSON object: {err}")),
    }
    Err(AppError::Rejected(problems))
}

/// Every catalog battery in catalog order.
#[server(prefix = "/api", endpoint = "batteries/list")]
pub async fn list_batteries() -> Result<Vec<BatteryRow>, AppError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::batteries::list(&db)
        .await?
        .into_iter()
        .map(|battery| BatteryRow {
            kind: battery.kind,
            name: battery.name,
            group: battery.group,
            description: battery.description,
            offered: battery.offered,
            installed: battery.installed,
        })
        .collect())
}

/// One battery with its config and dependents.
#[server(prefix = "/api", endpoint = "batteries/show")]
pub async fn get_battery(kind: String) -> Result<BatteryView, AppError> {
    let kind = battery_kind(&kind)?;
    let db = crate::api::database()?;
    let detail = bi_control::operations::batteries::show(&db, kind).await?;
    Ok(BatteryView {
        kind: detail.kind,
        name: detail.name,
        group: detail.group,
        description: detail.description,
        dependencies: detail.dependencies,
        integrations: detail
            .integrations
            .into_iter()
            .map(|integration| IntegrationView {
                battery: kind,
                partner: integration.partner,
                what: integration.what,
                active: integration.active,
            })
            .collect(),
        removable: detail.removable,
        offered: detail.offered,
        installed: detail.installed,
        config: detail.config,
        dependents: detail.dependents,
    })
}

/// What installing `kind` would bring; refused as the install would be.
#[server(prefix = "/api", endpoint = "batteries/preview-install")]
pub async fn preview_install(kind: String) -> Result<InstallPreviewView, AppError> {
    let kind = battery_kind(&kind)?;
    let db = crate::api::database()?;
    let preview = bi_control::operations::batteries::preview_install(&db, kind).await?;
    Ok(InstallPreviewView {
        to_install: preview.to_install,
        integrations_on: preview
            .integrations_on
            .into_iter()
            .map(|note| IntegrationView {
                battery: note.battery,
                partner: note.partner,
                what: note.what,
                active: true,
            })
            .collect(),
    })
}

/// Installs `kind` with the config fields the form sent (JSON); returns
/// the new desired-state version.
#[server(prefix = "/api", endpoint = "batteries/install")]
pub async fn install_battery(kind: String, config: String) -> Result<i32, AppError> {
    let kind = battery_kind(&kind)?;
    let config = battery_config(kind, &config)?;
    let db = crate::api::database()?;
    let outcome = bi_control::operations::batteries::install(&db, AUTHOR, config).await?;
    Ok(outcome.version)
}

/// Replaces the installed config of `kind` with the fields the form sent
/// (JSON); returns the new desired-state version.
#[server(prefix = "/api", endpoint = "batteries/configure")]
pub async fn save_battery_config(kind: String, config: String) -> Result<i32, AppError> {
    let kind = battery_kind(&kind)?;
    let config = battery_config(kind, &config)?;
    let db = crate::api::database()?;
    Ok(bi_control::operations::batteries::replace_config(&db, AUTHOR, config).await?)
}

/// Uninstalls `kind`; refused, naming them, while others need it.
#[server(prefix = "/api", endpoint = "batteries/uninstall")]
pub async fn uninstall_battery(kind: String) -> Result<i32, AppError> {
    let kind = battery_kind(&kind)?;
    let db = crate::api::database()?;
    let outcome = bi_control::operations::batteries::uninstall(&db, AUTHOR, kind).await?;
    Ok(outcome.version)
}
