//! `bi export`: the resources bi generates for a desired state, as YAML
//! that `kubectl apply` accepts: the running server's current desired state
//! (`GET /api/v1/export`), or offline from `--battery`/`--state`. One
//! stream on stdout, or with `-d DIR` one file per resource, numbered in
//! apply order so that `kubectl apply -f DIR` keeps it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bi_model::catalog::BatteryKind;
use bi_model::generate::{DesiredState, Secrets, generate, to_yaml_stream};

use crate::client::ApiClient;

/// Reads the desired state the arguments name, generates, and writes YAML to `out`.
pub fn run(args: &ExportArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let state = match &args.state {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("while reading {}", path.display()))?;
            serde_json::from_str::<DesiredState>(&text).with_context(|| {
                format!("while decoding the desired state in {}", path.display())
            })?
        }
        None => {
            let mut kinds = vec![BatteryKind::BatteryCore];
            for id in &args.battery {
                kinds.push(id.parse::<BatteryKind>().context("--battery")?);
            }
            DesiredState::with_batteries(&kinds).context("--battery")?
        }
    };
    let mut problems = Vec::new();
    for config in state.batteries.values() {
        if let Err(found) = config.validate() {
            problems.push(format!("{}: {found}", config.kind()));
        }
    }
    if !problems.is_empty() {
        bail!("the desired state is invalid:\n  {}", problems.join("\n  "));
    }
    let resources = generate(&state, Secrets::Preview).context("while generating resources")?;
    let yaml = to_yaml_stream(&resources).context("while rendering YAML")?;
    write(&yaml, args.dir.as_deref(), out)
}

/// Fetches the running server's desired resources and writes them.
pub async fn from_server(api: &ApiClient, args: &ExportArgs) -> anyhow::Result<()> {
    let yaml = api
        .get_text("/api/v1/export")
        .await
        .context("while exporting the desired state")?;
    write(&yaml, args.dir.as_deref(), &mut std::io::stdout())
}

/// Writes a YAML stream to `out`, or split into `dir`, one file per document.
fn write(yaml: &str, dir: Option<&Path>, out: &mut impl Write) -> anyhow::Result<()> {
    let Some(dir) = dir else {
        return out
            .write_all(yaml.as_bytes())
            .context("while writing the output");
    };
    std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    let documents = split_documents(yaml);
    for (index, document) in documents.iter().enumerate() {
        let name = file_name(index, document)?;
        let path = dir.join(name);
        std::fs::write(&path, document)
            .with_context(|| format!("while writing {}", path.display()))?;
    }
    writeln!(
        out,
        "wrote {} resources to {}",
        documents.len(),
        dir.display()
    )
    .context("while writing the output")
}

/// The documents of a `---`-separated stream, each starting with `---`.
fn split_documents(yaml: &str) -> Vec<String> {
    let mut documents: Vec<String> = Vec::new();
    for line in yaml.lines() {
        if line == "---" {
            documents.push(String::from("---\n"));
        } else if let Some(current) = documents.last_mut() {
            current.push_str(line);
            current.push('\n');
        } else {
            documents.push(format!("---\n{line}\n"));
        }
    }
    documents.retain(|document| document.trim() != "---");
    documents
}

/// `007-deployment-bi-core-control-server.yaml`: apply order, kind, namespace, name.
fn file_name(index: usize, document: &str) -> anyhow::Result<String> {
    let body: serde_json::Value = serde_yaml_ng::from_str(document)
        .with_context(|| format!("while reading resource {} of the export", index + 1))?;
    let text = |pointer: &str| {
        body.pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    };
    let parts: Vec<String> = [
        text("/kind"),
        text("/metadata/namespace"),
        text("/metadata/name"),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .map(|part| {
        part.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    })
    .collect();
    Ok(format!("{:03}-{}.yaml", index + 1, parts.join("-")))
}

/// Options of `bi export`.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ExportArgs {
    /// Offline: a desired state as JSON (batteries with configs, projects, objects).
    #[arg(long, value_name = "FILE", conflicts_with = "battery")]
    pub state: Option<PathBuf>,
    /// Offline: batteries to install (with their dependencies) with default
    /// configs, e.g. `--battery grafana --battery redis`.
    #[arg(long, value_name = "ID")]
    pub battery: Vec<String>,
    /// Without a server: battery_core and the --battery ones (implied by
    /// --battery and --state).
    #[arg(long)]
    pub offline: bool,
    /// Write one file per resource into this directory (numbered in apply
    /// order) instead of one stream on stdout.
    #[arg(short = 'd', long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_the_named_batteries_with_their_dependencies() {
        let args = ExportArgs {
            battery: vec!["sso".into()],
            ..ExportArgs::default()
        };
        let mut out = Vec::new();
        run(&args, &mut out).unwrap();
        let yaml = String::from_utf8(out).unwrap();
        assert!(
            yaml.starts_with("---\napiVersion: v1\nkind: Namespace\n"),
            "{yaml}"
        );
        for app in [
            "battery/app: battery_core",
            "battery/app: keycloak",
            "battery/app: sso",
        ] {
            assert!(yaml.contains(app), "{app} missing");
        }
    }

    #[test]
    fn a_directory_export_writes_one_numbered_file_per_resource() {
        let dir = tempfile::tempdir().unwrap();
        let args = ExportArgs {
            dir: Some(dir.path().join("out")),
            ..ExportArgs::default()
        };
        let mut stream = Vec::new();
        run(&ExportArgs::default(), &mut stream).unwrap();
        let stream = String::from_utf8(stream).unwrap();
        run(&args, &mut Vec::new()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), stream.matches("---\n").count());
        assert!(names[0].starts_with("001-namespace-"), "{names:?}");
        let joined: String = names
            .iter()
            .map(|name| std::fs::read_to_string(dir.path().join("out").join(name)).unwrap())
            .collect();
        assert_eq!(joined, stream);
    }

    #[test]
    fn an_unknown_battery_is_refused_by_name() {
        let args = ExportArgs {
            battery: vec!["postgress".into()],
            ..ExportArgs::default()
        };
        let err = run(&args, &mut Vec::new()).unwrap_err();
        assert!(
            format!("{err:#}").contains(r#"unknown battery "postgress""#),
            "{err:#}"
        );
    }
}
