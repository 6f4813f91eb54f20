//! A battery's configuration, whichever battery it is: what the database
//! stores and the UI edits.

use serde::{Deserialize, Serialize};

use super::kind::BatteryKind;
use super::*;
use crate::generate::{Context, GenerateError, Resource};
use crate::validation::Problems;

/// The typed configuration of one installed battery. Stored as
/// `{"kind": "redis", "config": {…}}`; missing fields take their defaults,
/// unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "config", rename_all = "snake_case")]
pub enum BatteryConfig {
    /// BatteryCore.
    BatteryCore(battery_core::BatteryCoreConfig),
    /// StaleResourceCleaner.
    StaleResourceCleaner(stale_resource_cleaner::StaleResourceCleanerConfig),
    /// Timeline.
    Timeline(timeline::TimelineConfig),
    /// CloudnativePg.
    CloudnativePg(cloudnative_pg::CloudnativePgConfig),
    /// CloudnativePgBarman.
    CloudnativePgBarman(cloudnative_pg_barman::CloudnativePgBarmanConfig),
    /// Redis.
    Redis(redis::RedisConfig),
    /// Ferretdb.
    Ferretdb(ferretdb::FerretdbConfig),
    /// VictoriaMetrics.
    VictoriaMetrics(victoria_metrics::VictoriaMetricsConfig),
    /// VmAgent.
    VmAgent(vm_agent::VmAgentConfig),
    /// Grafana.
    Grafana(grafana::GrafanaConfig),
    /// KubeMonitoring.
    KubeMonitoring(kube_monitoring::KubeMonitoringConfig),
    /// Loki.
    Loki(loki::LokiConfig),
    /// Promtail.
    Promtail(promtail::PromtailConfig),
    /// Notebooks.
    Notebooks(notebooks::NotebooksConfig),
    /// Ollama.
    Ollama(ollama::OllamaConfig),
    /// NvidiaDevicePlugin.
    NvidiaDevicePlugin(nvidia_device_plugin::NvidiaDevicePluginConfig),
    /// NodeFeatureDiscovery.
    NodeFeatureDiscovery(node_feature_discovery::NodeFeatureDiscoveryConfig),
    /// CertManager.
    CertManager(cert_manager::CertManagerConfig),
    /// BatteryCa.
    BatteryCa(battery_ca::BatteryCaConfig),
    /// TrustManager.
    TrustManager(trust_manager::TrustManagerConfig),
    /// GatewayApi.
    GatewayApi(gateway_api::GatewayApiConfig),
    /// Istio.
    Istio(istio::IstioConfig),
    /// IstioCsr.
    IstioCsr(istio_csr::IstioCsrConfig),
    /// IstioGateway.
    IstioGateway(istio_gateway::IstioGatewayConfig),
    /// Kiali.
    Kiali(kiali::KialiConfig),
    /// Keycloak.
    Keycloak(keycloak::KeycloakConfig),
    /// Sso.
    Sso(sso::SsoConfig),
    /// Metallb.
    Metallb(metallb::MetallbConfig),
    /// TrivyOperator.
    TrivyOperator(trivy_operator::TrivyOperatorConfig),
    /// Knative.
    Knative(knative::KnativeConfig),
    /// TraditionalServices.
    TraditionalServices(traditional_services::TraditionalServicesConfig),
    /// Forgejo.
    Forgejo(forgejo::ForgejoConfig),
    /// Karpenter.
    Karpenter(karpenter::KarpenterConfig),
    /// AwsLoadBalancerController.
    AwsLoadBalancerController(aws_load_balancer_controller::AwsLoadBalancerControllerConfig),
}

