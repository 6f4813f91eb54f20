//! `bi drift …`: objects changed behind bi's back, a sweep on demand, a
//! repair, and whether bi repairs drift on its own.

use std::process::ExitCode;

use anyhow::Context;
use bi_api::drift::{DriftFinding, DriftMode, DriftView};

use super::api::ApiClient;
use super::output::{OutputArgs, OutputFormat, Table, print};

/// `bi drift`: lists drift; the subcommands act on it.
#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// What to do (none: list the open findings and the latest closed ones).
    #[command(subcommand)]
    pub command: Option<DriftCommand>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `bi drift …`.
#[derive(Debug, clap::Subcommand)]
pub enum DriftCommand {
    /// Compare every managed object with what bi would apply now, record
    /// what differs and list it (editors). Unless drift is only reported,
    /// bi then repairs it.
    Check {
        /// Exit with 2 when drift is open after the sweep (for scripts).
        #[arg(long)]
        exit_code: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Re-apply every object of an open finding now and follow the
    /// snapshot (editors).
    Repair,
    /// Whether sweeps repair drift on their own (`repair`, the default) or
    /// only report it (`report`) (admins).
    Mode {
        /// `repair` or `report`.
        #[arg(value_parser = ["repair", "report"])]
        mode: String,
    },
}

/// Runs `bi drift …`.
pub async fn drift(api: &ApiClient, args: DriftArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        None => {
            let view: DriftView = api
                .get("/api/v1/drift")
                .await
                .context("while reading drift")?;
            show(args.output.output, &view)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(DriftCommand::Check { exit_code, output }) => {
            eprintln!("sweeping: a dry run of every managed object…");
            let view: DriftView = api
                .post("/api/v1/drift/sweep", &serde_json::Value::Null)
                .await
                .context("while sweeping for drift")?;
            show(output.output, &view)?;
            Ok(if exit_code && !view.open.is_empty() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Some(DriftCommand::Repair) => {
            super::apply::request_and_follow(api, "/api/v1/drift/repair").await
        }
        Some(DriftCommand::Mode { mode }) => {
            let view: DriftView = api
                .post(
                    "/api/v1/drift/mode",
                    &DriftMode {
                        report_only: mode == "report",
                    },
                )
                .await
                .context("while setting the drift mode")?;
            println!("drift mode: {}", words(view.report_only));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn words(report_only: bool) -> &'static str {
    if report_only {
        "report (sweeps only report; `bi drift repair` re-applies)"
    } else {
        "repair (the snapshot after a sweep re-applies what drifted)"
    }
}

fn show(format: OutputFormat, view: &DriftView) -> anyhow::Result<()> {
    print(format, view, |view| {
        let mut out = format!("mode:        {}\n", words(view.report_only));
        if let Some(sweep) = &view.last_sweep {
            out.push_str(&format!("last sweep:  {}\n", sweep.words()));
        }
        if view.open.is_empty() {
            out.push_str("open:        none\n");
        } else {
            out.push_str("open:\n");
            out.push_str(&table(&view.open));
        }
        if !view.closed.is_empty() {
            out.push_str("closed lately:\n");
            out.push_str(&table(&view.closed));
        }
        out
    })
}

fn table(findings: &[DriftFinding]) -> String {
    let mut table = Table::new(["OBJECT", "FIELDS", "FOUND", "LAST SEEN", "ENDED"]);
    for finding in findings {
        table.row([
            finding.path.clone(),
            finding.fields.join(" "),
            finding.found_at.readable(),
            finding.last_seen_at.readable(),
            match (&finding.resolution, &finding.snapshot) {
                (Some(resolution), Some(snapshot)) => format!("{resolution} (snapshot {snapshot})"),
                (Some(resolution), None) => resolution.clone(),
                _ => "-".to_owned(),
            },
        ]);
    }
    table.render()
}
