//! A log store indexed by labels, queried from Grafana.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMapVolumeSource, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use super::victoria_metrics;
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Duration, Memory, Storage};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Loki,
    id: "loki",
    name: "Loki",
    group: BatteryGroup::Monitoring,
    description: "A log store indexed by labels, queried from Grafana.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Loki.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LokiConfig {
    /// Loki.
    pub image: ImageRef,
    /// Loki replicas.
    pub replicas: u32,
    /// Volume of each replica.
    pub storage: Storage,
    /// How long logs are kept.
    pub retention: Duration,
}

impl Default for LokiConfig {
    fn default() -> Self {
        Self {
            image: image(images::LOKI),
            replicas: 1,
            storage: Storage::gibibytes(10),
            retention: Duration::hours(24 * 14),
        }
    }
}

impl LokiConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::replicas(&mut problems, "replicas", self.replicas, 98);
        checks::storage_at_least(
            &mut problems,
            "storage",
            self.storage,
            Storage::gibibytes(1),
        );
        checks::duration_range(
            &mut problems,
            "retention",
            self.retention,
            Duration::hours(24),
            Duration::hours(24 * 365),
        );
        problems.into_result()
    }
}

/// The StatefulSet, its Service and ConfigMap.
const NAME: &str = "loki";

/// Loki's HTTP port (push, query, `/ready`, `/metrics`).
const HTTP_PORT: u16 = 3100;

/// Loki's gRPC port.
const GRPC_PORT: u16 = 9095;

/// Where Loki is queried (Grafana's datasource).
pub fn query_url(ctx: &Context<'_>) -> String {
    format!(
        "http://{NAME}.{}.svc:{HTTP_PORT}",
        ctx.monitoring_namespace()
    )
}

/// Where log shippers push (Promtail's client).
pub fn push_url(ctx: &Context<'_>) -> String {
    format!("{}/loki/api/v1/push", query_url(ctx))
}

