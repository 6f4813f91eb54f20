//! Service mesh: mutual TLS, traffic policy and telemetry between workloads.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    ObjectFieldSelector, ProjectedVolumeSource, SecretVolumeSource, ServiceAccountTokenProjection,
    Volume, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{istio_csr, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Istio,
    id: "istio",
    name: "Istio",
    group: BatteryGroup::NetSecurity,
    description: "Service mesh: mutual TLS, traffic policy and telemetry between workloads.",
    dependencies: &[BatteryKind::GatewayApi],
    integrations: &[
        Integration {
            partner: BatteryKind::BatteryCa,
            what: "STRICT mutual TLS with certificates from the Battery CA",
        },
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "mesh metrics",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Istio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IstioConfig {
    /// Where istiod runs.
    pub namespace: DnsLabel,
    /// istiod.
    pub pilot_image: ImageRef,
    /// The sidecar proxy.
    pub proxy_image: ImageRef,
}

impl Default for IstioConfig {
    fn default() -> Self {
        Self {
            namespace: checks::label("battery-istio"),
            pilot_image: image(images::ISTIO_PILOT),
            proxy_image: image(images::ISTIO_PROXY),
        }
    }
}

impl IstioConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "pilot_image", &self.pilot_image);
        checks::pinned(&mut problems, "proxy_image", &self.proxy_image);
        problems.into_result()
    }
}

/// istiod's Deployment, ServiceAccount and Service.
pub const ISTIOD: &str = "istiod";

/// The mesh's trust domain and cluster id (single cluster).
pub const TRUST_DOMAIN: &str = "cluster.local";
const CLUSTER_ID: &str = "Kubernetes";

/// The mutating webhook that injects sidecars (istiod patches its caBundle).
const INJECTOR: &str = "istio-sidecar-injector";

/// Where proxies ask for their workload certificates: istio-csr (and so the
/// Battery CA) when it is installed, istiod's own CA otherwise.
pub fn ca_address(ctx: &Context<'_>, istio_namespace: &str) -> String {
    if ctx.installed(BatteryKind::IstioCsr) {
        istio_csr::address(ctx)
    } else {
        discovery_address(istio_namespace)
    }
}

/// istiod's xDS address, as proxies dial it.
pub fn discovery_address(istio_namespace: &str) -> String {
    format!("{ISTIOD}.{istio_namespace}.svc:15012")
}

/// Istio's CRDs at 1.28.1, as upstream ships them: all 14 of
/// `crd-all.gen.yaml`, which Istio's base chart installs (with its legacy
/// labels, which the chart swaps for its own when it renders). bi writes a
/// PeerAuthentication; istiod watches the rest.
pub const CRDS: [UpstreamCrd; 14] = [
    upstream_crd!(
        "wasmplugins.extensions.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "destinationrules.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "envoyfilters.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "gateways.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "proxyconfigs.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "serviceentries.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "sidecars.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "virtualservices.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "workloadentries.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "workloadgroups.networking.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "authorizationpolicies.security.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "peerauthentications.security.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "requestauthentications.security.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
    upstream_crd!(
        "telemetries.telemetry.istio.io",
        "istio",
        "1.28.1",
        "manifests/charts/base/files/crd-all.gen.yaml",
        "9b6971fdad8a2d9148d88e051407376f4a806f13d195493290ad960d329d4244"
    ),
];

/// An environment variable from a field of the pod.
pub(crate) fn env_from_field(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// A volume with a projected service-account token for istiod's audience.
pub(crate) fn istio_token_volume() -> Volume {
    Volume {
        name: "istio-token".to_owned(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some("istio-ca".to_owned()),
                    expiration_seconds: Some(43_200),
                    path: "istio-token".to_owned(),
                }),
                ..VolumeProjection::default()
            }]),
            ..ProjectedVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// A volume from a ConfigMap (optional ones may not exist yet).
