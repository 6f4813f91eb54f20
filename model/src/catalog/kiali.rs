//! A console for the Istio mesh: topology, traffic and configuration checks.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector, SecretVolumeSource, Volume,
};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::{Deserialize, Serialize};

use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{checks, istio, sso, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Kiali,
    id: "kiali",
    name: "Kiali",
    group: BatteryGroup::NetSecurity,
    description: "A console for the Istio mesh: topology, traffic and configuration checks.",
    dependencies: &[BatteryKind::Istio, BatteryKind::VictoriaMetrics],
    integrations: &[Integration {
        partner: BatteryKind::Grafana,
        what: "links from Kiali graphs to Grafana dashboards",
    }, Integration {
        partner: BatteryKind::IstioGateway,
        what: "its UI at https://kiali.<domain>/kiali/",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Kiali.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KialiConfig {
    /// Kiali.
    pub image: ImageRef,
}

impl Default for KialiConfig {
    fn default() -> Self {
        Self {
            image: image(images::KIALI),
        }
    }
}

impl KialiConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// Kiali's Deployment, ServiceAccount, Service and ConfigMap.
pub const NAME: &str = "kiali";
/// Kiali's UI and API port.
pub const PORT: u16 = 20001;
/// The Secret holding the key Kiali signs its session tokens with.
const SIGNING_KEY_SECRET: &str = "kiali-signing-key";

/// Grafana's in-cluster URL (grafana's generator: Service `grafana`, port
/// 3000, in the monitoring namespace).
fn grafana_url(ctx: &Context<'_>) -> String {
    format!("http://grafana.{}.svc:3000", ctx.monitoring_namespace())
}

/// Kiali's `config.yaml`. Behind oauth2-proxy (SSO installed) Kiali lets
/// in whoever the proxy let through; without SSO people sign in with a
/// Kubernetes token.
fn server_config(ctx: &Context<'_>, namespace: &str, istio_namespace: &str) -> String {
    let strategy = if ctx.installed(BatteryKind::Sso) {
        "anonymous"
    } else {
        "token"
    };
    let grafana = if ctx.installed(BatteryKind::Grafana) {
        format!(
            "  grafana:\n    enabled: true\n    internal_url: {url}\n    external_url: {url}\n",
            url = grafana_url(ctx)
        )
    } else {
        "  grafana:\n    enabled: false\n".to_owned()
    };
    format!(
        "auth:\n  strategy: {strategy}\n\
         deployment:\n  cluster_wide_access: true\n  namespace: {namespace}\n  instance_name: {NAME}\n  view_only_mode: false\n\
         istio_namespace: {istio_namespace}\n\
         server:\n  port: {PORT}\n  web_root: /kiali\n  observability:\n    metrics:\n      enabled: true\n      port: 9090\n\
         external_services:\n\
         {grafana}\
         \x20 istio:\n    root_namespace: {istio_namespace}\n    config_map_name: istio\n    istiod_deployment_name: {istiod}\n    istio_sidecar_injector_config_map_name: istio-sidecar-injector\n    url_service_version: http://{istiod}.{istio_namespace}:15014/version\n\
         \x20 prometheus:\n    url: {prometheus}\n\
         \x20 tracing:\n    enabled: false\n",
        istiod = istio::ISTIOD,
        prometheus = victoria_metrics::select_url(ctx),
    )
}

const READ: &[&str] = &["get", "list", "watch"];

fn cluster_rules() -> Vec<PolicyRule> {
    vec![
        build::rule(
            &[""],
            &[
                "configmaps",
                "endpoints",
                "namespaces",
                "nodes",
                "pods",
                "pods/log",
                "replicationcontrollers",
                "services",
            ],
            READ,
        ),
        build::rule(
            &["apps"],
            &["daemonsets", "deployments", "replicasets", "statefulsets"],
            READ,
        ),
        build::rule(&["batch"], &["cronjobs", "jobs"], READ),
        build::rule(&["discovery.k8s.io"], &["endpointslices"], READ),
        build::rule(
            &[
                "networking.istio.io",
                "security.istio.io",
                "extensions.istio.io",
                "telemetry.istio.io",
                "gateway.networking.k8s.io",
            ],
            &["*"],
            READ,
        ),
        build::rule(
            &["admissionregistration.k8s.io"],
            &["mutatingwebhookconfigurations"],
            READ,
        ),
        // The token strategy checks who a token belongs to and what it may see.
        build::rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
        build::rule(
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews", "subjectaccessreviews"],
            &["create"],
        ),
    ]
}

/// The resources this battery needs, in Istio's namespace: Kiali's
/// Deployment, ServiceAccount, read-only ClusterRole (+binding), Service, a
/// ConfigMap `kiali` pointing at VictoriaMetrics' vmselect (and Grafana
/// once it is installed), and the Secret `kiali-signing-key` (mounted where
/// Kiali reads it). With VictoriaMetrics, Kiali's own metrics are scraped;
/// with SSO, an oauth2-proxy `oauth2-proxy-kiali` signs people in.
///
/// Reads the stored secret `kiali/signing-key` (and, with SSO,
/// `sso/cookie-secret` and `sso/client-secret`).
pub fn generate(config: &KialiConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let istio_ns = crate::reach::istio_namespace(ctx);
    let ns = istio_ns.as_str();
    let mut out = vec![
        Resource::new(app, &build::service_account(ns, NAME))?,
        Resource::new(app, &build::cluster_role(NAME, cluster_rules()))?,
        Resource::new(app, &build::cluster_role_binding(NAME, NAME, ns, NAME))?,
        Resource::new(
            app,
            &build::role(ns, NAME, vec![build::rule(&[""], &["secrets"], READ)]),
        )?,
        Resource::new(app, &build::role_binding(ns, NAME, NAME, NAME))?,
    ];
    let config_map = build::config_map(
        ns,
        NAME,
        BTreeMap::from([("config.yaml".to_owned(), server_config(ctx, ns, ns))]),
    );
    out.push(Resource::new(app, &config_map)?);
    let signing_key = build::secret(
        ns,
        SIGNING_KEY_SECRET,
        BTreeMap::from([("value.txt".to_owned(), ctx.secret("kiali/signing-key")?)]),
    );
    out.push(Resource::new(app, &signing_key)?);

    let mut container = ContainerSpec::new(NAME, &config.image);
    container.command = [
        "/opt/kiali/kiali",
        "-config",
        "/kiali-configuration/config.yaml",
    ]
    .map(str::to_owned)
    .to_vec();
    container.env = vec![
        EnvVar {
            name: "ACTIVE_NAMESPACE".to_owned(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.namespace".to_owned(),
                    api_version: None,
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        build::env("LOG_LEVEL", "info"),
        build::env("LOG_FORMAT", "json"),
    ];
    container.ports = vec![("api", PORT), ("http-metrics", 9090)];
    container.health = Some(Health::Http("/kiali/healthz", PORT));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(50),
        cpu_limit: None,
        memory_request: Memory::mebibytes(128),
        memory_limit: Some(Memory::gibibytes(1)),
    });
    container.mounts = vec![
        (
            "kiali-configuration".to_owned(),
            "/kiali-configuration".to_owned(),
        ),
        (
            "kiali-signing-key".to_owned(),
            "/kiali-override-secrets/login-token-signing-key".to_owned(),
        ),
    ];
    let volumes = vec![
        Volume {
            name: "kiali-configuration".to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: NAME.to_owned(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "kiali-signing-key".to_owned(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(SIGNING_KEY_SECRET.to_owned()),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
    ];
    out.push(Resource::new(
        app,
        &build::deployment(ns, NAME, 1, Some(NAME), &[container], volumes),
    )?);
    out.push(Resource::new(
        app,
        &build::service(ns, NAME, NAME, &[("api", PORT), ("http-metrics", 9090)]),
    )?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, NAME, NAME, "http-metrics")? {
        out.push(scrape);
    }
    out.extend(sso::oauth2_proxy(ctx, app, ns, NAME, NAME, PORT)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DesiredState, Secrets};
    use k8s_openapi::api::apps::v1::Deployment;

    fn generated(kinds: &[BatteryKind]) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        generate(
            &KialiConfig::default(),
            &Context::new(&state, Secrets::Preview),
        )
        .unwrap()
    }

    fn kinds(resources: &[Resource]) -> Vec<(&str, &str)> {
        resources
            .iter()
            .map(|r| (r.path.kind.as_str(), r.path.name.as_str()))
            .collect()
    }

    fn config_yaml(resources: &[Resource]) -> String {
        let config_map = resources
            .iter()
            .find(|r| r.path.kind == "ConfigMap")
            .unwrap();
        config_map.body["data"]["config.yaml"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn generates_kiali_pointing_at_vmselect() {
        let resources = generated(&[BatteryKind::Kiali]);
        assert_eq!(
            kinds(&resources),
            [
                ("ServiceAccount", "kiali"),
                ("ClusterRole", "kiali"),
                ("ClusterRoleBinding", "kiali"),
                ("Role", "kiali"),
                ("RoleBinding", "kiali"),
                ("ConfigMap", "kiali"),
                ("Secret", "kiali-signing-key"),
                ("Deployment", "kiali"),
                ("Service", "kiali"),
                // Kiali depends on VictoriaMetrics: always scraped.
                ("VMServiceScrape", "kiali"),
            ]
        );
        assert!(
            resources.iter().all(|r| r.path.namespace.is_none()
                || r.path.namespace.as_deref() == Some("battery-istio"))
        );
        let config = config_yaml(&resources);
        let parsed: serde_json::Value = serde_yaml_ng::from_str(&config).unwrap();
        assert_eq!(
            parsed["external_services"]["prometheus"]["url"],
            "http://vmselect-bi.battery-monitoring.svc:8481/select/0/prometheus"
        );
        assert_eq!(parsed["external_services"]["grafana"]["enabled"], false);
        assert_eq!(parsed["auth"]["strategy"], "token");
        assert_eq!(parsed["istio_namespace"], "battery-istio");
    }

    #[test]
    fn the_pod_uses_the_image_and_reads_the_signing_key_from_its_secret() {
        let stored = BTreeMap::from([(
            "kiali/signing-key".to_owned(),
            "k3y-0123456789abcdef".to_owned(),
        )]);
        let state = DesiredState::with_batteries(&[BatteryKind::Kiali]).unwrap();
        let resources = generate(
            &KialiConfig::default(),
            &Context::new(&state, Secrets::Stored(&stored)),
        )
        .unwrap();
        let secret = resources.iter().find(|r| r.path.kind == "Secret").unwrap();
        assert_eq!(
            secret.body["stringData"]["value.txt"],
            "k3y-0123456789abcdef"
        );
        let deployment = resources
            .iter()
            .find(|r| r.path.kind == "Deployment")
            .unwrap();
        assert!(!deployment.body.to_string().contains("k3y"));
        let deployment: Deployment = serde_json::from_value(deployment.body.clone()).unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.containers[0].image.as_deref(), Some(images::KIALI));
        assert!(
            pod.containers[0].resources.is_some() && pod.containers[0].liveness_probe.is_some()
        );
        let volumes = pod.volumes.unwrap();
        assert_eq!(
            volumes[1].secret.as_ref().unwrap().secret_name.as_deref(),
            Some(SIGNING_KEY_SECRET)
        );
    }

    #[test]
    fn a_missing_signing_key_is_an_error() {
        let state = DesiredState::with_batteries(&[BatteryKind::Kiali]).unwrap();
        let empty = BTreeMap::new();
        assert_eq!(
            generate(
                &KialiConfig::default(),
                &Context::new(&state, Secrets::Stored(&empty))
            ),
            Err(GenerateError::MissingSecret("kiali/signing-key".to_owned()))
        );
    }

    #[test]
    fn grafana_and_sso_integrate_only_when_installed() {
        let resources = generated(&[BatteryKind::Kiali, BatteryKind::Grafana, BatteryKind::Sso]);
        let parsed: serde_json::Value = serde_yaml_ng::from_str(&config_yaml(&resources)).unwrap();
        assert_eq!(parsed["external_services"]["grafana"]["enabled"], true);
        assert_eq!(
            parsed["external_services"]["grafana"]["internal_url"],
            "http://grafana.battery-monitoring.svc:3000"
        );
        assert_eq!(parsed["auth"]["strategy"], "anonymous");
        assert!(
            resources
                .iter()
                .any(|r| r.path.kind == "Deployment" && r.path.name == "oauth2-proxy-kiali")
        );
        let without = generated(&[BatteryKind::Kiali]);
        assert!(
            without
                .iter()
                .all(|r| !r.path.name.starts_with("oauth2-proxy"))
        );
    }
}
