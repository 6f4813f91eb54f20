//! Server functions about the installation: read its overview, rename it.

#[cfg(feature = "ssr")]
use bi_model::InstallationName;
use bi_model::InstallationOverview;
use leptos::prelude::*;

use crate::ApiError;
#[cfg(feature = "ssr")]
use crate::api::database;

/// The overview from the database, with the cluster the server manages.
#[cfg(feature = "ssr")]
async fn overview(db: &bi_control::Database) -> Result<InstallationOverview, ApiError> {
    let mut overview = bi_control::installation::overview(db).await?;
    overview.cluster = use_context::<bi_model::ClusterSummary>();
    Ok(overview)
}

/// The installation's name, bi's version and the database backend.
#[server(prefix = "/api", endpoint = "installation/overview", client = crate::csrf::Client)]
pub async fn get_installation_overview() -> Result<InstallationOverview, ApiError> {
    overview(&database()?).await
}

/// Renames the installation; an invalid name is refused and nothing is stored.
#[server(prefix = "/api", endpoint = "installation/rename", client = crate::csrf::Client)]
pub async fn rename_installation(name: String) -> Result<InstallationOverview, ApiError> {
    let name = InstallationName::parse(&name)?;
    let db = database()?;
    bi_control::installation::rename(&db, &name).await?;
    overview(&db).await
}
