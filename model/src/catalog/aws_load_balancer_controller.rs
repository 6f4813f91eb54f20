//! Provisions AWS Network and Application Load Balancers for services and gateways.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::AwsLoadBalancerController,
    id: "aws_load_balancer_controller",
    name: "AWS Load Balancer Controller",
    group: BatteryGroup::Magic,
    description: "Provisions AWS Network and Application Load Balancers for services and gateways.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[ClusterProvider::Aws],
};

/// Configuration of AWS Load Balancer Controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsLoadBalancerControllerConfig {
    /// The controller.
    pub image: ImageRef,
    /// Subnet ids the load balancers may use (`subnet-…`).
    pub subnets: Vec<String>,
}

impl Default for AwsLoadBalancerControllerConfig {
    fn default() -> Self {
        Self {
            image: image(images::AWS_LOAD_BALANCER_CONTROLLER),
            subnets: Vec::new(),
        }
    }
}

impl AwsLoadBalancerControllerConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        subnet_ids(&mut problems, "subnets", &self.subnets);
        problems.into_result()
    }
}

/// Subnet ids look like `subnet-` followed by 8 or 17 hex digits; each appears once.
fn subnet_ids(problems: &mut Problems, field: &str, subnets: &[String]) {
    for (i, subnet) in subnets.iter().enumerate() {
        let hex = subnet.strip_prefix("subnet-").unwrap_or("");
        let valid = matches!(hex.len(), 8 | 17)
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !valid {
            problems.push(
                format!("{field}[{i}]"),
                Rule::Format,
                format!("{subnet:?} is not a subnet id like subnet-0abc1234"),
            );
        } else if subnets[..i].contains(subnet) {
            problems.push(
                format!("{field}[{i}]"),
                Rule::Unique,
                format!("{subnet} is listed twice"),
            );
        }
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &AwsLoadBalancerControllerConfig,
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
    fn subnet_ids_are_checked_one_by_one() {
        let config = AwsLoadBalancerControllerConfig {
            subnets: vec![
                "subnet-0abc1234".into(),
                "sub-1".into(),
                "subnet-0abc1234".into(),
            ],
            ..AwsLoadBalancerControllerConfig::default()
        };
        let problems = config.validate().unwrap_err();
        assert_eq!(
            problems.for_field("subnets[1]").map(|e| e.rule),
            Some(Rule::Format)
        );
        assert_eq!(
            problems.for_field("subnets[2]").map(|e| e.rule),
            Some(Rule::Unique)
        );
    }
}
