//! The container images the catalog uses by default, pinned to a version:
//! one place to bump them, and generation stays deterministic. A battery's
//! own images may live in its own file instead; a test checks every image
//! in the generated output, wherever it was named.

use crate::image::ImageRef;

/// battery-core: the bi control server, the image of this very version of
/// bi, which `make image` builds (`scripts/image`).
pub const CONTROL_SERVER: &str =
    concat!("ghcr.io/batteries-included/bi:", env!("CARGO_PKG_VERSION"));
/// CloudNativePG operator.
pub const CLOUDNATIVE_PG: &str = "ghcr.io/cloudnative-pg/cloudnative-pg:1.28.0";
/// PostgreSQL for CloudNativePG clusters.
pub const POSTGRES: &str = "ghcr.io/cloudnative-pg/postgresql:17.6";
/// barman-cloud plugin for CloudNativePG backups.
pub const BARMAN_CLOUD_PLUGIN: &str = "ghcr.io/cloudnative-pg/plugin-barman-cloud:v0.9.0";
/// Redis operator (OpsTree).
pub const REDIS_OPERATOR: &str = "quay.io/opstree/redis-operator:v0.22.1";
/// Redis server.
pub const REDIS: &str = "quay.io/opstree/redis:v7.2.7";
/// Redis metrics exporter.
pub const REDIS_EXPORTER: &str = "quay.io/opstree/redis-exporter:v1.48.0";
/// FerretDB.
pub const FERRETDB: &str = "ghcr.io/ferretdb/ferretdb:2.7.0";
/// VictoriaMetrics operator.
pub const VM_OPERATOR: &str = "docker.io/victoriametrics/operator:v0.66.1";
/// VictoriaMetrics cluster components' version tag.
pub const VM_CLUSTER_VERSION: &str = "v1.131.0-cluster";
/// vmagent.
pub const VMAGENT: &str = "docker.io/victoriametrics/vmagent:v1.131.0";
/// Grafana.
pub const GRAFANA: &str = "docker.io/grafana/grafana:11.4.5";
/// Grafana's dashboard/datasource sidecar.
pub const GRAFANA_SIDECAR: &str = "quay.io/kiwigrid/k8s-sidecar:1.30.3";
/// kube-state-metrics.
pub const KUBE_STATE_METRICS: &str =
    "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.17.0";
/// node-exporter.
pub const NODE_EXPORTER: &str = "quay.io/prometheus/node-exporter:v1.10.2";
/// metrics-server.
pub const METRICS_SERVER: &str = "registry.k8s.io/metrics-server/metrics-server:v0.8.0";
/// Loki.
pub const LOKI: &str = "docker.io/grafana/loki:3.6.2";
/// Promtail.
pub const PROMTAIL: &str = "docker.io/grafana/promtail:3.6.2";
/// Default Jupyter notebook image.
pub const JUPYTER: &str = "quay.io/jupyter/datascience-notebook:lab-4.5.0";
/// Ollama.
pub const OLLAMA: &str = "docker.io/ollama/ollama:0.13.2";
/// NVIDIA device plugin.
pub const NVIDIA_DEVICE_PLUGIN: &str = "nvcr.io/nvidia/k8s-device-plugin:v0.18.0";
/// node-feature-discovery.
pub const NODE_FEATURE_DISCOVERY: &str = "registry.k8s.io/nfd/node-feature-discovery:v0.18.2";
/// cert-manager controller.
pub const CERT_MANAGER_CONTROLLER: &str = "quay.io/jetstack/cert-manager-controller:v1.19.2";
/// cert-manager webhook.
pub const CERT_MANAGER_WEBHOOK: &str = "quay.io/jetstack/cert-manager-webhook:v1.19.2";
/// cert-manager CA injector.
pub const CERT_MANAGER_CAINJECTOR: &str = "quay.io/jetstack/cert-manager-cainjector:v1.19.2";
/// trust-manager.
pub const TRUST_MANAGER: &str = "quay.io/jetstack/trust-manager:v0.20.2";
/// istiod.
pub const ISTIO_PILOT: &str = "docker.io/istio/pilot:1.28.1-distroless";
/// Istio proxy (sidecars and gateways).
pub const ISTIO_PROXY: &str = "docker.io/istio/proxyv2:1.28.1-distroless";
/// istio-csr.
pub const ISTIO_CSR: &str = "quay.io/jetstack/cert-manager-istio-csr:v0.15.0";
/// Kiali.
pub const KIALI: &str = "quay.io/kiali/kiali:v2.19.0";
/// Keycloak.
pub const KEYCLOAK: &str = "quay.io/keycloak/keycloak:26.4.7";
/// oauth2-proxy.
pub const OAUTH2_PROXY: &str = "quay.io/oauth2-proxy/oauth2-proxy:v7.13.0";
/// MetalLB controller.
pub const METALLB_CONTROLLER: &str = "quay.io/metallb/controller:v0.15.3";
/// MetalLB speaker.
pub const METALLB_SPEAKER: &str = "quay.io/metallb/speaker:v0.15.3";
/// Trivy operator.
pub const TRIVY_OPERATOR: &str = "ghcr.io/aquasecurity/trivy-operator:0.29.0";
/// Knative activator.
pub const KNATIVE_ACTIVATOR: &str =
    "gcr.io/knative-releases/knative.dev/serving/cmd/activator:v1.20.0";
/// Knative autoscaler.
pub const KNATIVE_AUTOSCALER: &str =
    "gcr.io/knative-releases/knative.dev/serving/cmd/autoscaler:v1.20.0";
/// Knative controller.
pub const KNATIVE_CONTROLLER: &str =
    "gcr.io/knative-releases/knative.dev/serving/cmd/controller:v1.20.0";
/// Knative webhook.
pub const KNATIVE_WEBHOOK: &str = "gcr.io/knative-releases/knative.dev/serving/cmd/webhook:v1.20.0";
/// Knative's Gateway API networking layer: its controller.
pub const KNATIVE_NET_GATEWAY_API_CONTROLLER: &str =
    "gcr.io/knative-releases/knative.dev/net-gateway-api/cmd/controller:v1.20.0";
/// Knative's Gateway API networking layer: its webhook.
pub const KNATIVE_NET_GATEWAY_API_WEBHOOK: &str =
    "gcr.io/knative-releases/knative.dev/net-gateway-api/cmd/webhook:v1.20.0";
/// Knative queue-proxy sidecar.
pub const KNATIVE_QUEUE: &str = "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.20.0";
/// Forgejo.
pub const FORGEJO: &str = "codeberg.org/forgejo/forgejo:13.0.3-rootless";
/// Karpenter controller.
pub const KARPENTER: &str = "public.ecr.aws/karpenter/controller:1.8.1";
/// AWS load-balancer controller.
pub const AWS_LOAD_BALANCER_CONTROLLER: &str =
    "public.ecr.aws/eks/aws-load-balancer-controller:v2.16.0";

/// A default image as a typed reference.
///
/// # Panics
/// Never for the constants above: `every_image_bi_ships_is_pinned_and_canonical`
/// (`model/tests/generate.rs`) parses every image in what bi generates.
pub fn image(reference: &'static str) -> ImageRef {
    match ImageRef::parse(reference) {
        Ok(image) => image,
        Err(err) => panic!("catalog default image {reference:?} is invalid: {err}"),
    }
}
