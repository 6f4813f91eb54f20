//! Reading a Kubernetes API URL path: discovery documents, or a resource
//! collection / object / subresource, namespaced or cluster-scoped.
//!
//! Only the shape is read here; whether the plural names a served resource
//! (and whether it is namespaced) is decided against the kinds in the store.

/// What a request path points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiPath {
    /// `/version`.
    Version,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    Resources {
        /// API group ("" for core).
        group: String,
        /// Version.
        version: String,
    },
    /// `/openapi/v3`: the index of OpenAPI v3 documents.
    OpenApiRoot,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`.
    OpenApi {
        /// API group ("" for core).
        group: String,
        /// Version.
        version: String,
    },
    /// A collection, an object or an object's subresource.
    Resource(ResourcePath),
    /// `/openapi/v2`, `/healthz` and the like: not Kubernetes resources.
    Other,
}

/// A collection (`name` None) or an object of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourcePath {
    /// API group ("" for core).
    pub(crate) group: String,
    /// Version.
    pub(crate) version: String,
    /// Namespace from `namespaces/{ns}/…`, if any.
    pub(crate) namespace: Option<String>,
    /// Plural resource name.
    pub(crate) plural: String,
    /// Object name, if the path names one.
    pub(crate) name: Option<String>,
    /// Subresource such as `status`.
    pub(crate) subresource: Option<String>,
}

impl ApiPath {
    /// Reads a URL path (without the query).
    pub(crate) fn parse(path: &str) -> Self {
        let decoded: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
        match segments.as_slice() {
            ["version"] => Self::Version,
            ["api"] => Self::CoreVersions,
            ["apis"] => Self::Groups,
            ["apis", group] => Self::Group((*group).to_owned()),
            ["api", version] => Self::Resources {
                group: String::new(),
                version: (*version).to_owned(),
            },
            ["apis", group, version] => Self::Resources {
                group: (*group).to_owned(),
                version: (*version).to_owned(),
            },
            ["openapi", "v3"] => Self::OpenApiRoot,
            ["openapi", "v3", "api", version] => Self::OpenApi {
                group: String::new(),
                version: (*version).to_owned(),
            },
            ["openapi", "v3", "apis", group, version] => Self::OpenApi {
                group: (*group).to_owned(),
                version: (*version).to_owned(),
            },
            ["api", version, rest @ ..] => resource("", version, rest),
            ["apis", group, version, rest @ ..] => resource(group, version, rest),
            _ => Self::Other,
        }
    }
}

fn resource(group: &str, version: &str, rest: &[&str]) -> ApiPath {
    let path = |namespace: Option<&str>, plural: &str, name: Option<&str>, sub: Option<&str>| {
        ApiPath::Resource(ResourcePath {
            group: group.to_owned(),
            version: version.to_owned(),
            namespace: namespace.map(str::to_owned),
            plural: plural.to_owned(),
            name: name.map(str::to_owned),
            subresource: sub.map(str::to_owned),
        })
    };
    // NB: `/api/v1/namespaces/{name}/status` is the Namespace's own subresource,
    // not a resource called "status" inside it.
    let namespace_subresource =
        group.is_empty() && rest.len() == 3 && matches!(rest[2], "status" | "finalize");
    match rest {
        ["namespaces", name, sub] if namespace_subresource => {
            path(None, "namespaces", Some(name), Some(sub))
        }
        ["namespaces", namespace, plural] => path(Some(namespace), plural, None, None),
        ["namespaces", namespace, plural, name] => path(Some(namespace), plural, Some(name), None),
        ["namespaces", namespace, plural, name, sub] => {
            path(Some(namespace), plural, Some(name), Some(sub))
        }
        [plural] => path(None, plural, None, None),
        [plural, name] => path(None, plural, Some(name), None),
        [plural, name, sub] => path(None, plural, Some(name), Some(sub)),
        _ => ApiPath::Other,
    }
}

/// Decodes `%XX` escapes (clients escape `:` in RBAC names, for instance).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| segment.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource_path(path: &str) -> ResourcePath {
        match ApiPath::parse(path) {
            ApiPath::Resource(rp) => rp,
            other => panic!("{path} parsed as {other:?}"),
        }
    }

    #[test]
    fn parses_discovery_paths() {
        assert_eq!(ApiPath::parse("/version"), ApiPath::Version);
        assert_eq!(ApiPath::parse("/api"), ApiPath::CoreVersions);
        assert_eq!(ApiPath::parse("/apis/"), ApiPath::Groups);
        assert_eq!(ApiPath::parse("/apis/apps"), ApiPath::Group("apps".into()));
        assert_eq!(
            ApiPath::parse("/api/v1"),
            ApiPath::Resources {
                group: String::new(),
                version: "v1".into()
            }
        );
        assert_eq!(
            ApiPath::parse("/apis/apps/v1"),
            ApiPath::Resources {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        assert_eq!(ApiPath::parse("/openapi/v2"), ApiPath::Other);
        assert_eq!(ApiPath::parse("/openapi/v3"), ApiPath::OpenApiRoot);
        assert_eq!(
            ApiPath::parse("/openapi/v3/apis/apps/v1"),
            ApiPath::OpenApi {
                group: "apps".into(),
                version: "v1".into()
            }
        );
    }

    #[test]
    fn parses_namespaced_object_and_status() {
        let rp = resource_path("/apis/apps/v1/namespaces/shop/deployments/web/status");
        assert_eq!(rp.group, "apps");
        assert_eq!(rp.namespace.as_deref(), Some("shop"));
        assert_eq!(rp.plural, "deployments");
        assert_eq!(rp.name.as_deref(), Some("web"));
        assert_eq!(rp.subresource.as_deref(), Some("status"));
    }

    #[test]
    fn a_namespace_path_is_the_namespace_object() {
        let rp = resource_path("/api/v1/namespaces/shop");
        assert_eq!(rp.plural, "namespaces");
        assert_eq!(rp.name.as_deref(), Some("shop"));
        assert_eq!(rp.namespace, None);
        let rp = resource_path("/api/v1/namespaces/shop/status");
        assert_eq!(rp.plural, "namespaces");
        assert_eq!(rp.subresource.as_deref(), Some("status"));
        let rp = resource_path("/api/v1/namespaces/shop/configmaps");
        assert_eq!(rp.plural, "configmaps");
        assert_eq!(rp.namespace.as_deref(), Some("shop"));
        assert_eq!(rp.name, None);
    }

    #[test]
    fn parses_cluster_scoped_collections() {
        let rp = resource_path("/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
        assert_eq!(rp.plural, "customresourcedefinitions");
        assert_eq!(rp.namespace, None);
        assert_eq!(rp.name, None);
        let rp = resource_path("/api/v1/nodes/sandbox-node-1");
        assert_eq!(rp.name.as_deref(), Some("sandbox-node-1"));
        let rp = resource_path("/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aview");
        assert_eq!(rp.name.as_deref(), Some("system:view"));
    }
}