pub(crate) fn config_map_volume(name: &str, config_map: &str, optional: bool) -> Volume {
    Volume {
        name: name.to_owned(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map.to_owned(),
            optional: optional.then_some(true),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// A volume from a Secret.
fn secret_volume(name: &str, secret: &str, optional: bool) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            optional: optional.then_some(true),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// An empty scratch volume (in memory when `memory`).
pub(crate) fn empty_dir(name: &str, memory: bool) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: memory.then(|| "Memory".to_owned()),
            ..EmptyDirVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The mesh config (`istio` ConfigMap, key `mesh`).
fn mesh_config(ctx: &Context<'_>, namespace: &str) -> String {
    format!(
        "accessLogFile: /dev/stdout\n\
         defaultConfig:\n  \
           discoveryAddress: {discovery}\n  \
           caAddress: {ca}\n  \
           holdApplicationUntilProxyStarts: true\n\
         enablePrometheusMerge: true\n\
         rootNamespace: {namespace}\n\
         trustDomain: {TRUST_DOMAIN}\n",
        discovery = discovery_address(namespace),
        ca = ca_address(ctx, namespace),
    )
}

/// The sidecar injection template (Go text/template, rendered by istiod for
/// every injected pod). NB: the init container that redirects the pod's
/// traffic needs NET_ADMIN and NET_RAW as root: that is the price of
/// sidecar mode without the Istio CNI plugin. The proxy itself runs as 1337.
fn sidecar_template(ctx: &Context<'_>, config: &IstioConfig, namespace: &str) -> String {
    const TEMPLATE: &str = r#"spec:
  initContainers:
  - name: istio-init
    image: "@PROXY_IMAGE@"
    args: ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
           "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020",
           "--log_output_level=default:info"]
    resources:
      requests: { cpu: 10m, memory: 40Mi }
      limits: { cpu: "2", memory: 1Gi }
    securityContext:
      allowPrivilegeEscalation: false
      privileged: false
      readOnlyRootFilesystem: false
      runAsGroup: 0
      runAsNonRoot: false
      runAsUser: 0
      capabilities: { add: [NET_ADMIN, NET_RAW], drop: [ALL] }
  containers:
  - name: istio-proxy
    image: "@PROXY_IMAGE@"
    args: ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
           "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
           "--log_output_level=default:info"]
    ports:
    - { containerPort: 15090, protocol: TCP, name: http-envoy-prom }
    lifecycle:
      postStart:
        exec:
          command: [pilot-agent, wait]
    env:
    - { name: PILOT_CERT_PROVIDER, value: istiod }
    - { name: CA_ADDR, value: "@CA_ADDRESS@" }
    - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
    - { name: POD_NAMESPACE, valueFrom: { fieldRef: { fieldPath: metadata.namespace } } }
    - { name: INSTANCE_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }
    - { name: SERVICE_ACCOUNT, valueFrom: { fieldRef: { fieldPath: spec.serviceAccountName } } }
    - { name: HOST_IP, valueFrom: { fieldRef: { fieldPath: status.hostIP } } }
    - { name: ISTIO_CPU_LIMIT, valueFrom: { resourceFieldRef: { resource: limits.cpu } } }
    - name: PROXY_CONFIG
      value: |
        {{ protoToJSON .ProxyConfig }}
    - { name: ISTIO_META_CLUSTER_ID, value: "@CLUSTER_ID@" }
    - { name: ISTIO_META_INTERCEPTION_MODE, value: REDIRECT }
    - { name: ISTIO_META_WORKLOAD_NAME, value: "{{ .DeploymentMeta.Name }}" }
    - { name: ISTIO_META_MESH_ID, value: "@TRUST_DOMAIN@" }
    - { name: TRUST_DOMAIN, value: "@TRUST_DOMAIN@" }
    readinessProbe:
      httpGet: { path: /healthz/ready, port: 15021 }
      initialDelaySeconds: 1
      periodSeconds: 2
      timeoutSeconds: 3
      failureThreshold: 30
    resources:
      requests: { cpu: 100m, memory: 128Mi }
      limits: { cpu: "2", memory: 1Gi }
    securityContext:
      allowPrivilegeEscalation: false
      privileged: false
      readOnlyRootFilesystem: true
      runAsGroup: 1337
      runAsNonRoot: true
      runAsUser: 1337
      capabilities: { drop: [ALL] }
    volumeMounts:
    - { name: workload-socket, mountPath: /var/run/secrets/workload-spiffe-uds }
    - { name: credential-socket, mountPath: /var/run/secrets/credential-uds }
    - { name: workload-certs, mountPath: /var/run/secrets/workload-spiffe-credentials }
    - { name: istiod-ca-cert, mountPath: /var/run/secrets/istio }
    - { name: istio-data, mountPath: /var/lib/istio/data }
    - { name: istio-envoy, mountPath: /etc/istio/proxy }
    - { name: istio-token, mountPath: /var/run/secrets/tokens }
    - { name: istio-podinfo, mountPath: /etc/istio/pod }
  volumes:
  - { name: workload-socket, emptyDir: {} }
  - { name: credential-socket, emptyDir: {} }
  - { name: workload-certs, emptyDir: {} }
  - { name: istio-envoy, emptyDir: { medium: Memory } }
  - { name: istio-data, emptyDir: {} }
  - name: istio-podinfo
    downwardAPI:
      items:
      - { path: labels, fieldRef: { fieldPath: metadata.labels } }
      - { path: annotations, fieldRef: { fieldPath: metadata.annotations } }
  - name: istio-token
    projected:
      sources:
      - serviceAccountToken: { path: istio-token, expirationSeconds: 43200, audience: istio-ca }
  - { name: istiod-ca-cert, configMap: { name: istio-ca-root-cert } }
"#;
    TEMPLATE
        .replace("@PROXY_IMAGE@", &config.proxy_image.to_string())
        .replace("@CA_ADDRESS@", &ca_address(ctx, namespace))
        .replace("@CLUSTER_ID@", CLUSTER_ID)
        .replace("@TRUST_DOMAIN@", TRUST_DOMAIN)
}

/// The injector's ConfigMap: its policy and templates (`config`) and the
/// values the templates may read (`values`).
fn injector_config_map(ctx: &Context<'_>, config: &IstioConfig, namespace: &str) -> ConfigMap {
    let mut injector = String::from(
        "policy: enabled\n\
         alwaysInjectSelector: []\n\
         neverInjectSelector: []\n\
         injectedAnnotations: {}\n\
         defaultTemplates: [sidecar]\n\
         templates:\n  sidecar: |\n",
    );
    for line in sidecar_template(ctx, config, namespace).lines() {
        if line.is_empty() {
            injector.push('\n');
        } else {
            injector.push_str("    ");
            injector.push_str(line);
            injector.push('\n');
        }
    }
    let values = json!({
        "global": {
            "caAddress": ca_address(ctx, namespace),
            "istioNamespace": namespace,
            "meshID": TRUST_DOMAIN,
            "network": "",
            "pilotCertProvider": "istiod",
            "proxy": {
                "image": config.proxy_image.to_string(),
                "clusterDomain": "cluster.local",
                "statusPort": 15020,
            },
        },
        "revision": "",
        "sidecarInjectorWebhook": { "defaultTemplates": ["sidecar"] },
    });
    build::config_map(
        namespace,
        INJECTOR,
        BTreeMap::from([
            ("config".to_owned(), injector),
            ("values".to_owned(), values.to_string()),
        ]),
    )
}

/// The revision istiod serves, and the `istio.io/rev` label its webhook
/// controllers look for before patching a configuration's caBundle (and a
/// validator's failurePolicy).
const REVISION: &str = "default";

/// A label requirement, as upstream's selectors write them.
fn requirement(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_owned(),
        operator: operator.to_owned(),
        values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect()),
    }
}

