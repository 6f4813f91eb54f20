//! Adds and removes EC2 nodes to fit what the cluster needs.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Karpenter,
    id: "karpenter",
    name: "Karpenter",
    group: BatteryGroup::Magic,
    description: "Adds and removes EC2 nodes to fit what the cluster needs.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[ClusterProvider::Aws],
};

/// Configuration of Karpenter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KarpenterConfig {
    /// The Karpenter controller.
    pub image: ImageRef,
    /// IAM role the new nodes assume.
    pub node_role_name: String,
    /// SQS queue for interruption events.
    pub queue_name: String,
    /// EC2 node class AMI alias.
    pub ami_alias: String,
}

impl Default for KarpenterConfig {
    fn default() -> Self {
        Self {
            image: image(images::KARPENTER),
            node_role_name: String::new(),
            queue_name: String::new(),
            ami_alias: "al2023@v20251002".to_owned(),
        }
    }
}

impl KarpenterConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        required(&mut problems, "node_role_name", &self.node_role_name);
        required(&mut problems, "queue_name", &self.queue_name);
        required(&mut problems, "ami_alias", &self.ami_alias);
        problems.into_result()
    }
}

/// A value AWS gives the installer; it cannot be defaulted.
fn required(problems: &mut Problems, field: &str, value: &str) {
    if value.trim().is_empty() {
        problems.push(
            field,
            Rule::Required,
            "must be set: it comes from the AWS account bi runs in",
        );
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &KarpenterConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let _ = (config, ctx);
    // NB: not written yet; `every_battery_generates_something` fails until it is.
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_names_are_required() {
        let problems = KarpenterConfig::default().validate().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["node_role_name", "queue_name"]);
    }
}
