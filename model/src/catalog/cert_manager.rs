//! Issues and renews TLS certificates, including from Let's Encrypt.

use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::CertManager,
    id: "cert_manager",
    name: "cert-manager",
    group: BatteryGroup::NetSecurity,
    description: "Issues and renews TLS certificates, including from Let's Encrypt.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of cert-manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertManagerConfig {
    /// The controller.
    pub controller_image: ImageRef,
    /// The webhook.
    pub webhook_image: ImageRef,
    /// The CA injector.
    pub cainjector_image: ImageRef,
    /// Contact e-mail for a Let's Encrypt issuer; none means no ACME issuer.
    pub acme_email: Option<String>,
}

impl Default for CertManagerConfig {
    fn default() -> Self {
        Self {
            controller_image: image(images::CERT_MANAGER_CONTROLLER),
            webhook_image: image(images::CERT_MANAGER_WEBHOOK),
            cainjector_image: image(images::CERT_MANAGER_CAINJECTOR),
            acme_email: None,
        }
    }
}

impl CertManagerConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "controller_image", &self.controller_image);
        checks::pinned(&mut problems, "webhook_image", &self.webhook_image);
        checks::pinned(&mut problems, "cainjector_image", &self.cainjector_image);
        email(&mut problems, "acme_email", self.acme_email.as_deref());
        problems.into_result()
    }
}

/// A plausible e-mail address: one '@' with text on both sides and a dot in the domain.
fn email(problems: &mut Problems, field: &str, address: Option<&str>) {
    if let Some(address) = address {
        let valid = match address.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !address.contains(char::is_whitespace)
            }
            None => false,
        };
        if !valid {
            problems.push(
                field,
                Rule::Format,
                format!("{address:?} is not an e-mail address"),
            );
        }
    }
}

/// The resources this battery needs.
pub fn generate(
    config: &CertManagerConfig,
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
    fn refuses_a_malformed_acme_email() {
        for bad in [
            "ops",
            "ops@",
            "@example.com",
            "ops@example",
            "ops @example.com",
        ] {
            let config = CertManagerConfig {
                acme_email: Some(bad.to_owned()),
                ..CertManagerConfig::default()
            };
            assert!(config.validate().is_err(), "{bad} accepted");
        }
        let good = CertManagerConfig {
            acme_email: Some("ops@example.com".to_owned()),
            ..CertManagerConfig::default()
        };
        assert_eq!(good.validate(), Ok(()));
    }
}
