//! The operators' own CRDs, shipped verbatim from `third_party/upstream`.
//!
//! An operator depends on its CRDs (defaults, validation, printer columns,
//! subresources, versions), so bi applies upstream's files unchanged but for
//! its own labels and two annotations naming the source. They are large
//! (megabytes for some operators), and the browser's live preview runs the
//! generators too, so the bodies are compiled in only with the feature
//! `upstream-crds` (the server's); without it a CRD is a small stub naming
//! its source and checksum.
//!
//! Either way a CRD's content hash is the stub's: the stub names the file by
//! its sha256, which `third_party/upstream/SOURCES.tsv` records and a test
//! checks, so equal hashes mean equal bodies, and the browser plans CRDs
//! exactly as the server does.

#[cfg(feature = "upstream-crds")]
use serde_json::Value;
use serde_json::json;

use super::error::GenerateError;
use super::resource::Resource;

/// The annotation naming where a verbatim object comes from.
pub const UPSTREAM_ANNOTATION: &str = "battery/upstream";
/// The annotation carrying the sha256 of that upstream file.
pub const UPSTREAM_SHA256_ANNOTATION: &str = "battery/upstream-sha256";

/// One upstream CRD file (one CRD per file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamCrd {
    /// The CRD's `metadata.name` (`gateways.gateway.networking.k8s.io`).
    pub name: &'static str,
    /// The folder under `third_party/upstream` (`gateway-api`).
    pub operator: &'static str,
    /// The pinned version (`v1.4.0`).
    pub version: &'static str,
    /// The file's path in the upstream repository.
    pub path: &'static str,
    /// The file's sha256, as `SOURCES.tsv` records it.
    pub sha256: &'static str,
    /// The file itself.
    #[cfg(feature = "upstream-crds")]
    pub yaml: &'static str,
}

/// An [`UpstreamCrd`] of `third_party/upstream/<operator>/<version>/<path>`.
#[macro_export]
macro_rules! upstream_crd {
    ($name:literal, $operator:literal, $version:literal, $path:literal, $sha256:literal) => {
        $crate::generate::UpstreamCrd {
            name: $name,
            operator: $operator,
            version: $version,
            path: $path,
            sha256: $sha256,
            #[cfg(feature = "upstream-crds")]
            yaml: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../third_party/upstream/",
                $operator,
                "/",
                $version,
                "/",
                $path
            )),
        }
    };
}

impl UpstreamCrd {
    /// `gateway-api v1.4.0 config/crd/standard/…yaml`.
    pub fn source(&self) -> String {
        format!("{} {} {}", self.operator, self.version, self.path)
    }

    /// The CRD as upstream ships it: the file's one document, or, in a
    /// file of several (Istio's `crd-all.gen.yaml`, VictoriaMetrics'
    /// `crd.yaml`), the one named [`Self::name`].
    #[cfg(feature = "upstream-crds")]
    pub fn body(&self) -> Result<Value, GenerateError> {
        let documents = parsed(self)?;
        fn named(doc: &Value) -> Option<&str> {
            doc.pointer("/metadata/name").and_then(Value::as_str)
        }
        match documents.iter().find(|doc| named(doc) == Some(self.name)) {
            Some(body) => Ok(body.clone()),
            None => Err(GenerateError::Malformed(format!(
                "{}: names the CRDs {:?}, not {}",
                self.source(),
                documents.iter().filter_map(named).collect::<Vec<_>>(),
                self.name
            ))),
        }
    }

    /// The `openAPIV3Schema` of `version`, for checking custom resources
    /// against the operator's own schema.
    #[cfg(feature = "upstream-crds")]
    pub fn schema(&self, version: &str) -> Option<Value> {
        let body = self.body().ok()?;
        body.pointer("/spec/versions")?
            .as_array()?
            .iter()
            .find(|v| v.get("name").and_then(Value::as_str) == Some(version))?
            .pointer("/schema/openAPIV3Schema")
            .cloned()
    }

    /// The resource `app` applies: upstream's body (or, without the
    /// `upstream-crds` feature, the stub) with bi's labels and annotations,
    /// hashed as the stub.
    pub fn resource(&self, app: &str) -> Result<Resource, GenerateError> {
        let stub = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": self.name,
                "annotations": {
                    UPSTREAM_ANNOTATION: self.source(),
                    UPSTREAM_SHA256_ANNOTATION: self.sha256,
                },
            },
        });
        let stub = Resource::from_value(app, stub)?;
        self.with_body(stub)
    }

    #[cfg(feature = "upstream-crds")]
    fn with_body(&self, stub: Resource) -> Result<Resource, GenerateError> {
        let mut body = self.body()?;
        let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(GenerateError::Malformed(format!(
                "{}: no metadata",
                self.source()
            )));
        };
        for key in ["labels", "annotations"] {
            let Some(ours) = stub.body.pointer(&format!("/metadata/{key}")) else {
                continue;
            };
            let theirs = metadata
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let (Some(theirs), Some(ours)) = (theirs.as_object_mut(), ours.as_object()) {
                for (name, value) in ours {
                    theirs.insert(name.clone(), value.clone());
                }
            }
        }
        Ok(Resource { body, ..stub })
    }

    #[cfg(not(feature = "upstream-crds"))]
    fn with_body(&self, stub: Resource) -> Result<Resource, GenerateError> {
        Ok(stub)
    }
}

/// The documents of an upstream file, parsed once per process: some files
/// are megabytes and every generation reads them.
#[cfg(feature = "upstream-crds")]
fn parsed(crd: &UpstreamCrd) -> Result<std::sync::Arc<Vec<Value>>, GenerateError> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex, PoisonError};

    use serde::Deserialize;

    type Cache = Mutex<HashMap<(&'static str, &'static str, &'static str), Arc<Vec<Value>>>>;
    static CACHE: LazyLock<Cache> = LazyLock::new(Cache::default);

    let key = (crd.operator, crd.version, crd.path);
    if let Some(documents) = CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(documents.clone());
    }
    let mut documents = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(crd.yaml) {
        let value = Value::deserialize(document)
            .map_err(|err| GenerateError::Malformed(format!("{}: {err}", crd.source())))?;
        // NB: `---` at the start or end of a file is an empty document.
        if !value.is_null() {
            documents.push(value);
        }
    }
    let documents = Arc::new(documents);
    CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, documents.clone());
    Ok(documents)
}

#[cfg(all(test, feature = "upstream-crds"))]
mod tests {
    use super::*;

    fn crd(name: &'static str) -> UpstreamCrd {
        UpstreamCrd {
            name,
            operator: "test",
            version: "v1",
            path: "two.yaml",
            sha256: "0",
            yaml: "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
                   metadata:\n  name: as.example.com\nspec:\n  group: example.com\n\
                   ---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
                   metadata:\n  name: bs.example.com\nspec:\n  group: example.com\n---\n",
        }
    }

    #[test]
    fn a_file_of_several_crds_gives_the_one_named() {
        let body = crd("bs.example.com").body().unwrap();
        assert_eq!(body["metadata"]["name"], "bs.example.com");
        let resource = crd("as.example.com").resource("test").unwrap();
        assert_eq!(resource.body["metadata"]["name"], "as.example.com");
        assert_eq!(resource.body["spec"]["group"], "example.com");
    }

    #[test]
    fn a_name_the_file_lacks_is_an_error_naming_what_it_has() {
        let err = crd("cs.example.com").body().unwrap_err().to_string();
        assert!(
            err.contains("as.example.com") && err.contains("bs.example.com"),
            "{err}"
        );
        assert!(err.contains("cs.example.com"), "{err}");
    }
}