fn selector(requirements: Vec<LabelSelectorRequirement>) -> Option<LabelSelector> {
    Some(LabelSelector {
        match_expressions: Some(requirements),
        ..LabelSelector::default()
    })
}

fn istiod_client(namespace: &str, path: &str) -> WebhookClientConfig {
    WebhookClientConfig {
        service: Some(ServiceReference {
            name: ISTIOD.to_owned(),
            namespace: namespace.to_owned(),
            path: Some(path.to_owned()),
            port: Some(443),
        }),
        ..WebhookClientConfig::default()
    }
}

/// The sidecar injector as istio-discovery's chart renders it for the
/// default revision: four webhooks, one per way a pod can ask for a sidecar
/// (namespace or pod label, `istio-injection` or `istio.io/rev`).
fn injector_webhook(namespace: &str) -> MutatingWebhookConfiguration {
    // NB: no caBundle: istiod writes it (INJECTION_WEBHOOK_CONFIG_NAME, and
    // only with the revision label) and owns that field.
    let webhook =
        |prefix: &str,
         namespace_selector: Vec<LabelSelectorRequirement>,
         object_selector: Vec<LabelSelectorRequirement>| MutatingWebhook {
            name: format!("{prefix}sidecar-injector.istio.io"),
            admission_review_versions: vec!["v1".to_owned()],
            client_config: istiod_client(namespace, "/inject"),
            failure_policy: Some("Fail".to_owned()),
            reinvocation_policy: Some("Never".to_owned()),
            namespace_selector: selector(namespace_selector),
            object_selector: selector(object_selector),
            rules: Some(vec![RuleWithOperations {
                api_groups: Some(vec![String::new()]),
                api_versions: Some(vec!["v1".to_owned()]),
                operations: Some(vec!["CREATE".to_owned()]),
                resources: Some(vec!["pods".to_owned()]),
                ..RuleWithOperations::default()
            }]),
            side_effects: "None".to_owned(),
            ..MutatingWebhook::default()
        };
    let not_disabled = || requirement("sidecar.istio.io/inject", "NotIn", &["false"]);
    MutatingWebhookConfiguration {
        metadata: build::meta_with_labels(
            None,
            INJECTOR,
            &[("app", "sidecar-injector"), ("istio.io/rev", REVISION)],
        ),
        webhooks: Some(vec![
            webhook(
                "rev.namespace.",
                vec![
                    requirement("istio.io/rev", "In", &[REVISION]),
                    requirement("istio-injection", "DoesNotExist", &[]),
                ],
                vec![not_disabled()],
            ),
            webhook(
                "rev.object.",
                vec![
                    requirement("istio.io/rev", "DoesNotExist", &[]),
                    requirement("istio-injection", "DoesNotExist", &[]),
                ],
                vec![
                    not_disabled(),
                    requirement("istio.io/rev", "In", &[REVISION]),
                ],
            ),
            webhook(
                "namespace.",
                vec![requirement("istio-injection", "In", &["enabled"])],
                vec![not_disabled()],
            ),
            webhook(
                "object.",
                vec![
                    requirement("istio-injection", "DoesNotExist", &[]),
                    requirement("istio.io/rev", "DoesNotExist", &[]),
                ],
                vec![
                    requirement("sidecar.istio.io/inject", "In", &["true"]),
                    requirement("istio.io/rev", "DoesNotExist", &[]),
                ],
            ),
        ]),
    }
}

