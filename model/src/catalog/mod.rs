//! The battery catalog: every battery bi can install, one module each with
//! its catalog entry (group, description, dependencies, integrations), its
//! typed config with defaults, and its validation.

mod checks;
mod config;
pub mod images;
mod kind;
#[cfg(test)]
mod test_support;

pub mod aws_load_balancer_controller;
pub mod battery_ca;
pub mod battery_core;
pub mod cert_manager;
pub mod cloudnative_pg;
pub mod cloudnative_pg_barman;
pub mod ferretdb;
pub mod forgejo;
pub mod gateway_api;
pub mod grafana;
pub mod istio;
pub mod istio_csr;
pub mod istio_gateway;
pub mod karpenter;
pub mod keycloak;
pub mod kiali;
pub mod knative;
pub mod kube_monitoring;
pub mod loki;
pub mod metallb;
pub mod node_feature_discovery;
pub mod notebooks;
pub mod nvidia_device_plugin;
pub mod ollama;
pub mod promtail;
pub mod redis;
pub mod sso;
pub mod stale_resource_cleaner;
pub mod timeline;
pub mod traditional_services;
pub mod trivy_operator;
pub mod trust_manager;
pub mod victoria_metrics;
pub mod vm_agent;

pub use config::BatteryConfig;
pub use kind::{
    BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider, Integration, UnknownBattery,
};

/// The catalog entry of `kind`.
pub fn info(kind: BatteryKind) -> &'static BatteryInfo {
    match kind {
        BatteryKind::BatteryCore => &battery_core::INFO,
        BatteryKind::StaleResourceCleaner => &stale_resource_cleaner::INFO,
        BatteryKind::Timeline => &timeline::INFO,
        BatteryKind::CloudnativePg => &cloudnative_pg::INFO,
        BatteryKind::CloudnativePgBarman => &cloudnative_pg_barman::INFO,
        BatteryKind::Redis => &redis::INFO,
        BatteryKind::Ferretdb => &ferretdb::INFO,
        BatteryKind::VictoriaMetrics => &victoria_metrics::INFO,
        BatteryKind::VmAgent => &vm_agent::INFO,
        BatteryKind::Grafana => &grafana::INFO,
        BatteryKind::KubeMonitoring => &kube_monitoring::INFO,
        BatteryKind::Loki => &loki::INFO,
        BatteryKind::Promtail => &promtail::INFO,
        BatteryKind::Notebooks => &notebooks::INFO,
        BatteryKind::Ollama => &ollama::INFO,
        BatteryKind::NvidiaDevicePlugin => &nvidia_device_plugin::INFO,
        BatteryKind::NodeFeatureDiscovery => &node_feature_discovery::INFO,
        BatteryKind::CertManager => &cert_manager::INFO,
        BatteryKind::BatteryCa => &battery_ca::INFO,
        BatteryKind::TrustManager => &trust_manager::INFO,
        BatteryKind::GatewayApi => &gateway_api::INFO,
        BatteryKind::Istio => &istio::INFO,
        BatteryKind::IstioCsr => &istio_csr::INFO,
        BatteryKind::IstioGateway => &istio_gateway::INFO,
        BatteryKind::Kiali => &kiali::INFO,
        BatteryKind::Keycloak => &keycloak::INFO,
        BatteryKind::Sso => &sso::INFO,
        BatteryKind::Metallb => &metallb::INFO,
        BatteryKind::TrivyOperator => &trivy_operator::INFO,
        BatteryKind::Knative => &knative::INFO,
        BatteryKind::TraditionalServices => &traditional_services::INFO,
        BatteryKind::Forgejo => &forgejo::INFO,
        BatteryKind::Karpenter => &karpenter::INFO,
        BatteryKind::AwsLoadBalancerController => &aws_load_balancer_controller::INFO,
    }
}

/// Every catalog entry, in catalog order.
pub fn all() -> impl Iterator<Item = &'static BatteryInfo> {
    BatteryKind::ALL.into_iter().map(info)
}