impl BatteryConfig {
    /// The default configuration of `kind`.
    pub fn default_for(kind: BatteryKind) -> Self {
        match kind {
            BatteryKind::BatteryCore => {
                Self::BatteryCore(battery_core::BatteryCoreConfig::default())
            }
            BatteryKind::StaleResourceCleaner => Self::StaleResourceCleaner(
                stale_resource_cleaner::StaleResourceCleanerConfig::default(),
            ),
            BatteryKind::Timeline => Self::Timeline(timeline::TimelineConfig::default()),
            BatteryKind::CloudnativePg => {
                Self::CloudnativePg(cloudnative_pg::CloudnativePgConfig::default())
            }
            BatteryKind::CloudnativePgBarman => Self::CloudnativePgBarman(
                cloudnative_pg_barman::CloudnativePgBarmanConfig::default(),
            ),
            BatteryKind::Redis => Self::Redis(redis::RedisConfig::default()),
            BatteryKind::Ferretdb => Self::Ferretdb(ferretdb::FerretdbConfig::default()),
            BatteryKind::VictoriaMetrics => {
                Self::VictoriaMetrics(victoria_metrics::VictoriaMetricsConfig::default())
            }
            BatteryKind::VmAgent => Self::VmAgent(vm_agent::VmAgentConfig::default()),
            BatteryKind::Grafana => Self::Grafana(grafana::GrafanaConfig::default()),
            BatteryKind::KubeMonitoring => {
                Self::KubeMonitoring(kube_monitoring::KubeMonitoringConfig::default())
            }
            BatteryKind::Loki => Self::Loki(loki::LokiConfig::default()),
            BatteryKind::Promtail => Self::Promtail(promtail::PromtailConfig::default()),
            BatteryKind::Notebooks => Self::Notebooks(notebooks::NotebooksConfig::default()),
            BatteryKind::Ollama => Self::Ollama(ollama::OllamaConfig::default()),
            BatteryKind::NvidiaDevicePlugin => {
                Self::NvidiaDevicePlugin(nvidia_device_plugin::NvidiaDevicePluginConfig::default())
            }
            BatteryKind::NodeFeatureDiscovery => Self::NodeFeatureDiscovery(
                node_feature_discovery::NodeFeatureDiscoveryConfig::default(),
            ),
            BatteryKind::CertManager => {
                Self::CertManager(cert_manager::CertManagerConfig::default())
            }
            BatteryKind::BatteryCa => Self::BatteryCa(battery_ca::BatteryCaConfig::default()),
            BatteryKind::TrustManager => {
                Self::TrustManager(trust_manager::TrustManagerConfig::default())
            }
            BatteryKind::GatewayApi => Self::GatewayApi(gateway_api::GatewayApiConfig::default()),
            BatteryKind::Istio => Self::Istio(istio::IstioConfig::default()),
            BatteryKind::IstioCsr => Self::IstioCsr(istio_csr::IstioCsrConfig::default()),
            BatteryKind::IstioGateway => {
                Self::IstioGateway(istio_gateway::IstioGatewayConfig::default())
            }
            BatteryKind::Kiali => Self::Kiali(kiali::KialiConfig::default()),
            BatteryKind::Keycloak => Self::Keycloak(keycloak::KeycloakConfig::default()),
            BatteryKind::Sso => Self::Sso(sso::SsoConfig::default()),
            BatteryKind::Metallb => Self::Metallb(metallb::MetallbConfig::default()),
            BatteryKind::TrivyOperator => {
                Self::TrivyOperator(trivy_operator::TrivyOperatorConfig::default())
            }
            BatteryKind::Knative => Self::Knative(knative::KnativeConfig::default()),
            BatteryKind::TraditionalServices => {
                Self::TraditionalServices(traditional_services::TraditionalServicesConfig::default())
            }
            BatteryKind::Forgejo => Self::Forgejo(forgejo::ForgejoConfig::default()),
            BatteryKind::Karpenter => Self::Karpenter(karpenter::KarpenterConfig::default()),
            BatteryKind::AwsLoadBalancerController => Self::AwsLoadBalancerController(
                aws_load_balancer_controller::AwsLoadBalancerControllerConfig::default(),
            ),
        }
    }