/// Istio's configuration validators as its charts render them: the
/// revision's own (istio-discovery) and the default revision's (base), which
/// also sees objects without a revision label.
fn validating_webhooks(namespace: &str) -> [ValidatingWebhookConfiguration; 2] {
    // NB: they start fail-open (`Ignore`) with no caBundle, as upstream's
    // do: istiod's validation controller patches in its CA and `Fail` once
    // its webhook answers (it only touches configurations with the revision
    // label), and bi never writes those fields again while they match.
    let webhook = |name: &str, object_selector: Option<LabelSelector>| ValidatingWebhook {
        name: name.to_owned(),
        admission_review_versions: vec!["v1".to_owned()],
        client_config: istiod_client(namespace, "/validate"),
        failure_policy: Some("Ignore".to_owned()),
        object_selector,
        rules: Some(vec![RuleWithOperations {
            api_groups: Some(
                [
                    "security.istio.io",
                    "networking.istio.io",
                    "telemetry.istio.io",
                    "extensions.istio.io",
                ]
                .map(str::to_owned)
                .to_vec(),
            ),
            api_versions: Some(vec!["*".to_owned()]),
            operations: Some(vec!["CREATE".to_owned(), "UPDATE".to_owned()]),
            resources: Some(vec!["*".to_owned()]),
            ..RuleWithOperations::default()
        }]),
        side_effects: "None".to_owned(),
        ..ValidatingWebhook::default()
    };
    let labels = [
        ("app", "istiod"),
        ("istio", "istiod"),
        ("istio.io/rev", REVISION),
    ];
    [
        ValidatingWebhookConfiguration {
            metadata: build::meta_with_labels(None, &validator_name(namespace), &labels),
            webhooks: Some(vec![webhook(
                "rev.validation.istio.io",
                selector(vec![requirement("istio.io/rev", "In", &[REVISION])]),
            )]),
        },
        ValidatingWebhookConfiguration {
            metadata: build::meta_with_labels(None, "istiod-default-validator", &labels),
            webhooks: Some(vec![webhook("validation.istio.io", None)]),
        },
    ]
}

