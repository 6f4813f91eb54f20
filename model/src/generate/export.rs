//! `bi export`: the generated resources as one multi-document YAML stream,
//! in apply order (namespaces and CRDs first), ready for `kubectl apply -f -`.

use super::error::GenerateError;
use super::resource::Resource;

/// Renders `resources` (already in apply order, as `generate` returns them)
/// as YAML documents separated by `---`.
pub fn to_yaml_stream(resources: &[Resource]) -> Result<String, GenerateError> {
    let mut out = String::new();
    for resource in resources {
        let yaml = serde_yaml_ng::to_string(&resource.body)
            .map_err(|err| GenerateError::Malformed(format!("{}: {err}", resource.path)))?;
        out.push_str("---\n");
        out.push_str(&yaml);
    }
    Ok(out)
}
