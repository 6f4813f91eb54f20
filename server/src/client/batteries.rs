//! `bi batteries list|show|install|configure|uninstall`.

use anyhow::Context;
use bi_api::batteries::{
    BatteryDetail, BatteryStatus, InstallOutcome, InstallPreview, UninstallOutcome,
};

use super::ApiClient;
use super::output::{Table, print};
use crate::client::output::OutputFormat;
use bi_api::audit::Changed;
use bi_api::batteries::Settings;
use bi_api::reach::ReachView;

/// Every catalog battery and whether it is installed.
pub async fn list(api: &ApiClient, format: OutputFormat) -> anyhow::Result<()> {
    let batteries: Vec<BatteryStatus> = api
        .get("/api/v1/batteries")
        .await
        .context("while listing batteries")?;
    print(format, &batteries, |batteries| {
        let mut table = Table::new(["BATTERY", "GROUP", "INSTALLED", "DESCRIPTION"]);
        for battery in batteries {
            let installed = match (battery.installed, battery.offered) {
                (true, _) => "yes",
                (false, true) => "no",
                (false, false) => "not offered",
            };
            table.row([
                battery.kind.to_string(),
                format!("{:?}", battery.group).to_lowercase(),
                installed.to_owned(),
                battery.description.clone(),
            ]);
        }
        table.render()
    })
}

/// One battery in detail.
pub async fn show(api: &ApiClient, battery: &str, format: OutputFormat) -> anyhow::Result<()> {
    let detail: BatteryDetail = api
        .get(&format!("/api/v1/batteries/{battery}"))
        .await
        .with_context(|| format!("while reading battery {battery}"))?;
    let reach: ReachView = api
        .get("/api/v1/reach")
        .await
        .context("while reading the addresses")?;
    print(format, &detail, |detail| {
        let list = |kinds: &[bi_model::catalog::BatteryKind]| {
            if kinds.is_empty() {
                "none".to_owned()
            } else {
                kinds
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let mut out = format!(
            "battery:      {} ({})\ndescription:  {}\ninstalled:    {}\ndepends on:   {}\nneeded by:    {}\nversion:      {} (the desired-state version read; --expected-version)\n",
            detail.kind,
            detail.name,
            detail.description,
            if detail.installed { "yes" } else { "no" },
            list(&detail.dependencies),
            list(&detail.dependents),
            detail.version,
        );
        for integration in &detail.integrations {
            out.push_str(&format!(
                "integration:  with {} ({}): {}\n",
                integration.partner,
                if integration.active {
                    "active"
                } else {
                    "inactive"
                },
                integration.what
            ));
        }
        for address in reach.of_battery(detail.kind) {
            out.push_str(&format!("open:         {}\n", super::reach::line(address)));
        }
        for unreachable in reach
            .unreachable
            .iter()
            .filter(|u| u.battery == detail.kind)
        {
            out.push_str(&format!("open:         {}\n", unreachable.words));
        }
        out.push_str("settings (--set key=value):\n");
        let mut table = Table::new(["KEY", "VALUE"]);
        for key in &detail.settings {
            let pointer = format!("/{}", key.replace('.', "/"));
            let value = detail
                .config
                .pointer(&pointer)
                .map_or_else(String::new, bi_model::generate::value_text);
            table.row([key.clone(), value]);
        }
        for line in table.render().lines() {
            out.push_str(&format!("  {line}\n"));
        }
        out
    })
}

/// Installs a battery (or, with `dry_run`, shows what would come along).
pub async fn install(
    api: &ApiClient,
    battery: &str,
    settings: &[String],
    dry_run: bool,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/batteries/{battery}/install");
    if dry_run {
        let preview: InstallPreview = api
            .get(&path)
            .await
            .with_context(|| format!("while previewing the install of {battery}"))?;
        println!("would install: {}", join(&preview.to_install));
        for note in &preview.integrations_on {
            println!(
                "would turn on: {} with {}: {}",
                note.battery, note.partner, note.what
            );
        }
        return Ok(());
    }
    let outcome: InstallOutcome = api
        .post(
            &path,
            &Settings {
                settings: settings.to_vec(),
                expected_version: None,
            },
        )
        .await
        .with_context(|| format!("while installing {battery}"))?;
    println!(
        "installed {} (desired-state version {}); it is being applied — `bi apply` follows it",
        join(&outcome.installed),
        outcome.version
    );
    for note in &outcome.integrations {
        println!(
            "turned on: {} with {}: {}",
            note.battery, note.partner, note.what
        );
    }
    Ok(())
}

/// Applies settings to an installed battery; with `expected_version`,
/// refused when the battery changed after that version.
// NB: without it the server applies the settings to the config it has (one
// request reads and writes), so only the keys named change: no form's
// worth of old values can overwrite anyone's change.
pub async fn configure(
    api: &ApiClient,
    battery: &str,
    settings: &[String],
    expected_version: Option<i32>,
) -> anyhow::Result<()> {
    let changed: Changed = api
        .post(
            &format!("/api/v1/batteries/{battery}/configure"),
            &Settings {
                settings: settings.to_vec(),
                expected_version,
            },
        )
        .await
        .with_context(|| format!("while configuring {battery}"))?;
    println!(
        "configured {battery} (desired-state version {})",
        changed.version
    );
    Ok(())
}

/// Uninstalls a battery.
pub async fn uninstall(api: &ApiClient, battery: &str) -> anyhow::Result<()> {
    let outcome: UninstallOutcome = api
        .delete(&format!("/api/v1/batteries/{battery}"))
        .await
        .with_context(|| format!("while uninstalling {battery}"))?;
    println!(
        "uninstalled {} (desired-state version {})",
        outcome.battery, outcome.version
    );
    for note in &outcome.integrations_off {
        println!(
            "turned off: {} with {}: {}",
            note.battery, note.partner, note.what
        );
    }
    Ok(())
}

fn join(kinds: &[bi_model::catalog::BatteryKind]) -> String {
    kinds
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
