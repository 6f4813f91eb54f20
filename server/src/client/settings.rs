//! `bi settings`: how often the control server re-checks the cluster and
//! sweeps for drift.

use anyhow::Context;
use bi_model::IntervalSettings;

use super::ApiClient;
use super::output::{Table, print};
use crate::client::output::OutputFormat;
use bi_api::server::Intervals;

const PATH: &str = "/api/v1/settings";

/// Prints the intervals in force.
pub async fn show(api: &ApiClient, format: OutputFormat) -> anyhow::Result<()> {
    let settings: IntervalSettings = api.get(PATH).await.context("while reading the settings")?;
    print(format, &settings, render)
}

/// Sets one or both intervals (the other keeps its value in force).
pub async fn set(
    api: &ApiClient,
    recheck_every: Option<String>,
    drift_every: Option<String>,
) -> anyhow::Result<()> {
    if recheck_every.is_none() && drift_every.is_none() {
        anyhow::bail!("nothing to set: give --recheck-every and/or --drift-every (e.g. 2m, 1h)");
    }
    let now: IntervalSettings = api.get(PATH).await.context("while reading the settings")?;
    let body = Intervals {
        recheck_every: recheck_every.unwrap_or_else(|| now.intervals.recheck_every.to_string()),
        drift_every: drift_every.unwrap_or_else(|| now.intervals.drift_every.to_string()),
    };
    let settings: IntervalSettings = api
        .put(PATH, &body)
        .await
        .context("while saving the settings")?;
    print!("{}", render(&settings));
    Ok(())
}

/// Goes back to `bi serve`'s options.
pub async fn reset(api: &ApiClient) -> anyhow::Result<()> {
    let settings: IntervalSettings = api
        .delete(PATH)
        .await
        .context("while resetting the settings")?;
    print!("{}", render(&settings));
    Ok(())
}

fn render(settings: &IntervalSettings) -> String {
    let from = |set_here: bool, option: &str, default: String| {
        if set_here {
            format!("set (bi serve {option} is {default})")
        } else {
            format!("bi serve {option}")
        }
    };
    let mut table = Table::new(["WHAT", "EVERY", "FROM"]);
    table.row([
        "re-check".to_owned(),
        settings.intervals.recheck_every.to_string(),
        from(
            settings.recheck_set_here,
            "--recheck-every",
            settings.defaults.recheck_every.to_string(),
        ),
    ]);
    table.row([
        "drift sweep".to_owned(),
        settings.intervals.drift_every.to_string(),
        from(
            settings.drift_set_here,
            "--drift-every",
            settings.defaults.drift_every.to_string(),
        ),
    ]);
    table.render()
}
