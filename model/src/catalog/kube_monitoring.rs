//! kube-state-metrics, node-exporter and metrics-server, with their metrics scraped into VictoriaMetrics.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::KubeMonitoring,
    id: "kube_monitoring",
    name: "Kubernetes Monitoring",
    group: BatteryGroup::Monitoring,
    description: "kube-state-metrics, node-exporter and metrics-server, with their metrics scraped into VictoriaMetrics.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::VictoriaMetrics],
    integrations: &[Integration {
        partner: BatteryKind::Grafana,
        what: "Kubernetes dashboards in Grafana",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Kubernetes Monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubeMonitoringConfig {
    /// kube-state-metrics.
    pub kube_state_metrics_image: ImageRef,
    /// node-exporter.
    pub node_exporter_image: ImageRef,
    /// metrics-server.
    pub metrics_server_image: ImageRef,
}

impl Default for KubeMonitoringConfig {
    fn default() -> Self {
        Self {
            kube_state_metrics_image: image(images::KUBE_STATE_METRICS),
            node_exporter_image: image(images::NODE_EXPORTER),
            metrics_server_image: image(images::METRICS_SERVER),
        }
    }
}

impl KubeMonitoringConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(
            &mut problems,
            "kube_state_metrics_image",
            &self.kube_state_metrics_image,
        );
        checks::pinned(
            &mut problems,
            "node_exporter_image",
            &self.node_exporter_image,
        );
        checks::pinned(
            &mut problems,
            "metrics_server_image",
            &self.metrics_server_image,
        );
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &KubeMonitoringConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
