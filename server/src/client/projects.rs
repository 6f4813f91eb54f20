//! `bi projects list|create|show|rename|delete`.

use anyhow::Context;
use bi_api::projects::{ProjectDetail, ProjectSummary};
use bi_model::objects::Project;

use super::ApiClient;
use super::output::{Table, or_dash, print};
use crate::client::output::OutputFormat;
use bi_api::audit::Changed;
use bi_api::projects::Rename;

/// Every project.
pub async fn list(api: &ApiClient, format: OutputFormat) -> anyhow::Result<()> {
    let projects: Vec<ProjectSummary> = api
        .get("/api/v1/projects")
        .await
        .context("while listing projects")?;
    print(format, &projects, |projects| {
        let mut table = Table::new(["PROJECT", "OBJECTS", "DESCRIPTION"]);
        for summary in projects {
            table.row([
                summary.project.name.clone(),
                summary.object_count.to_string(),
                summary.project.description.clone(),
            ]);
        }
        table.render()
    })
}

/// Creates a project.
pub async fn create(api: &ApiClient, name: &str, description: &str) -> anyhow::Result<()> {
    let changed: Changed = api
        .post(
            "/api/v1/projects",
            &Project {
                name: name.to_owned(),
                description: description.to_owned(),
            },
        )
        .await
        .with_context(|| format!("while creating project {name}"))?;
    println!(
        "created project {name} (desired-state version {})",
        changed.version
    );
    Ok(())
}

/// One project and its objects.
pub async fn show(api: &ApiClient, name: &str, format: OutputFormat) -> anyhow::Result<()> {
    let detail: ProjectDetail = api
        .get(&format!("/api/v1/projects/{name}"))
        .await
        .with_context(|| format!("while reading project {name}"))?;
    print(format, &detail, |detail| {
        let mut out = format!(
            "project:     {}\ndescription: {}\n",
            detail.project.name,
            or_dash(Some(&detail.project.description).filter(|d| !d.is_empty()))
        );
        let mut table = Table::new(["KIND", "NAME"]);
        for object in &detail.objects {
            table.row([object.kind.id().to_owned(), object.name.clone()]);
        }
        out.push_str(&table.render());
        out
    })
}

/// Renames a project.
pub async fn rename(api: &ApiClient, name: &str, new_name: &str) -> anyhow::Result<()> {
    let changed: Changed = api
        .post(
            &format!("/api/v1/projects/{name}/rename"),
            &Rename {
                new_name: new_name.to_owned(),
                // NB: a rename read nothing first; the server renames what
                // it has in one step, so there is no older read to guard.
                expected_version: None,
            },
        )
        .await
        .with_context(|| format!("while renaming project {name}"))?;
    println!(
        "renamed project {name} to {new_name} (desired-state version {})",
        changed.version
    );
    Ok(())
}

/// Deletes a project.
pub async fn delete(api: &ApiClient, name: &str, cascade: bool) -> anyhow::Result<()> {
    let changed: Changed = api
        .delete(&format!("/api/v1/projects/{name}?cascade={cascade}"))
        .await
        .with_context(|| format!("while deleting project {name}"))?;
    println!(
        "deleted project {name} (desired-state version {})",
        changed.version
    );
    Ok(())
}
