//! `bi plan`, `bi deploys list|show|diff|orphans|prune`, `bi rollback` and `bi audit`.

use std::process::ExitCode;

use anyhow::Context;
use bi_api::snapshots::{
    OrphanPrune, OrphansPruned, PlanPreview, PruneReport, PruneRequest, RollbackDone,
    RollbackRequest, SnapshotDetail, SnapshotDiff, SnapshotStatus, SnapshotSummary,
};
use bi_model::generate::Action;

use super::ApiClient;
use super::output::{Table, or_dash, print};
use crate::client::output::{OutputArgs, OutputFormat};
use bi_api::audit::AuditEntry;

/// The exit code of `bi plan --exit-code` when a snapshot would change something.
pub const CHANGES_EXIT_CODE: u8 = 2;

/// Prints what a snapshot would do now; with `--exit-code`, exits 2 when
/// it would change something.
pub async fn plan(api: &ApiClient, args: PlanArgs) -> anyhow::Result<ExitCode> {
    let preview: PlanPreview = api.get("/api/v1/plan").await.context("while planning")?;
    let all = args.all;
    print(args.output.output, &preview, |preview| {
        let mut table = Table::new(["ACTION", "STAGE", "RESOURCE", "APP"]);
        for item in &preview.plan.items {
            if item.action.writes() || all {
                table.row([
                    action_name(item.action).to_owned(),
                    format!("{:?}", item.stage).to_lowercase(),
                    item.path.to_string(),
                    or_dash(item.app.as_ref()),
                ]);
            }
        }
        let counts = preview.plan.counts();
        let mut out = String::new();
        if counts.writes() > 0 || all {
            out.push_str(&table.render());
        }
        out.push_str(&format!(
            "desired-state version {}: {} to create, {} to update, {} to delete, {} unchanged\n",
            preview.desired_version, counts.create, counts.update, counts.delete, counts.unchanged
        ));
        for orphan in &preview.plan.orphans {
            out.push_str(&format!(
                "orphan (managed, unknown, left alone): {orphan}\n"
            ));
        }
        out
    })?;
    if args.exit_code && preview.plan.writes() > 0 {
        return Ok(ExitCode::from(CHANGES_EXIT_CODE));
    }
    Ok(ExitCode::SUCCESS)
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::Delete => "delete",
    }
}

/// The newest snapshots.
pub async fn list(api: &ApiClient, limit: u64, format: OutputFormat) -> anyhow::Result<()> {
    let snapshots: Vec<SnapshotSummary> = api
        .get(&format!("/api/v1/snapshots?limit={limit}"))
        .await
        .context("while listing snapshots")?;
    print(format, &snapshots, |snapshots| {
        let mut table = Table::new([
            "ID", "VERSION", "TRIGGER", "STATUS", "CREATED", "UPDATED", "DELETED", "FAILED",
            "STARTED",
        ]);
        for s in snapshots {
            table.row([
                s.id.to_string(),
                s.desired_version.to_string(),
                s.trigger.clone(),
                s.status.to_string(),
                s.counts.created.to_string(),
                s.counts.updated.to_string(),
                s.counts.deleted.to_string(),
                s.counts.failed.to_string(),
                s.started_at.readable_without_zone(),
            ]);
        }
        table.render()
    })
}

/// One snapshot and its objects' outcomes.
pub async fn show(api: &ApiClient, id: i64, format: OutputFormat) -> anyhow::Result<()> {
    let detail: SnapshotDetail = api
        .get(&format!("/api/v1/snapshots/{id}"))
        .await
        .with_context(|| format!("while reading snapshot {id}"))?;
    print(format, &detail, |detail| {
        let s = &detail.summary;
        let mut out = format!(
            "snapshot {} ({}), desired-state version {}, trigger {}, started {}\n",
            s.id,
            s.status,
            s.desired_version,
            s.trigger,
            s.started_at.readable()
        );
        let mut table = Table::new(["OUTCOME", "ACTION", "RESOURCE", "MESSAGE"]);
        for row in &detail.resources {
            table.row([
                row.outcome.clone(),
                row.action.clone(),
                row.path.clone(),
                or_dash(row.message.as_ref()),
            ]);
        }
        out.push_str(&table.render());
        out
    })
}

