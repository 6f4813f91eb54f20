//! Minimal OpenAPI v3 documents (`/openapi/v3`, `/openapi/v3/apis/{g}/{v}`).
//!
//! They carry no schemas: only, per resource, a PATCH operation tagged with
//! its group/version/kind that lists the `fieldValidation` query parameter.
//! That is what kubectl (1.27+) looks for to decide that the server validates
//! fields itself; without it, `kubectl apply` insists on downloading schemas
//! for client-side validation and fails. The sandbox accepts `fieldValidation`
//! and does not validate fields (it stores what it is given).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value, json};

use super::discovery::Kinds;

/// `/openapi/v3`: one entry per served group/version, with a content hash so
/// clients that cache by URL see changes (a new CRD).
pub(crate) fn root(kinds: &Kinds) -> Value {
    let mut paths = Map::new();
    for (group, version) in kinds.group_versions() {
        let prefix = prefix(&group, &version);
        let hash = hash(&document(kinds, &group, &version).unwrap_or(Value::Null));
        paths.insert(
            prefix.trim_start_matches('/').to_owned(),
            json!({ "serverRelativeURL": format!("/openapi/v3{prefix}?hash={hash:016X}") }),
        );
    }
    json!({ "paths": paths })
}

/// The document of one group/version, if served.
pub(crate) fn document(kinds: &Kinds, group: &str, version: &str) -> Option<Value> {
    let resources = kinds.resources_of(group, version);
    if resources.is_empty() {
        return None;
    }
    let prefix = prefix(group, version);
    let mut paths = Map::new();
    for rt in resources {
        let path = if rt.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", rt.plural)
        } else {
            format!("{prefix}/{}/{{name}}", rt.plural)
        };
        paths.insert(
            path,
            json!({
                "patch": {
                    "operationId": format!("patch{}", rt.kind),
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": { "group": rt.group, "version": rt.version, "kind": rt.kind },
                    "parameters": [
                        { "name": "dryRun", "in": "query", "schema": { "type": "string" } },
                        { "name": "fieldManager", "in": "query", "schema": { "type": "string" } },
                        { "name": "fieldValidation", "in": "query", "schema": { "type": "string" } },
                        { "name": "force", "in": "query", "schema": { "type": "boolean" } },
                    ],
                    "responses": { "200": { "description": "OK" } },
                },
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes (bi sandbox: no schemas)", "version": "v1.33.0" },
        "paths": paths,
        "components": { "schemas": {} },
    }))
}

fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

fn hash(document: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    document.to_string().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_advertise_field_validation_per_kind() {
        let kinds = Kinds::builtin();
        let root = root(&kinds);
        assert!(
            root["paths"]["apis/apps/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/apis/apps/v1?hash=")
        );
        let doc = document(&kinds, "apps", "v1").unwrap();
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        assert!(document(&kinds, "nope", "v1").is_none());
    }
}
