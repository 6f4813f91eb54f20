//! Which resource types the cluster serves: `(apiVersion, kind)` resolved
//! through discovery to the `ApiResource` (plural, scope) the dynamic client
//! needs, cached for one snapshot.

use std::collections::HashMap;

use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope, pinned_kind};

use bi_model::generate::ResourcePath;

use crate::error::{Error, Result};

/// Resolves resource types for one snapshot.
pub(crate) struct Kinds {
    client: Client,
    served: HashMap<(String, String), (ApiResource, ApiCapabilities)>,
}

impl Kinds {
    /// An empty cache over `client`.
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            served: HashMap::new(),
        }
    }

    /// The client the types are resolved with.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The type of `api_version`/`kind`, or None when the cluster does not
    /// serve it (yet: its CRD may be created later in the snapshot).
    pub(crate) async fn resolve(
        &mut self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<(ApiResource, ApiCapabilities)>> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self.served.get(&key) {
            return Ok(Some(found.clone()));
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        match pinned_kind(&self.client, &gvk).await {
            Ok(found) => {
                // NB: only what is served is cached; an unserved type is
                // asked again, since a CRD applied meanwhile may serve it.
                self.served.insert(key, found.clone());
                Ok(Some(found))
            }
            Err(err) if is_not_served(&err) => Ok(None),
            Err(source) => Err(Error::Cluster {
                action: format!("discovering {api_version} {kind}"),
                source,
            }),
        }
    }

    /// The dynamic API of `path`'s object, or None when its type is not served.
    pub(crate) async fn api_for(
        &mut self,
        path: &ResourcePath,
    ) -> Result<Option<Api<DynamicObject>>> {
        let Some((resource, capabilities)) = self.resolve(&path.api_version, &path.kind).await?
        else {
            return Ok(None);
        };
        Ok(Some(self.api_of(&resource, &capabilities, path)))
    }

    /// The dynamic API of `path`'s object, of a type already resolved.
    pub(crate) fn api_of(
        &self,
        resource: &ApiResource,
        capabilities: &ApiCapabilities,
        path: &ResourcePath,
    ) -> Api<DynamicObject> {
        match (&capabilities.scope, &path.namespace) {
            (Scope::Namespaced, Some(namespace)) => {
                Api::namespaced_with(self.client.clone(), namespace, resource)
            }
            _ => Api::all_with(self.client.clone(), resource),
        }
    }
}

/// Whether discovery failed because the group, version or kind is not served.
// NB: a real API server answers an unknown group version with a plain-text
// `404 page not found`, which the client turns into a Status with code 404
// but no NotFound reason (`Status::is_not_found` misses it).
pub(crate) fn is_not_served(err: &kube::Error) -> bool {
    match err {
        kube::Error::Discovery(_) => true,
        kube::Error::Api(status) => status.is_not_found() || status.code == 404,
        _ => false,
    }
}