/// What changed in the cluster from snapshot `a` to `b`.
pub async fn diff(api: &ApiClient, a: i64, b: i64, format: OutputFormat) -> anyhow::Result<()> {
    let diff: SnapshotDiff = api
        .get(&format!("/api/v1/snapshots/diff?a={a}&b={b}"))
        .await
        .with_context(|| format!("while comparing snapshots {a} and {b}"))?;
    print(format, &diff, |diff| {
        let mut out = String::new();
        for path in &diff.added {
            out.push_str(&format!("+ {path}\n"));
        }
        for path in &diff.removed {
            out.push_str(&format!("- {path}\n"));
        }
        for changed in &diff.changed {
            out.push_str(&format!("~ {}\n", changed.path));
            for field in &changed.fields {
                let show = |v: &Option<serde_json::Value>| {
                    v.as_ref()
                        .map_or_else(|| "(none)".to_owned(), ToString::to_string)
                };
                out.push_str(&format!(
                    "    {}: {} -> {}\n",
                    field.pointer,
                    show(&field.before),
                    show(&field.after)
                ));
            }
        }
        if out.is_empty() {
            out.push_str("no differences\n");
        }
        out
    })
}

/// Restores what snapshot `snapshot` applied and applies it.
pub async fn rollback(api: &ApiClient, snapshot: i64) -> anyhow::Result<ExitCode> {
    let done: RollbackDone = api
        .post("/api/v1/rollback", &RollbackRequest { snapshot })
        .await
        .with_context(|| format!("while rolling back to snapshot {snapshot}"))?;
    println!(
        "rolled back to snapshot {snapshot}: desired-state version {}, applied by snapshot {} ({}: {} created, {} updated, {} deleted, {} failed)",
        done.desired_version,
        done.snapshot,
        done.status,
        done.counts.created,
        done.counts.updated,
        done.counts.deleted,
        done.counts.failed
    );
    if done.status == SnapshotStatus::Succeeded {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "bi: snapshot {} failed; `bi deploys show {}` lists what failed",
            done.snapshot, done.snapshot
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The orphans, one path a line.
pub async fn orphans(api: &ApiClient, format: OutputFormat) -> anyhow::Result<()> {
    let orphans: Vec<String> = api
        .get("/api/v1/orphans")
        .await
        .context("while listing orphans")?;
    print(format, &orphans, |orphans| {
        if orphans.is_empty() {
            return "no orphans: every managed object is desired or in bi's inventory\n".to_owned();
        }
        let mut out = String::new();
        for orphan in orphans {
            out.push_str(orphan);
            out.push('\n');
        }
        out.push_str(&format!(
            "{} orphan(s): `bi deploys orphans --prune` deletes them\n",
            orphans.len()
        ));
        out
    })
}

/// Deletes the orphans `paths` (all of them when empty); fails when the
/// cluster refused any.
pub async fn prune_orphans(
    api: &ApiClient,
    paths: Vec<String>,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let body = OrphanPrune {
        paths: (!paths.is_empty()).then_some(paths),
    };
    let pruned: OrphansPruned = api
        .post("/api/v1/orphans/prune", &body)
        .await
        .context("while pruning orphans")?;
    print(format, &pruned, |pruned| {
        let mut out = String::new();
        for path in &pruned.deleted {
            out.push_str(&format!("deleted {path}\n"));
        }
        for row in &pruned.refused {
            out.push_str(&format!(
                "{} {}: {}\n",
                row.outcome,
                row.path,
                or_dash(row.message.as_ref())
            ));
        }
        out.push_str(&format!(
            "snapshot {} ({}): {} orphan(s) deleted, {} not\n",
            pruned.snapshot,
            pruned.status,
            pruned.deleted.len(),
            pruned.refused.len()
        ));
        out
    })?;
    Ok(if pruned.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prunes the snapshot history.
pub async fn prune_history(
    api: &ApiClient,
    request: PruneRequest,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let report: PruneReport = api
        .post("/api/v1/snapshots/prune", &request)
        .await
        .context("while pruning the snapshot history")?;
    print(format, &report, |report| {
        if report.dry_run {
            format!(
                "would remove {} snapshot(s) and their {} row(s); {} kept\n",
                report.snapshots, report.rows, report.kept
            )
        } else {
            format!(
                "removed {} snapshot(s), {} row(s), {} inventory set(s) and {} resource bod(ies) no snapshot used; {} kept\n",
                report.snapshots, report.rows, report.sets, report.bodies, report.kept
            )
        }
    })
}

/// The newest desired-state changes.
pub async fn audit(api: &ApiClient, limit: usize, format: OutputFormat) -> anyhow::Result<()> {
    let mut entries: Vec<AuditEntry> = api
        .get("/api/v1/audit")
        .await
        .context("while reading the audit trail")?;
    entries.truncate(limit);
    print(format, &entries, |entries| {
        let mut table = Table::new(["VERSION", "WHEN", "WHO", "WHAT"]);
        for entry in entries {
            table.row([
                entry.version.to_string(),
                entry.created_at.readable_without_zone(),
                entry.author.clone(),
                entry.summary.clone(),
            ]);
        }
        table.render()
    })
}

/// Options of `bi plan`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PlanArgs {
    /// Exit 2 when a snapshot would change something, 0 when not.
    #[arg(long)]
    pub exit_code: bool,
    /// Also list the objects that would stay unchanged.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}