/// The revision's validator, named as istio-discovery's chart names it.
fn validator_name(namespace: &str) -> String {
    format!("istio-validator-{namespace}")
}

/// istiod's ClusterRole rules, as upstream's istio-discovery chart (1.28.1)
/// grants them with its defaults: the `istiod-clusterrole` (no config
/// analysis, no taint controller, istiod as its own CA, no
/// ClusterTrustBundles) and the `istiod-gateway-controller` role, which
/// bi binds as one.
const ISTIOD_CLUSTER_RULES: &[build::RuleSpec] = &[
    (
        &["admissionregistration.k8s.io"],
        &["mutatingwebhookconfigurations"],
        &["get", "list", "watch", "update", "patch"],
    ),
    (
        &["admissionregistration.k8s.io"],
        &["validatingwebhookconfigurations"],
        &["get", "list", "watch", "update"],
    ),
    (
        &[
            "config.istio.io",
            "security.istio.io",
            "networking.istio.io",
            "authentication.istio.io",
            "rbac.istio.io",
            "telemetry.istio.io",
            "extensions.istio.io",
        ],
        &["*"],
        &["get", "watch", "list"],
    ),
    (&["networking.istio.io"], &["workloadentries"], FULL),
    (
        &["networking.istio.io"],
        &["workloadentries/status", "serviceentries/status"],
        FULL,
    ),
    (
        &["security.istio.io"],
        &["authorizationpolicies/status"],
        FULL,
    ),
    (&[""], &["services/status"], FULL),
    // Auto-detect installed CRDs.
    (
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        &["get", "list", "watch"],
    ),
    // Discovery and routing.
    (
        &[""],
        &["pods", "nodes", "services", "namespaces", "endpoints"],
        &["get", "list", "watch"],
    ),
    (
        &["discovery.k8s.io"],
        &["endpointslices"],
        &["get", "list", "watch"],
    ),
    // Ingress controller.
    (
        &["networking.k8s.io"],
        &["ingresses", "ingressclasses"],
        &["get", "list", "watch"],
    ),
    (&["networking.k8s.io"], &["ingresses/status"], &["*"]),
    // The root certificate ConfigMap istiod writes into every namespace.
    (
        &[""],
        &["configmaps"],
        &["create", "get", "list", "watch", "update"],
    ),
    // Verifying JWTs and authorizing debug requests.
    (&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
    (
        &["authorization.k8s.io"],
        &["subjectaccessreviews"],
        &["create"],
    ),
    // Gateway API.
    (
        &["gateway.networking.k8s.io", "gateway.networking.x-k8s.io"],
        &["*"],
        &["get", "watch", "list"],
    ),
    (
        &["gateway.networking.x-k8s.io"],
        &["xbackendtrafficpolicies/status", "xlistenersets/status"],
        &["update", "patch"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &[
            "backendtlspolicies/status",
            "gatewayclasses/status",
            "gateways/status",
            "grpcroutes/status",
            "httproutes/status",
            "referencegrants/status",
            "tcproutes/status",
            "tlsroutes/status",
            "udproutes/status",
        ],
        &["update", "patch"],
    ),
    (
        &["gateway.networking.k8s.io"],
        &["gatewayclasses"],
        &["create", "update", "patch", "delete"],
    ),
    (
        &["inference.networking.k8s.io"],
        &["inferencepools"],
        &["get", "watch", "list"],
    ),
    (
        &["inference.networking.k8s.io"],
        &["inferencepools/status"],
        &["update", "patch"],
    ),
    (&[""], &["secrets"], &["get", "watch", "list"]),
    // Multi-cluster services (the chart's default MCS API group).
    (
        &["multicluster.x-k8s.io"],
        &["serviceexports"],
        &["get", "watch", "list", "create", "delete"],
    ),
    (
        &["multicluster.x-k8s.io"],
        &["serviceimports"],
        &["get", "watch", "list"],
    ),
    // istiod-gateway-controller: the Deployments behind Gateways.
    (&["apps"], &["deployments"], FULL),
    (&["autoscaling"], &["horizontalpodautoscalers"], FULL),
    (&["policy"], &["poddisruptionbudgets"], FULL),
    (&[""], &["services"], FULL),
    (&[""], &["serviceaccounts"], FULL),
];

/// Every verb istiod's chart lists for the objects it manages.
const FULL: &[&str] = &[
    "get", "watch", "list", "update", "patch", "create", "delete",
];

/// istiod's Role in its namespace, as upstream's `role.yaml`: its
/// self-signed CA (istio-ca-secret) when istio-csr is not installed, and
/// leader election.
const ISTIOD_NAMESPACE_RULES: &[build::RuleSpec] = &[
    (&["networking.istio.io"], &["gateways"], &["create"]),
    (
        &[""],
        &["secrets"],
        &["create", "get", "watch", "list", "update", "delete"],
    ),
    (&[""], &["configmaps"], &["delete"]),
    (
        &["coordination.k8s.io"],
        &["leases"],
        &["get", "update", "patch", "create"],
    ),
];

fn istiod_deployment(
    ctx: &Context<'_>,
    config: &IstioConfig,
    namespace: &str,
) -> k8s_openapi::api::apps::v1::Deployment {
    let with_csr = ctx.installed(BatteryKind::IstioCsr);
    let mut container = ContainerSpec::new("discovery", &config.pilot_image);
    container.args = [
        "discovery",
        "--monitoringAddr=:15014",
        "--log_output_level=default:info",
        "--domain",
        "cluster.local",
        "--keepaliveMaxServerConnectionAge",
        "30m",
    ]
    .map(str::to_owned)
    .to_vec();
    container.env = vec![
        build::env("REVISION", "default"),
        build::env("PILOT_CERT_PROVIDER", "istiod"),
        env_from_field("POD_NAME", "metadata.name"),
        env_from_field("POD_NAMESPACE", "metadata.namespace"),
        env_from_field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        build::env("CLUSTER_ID", CLUSTER_ID),
        build::env("PILOT_TRACE_SAMPLING", "1"),
        build::env("PILOT_ENABLE_ANALYSIS", "false"),
        build::env("INJECTION_WEBHOOK_CONFIG_NAME", INJECTOR),
        // NB: non-empty turns on istiod's validation controller, which
        // readies the validators (see `validating_webhooks`).
        build::env("VALIDATION_WEBHOOK_CONFIG_NAME", &validator_name(namespace)),
        build::env("ISTIOD_ADDR", &discovery_address(namespace)),
        build::env("PILOT_ENABLE_GATEWAY_API", "true"),
        build::env("PILOT_ENABLE_GATEWAY_API_STATUS", "true"),
        // bi deploys the ingress gateway itself (istio_gateway).
        build::env("PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER", "false"),
        build::env("PILOT_ENABLE_GATEWAY_API_GATEWAYCLASS_CONTROLLER", "true"),
    ];
    container.ports = vec![
        ("http-debug", 8080),
        ("grpc-xds", 15010),
        ("https-dns", 15012),
        ("https-webhook", 15017),
        ("http-monitoring", 15014),
    ];
    container.health = Some(Health::Http("/ready", 8080));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(200),
        cpu_limit: None,
        memory_request: Memory::mebibytes(256),
        memory_limit: Some(Memory::gibibytes(2)),
    });
    container.mounts = [
        ("local-certs", "/var/run/secrets/istio-dns"),
        ("istio-token", "/var/run/secrets/tokens"),
        ("cacerts", "/etc/cacerts"),
        ("config-volume", "/etc/istio/config"),
        ("inject", "/var/lib/istio/inject"),
    ]
    .map(|(name, path)| (name.to_owned(), path.to_owned()))
    .to_vec();
    let mut volumes = vec![
        empty_dir("local-certs", true),
        istio_token_volume(),
        secret_volume("cacerts", "cacerts", true),
        config_map_volume("config-volume", "istio", false),
        config_map_volume("inject", INJECTOR, false),
    ];
    if with_csr {
        // istio-csr signs workload certificates and istiod's own serving
        // certificate (secret istiod-tls) from the Battery CA.
        container.env.push(build::env("ENABLE_CA_SERVER", "false"));
        container.args.extend(
            [
                "--tlsCertFile=/etc/cert-manager/tls/tls.crt",
                "--tlsKeyFile=/etc/cert-manager/tls/tls.key",
                "--caCertFile=/etc/cert-manager/ca/root-cert.pem",
            ]
            .map(str::to_owned),
        );
        container.mounts.push((
            "cert-manager".to_owned(),
            "/etc/cert-manager/tls".to_owned(),
        ));
        container
            .mounts
            .push(("ca-root-cert".to_owned(), "/etc/cert-manager/ca".to_owned()));
        volumes.push(secret_volume(
            "cert-manager",
            istio_csr::ISTIOD_TLS_SECRET,
            false,
        ));
        volumes.push(config_map_volume(
            "ca-root-cert",
            "istio-ca-root-cert",
            false,
        ));
    }
    build::deployment(namespace, ISTIOD, 1, Some(ISTIOD), &[container], volumes)
}