    /// Which battery this configures.
    pub fn kind(&self) -> BatteryKind {
        match self {
            Self::BatteryCore(_) => BatteryKind::BatteryCore,
            Self::StaleResourceCleaner(_) => BatteryKind::StaleResourceCleaner,
            Self::Timeline(_) => BatteryKind::Timeline,
            Self::CloudnativePg(_) => BatteryKind::CloudnativePg,
            Self::CloudnativePgBarman(_) => BatteryKind::CloudnativePgBarman,
            Self::Redis(_) => BatteryKind::Redis,
            Self::Ferretdb(_) => BatteryKind::Ferretdb,
            Self::VictoriaMetrics(_) => BatteryKind::VictoriaMetrics,
            Self::VmAgent(_) => BatteryKind::VmAgent,
            Self::Grafana(_) => BatteryKind::Grafana,
            Self::KubeMonitoring(_) => BatteryKind::KubeMonitoring,
            Self::Loki(_) => BatteryKind::Loki,
            Self::Promtail(_) => BatteryKind::Promtail,
            Self::Notebooks(_) => BatteryKind::Notebooks,
            Self::Ollama(_) => BatteryKind::Ollama,
            Self::NvidiaDevicePlugin(_) => BatteryKind::NvidiaDevicePlugin,
            Self::NodeFeatureDiscovery(_) => BatteryKind::NodeFeatureDiscovery,
            Self::CertManager(_) => BatteryKind::CertManager,
            Self::BatteryCa(_) => BatteryKind::BatteryCa,
            Self::TrustManager(_) => BatteryKind::TrustManager,
            Self::GatewayApi(_) => BatteryKind::GatewayApi,
            Self::Istio(_) => BatteryKind::Istio,
            Self::IstioCsr(_) => BatteryKind::IstioCsr,
            Self::IstioGateway(_) => BatteryKind::IstioGateway,
            Self::Kiali(_) => BatteryKind::Kiali,
            Self::Keycloak(_) => BatteryKind::Keycloak,
            Self::Sso(_) => BatteryKind::Sso,
            Self::Metallb(_) => BatteryKind::Metallb,
            Self::TrivyOperator(_) => BatteryKind::TrivyOperator,
            Self::Knative(_) => BatteryKind::Knative,
            Self::TraditionalServices(_) => BatteryKind::TraditionalServices,
            Self::Forgejo(_) => BatteryKind::Forgejo,
            Self::Karpenter(_) => BatteryKind::Karpenter,
            Self::AwsLoadBalancerController(_) => BatteryKind::AwsLoadBalancerController,
        }
    }

    /// Every resource this battery needs, given the rest of the desired state.
    pub fn generate(&self, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
        match self {
            Self::BatteryCore(config) => battery_core::generate(config, ctx),
            Self::StaleResourceCleaner(config) => stale_resource_cleaner::generate(config, ctx),
            Self::Timeline(config) => timeline::generate(config, ctx),
            Self::CloudnativePg(config) => cloudnative_pg::generate(config, ctx),
            Self::CloudnativePgBarman(config) => cloudnative_pg_barman::generate(config, ctx),
            Self::Redis(config) => redis::generate(config, ctx),
            Self::Ferretdb(config) => ferretdb::generate(config, ctx),
            Self::VictoriaMetrics(config) => victoria_metrics::generate(config, ctx),
            Self::VmAgent(config) => vm_agent::generate(config, ctx),
            Self::Grafana(config) => grafana::generate(config, ctx),
            Self::KubeMonitoring(config) => kube_monitoring::generate(config, ctx),
            Self::Loki(config) => loki::generate(config, ctx),
            Self::Promtail(config) => promtail::generate(config, ctx),
            Self::Notebooks(config) => notebooks::generate(config, ctx),
            Self::Ollama(config) => ollama::generate(config, ctx),
            Self::NvidiaDevicePlugin(config) => nvidia_device_plugin::generate(config, ctx),
            Self::NodeFeatureDiscovery(config) => node_feature_discovery::generate(config, ctx),
            Self::CertManager(config) => cert_manager::generate(config, ctx),
            Self::BatteryCa(config) => battery_ca::generate(config, ctx),
            Self::TrustManager(config) => trust_manager::generate(config, ctx),
            Self::GatewayApi(config) => gateway_api::generate(config, ctx),
            Self::Istio(config) => istio::generate(config, ctx),
            Self::IstioCsr(config) => istio_csr::generate(config, ctx),
            Self::IstioGateway(config) => istio_gateway::generate(config, ctx),
            Self::Kiali(config) => kiali::generate(config, ctx),
            Self::Keycloak(config) => keycloak::generate(config, ctx),
            Self::Sso(config) => sso::generate(config, ctx),
            Self::Metallb(config) => metallb::generate(config, ctx),
            Self::TrivyOperator(config) => trivy_operator::generate(config, ctx),
            Self::Knative(config) => knative::generate(config, ctx),
            Self::TraditionalServices(config) => traditional_services::generate(config, ctx),
            Self::Forgejo(config) => forgejo::generate(config, ctx),
            Self::Karpenter(config) => karpenter::generate(config, ctx),
            Self::AwsLoadBalancerController(config) => {
                aws_load_balancer_controller::generate(config, ctx)
            }
        }
    }

