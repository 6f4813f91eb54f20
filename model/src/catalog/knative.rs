//! Serverless services that scale with traffic, down to zero.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Knative,
    id: "knative",
    name: "Knative Serving",
    group: BatteryGroup::Devtools,
    description: "Serverless services that scale with traffic, down to zero.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::Istio,
            what: "ingress through the Istio gateway",
        },
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "request metrics of every service",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Knative Serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnativeConfig {
    /// Where Knative's own components run.
    pub namespace: DnsLabel,
    /// activator.
    pub activator_image: ImageRef,
    /// autoscaler.
    pub autoscaler_image: ImageRef,
    /// controller.
    pub controller_image: ImageRef,
    /// webhook.
    pub webhook_image: ImageRef,
    /// queue-proxy sidecar.
    pub queue_image: ImageRef,
}

impl Default for KnativeConfig {
    fn default() -> Self {
        Self {
            namespace: checks::label("battery-knative"),
            activator_image: image(images::KNATIVE_ACTIVATOR),
            autoscaler_image: image(images::KNATIVE_AUTOSCALER),
            controller_image: image(images::KNATIVE_CONTROLLER),
            webhook_image: image(images::KNATIVE_WEBHOOK),
            queue_image: image(images::KNATIVE_QUEUE),
        }
    }
}

impl KnativeConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "activator_image", &self.activator_image);
        checks::pinned(&mut problems, "autoscaler_image", &self.autoscaler_image);
        checks::pinned(&mut problems, "controller_image", &self.controller_image);
        checks::pinned(&mut problems, "webhook_image", &self.webhook_image);
        checks::pinned(&mut problems, "queue_image", &self.queue_image);
        problems.into_result()
    }
}

/// The resources this battery needs.
pub fn generate(config: &KnativeConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}
