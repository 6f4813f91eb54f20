//! Server function for the dashboard's health card: each battery's and
//! object's readiness from the cluster, and the capacity used, already in
//! words (the browser formats nothing).

pub use bi_api::health::{AppRow, HealthView, Usage};
use leptos::prelude::*;

use crate::ApiError;

/// Reads health and capacity from the cluster.
#[server(prefix = "/api", endpoint = "installation/health", client = crate::csrf::Client)]
pub async fn installation_health() -> Result<HealthView, ApiError> {
    read().await
}

/// Health and capacity in the card's words.
#[cfg(feature = "ssr")]
pub(crate) async fn read() -> Result<HealthView, ApiError> {
    let db = crate::api::database()?;
    let reconciler = crate::api::reconciler()?;
    let health = bi_control::health::read(&db, reconciler.engine().cache()).await?;
    let capacity = &health.capacity;
    let percent = |requested: u64, offered: u64| {
        (offered > 0)
            .then(|| u32::try_from(requested.saturating_mul(100) / offered).unwrap_or(u32::MAX))
    };
    let usage = vec![
        Usage {
            what: "CPU".to_owned(),
            words: format!(
                "{} of {} requested",
                capacity.requested_cpu.human(),
                capacity.allocatable_cpu.human()
            ),
            percent: percent(
                capacity.requested_cpu.as_millicores(),
                capacity.allocatable_cpu.as_millicores(),
            ),
        },
        Usage {
            what: "Memory".to_owned(),
            words: format!(
                "{} of {} requested",
                capacity.requested_memory.human(),
                capacity.allocatable_memory.human()
            ),
            percent: percent(
                capacity.requested_memory.as_bytes(),
                capacity.allocatable_memory.as_bytes(),
            ),
        },
        Usage {
            what: "Storage".to_owned(),
            words: format!("{} claimed", capacity.requested_storage.human()),
            percent: None,
        },
    ];
    let apps = health
        .apps
        .into_iter()
        .map(|app| AppRow {
            name: app
                .battery
                .map_or_else(|| app.app.clone(), |kind| kind.info().name.to_owned()),
            readiness: app.readiness.as_str().to_owned(),
            ready: app.workloads.iter().map(|w| w.ready.unwrap_or(0)).sum(),
            desired: app.workloads.iter().map(|w| w.desired).sum(),
            app: app.app,
        })
        .collect();
    Ok(HealthView {
        apps,
        usage,
        nodes: health.nodes,
    })
}
