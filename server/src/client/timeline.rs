//! `bi timeline`: what happened in the cluster and in bi; `bi deleted`:
//! the archive of deleted objects; `bi undelete ID`: bring one back.

use anyhow::Context;
use bi_api::timeline::{DeletedDetail, DeletedList, TimelinePage, Undeleted};

use super::api::ApiClient;
use super::output::{OutputArgs, OutputFormat, Table, print};

/// `bi timeline`: the newest entries first, narrowed by the options.
#[derive(Debug, clap::Args)]
pub struct TimelineArgs {
    /// Only entries about this battery (a user object's count for its battery).
    #[arg(long)]
    pub battery: Option<String>,
    /// Only entries about this project's objects.
    #[arg(long)]
    pub project: Option<String>,
    /// Only entries about objects of this Kubernetes kind (`Deployment`).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only this category: event, change, snapshot, drift, deletion, undelete.
    #[arg(long)]
    pub category: Option<String>,
    /// Only warnings.
    #[arg(long)]
    pub warnings: bool,
    /// Only entries whose reason, message, name or namespace contains this.
    #[arg(long, short)]
    pub search: Option<String>,
    /// At most this many entries (1–500).
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    /// Entries older than the entry of this number (the next page).
    #[arg(long)]
    pub before: Option<i64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `bi deleted`: the archive; `bi deleted ID` shows one with its last body.
#[derive(Debug, clap::Args)]
pub struct DeletedArgs {
    /// The archived object's number (none: list the archive).
    pub id: Option<i64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `bi undelete ID`.
#[derive(Debug, clap::Args)]
pub struct UndeleteArgs {
    /// The archived object's number (`bi deleted` lists them).
    pub id: i64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `bi timeline`.
pub async fn timeline(api: &ApiClient, args: TimelineArgs) -> anyhow::Result<()> {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("battery", &args.battery),
        ("project", &args.project),
        ("kind", &args.kind),
        ("category", &args.category),
        ("search", &args.search),
    ] {
        if let Some(value) = value {
            query.append_pair(key, value);
        }
    }
    if args.warnings {
        query.append_pair("warnings", "true");
    }
    if let Some(before) = args.before {
        query.append_pair("before", &before.to_string());
    }
    query.append_pair("limit", &args.limit.to_string());
    let page: TimelinePage = api
        .get(&format!("/api/v1/timeline?{}", query.finish()))
        .await
        .context("while reading the timeline")?;
    print(args.output.output, &page, |page| {
        let mut out = String::new();
        if !page.recording {
            out.push_str(
                "not recording: install the timeline battery (`bi batteries install timeline`)\n",
            );
        }
        let mut table = Table::new([
            "#", "WHEN", "WHAT", "BATTERY", "PROJECT", "OBJECT", "MESSAGE",
        ]);
        for entry in &page.entries {
            let object = match (&entry.kind, &entry.namespace, &entry.name) {
                (Some(kind), Some(namespace), Some(name)) => format!("{kind} {namespace}/{name}"),
                (Some(kind), None, Some(name)) => format!("{kind} {name}"),
                _ => "-".to_owned(),
            };
            let count = if entry.count > 1 {
                format!(" (x{})", entry.count)
            } else {
                String::new()
            };
            table.row([
                entry.id.to_string(),
                entry.at.readable(),
                format!(
                    "{}{} {}",
                    if entry.warning { "! " } else { "" },
                    entry.category,
                    entry.reason
                ),
                entry.battery.clone().unwrap_or_else(|| "-".to_owned()),
                entry.project.clone().unwrap_or_else(|| "-".to_owned()),
                object,
                format!("{}{count}", entry.message),
            ]);
        }
        out.push_str(&table.render());
        if let Some(before) = page.next_before {
            out.push_str(&format!("older: bi timeline --before {before}\n"));
        }
        out
    })
}

/// Runs `bi deleted [ID]`.
pub async fn deleted(api: &ApiClient, args: DeletedArgs) -> anyhow::Result<()> {
    if let Some(id) = args.id {
        let detail: DeletedDetail = api
            .get(&format!("/api/v1/deleted/{id}"))
            .await
            .context("while reading the archived object")?;
        return print(args.output.output, &detail, |detail| {
            let object = &detail.object;
            format!(
                "object:   {}\napp:      {}\ndeleted:  {} by {}{}\nstate:    {}\n---\n{}",
                object.path,
                object.app,
                object.deleted_at.readable(),
                object.deleted_by,
                object
                    .snapshot
                    .map(|s| format!(" (snapshot {s})"))
                    .unwrap_or_default(),
                state(object),
                detail.yaml
            )
        });
    }
    let list: DeletedList = api
        .get("/api/v1/deleted")
        .await
        .context("while reading the archive")?;
    show_list(args.output.output, &list)
}

fn state(object: &bi_api::timeline::DeletedObject) -> String {
    match (&object.undeleted_by, &object.restored) {
        (Some(who), Some(how)) => format!("restored by {who} ({how})"),
        (Some(who), None) => format!("restored by {who}"),
        _ if object.desired => "deleted; bi still wants it (undelete runs a snapshot)".to_owned(),
        _ => "deleted".to_owned(),
    }
}

fn show_list(format: OutputFormat, list: &DeletedList) -> anyhow::Result<()> {
    print(format, list, |list| {
        if list.objects.is_empty() {
            return "nothing bi managed has been deleted\n".to_owned();
        }
        let mut table = Table::new(["#", "OBJECT", "APP", "DELETED", "BY", "STATE"]);
        for object in &list.objects {
            table.row([
                object.id.to_string(),
                object.path.clone(),
                object.app.clone(),
                object.deleted_at.readable(),
                match object.snapshot {
                    Some(snapshot) => format!("bi (snapshot {snapshot})"),
                    None => object.deleted_by.clone(),
                },
                state(object),
            ]);
        }
        table.render()
    })
}

/// Runs `bi undelete ID`.
pub async fn undelete(api: &ApiClient, args: UndeleteArgs) -> anyhow::Result<()> {
    let done: Undeleted = api
        .post(
            &format!("/api/v1/deleted/{}/undelete", args.id),
            &serde_json::Value::Null,
        )
        .await
        .with_context(|| format!("while undeleting {}", args.id))?;
    print(args.output.output, &done, |done| {
        format!("{}\n", done.message)
    })
}
