//! The kubeconfig the sandbox writes for itself (`<data-dir>/sandbox.kubeconfig`),
//! so kubectl and any other client can reach it: cluster, user and context are
//! all called `bi-sandbox`, and there are no credentials (the sandbox only
//! listens on loopback).

use std::path::Path;

use serde_json::json;

use super::error::SandboxError;

/// The name of the cluster, user and context.
pub(crate) const NAME: &str = "bi-sandbox";

/// The kubeconfig YAML for a sandbox at `url`.
pub(crate) fn render(url: &str) -> Result<String, serde_yaml_ng::Error> {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": NAME, "cluster": { "server": url } }],
        "users": [{ "name": NAME, "user": {} }],
        "contexts": [{
            "name": NAME,
            "context": { "cluster": NAME, "user": NAME, "namespace": "default" },
        }],
        "current-context": NAME,
        "preferences": {},
    });
    let yaml = serde_yaml_ng::to_string(&config)?;
    Ok(format!(
        "# bi sandbox cluster at {url}: a stand-in API server; nothing runs in it, objects are only stored.\n{yaml}"
    ))
}

/// Writes the kubeconfig to `path` (temp file + rename).
pub(crate) fn write(path: &Path, url: &str) -> Result<(), SandboxError> {
    let yaml = render(url).map_err(|e| SandboxError::Persist {
        path: path.to_owned(),
        reason: format!("cannot render the kubeconfig: {e}"),
    })?;
    let temp = path.with_extension("kubeconfig.tmp");
    std::fs::write(&temp, yaml).map_err(|source| SandboxError::Io {
        path: temp.clone(),
        source,
    })?;
    std::fs::rename(&temp, path).map_err(|source| SandboxError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_points_at_the_sandbox() {
        let yaml = render("http://127.0.0.1:4000").unwrap();
        let config: serde_json::Value = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(config["current-context"], NAME);
        assert_eq!(
            config["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:4000"
        );
        assert!(yaml.starts_with("# bi sandbox cluster"));
    }
}
