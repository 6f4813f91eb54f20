//! `bi export`: the resources bi generates for a desired state, as YAML.

use std::io::Write;

use anyhow::{Context, bail};
use bi_model::catalog::BatteryKind;
use bi_model::generate::{DesiredState, Secrets, generate, to_yaml_stream};

use crate::cli::ExportArgs;

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
    out.write_all(yaml.as_bytes())
        .context("while writing the output")?;
    Ok(())
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
