//! Server functions of the Kubernetes explorer (roles in [`super::ACCESS`]):
//! kinds, a kind's objects, one object; all from the cluster cache.

pub use bi_api::explorer::{ExplorerQuery, KindRow, ObjectDetail, ObjectList, ObjectRow};

use leptos::prelude::*;

use crate::ApiError;

/// Every kind the explorer shows, with its objects counted.
#[server(prefix = "/api", endpoint = "explorer/kinds", client = crate::csrf::Client)]
pub async fn explorer_kinds() -> Result<Vec<KindRow>, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::explorer::kinds(&crate::api::database()?, reconciler.engine().cache()).await?)
}

/// A kind's objects that match the query's filters.
#[server(prefix = "/api", endpoint = "explorer/list", client = crate::csrf::Client)]
pub async fn explorer_objects(query: ExplorerQuery) -> Result<ObjectList, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::explorer::list(
        &crate::api::database()?,
        reconciler.engine().cache(),
        &query,
    )
    .await?)
}

/// One object in full (`apps/v1/Deployment/ns/name`).
#[server(prefix = "/api", endpoint = "explorer/object", client = crate::csrf::Client)]
pub async fn explorer_object(path: String) -> Result<ObjectDetail, ApiError> {
    let path = bi_control::explorer::parse_path(&path)?;
    let reconciler = crate::api::reconciler()?;
    Ok(
        bi_control::explorer::object(&crate::api::database()?, reconciler.engine().cache(), &path)
            .await?,
    )
}

pub use bi_api::explorer::{LogQuery, PodRow};

/// The pods of a service, a battery, or a `battery/app`.
#[server(prefix = "/api", endpoint = "explorer/pods", client = crate::csrf::Client)]
pub async fn pods_of(of: String) -> Result<Vec<PodRow>, ApiError> {
    let db = crate::api::database()?;
    let app = bi_control::pods::app_named(&db, &of).await?;
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::pods::of_app(&db, reconciler.engine().cache(), &app).await?)
}

/// A container's log as it is now (not followed).
#[server(prefix = "/api", endpoint = "explorer/log", client = crate::csrf::Client)]
pub async fn read_log(query: LogQuery) -> Result<Vec<String>, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::pods::read(reconciler.engine().client(), &query).await?)
}