/// The resources this battery needs, in the monitoring namespace: Loki in
/// single-binary mode as a StatefulSet with a volume of `storage` per
/// replica, its config (retention) in a ConfigMap, and a Service.
///
/// NB: chunks live on each replica's own filesystem volume, so replicas do
/// not share what they stored; more than one replica needs object storage,
/// which this battery does not configure yet. Reads no secrets.
pub fn generate(config: &LokiConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.monitoring_namespace();
    let config_name = format!("{NAME}-config");
    let config_map = build::config_map(
        namespace,
        &config_name,
        [("loki.yaml".to_owned(), loki_yaml(config)?)].into(),
    );
    let config_map = Resource::new(app, &config_map)?;

    let container = ContainerSpec {
        args: vec!["-config.file=/etc/loki/loki.yaml".to_owned()],
        ports: vec![("http", HTTP_PORT), ("grpc", GRPC_PORT)],
        resources: Some(Resources {
            cpu_request: Cpu::millicores(100),
            cpu_limit: None,
            memory_request: Memory::mebibytes(256),
            memory_limit: Some(Memory::gibibytes(1)),
        }),
        health: Some(Health::Http("/ready", HTTP_PORT)),
        mounts: vec![
            ("config".to_owned(), "/etc/loki".to_owned()),
            ("data".to_owned(), "/var/loki".to_owned()),
        ],
        ..ContainerSpec::new("loki", &config.image)
    };
    let mut stateful_set = build::stateful_set(
        namespace,
        NAME,
        config.replicas,
        None,
        &[container],
        Some(&config.storage),
    );
    if let Some(spec) = stateful_set.spec.as_mut() {
        let template = &mut spec.template;
        // NB: Loki reads its config once; a new config rolls the pods.
        template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                "battery/config-hash".to_owned(),
                config_map.hash.to_string(),
            );
        if let Some(pod) = template.spec.as_mut() {
            pod.volumes.get_or_insert_with(Vec::new).push(Volume {
                name: "config".to_owned(),
                config_map: Some(ConfigMapVolumeSource {
                    name: config_name,
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            });
        }
    }

    let mut out = vec![
        config_map,
        Resource::new(app, &stateful_set)?,
        Resource::new(
            app,
            &build::service(
                namespace,
                NAME,
                NAME,
                &[("http", HTTP_PORT), ("grpc", GRPC_PORT)],
            ),
        )?,
    ];
    out.extend(victoria_metrics::scrape(
        ctx, app, namespace, NAME, NAME, "http",
    )?);
    Ok(out)
}

/// `loki.yaml`: single binary, filesystem storage, the compactor deleting
/// what is older than the retention.
fn loki_yaml(config: &LokiConfig) -> Result<String, GenerateError> {
    let document = json!({
        "auth_enabled": false,
        "server": { "http_listen_port": HTTP_PORT, "grpc_listen_port": GRPC_PORT },
        "common": {
            "path_prefix": "/var/loki",
            "replication_factor": 1,
            "ring": { "kvstore": { "store": "inmemory" } },
            "storage": {
                "filesystem": {
                    "chunks_directory": "/var/loki/chunks",
                    "rules_directory": "/var/loki/rules",
                }
            },
        },
        "schema_config": {
            "configs": [{
                "from": "2024-01-01",
                "store": "tsdb",
                "object_store": "filesystem",
                "schema": "v13",
                "index": { "prefix": "index_", "period": "24h" },
            }]
        },
        "compactor": {
            "working_directory": "/var/loki/compactor",
            "retention_enabled": true,
            "delete_request_store": "filesystem",
        },
        "limits_config": {
            "retention_period": victoria_metrics::retention_period(&config.retention),
        },
        "analytics": { "reporting_enabled": false },
    });
    serde_yaml_ng::to_string(&document)
        .map_err(|err| GenerateError::Malformed(format!("{}: loki.yaml: {err}", INFO.id)))
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find;
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::*;
    use crate::generate::{DesiredState, Secrets};

    fn generated(kinds: &[BatteryKind], config: &LokiConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    #[test]
    fn generates_a_stateful_set_its_config_and_service() {
        let resources = generated(&[BatteryKind::Loki], &LokiConfig::default());
        let mut paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{}", r.path.kind, r.path.name))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            ["ConfigMap/loki-config", "Service/loki", "StatefulSet/loki"]
        );
    }

    #[test]
    fn follows_the_typed_config() {
        let config = LokiConfig {
            image: ImageRef::parse("registry.example/loki:9.0.0").unwrap(),
            replicas: 2,
            storage: Storage::gibibytes(25),
            retention: Duration::hours(24 * 7),
        };
        let resources = generated(&[BatteryKind::Loki], &config);
        let set = &find(&resources, "StatefulSet", "loki").unwrap().body["spec"];
        assert_eq!(set["replicas"], 2);
        assert_eq!(
            set["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "25Gi"
        );
        let container = &set["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "registry.example/loki:9.0.0");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/ready");
        assert_eq!(container["resources"]["requests"]["memory"], "256Mi");
        assert_eq!(
            set["template"]["spec"]["volumes"][0]["configMap"]["name"],
            "loki-config"
        );
        let config_map = find(&resources, "ConfigMap", "loki-config").unwrap();
        let loki: Value =
            serde_yaml_ng::from_str(config_map.body["data"]["loki.yaml"].as_str().unwrap())
                .unwrap();
        assert_eq!(loki["limits_config"]["retention_period"], "7d");
        assert_eq!(loki["compactor"]["retention_enabled"], true);
        assert_eq!(
            set["template"]["metadata"]["annotations"]["battery/config-hash"],
            config_map.hash.as_str()
        );
    }

    #[test]
    fn scraped_only_with_victoria_metrics() {
        let without = generated(&[BatteryKind::Loki], &LokiConfig::default());
        assert!(find(&without, "VMServiceScrape", "loki").is_none());
        let with = generated(
            &[BatteryKind::Loki, BatteryKind::VictoriaMetrics],
            &LokiConfig::default(),
        );
        let scrape = find(&with, "VMServiceScrape", "loki").unwrap();
        assert_eq!(scrape.body["spec"]["endpoints"][0]["port"], "http");
    }

    #[test]
    fn reads_no_secrets() {
        let state = DesiredState::with_batteries(&[BatteryKind::Loki]).unwrap();
        let stored = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        assert!(generate(&LokiConfig::default(), &ctx).is_ok());
        assert_eq!(
            push_url(&ctx),
            "http://loki.battery-monitoring.svc:3100/loki/api/v1/push"
        );
    }
}
