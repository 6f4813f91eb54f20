//! Server functions about batteries: the catalog, one battery, install
//! preview, install, configure and uninstall.
//!
//! Configs travel as JSON text (`{"storage": "1Gi", …}`, the fields of the
//! battery's stored config) so the browser can edit them field by field and
//! decode them with `bi-model` before sending.

pub use bi_api::batteries::{BatteryDetail, BatteryStatus, InstallPreview};
#[cfg(feature = "ssr")]
use bi_model::catalog::BatteryKind;
use leptos::prelude::*;

use crate::ApiError;

/// Reads a battery identifier sent by the browser.
#[cfg(feature = "ssr")]
fn battery_kind(kind: &str) -> Result<BatteryKind, ApiError> {
    kind.parse::<BatteryKind>()
        .map_err(|err| ApiError::NotFound(err.to_string()))
}

/// Decodes and validates a config sent as the JSON of its fields; the
/// problems name `<battery>.<field>`, as the other battery operations do.
#[cfg(feature = "ssr")]
fn battery_config(
    kind: BatteryKind,
    fields: &str,
) -> Result<bi_model::catalog::BatteryConfig, ApiError> {
    use bi_model::{Problems, Rule};

    let mut problems = Problems::new();
    match serde_json::from_str::<serde_json::Value>(fields) {
        Ok(fields) => match bi_model::input::form::decode(kind, &fields) {
            Ok(config) => return Ok(config),
            Err(nested) => problems.extend_under(kind.id(), nested),
        },
        Err(err) => problems.push(kind.id(), Rule::Format, format!("not a JSON object: {err}")),
    }
    Err(ApiError::Rejected(problems))
}

/// Every catalog battery in catalog order.
#[server(prefix = "/api", endpoint = "batteries/list", client = crate::csrf::Client)]
pub async fn list_batteries() -> Result<Vec<BatteryStatus>, ApiError> {
    let db = crate::api::database()?;
    Ok(bi_control::operations::batteries::list(&db).await?)
}

/// One battery with its config and dependents.
#[server(prefix = "/api", endpoint = "batteries/show", client = crate::csrf::Client)]
pub async fn get_battery(kind: String) -> Result<BatteryDetail, ApiError> {
    let kind = battery_kind(&kind)?;
    let db = crate::api::database()?;
    Ok(bi_control::operations::batteries::show(&db, kind).await?)
}

/// What installing `kind` would bring; refused as the install would be.
#[server(prefix = "/api", endpoint = "batteries/preview-install", client = crate::csrf::Client)]
pub async fn preview_install(kind: String) -> Result<InstallPreview, ApiError> {
    let kind = battery_kind(&kind)?;
    let db = crate::api::database()?;
    Ok(bi_control::operations::batteries::preview_install(&db, kind).await?)
}

/// Installs `kind` with the config fields the form sent (JSON); returns
/// the new desired-state version.
#[server(prefix = "/api", endpoint = "batteries/install", client = crate::csrf::Client)]
pub async fn install_battery(kind: String, config: String) -> Result<i32, ApiError> {
    let kind = battery_kind(&kind)?;
    let config = battery_config(kind, &config)?;
    let db = crate::api::database()?;
    let outcome =
        bi_control::operations::batteries::install(&db, &crate::api::author()?, config).await?;
    Ok(outcome.version)
}

/// Replaces the installed config of `kind` with the fields the form sent
/// (JSON); returns the new desired-state version. Refused (409, naming the
/// fields) when the config changed after `expected_version`, the version
/// the form was filled in from.
#[server(prefix = "/api", endpoint = "batteries/configure", client = crate::csrf::Client)]
pub async fn save_battery_config(
    kind: String,
    config: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
    let kind = battery_kind(&kind)?;
    let config = battery_config(kind, &config)?;
    let db = crate::api::database()?;
    Ok(bi_control::operations::batteries::replace_config(
        &db,
        &crate::api::author()?,
        config,
        expected_version,
    )
    .await?)
}

/// Uninstalls `kind`; refused, naming them, while others need it, and when
/// its config changed after `expected_version`, the version the page showed.
#[server(prefix = "/api", endpoint = "batteries/uninstall", client = crate::csrf::Client)]
pub async fn uninstall_battery(
    kind: String,
    expected_version: Option<i32>,
) -> Result<i32, ApiError> {
    let kind = battery_kind(&kind)?;
    let db = crate::api::database()?;
    let outcome = bi_control::operations::batteries::uninstall(
        &db,
        &crate::api::author()?,
        kind,
        expected_version,
    )
    .await?;
    Ok(outcome.version)
}
