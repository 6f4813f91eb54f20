//! Server functions of the timeline and the archive of deleted objects
//! (roles in [`super::ACCESS`]).

pub use bi_api::timeline::{
    DeletedDetail, DeletedList, DeletedObject, TimelineEntry, TimelinePage, TimelineQuery,
    Undeleted,
};

use leptos::prelude::*;

use crate::ApiError;

/// A page of the timeline, newest first, narrowed by `query`.
#[server(prefix = "/api", endpoint = "timeline/list", client = crate::csrf::Client)]
pub async fn read_timeline(query: TimelineQuery) -> Result<TimelinePage, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::timeline::query(
        &crate::api::database()?,
        reconciler.engine().cache(),
        &query,
    )
    .await?)
}

/// The archive of deleted objects, newest first.
#[server(prefix = "/api", endpoint = "deleted/list", client = crate::csrf::Client)]
pub async fn read_deleted() -> Result<DeletedList, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::archive::list(&crate::api::database()?, reconciler.engine().cache()).await?)
}

/// One archived object with its last body (a Secret's values redacted).
#[server(prefix = "/api", endpoint = "deleted/show", client = crate::csrf::Client)]
pub async fn read_deleted_object(id: i64) -> Result<DeletedDetail, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(
        bi_control::archive::detail(&crate::api::database()?, reconciler.engine().cache(), id)
            .await?,
    )
}

/// Restores archived object `id` and answers once it is in the cluster.
#[server(prefix = "/api", endpoint = "deleted/undelete", client = crate::csrf::Client)]
pub async fn undelete_object(id: i64) -> Result<Undeleted, ApiError> {
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::archive::undelete(&reconciler, id, &crate::api::author()?).await?)
}
