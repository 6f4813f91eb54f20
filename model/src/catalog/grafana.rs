//! Dashboards, with datasources for VictoriaMetrics and Loki added automatically when they are installed.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DeploymentStrategy;
use k8s_openapi::api::core::v1::{ConfigMapVolumeSource, EmptyDirVolumeSource, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{loki, sso, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{ContentHash, Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory, Storage};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Grafana,
    id: "grafana",
    name: "Grafana",
    group: BatteryGroup::Monitoring,
    description: "Dashboards, with datasources for VictoriaMetrics and Loki added automatically when they are installed.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "a VictoriaMetrics datasource",
        },
        Integration {
            partner: BatteryKind::Loki,
            what: "a Loki datasource",
        },
        Integration {
            partner: BatteryKind::Sso,
            what: "sign-in through Keycloak via oauth2-proxy",
        },
        Integration {
            partner: BatteryKind::IstioGateway,
            what: "its UI at https://grafana.<domain>/",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Grafana.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrafanaConfig {
    /// Grafana.
    pub image: ImageRef,
    /// Loads dashboards and datasources from ConfigMaps.
    pub sidecar_image: ImageRef,
    /// Volume for Grafana's own database.
    pub storage: Storage,
}

impl Default for GrafanaConfig {
    fn default() -> Self {
        Self {
            image: image(images::GRAFANA),
            sidecar_image: image(images::GRAFANA_SIDECAR),
            storage: Storage::gibibytes(1),
        }
    }
}

impl GrafanaConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::pinned(&mut problems, "sidecar_image", &self.sidecar_image);
        checks::storage_at_least(
            &mut problems,
            "storage",
            self.storage,
            Storage::mebibytes(256),
        );
        problems.into_result()
    }
}

/// The Deployment, Service, ServiceAccount and Role.
pub const NAME: &str = "grafana";

/// Grafana's HTTP port (UI, API and `/metrics`).
pub const PORT: u16 = 3000;

/// The label of ConfigMaps holding datasources (provisioning format).
pub const DATASOURCE_LABEL: &str = "grafana_datasource";

/// The label of ConfigMaps holding dashboards (Grafana JSON).
pub const DASHBOARD_LABEL: &str = "grafana_dashboard";

/// Where Grafana reads datasources and dashboards.
const DATASOURCES_DIR: &str = "/etc/grafana/provisioning/datasources";
const PROVIDERS_DIR: &str = "/etc/grafana/provisioning/dashboards";
const DASHBOARDS_DIR: &str = "/tmp/dashboards";

