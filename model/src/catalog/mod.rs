//! The battery catalog: every battery bi can install, one module each with
//! its catalog entry (group, description, dependencies, integrations), its
//! typed config with defaults, and its validation.

#[macro_use]
mod registry;

mod checks;
pub mod images;
mod kind;
mod knative_networking;
#[cfg(test)]
pub(crate) mod test_support;

pub use kind::{BatteryGroup, BatteryInfo, ClusterProvider, Integration, UnknownBattery};

// The registry: every battery, in catalog order, one entry each (its
// `BatteryKind` variant, its module in this folder and its config type).
// Adding a battery is its own file plus one entry here.
batteries! {
    /// The control server itself and the base namespaces.
    BatteryCore => battery_core::BatteryCoreConfig,
    /// Removes managed objects that no snapshot claims any more.
    StaleResourceCleaner => stale_resource_cleaner::StaleResourceCleanerConfig,
    /// History of cluster events.
    Timeline => timeline::TimelineConfig,
    /// The CloudNativePG PostgreSQL operator.
    CloudnativePg => cloudnative_pg::CloudnativePgConfig,
    /// Object-storage backups for CloudNativePG clusters (barman-cloud).
    CloudnativePgBarman => cloudnative_pg_barman::CloudnativePgBarmanConfig,
    /// Redis through an operator.
    Redis => redis::RedisConfig,
    /// MongoDB API on PostgreSQL.
    Ferretdb => ferretdb::FerretdbConfig,
    /// VictoriaMetrics time-series database (cluster mode).
    VictoriaMetrics => victoria_metrics::VictoriaMetricsConfig,
    /// vmagent: scrapes metrics and ships them to VictoriaMetrics.
    VmAgent => vm_agent::VmAgentConfig,
    /// Grafana dashboards.
    Grafana => grafana::GrafanaConfig,
    /// kube-state-metrics, node-exporter and metrics-server.
    KubeMonitoring => kube_monitoring::KubeMonitoringConfig,
    /// Loki log store.
    Loki => loki::LokiConfig,
    /// Promtail log shipper.
    Promtail => promtail::PromtailConfig,
    /// Jupyter notebooks.
    Notebooks => notebooks::NotebooksConfig,
    /// Ollama model instances.
    Ollama => ollama::OllamaConfig,
    /// NVIDIA GPU device plugin.
    NvidiaDevicePlugin => nvidia_device_plugin::NvidiaDevicePluginConfig,
    /// Node feature discovery (labels GPU and CPU features on nodes).
    NodeFeatureDiscovery => node_feature_discovery::NodeFeatureDiscoveryConfig,
    /// cert-manager.
    CertManager => cert_manager::CertManagerConfig,
    /// The installation's own certificate authority.
    BatteryCa => battery_ca::BatteryCaConfig,
    /// trust-manager: distributes the CA bundle.
    TrustManager => trust_manager::TrustManagerConfig,
    /// Gateway API CRDs.
    GatewayApi => gateway_api::GatewayApiConfig,
    /// Istio service mesh.
    Istio => istio::IstioConfig,
    /// istio-csr: Istio workload certificates from cert-manager.
    IstioCsr => istio_csr::IstioCsrConfig,
    /// Istio ingress gateway.
    IstioGateway => istio_gateway::IstioGatewayConfig,
    /// Kiali mesh console.
    Kiali => kiali::KialiConfig,
    /// Keycloak identity provider.
    Keycloak => keycloak::KeycloakConfig,
    /// Single sign-on: oauth2-proxy in front of UIs, backed by Keycloak.
    Sso => sso::SsoConfig,
    /// MetalLB load balancer with IP address pools.
    Metallb => metallb::MetallbConfig,
    /// Trivy operator vulnerability reports.
    TrivyOperator => trivy_operator::TrivyOperatorConfig,
    /// Knative serving.
    Knative => knative::KnativeConfig,
    /// Long-running services as Deployments/StatefulSets.
    TraditionalServices => traditional_services::TraditionalServicesConfig,
    /// Forgejo git hosting.
    Forgejo => forgejo::ForgejoConfig,
    /// Karpenter node autoscaling (AWS).
    Karpenter => karpenter::KarpenterConfig,
    /// AWS load-balancer controller.
    AwsLoadBalancerController => aws_load_balancer_controller::AwsLoadBalancerControllerConfig,
}

/// Every catalog entry, in catalog order.
pub fn all() -> impl Iterator<Item = &'static BatteryInfo> {
    BatteryKind::ALL.into_iter().map(info)
}
