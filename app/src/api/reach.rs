//! Server function for the addresses people open: every battery UI,
//! notebook and exposed service with its route's and certificate's status.

pub use bi_api::reach::{Address, ReachView};
use leptos::prelude::*;

use crate::ApiError;

/// Reads every address and its status from the desired state and the cluster.
#[server(prefix = "/api", endpoint = "installation/reach", client = crate::csrf::Client)]
pub async fn installation_reach() -> Result<ReachView, ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    Ok(bi_control::reach::read(&db, reconciler.engine().cache()).await?)
}