/// The resources this battery needs, all in the monitoring namespace:
/// Grafana's Deployment (one replica on a PersistentVolumeClaim of
/// `storage`), its Service, an admin Secret, and the datasources of the
/// monitoring batteries that are installed (VictoriaMetrics, Loki), as
/// labelled ConfigMaps in Grafana's provisioning format.
///
/// The kiwigrid sidecar image loads them: once as an init container for
/// the datasources (Grafana reads those only at start; the pod template
/// carries their hash, so a new datasource rolls the pod), and as a sidecar
/// that keeps dashboards from ConfigMaps labelled `grafana_dashboard: "1"`
/// in the monitoring namespace up to date.
///
/// With SSO installed, an oauth2-proxy (see [`sso::oauth2_proxy`]) sits in
/// front of Grafana. Reads the stored secret `grafana/admin-password`.
pub fn generate(config: &GrafanaConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.monitoring_namespace();
    let admin = format!("{NAME}-admin");
    let data = format!("{NAME}-data");
    let providers = format!("{NAME}-dashboard-providers");

    let mut out = vec![
        Resource::new(app, &build::service_account(namespace, NAME))?,
        // NB: the sidecars read ConfigMaps of the monitoring namespace only.
        Resource::new(
            app,
            &build::role(
                namespace,
                NAME,
                vec![build::rule(
                    &[""],
                    &["configmaps"],
                    &["get", "list", "watch"],
                )],
            ),
        )?,
        Resource::new(app, &build::role_binding(namespace, NAME, NAME, NAME))?,
        Resource::new(
            app,
            &build::secret(
                namespace,
                &admin,
                [
                    ("admin-user".to_owned(), "admin".to_owned()),
                    (
                        "admin-password".to_owned(),
                        ctx.secret("grafana/admin-password")?,
                    ),
                ]
                .into(),
            ),
        )?,
        Resource::new(
            app,
            &build::persistent_volume_claim(namespace, &data, &config.storage),
        )?,
        Resource::new(
            app,
            &build::config_map(
                namespace,
                &providers,
                [("providers.yaml".to_owned(), dashboard_providers()?)].into(),
            ),
        )?,
    ];

    let datasources = datasources(ctx, namespace)?;
    let datasources_hash = ContentHash::of(&Value::Array(
        datasources.iter().map(|r| json!(r.hash.as_str())).collect(),
    ));
    out.extend(datasources);

    let sidecar_env = |method: &str, label: &str, folder: &str| {
        vec![
            build::env("METHOD", method),
            build::env("LABEL", label),
            build::env("LABEL_VALUE", "1"),
            build::env("FOLDER", folder),
            build::env("RESOURCE", "configmap"),
            build::env("NAMESPACE", namespace),
        ]
    };
    let small = Resources {
        cpu_request: Cpu::millicores(10),
        cpu_limit: None,
        memory_request: Memory::mebibytes(64),
        memory_limit: Some(Memory::mebibytes(128)),
    };
    let datasource_loader = ContainerSpec {
        env: sidecar_env("LIST", DATASOURCE_LABEL, DATASOURCES_DIR),
        resources: Some(small.clone()),
        mounts: vec![("datasources".to_owned(), DATASOURCES_DIR.to_owned())],
        ..ContainerSpec::new("datasources", &config.sidecar_image)
    };
    let dashboard_loader = ContainerSpec {
        env: sidecar_env("WATCH", DASHBOARD_LABEL, DASHBOARDS_DIR),
        resources: Some(small),
        mounts: vec![("dashboards".to_owned(), DASHBOARDS_DIR.to_owned())],
        ..ContainerSpec::new("dashboards", &config.sidecar_image)
    };
    let grafana = ContainerSpec {
        env: vec![
            build::env_from_secret("GF_SECURITY_ADMIN_USER", &admin, "admin-user"),
            build::env_from_secret("GF_SECURITY_ADMIN_PASSWORD", &admin, "admin-password"),
            build::env("GF_PATHS_DATA", "/var/lib/grafana"),
            build::env("GF_ANALYTICS_REPORTING_ENABLED", "false"),
            build::env("GF_ANALYTICS_CHECK_FOR_UPDATES", "false"),
            build::env("GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "false"),
        ],
        ports: vec![("http", PORT)],
        resources: Some(Resources {
            cpu_request: Cpu::millicores(100),
            cpu_limit: None,
            memory_request: Memory::mebibytes(128),
            memory_limit: Some(Memory::mebibytes(512)),
        }),
        health: Some(Health::Http("/api/health", PORT)),
        mounts: vec![
            ("data".to_owned(), "/var/lib/grafana".to_owned()),
            ("datasources".to_owned(), DATASOURCES_DIR.to_owned()),
            ("providers".to_owned(), PROVIDERS_DIR.to_owned()),
            ("dashboards".to_owned(), DASHBOARDS_DIR.to_owned()),
        ],
        ..ContainerSpec::new("grafana", &config.image)
    };
    let volumes = vec![
        build::claim_volume("data", &data),
        empty_dir("datasources"),
        empty_dir("dashboards"),
        Volume {
            name: "providers".to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: providers,
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
    ];
    let mut deployment = build::deployment(
        namespace,
        NAME,
        1,
        Some(NAME),
        &[grafana, dashboard_loader],
        volumes,
    );
    if let Some(spec) = deployment.spec.as_mut() {
        // NB: the data volume is ReadWriteOnce: the old pod must let go first.
        spec.strategy = Some(DeploymentStrategy {
            type_: Some("Recreate".to_owned()),
            ..DeploymentStrategy::default()
        });
        let template = &mut spec.template;
        template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                "battery/datasources-hash".to_owned(),
                datasources_hash.to_string(),
            );
        if let Some(pod) = template.spec.as_mut() {
            pod.init_containers = Some(vec![datasource_loader.build()]);
        }
    }
    out.push(Resource::new(app, &deployment)?);
    out.push(Resource::new(
        app,
        &build::service(namespace, NAME, NAME, &[("http", PORT)]),
    )?);
    out.extend(victoria_metrics::scrape(
        ctx, app, namespace, NAME, NAME, "http",
    )?);
    out.extend(sso::oauth2_proxy(ctx, app, namespace, NAME, NAME, PORT)?);
    Ok(out)
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

fn yaml(what: &str, document: &Value) -> Result<String, GenerateError> {
    serde_yaml_ng::to_string(document)
        .map_err(|err| GenerateError::Malformed(format!("{}: {what}: {err}", INFO.id)))
}

/// One dashboard provider reading the folder the sidecar fills.
fn dashboard_providers() -> Result<String, GenerateError> {
    yaml(
        "providers.yaml",
        &json!({
            "apiVersion": 1,
            "providers": [{
                "name": "bi",
                "type": "file",
                "disableDeletion": true,
                "allowUiUpdates": false,
                "updateIntervalSeconds": 30,
                "options": { "path": DASHBOARDS_DIR, "foldersFromFilesStructure": true },
            }],
        }),
    )
}

/// A datasource ConfigMap in Grafana's provisioning format.
fn datasource(namespace: &str, file: &str, source: Value) -> Result<Resource, GenerateError> {
    let mut map = build::config_map(
        namespace,
        &format!("{NAME}-datasource-{file}"),
        [(
            format!("{file}.yaml"),
            yaml(file, &json!({ "apiVersion": 1, "datasources": [source] }))?,
        )]
        .into(),
    );
    map.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(DATASOURCE_LABEL.to_owned(), "1".to_owned());
    Resource::new(INFO.id, &map)
}

/// The datasources of the installed monitoring batteries.
fn datasources(ctx: &Context<'_>, namespace: &str) -> Result<Vec<Resource>, GenerateError> {
    let mut out = Vec::new();
    if ctx.installed(BatteryKind::VictoriaMetrics) {
        out.push(datasource(
            namespace,
            "victoria-metrics",
            json!({
                "name": "VictoriaMetrics",
                "uid": "victoria-metrics",
                "type": "prometheus",
                "access": "proxy",
                "url": victoria_metrics::select_url(ctx),
                "isDefault": true,
                "editable": false,
            }),
        )?);
    }
    if ctx.installed(BatteryKind::Loki) {
        out.push(datasource(
            namespace,
            "loki",
            json!({
                "name": "Loki",
                "uid": "loki",
                "type": "loki",
                "access": "proxy",
                "url": loki::query_url(ctx),
                "isDefault": false,
                "editable": false,
            }),
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::find;
    use crate::generate::{DesiredState, GenerateError, Secrets};

    fn generated(kinds: &[BatteryKind], config: &GrafanaConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    fn paths(resources: &[Resource]) -> Vec<String> {
        let mut paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{}", r.path.kind, r.path.name))
            .collect();
        paths.sort();
        paths
    }

    #[test]
    fn alone_it_generates_grafana_without_datasources() {
        let resources = generated(&[BatteryKind::Grafana], &GrafanaConfig::default());
        assert_eq!(
            paths(&resources),
            [
                "ConfigMap/grafana-dashboard-providers",
                "Deployment/grafana",
                "PersistentVolumeClaim/grafana-data",
                "Role/grafana",
                "RoleBinding/grafana",
                "Secret/grafana-admin",
                "Service/grafana",
                "ServiceAccount/grafana",
            ]
        );
        assert!(
            resources
                .iter()
                .all(|r| r.path.namespace.as_deref() == Some("battery-monitoring"))
        );
    }

    #[test]
    fn the_pod_uses_the_configured_images_and_storage() {
        let config = GrafanaConfig {
            image: ImageRef::parse("registry.example/grafana:12.0.0").unwrap(),
            sidecar_image: ImageRef::parse("registry.example/k8s-sidecar:2.0.0").unwrap(),
            storage: Storage::gibibytes(5),
        };
        let resources = generated(&[BatteryKind::Grafana], &config);
        let deployment = find(&resources, "Deployment", "grafana").unwrap();
        let spec = &deployment.body["spec"];
        assert_eq!(spec["strategy"]["type"], "Recreate");
        let pod = &spec["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["image"],
            "registry.example/grafana:12.0.0"
        );
        assert_eq!(
            pod["containers"][0]["resources"]["requests"]["memory"],
            "128Mi"
        );
        assert_eq!(
            pod["containers"][0]["readinessProbe"]["httpGet"]["path"],
            "/api/health"
        );
        assert_eq!(
            pod["containers"][1]["image"],
            "registry.example/k8s-sidecar:2.0.0"
        );
        assert_eq!(
            pod["initContainers"][0]["image"],
            "registry.example/k8s-sidecar:2.0.0"
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        let password = pod["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "GF_SECURITY_ADMIN_PASSWORD")
            .unwrap();
        assert_eq!(
            password["valueFrom"]["secretKeyRef"],
            json!({ "name": "grafana-admin", "key": "admin-password", "optional": false })
        );
        let claim = find(&resources, "PersistentVolumeClaim", "grafana-data").unwrap();
        assert_eq!(
            claim.body["spec"]["resources"]["requests"]["storage"],
            "5Gi"
        );
    }

    #[test]
    fn datasources_appear_with_victoria_metrics_and_loki() {
        let resources = generated(
            &[
                BatteryKind::Grafana,
                BatteryKind::VictoriaMetrics,
                BatteryKind::Loki,
            ],
            &GrafanaConfig::default(),
        );
        let metrics = find(
            &resources,
            "ConfigMap",
            "grafana-datasource-victoria-metrics",
        )
        .unwrap();
        assert_eq!(metrics.body["metadata"]["labels"][DATASOURCE_LABEL], "1");
        let file: Value = serde_yaml_ng::from_str(
            metrics.body["data"]["victoria-metrics.yaml"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            file["datasources"][0]["url"],
            "http://vmselect-bi.battery-monitoring.svc:8481/select/0/prometheus"
        );
        assert_eq!(file["datasources"][0]["type"], "prometheus");
        let logs = find(&resources, "ConfigMap", "grafana-datasource-loki").unwrap();
        let file: Value =
            serde_yaml_ng::from_str(logs.body["data"]["loki.yaml"].as_str().unwrap()).unwrap();
        assert_eq!(
            file["datasources"][0]["url"],
            "http://loki.battery-monitoring.svc:3100"
        );
        assert!(find(&resources, "VMServiceScrape", "grafana").is_some());

        // A new datasource rolls the pod (Grafana reads them at start).
        let alone = generated(&[BatteryKind::Grafana], &GrafanaConfig::default());
        let hash = |resources: &[Resource]| {
            find(resources, "Deployment", "grafana").unwrap().body["spec"]["template"]
                ["metadata"]["annotations"]["battery/datasources-hash"]
                .clone()
        };
        assert_ne!(hash(&alone), hash(&resources));
    }

    #[test]
    fn only_the_installed_datasource_appears() {
        let resources = generated(
            &[BatteryKind::Grafana, BatteryKind::Loki],
            &GrafanaConfig::default(),
        );
        assert!(find(&resources, "ConfigMap", "grafana-datasource-loki").is_some());
        assert!(
            find(
                &resources,
                "ConfigMap",
                "grafana-datasource-victoria-metrics"
            )
            .is_none()
        );
        assert!(resources.iter().all(|r| r.path.kind != "VMServiceScrape"));
    }

    #[test]
    fn sso_puts_an_oauth2_proxy_in_front() {
        let without = generated(&[BatteryKind::Grafana], &GrafanaConfig::default());
        assert!(find(&without, "Deployment", "oauth2-proxy-grafana").is_none());
        let with = generated(
            &[BatteryKind::Grafana, BatteryKind::Sso],
            &GrafanaConfig::default(),
        );
        let proxy = find(&with, "Deployment", "oauth2-proxy-grafana").unwrap();
        assert_eq!(proxy.app, "grafana");
        assert_eq!(proxy.path.namespace.as_deref(), Some("battery-monitoring"));
        let args = proxy.body["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
        assert!(args.contains("grafana:3000"), "{args}");
    }

    #[test]
    fn the_admin_password_comes_from_the_stored_secrets() {
        let state = DesiredState::with_batteries(&[BatteryKind::Grafana]).unwrap();
        let none = BTreeMap::new();
        let err = generate(
            &GrafanaConfig::default(),
            &Context::new(&state, Secrets::Stored(&none)),
        )
        .unwrap_err();
        assert_eq!(
            err,
            GenerateError::MissingSecret("grafana/admin-password".into())
        );
        let stored = BTreeMap::from([(
            "grafana/admin-password".to_owned(),
            "correct horse".to_owned(),
        )]);
        let resources = generate(
            &GrafanaConfig::default(),
            &Context::new(&state, Secrets::Stored(&stored)),
        )
        .unwrap();
        let secret = find(&resources, "Secret", "grafana-admin").unwrap();
        assert_eq!(secret.body["stringData"]["admin-password"], "correct horse");
    }
}