    /// Every problem with this configuration, with paths relative to it.
    pub fn validate(&self) -> Result<(), Problems> {
        match self {
            Self::BatteryCore(config) => config.validate(),
            Self::StaleResourceCleaner(config) => config.validate(),
            Self::Timeline(config) => config.validate(),
            Self::CloudnativePg(config) => config.validate(),
            Self::CloudnativePgBarman(config) => config.validate(),
            Self::Redis(config) => config.validate(),
            Self::Ferretdb(config) => config.validate(),
            Self::VictoriaMetrics(config) => config.validate(),
            Self::VmAgent(config) => config.validate(),
            Self::Grafana(config) => config.validate(),
            Self::KubeMonitoring(config) => config.validate(),
            Self::Loki(config) => config.validate(),
            Self::Promtail(config) => config.validate(),
            Self::Notebooks(config) => config.validate(),
            Self::Ollama(config) => config.validate(),
            Self::NvidiaDevicePlugin(config) => config.validate(),
            Self::NodeFeatureDiscovery(config) => config.validate(),
            Self::CertManager(config) => config.validate(),
            Self::BatteryCa(config) => config.validate(),
            Self::TrustManager(config) => config.validate(),
            Self::GatewayApi(config) => config.validate(),
            Self::Istio(config) => config.validate(),
            Self::IstioCsr(config) => config.validate(),
            Self::IstioGateway(config) => config.validate(),
            Self::Kiali(config) => config.validate(),
            Self::Keycloak(config) => config.validate(),
            Self::Sso(config) => config.validate(),
            Self::Metallb(config) => config.validate(),
            Self::TrivyOperator(config) => config.validate(),
            Self::Knative(config) => config.validate(),
            Self::TraditionalServices(config) => config.validate(),
            Self::Forgejo(config) => config.validate(),
            Self::Karpenter(config) => config.validate(),
            Self::AwsLoadBalancerController(config) => config.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_config_is_valid_except_where_a_cloud_must_say() {
        for kind in BatteryKind::ALL {
            let config = BatteryConfig::default_for(kind);
            assert_eq!(config.kind(), kind);
            let needs_cloud_values = kind == BatteryKind::Karpenter;
            assert_eq!(
                config.validate().is_ok(),
                !needs_cloud_values,
                "{kind}: {:?}",
                config.validate()
            );
        }
    }

    #[test]
    fn stored_form_names_the_kind_and_round_trips() {
        for kind in BatteryKind::ALL {
            let config = BatteryConfig::default_for(kind);
            let json = serde_json::to_value(&config).unwrap();
            assert_eq!(json["kind"], kind.id());
            assert_eq!(
                serde_json::from_value::<BatteryConfig>(json).unwrap(),
                config
            );
        }
    }

    #[test]
    fn missing_fields_take_defaults_and_unknown_fields_are_refused() {
        let partial: BatteryConfig =
            serde_json::from_str(r#"{"kind":"loki","config":{"replicas":3}}"#).unwrap();
        let BatteryConfig::Loki(loki) = partial else {
            panic!("not loki")
        };
        assert_eq!(loki.replicas, 3);
        assert_eq!(loki.storage, loki::LokiConfig::default().storage);

        let err =
            serde_json::from_str::<BatteryConfig>(r#"{"kind":"loki","config":{"replica":3}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("unknown field `replica`"), "{err}");
    }

    #[test]
    fn a_size_as_a_bare_json_number_is_refused_when_decoding() {
        // A string is a Kubernetes quantity ("500" is 500 bytes, as a cluster
        // reports it); a bare number is what a careless client sends.
        let err =
            serde_json::from_str::<BatteryConfig>(r#"{"kind":"loki","config":{"storage":500}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("no unit"), "{err}");
    }
}