/// The resources this battery needs, in `config.namespace`: the Namespace,
/// istiod (Deployment, ServiceAccount, RBAC, Service), the mesh config and
/// the sidecar injector (templates ConfigMap and MutatingWebhookConfiguration
/// for namespaces labelled `istio-injection=enabled`), upstream's CRDs,
/// and, when the Battery CA is
/// installed, a mesh-wide PeerAuthentication `default` with STRICT mTLS.
/// With istio-csr, workload certificates come from it (and so from the
/// Battery CA) and istiod's own CA is off. Reads no secrets.
pub fn generate(config: &IstioConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = config.namespace.as_str();
    let mut out = vec![Resource::new(app, &build::namespace(ns, &[]))?];
    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }
    out.extend([
        Resource::new(app, &build::service_account(ns, ISTIOD))?,
        Resource::new(
            app,
            &build::cluster_role(ISTIOD, build::rules(ISTIOD_CLUSTER_RULES)),
        )?,
        Resource::new(
            app,
            &build::cluster_role_binding(ISTIOD, ISTIOD, ns, ISTIOD),
        )?,
        Resource::new(
            app,
            &build::role(ns, ISTIOD, build::rules(ISTIOD_NAMESPACE_RULES)),
        )?,
        Resource::new(app, &build::role_binding(ns, ISTIOD, ISTIOD, ISTIOD))?,
    ]);
    let mesh = BTreeMap::from([
        ("mesh".to_owned(), mesh_config(ctx, ns)),
        ("meshNetworks".to_owned(), "networks: {}\n".to_owned()),
    ]);
    out.push(Resource::new(app, &build::config_map(ns, "istio", mesh))?);
    out.push(Resource::new(app, &injector_config_map(ctx, config, ns))?);
    out.push(Resource::new(app, &injector_webhook(ns))?);
    for validator in validating_webhooks(ns) {
        out.push(Resource::new(app, &validator)?);
    }
    out.push(Resource::new(app, &istiod_deployment(ctx, config, ns))?);
    out.push(Resource::new(
        app,
        &build::service(
            ns,
            ISTIOD,
            ISTIOD,
            &[
                ("grpc-xds", 15010),
                ("https-dns", 15012),
                ("https-webhook", 443),
                ("http-monitoring", 15014),
            ],
        ),
    )?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, ISTIOD, ISTIOD, "http-monitoring")?
    {
        out.push(scrape);
    }
    if ctx.installed(BatteryKind::BatteryCa) {
        let strict = build::custom_resource(
            "security.istio.io/v1",
            "PeerAuthentication",
            Some(ns),
            "default",
            json!({ "mtls": { "mode": "STRICT" } }),
        );
        out.push(Resource::from_value(app, strict)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{self, find, names_of};
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};
    use k8s_openapi::api::apps::v1::Deployment;

    fn generated(kinds: &[BatteryKind]) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        let empty = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&empty));
        generate(&IstioConfig::default(), &ctx).unwrap()
    }

    #[test]
    fn generates_istiod_its_injector_and_the_namespace() {
        let resources = generated(&[BatteryKind::Istio]);
        let crds = names_of(&resources, "CustomResourceDefinition");
        assert_eq!(crds, CRDS.map(|crd| crd.name));
        assert!(crds.contains(&"peerauthentications.security.istio.io"));
        let kinds: Vec<(&str, &str)> = resources
            .iter()
            .filter(|r| r.path.kind != "CustomResourceDefinition")
            .map(|r| (r.path.kind.as_str(), r.path.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Namespace", "battery-istio"),
                ("ServiceAccount", "istiod"),
                ("ClusterRole", "istiod"),
                ("ClusterRoleBinding", "istiod"),
                ("Role", "istiod"),
                ("RoleBinding", "istiod"),
                ("ConfigMap", "istio"),
                ("ConfigMap", "istio-sidecar-injector"),
                ("MutatingWebhookConfiguration", "istio-sidecar-injector"),
                (
                    "ValidatingWebhookConfiguration",
                    "istio-validator-battery-istio"
                ),
                ("ValidatingWebhookConfiguration", "istiod-default-validator"),
                ("Deployment", "istiod"),
                ("Service", "istiod"),
            ]
        );
        let deployment = find(&resources, "Deployment", "istiod").unwrap();
        let deployment: Deployment = serde_json::from_value(deployment.body.clone()).unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        assert_eq!(
            pod.containers[0].image.as_deref(),
            Some(images::ISTIO_PILOT)
        );
        assert!(
            pod.containers[0].resources.is_some() && pod.containers[0].readiness_probe.is_some()
        );
        let template = &find(&resources, "ConfigMap", "istio-sidecar-injector")
            .unwrap()
            .body;
        let config = template["data"]["config"].as_str().unwrap();
        assert!(config.contains(images::ISTIO_PROXY), "{config}");
        assert!(
            config.contains("istiod.battery-istio.svc:15012"),
            "{config}"
        );
    }

    #[test]
    fn the_injector_config_and_its_template_are_yaml() {
        let resources = generated(&[BatteryKind::Istio]);
        let injector = &find(&resources, "ConfigMap", INJECTOR).unwrap().body["data"];
        let config: serde_json::Value =
            serde_yaml_ng::from_str(injector["config"].as_str().unwrap()).unwrap();
        assert_eq!(config["policy"], "enabled");
        let template: serde_json::Value =
            serde_yaml_ng::from_str(config["templates"]["sidecar"].as_str().unwrap()).unwrap();
        let proxy = &template["spec"]["containers"][0];
        assert_eq!(proxy["name"], "istio-proxy");
        assert_eq!(proxy["image"], images::ISTIO_PROXY);
        assert_eq!(proxy["securityContext"]["runAsUser"], 1337);
        let values: serde_json::Value =
            serde_json::from_str(injector["values"].as_str().unwrap()).unwrap();
        assert_eq!(
            values["global"]["caAddress"],
            "istiod.battery-istio.svc:15012"
        );
        let mesh = &find(&resources, "ConfigMap", "istio").unwrap().body["data"]["mesh"];
        let mesh: serde_json::Value = serde_yaml_ng::from_str(mesh.as_str().unwrap()).unwrap();
        assert_eq!(
            mesh["defaultConfig"]["discoveryAddress"],
            "istiod.battery-istio.svc:15012"
        );
    }

    #[test]
    fn strict_mtls_only_with_the_battery_ca() {
        let without = generated(&[BatteryKind::Istio]);
        assert!(without.iter().all(|r| r.path.kind != "PeerAuthentication"));
        let with = generated(&[BatteryKind::Istio, BatteryKind::BatteryCa]);
        let strict = find(&with, "PeerAuthentication", "default").unwrap();
        assert_eq!(strict.path.namespace.as_deref(), Some("battery-istio"));
        assert_eq!(strict.body["spec"]["mtls"]["mode"], "STRICT");
        // Checked against the schema Istio ships.
        let schema = CRDS
            .iter()
            .find(|crd| crd.name == "peerauthentications.security.istio.io")
            .and_then(|crd| crd.schema("v1"))
            .unwrap();
        assert_eq!(violations(&schema, &strict.body), Vec::<String>::new());
        assert_eq!(
            violations(&test_support::strict(&schema), &strict.body),
            Vec::<String>::new()
        );
    }

    #[test]
    fn istio_csr_replaces_istiods_ca() {
        let resources = generated(&[BatteryKind::IstioCsr]);
        let deployment = find(&resources, "Deployment", "istiod").unwrap();
        let text = deployment.body.to_string();
        assert!(
            text.contains("ENABLE_CA_SERVER") && text.contains("istiod-tls"),
            "{text}"
        );
        let mesh = &find(&resources, "ConfigMap", "istio").unwrap().body["data"]["mesh"];
        assert!(
            mesh.as_str()
                .unwrap()
                .contains("caAddress: cert-manager-istio-csr.battery-base.svc:443"),
            "{mesh}"
        );
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let without = generated(&[BatteryKind::Istio]);
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(&[BatteryKind::Istio, BatteryKind::VictoriaMetrics]);
        assert!(find(&with, "VMServiceScrape", ISTIOD).is_some());
    }
}
