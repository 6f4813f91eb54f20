//! Redis instances (standalone, replicated or clustered) managed by the Redis operator.

use k8s_openapi::api::apps::v1::Deployment;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::cloudnative_pg;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::victoria_metrics;
use crate::generate::build::{self, COMPONENT_LABEL, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::names::{self, DerivedName};
use crate::objects::{RedisInstance, RedisMode, Resources};
use crate::units::{Cpu, Memory, Storage};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Redis,
    id: "redis",
    name: "Redis",
    group: BatteryGroup::Data,
    description: "Redis instances (standalone, replicated or clustered) managed by the Redis operator.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "metrics scraping of every Redis instance through its exporter",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Redis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// The Redis operator.
    pub operator_image: ImageRef,
    /// Redis itself.
    pub redis_image: ImageRef,
    /// The metrics exporter sidecar.
    pub exporter_image: ImageRef,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            operator_image: image(images::REDIS_OPERATOR),
            redis_image: image(images::REDIS),
            exporter_image: image(images::REDIS_EXPORTER),
        }
    }
}

impl RedisConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "operator_image", &self.operator_image);
        checks::pinned(&mut problems, "redis_image", &self.redis_image);
        checks::pinned(&mut problems, "exporter_image", &self.exporter_image);
        problems.into_result()
    }
}

/// The API version of the Redis operator's custom resources.
pub const API_VERSION: &str = "redis.redis.opstreelabs.in/v1beta2";

const GROUP: &str = "redis.redis.opstreelabs.in";

/// The operator's Deployment, ServiceAccount and RBAC.
const OPERATOR: &str = "redis-operator";

/// Redis's port.
pub const REDIS_PORT: u16 = 6379;

/// What an instance's objects are labelled with (`battery/app`): `redis-<name>`.
const APP_PREFIX: &str = "redis-";

/// The names and labels derived from an instance's name; the longest name
/// validation accepts is what they all leave room for. The operator's
/// follower StatefulSet and Services (a Redis Cluster's) bind: a Service
/// `<name>-follower-additional`, a StatefulSet `<name>-follower`.
pub const INSTANCE_NAMES: &[DerivedName] = &[
    DerivedName::app_label(&[APP_PREFIX]),
    DerivedName {
        by: "the Redis operator",
        what: "the Service",
        prefix: &[],
        suffix: "-follower-additional",
        limit: names::SERVICE_NAME,
    },
    DerivedName {
        by: "the Redis operator",
        what: "the StatefulSet",
        prefix: &[],
        suffix: "-follower",
        limit: names::STATEFUL_SET_NAME,
    },
];

/// The longest instance name (43).
pub const INSTANCE_NAME_MAX_LEN: usize = names::derived_max_len(INSTANCE_NAMES);

/// The port name the operator gives the exporter on the Services it makes.
const EXPORTER_PORT_NAME: &str = "redis-exporter";

/// The user Redis's images run as.
const REDIS_UID: i64 = 1000;

/// The Redis operator (Deployment, RBAC, the CRDs it watches) and, per
/// [`RedisInstance`], a `Redis`, `RedisReplication` or `RedisCluster` in the
/// data namespace with its connection Secret (`redis-<name>-connection`: host,
/// port, password, url), which is also the Secret the operator reads the
/// password from; the connection Secret is also published in the namespaces
/// where users' services run (`cloudnative_pg::consumer_namespaces`). With
/// VictoriaMetrics, each instance's exporter is scraped.
///
/// Reads the secrets `redis/<instance>`.
pub fn generate(config: &RedisConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.base_namespace();
    let mut resources = Vec::new();
    for crd in &CRDS {
        resources.push(crd.resource(app)?);
    }
    resources.push(Resource::new(
        app,
        &build::service_account(namespace, OPERATOR),
    )?);
    resources.push(Resource::new(
        app,
        &build::cluster_role(OPERATOR, build::rules(OPERATOR_RULES)),
    )?);
    resources.push(Resource::new(
        app,
        &build::cluster_role_binding(OPERATOR, OPERATOR, namespace, OPERATOR),
    )?);
    resources.push(Resource::new(
        app,
        &build::role(namespace, OPERATOR, build::rules(LEADER_ELECTION_RULES)),
    )?);
    resources.push(Resource::new(
        app,
        &build::role_binding(namespace, OPERATOR, OPERATOR, OPERATOR),
    )?);
    resources.push(Resource::new(app, &operator_deployment(config, namespace))?);

    let mut instances: Vec<&RedisInstance> = ctx
        .state
        .redis_instances
        .iter()
        .map(|owned| &owned.object)
        .collect();
    instances.sort_by(|a, b| a.name.cmp(&b.name));
    for instance in instances {
        let generated = redis_instance(config, ctx, instance)?;
        resources.extend(cloudnative_pg::publish_connection_secrets(ctx, &generated)?);
        resources.extend(generated);
    }
    Ok(resources)
}

/// The custom resource, connection Secret and scrape of one instance.
fn redis_instance(
    config: &RedisConfig,
    ctx: &Context<'_>,
    instance: &RedisInstance,
) -> Result<Vec<Resource>, GenerateError> {
    let app = format!("{APP_PREFIX}{}", instance.name);
    let namespace = ctx.data_namespace();
    let secret_name = build::connection_secret_name("redis", &instance.name, None);
    let password = ctx.secret(&format!("redis/{}", instance.name))?;
    // NB: clients must write to the primary: a replication's `-master`
    // Service follows failovers, a cluster's `-leader` Service reaches the
    // primaries (cluster-aware clients discover the rest).
    let service = match instance.mode {
        RedisMode::Standalone => instance.name.clone(),
        RedisMode::Replication => format!("{}-master", instance.name),
        RedisMode::Cluster => format!("{}-leader", instance.name),
    };
    let host = format!("{service}.{namespace}.svc");
    let port = REDIS_PORT.to_string();
    let url = format!("redis://:{}@{host}:{REDIS_PORT}", percent_encode(&password));
    let connection = build::secret(
        namespace,
        &secret_name,
        build::string_map(&[
            ("host", &host),
            ("port", &port),
            ("password", &password),
            ("url", &url),
        ]),
    );

    let component = app.clone();
    let (kind, spec) = custom_resource_spec(config, instance, &secret_name)?;
    let mut body = build::custom_resource(API_VERSION, kind, Some(namespace), &instance.name, spec);
    // NB: the operator copies these labels onto its StatefulSets, Services
    // and Pods; the scrape finds the exporter by this one.
    body["metadata"]["labels"] = json!({ COMPONENT_LABEL: component });

    let mut resources = vec![
        Resource::new(&app, &connection)?,
        Resource::from_value(&app, body)?,
    ];
    if let Some(scrape) = victoria_metrics::scrape(
        ctx,
        &app,
        namespace,
        &component,
        &component,
        EXPORTER_PORT_NAME,
    )? {
        resources.push(scrape);
    }
    Ok(resources)
}

/// The kind and `spec` of an instance's custom resource.
fn custom_resource_spec(
    config: &RedisConfig,
    instance: &RedisInstance,
    secret_name: &str,
) -> Result<(&'static str, Value), GenerateError> {
    let to_json = |resources: &Resources| {
        serde_json::to_value(build::resources(resources))
            .map_err(|err| GenerateError::Malformed(format!("redis {}: {err}", instance.name)))
    };
    let container_security = json!({
        "runAsNonRoot": true,
        "allowPrivilegeEscalation": false,
        "capabilities": { "drop": ["ALL"] },
        "seccompProfile": { "type": "RuntimeDefault" },
    });
    let mut spec = json!({
        "kubernetesConfig": {
            "image": config.redis_image.to_string(),
            "imagePullPolicy": "IfNotPresent",
            "resources": to_json(&instance.resources)?,
            "redisSecret": { "name": secret_name, "key": "password" },
        },
        "redisExporter": {
            "enabled": true,
            "image": config.exporter_image.to_string(),
            "imagePullPolicy": "IfNotPresent",
            "resources": to_json(&exporter_resources())?,
            "securityContext": container_security,
        },
        "podSecurityContext": {
            "runAsNonRoot": true,
            "runAsUser": REDIS_UID,
            "runAsGroup": REDIS_UID,
            "fsGroup": REDIS_UID,
            "seccompProfile": { "type": "RuntimeDefault" },
        },
        "securityContext": container_security,
    });
    if let Some(size) = &instance.storage {
        spec["storage"] = json!({ "volumeClaimTemplate": claim_template(size) });
    }
    let kind = match instance.mode {
        RedisMode::Standalone => "Redis",
        RedisMode::Replication => {
            spec["clusterSize"] = json!(instance.instances);
            "RedisReplication"
        }
        RedisMode::Cluster => {
            // NB: a RedisCluster's containers are set per role: upstream's
            // CRD has no top-level securityContext, and a real API server
            // refuses one under strict validation.
            if let Some(security) = spec
                .as_object_mut()
                .and_then(|s| s.remove("securityContext"))
            {
                spec["redisLeader"] = json!({ "securityContext": security.clone() });
                spec["redisFollower"] = json!({ "securityContext": security });
            }
            // NB: `instances` counts primaries; the operator gives each a replica.
            spec["clusterSize"] = json!(instance.instances);
            spec["clusterVersion"] = json!("v7");
            spec["persistenceEnabled"] = json!(instance.storage.is_some());
            if instance.storage.is_some() {
                // Cluster nodes keep their view of the cluster (nodes.conf) on a small volume.
                spec["storage"]["nodeConfVolume"] = json!(true);
                spec["storage"]["nodeConfVolumeClaimTemplate"] =
                    claim_template(&Storage::mebibytes(64));
            }
            "RedisCluster"
        }
    };
    Ok((kind, spec))
}

fn claim_template(size: &Storage) -> Value {
    json!({
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": { "requests": { "storage": size.to_string() } },
        }
    })
}

fn exporter_resources() -> Resources {
    Resources {
        cpu_request: Cpu::millicores(50),
        cpu_limit: None,
        memory_request: Memory::mebibytes(64),
        memory_limit: Some(Memory::mebibytes(128)),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn operator_deployment(config: &RedisConfig, namespace: &str) -> Deployment {
    let mut operator = ContainerSpec::new(OPERATOR, &config.operator_image);
    operator.command = vec!["/manager".to_owned()];
    operator.args = vec!["--leader-elect".to_owned()];
    operator.env = vec![build::env("ENABLE_WEBHOOKS", "false")];
    operator.ports = vec![("metrics", 8080), ("probes", 8081)];
    operator.health = Some(Health::Http("/healthz", 8081));
    operator.resources = Some(Resources {
        cpu_request: Cpu::millicores(100),
        cpu_limit: None,
        memory_request: Memory::mebibytes(128),
        memory_limit: Some(Memory::mebibytes(512)),
    });
    build::deployment(
        namespace,
        OPERATOR,
        1,
        Some(OPERATOR),
        &[operator],
        Vec::new(),
    )
}

/// What the operator may do, as upstream's controller-gen `role.yaml`
/// (v0.22.1) grants it: StatefulSets, Services, Secrets, PVCs and PDBs for
/// every instance, `exec` into Pods to form clusters, leader election. (The
/// chart's role lists the same rules, with `namespace` for `namespaces`.)
/// NB: upstream also grants `get` on every non-resource URL; the operator
/// reads none, so bi leaves it out.
const OPERATOR_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &[
            "configmaps",
            "events",
            "namespaces",
            "persistentvolumeclaims",
            "pods",
            "pods/exec",
            "secrets",
            "services",
        ],
        ALL_VERBS,
    ),
    (
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        &["get", "list", "watch"],
    ),
    (&["apps"], &["statefulsets"], ALL_VERBS),
    (&["coordination.k8s.io"], &["leases"], ALL_VERBS),
    (&["policy"], &["poddisruptionbudgets"], ALL_VERBS),
    (
        &[GROUP],
        &[
            "redis",
            "rediscluster",
            "redisclusters",
            "redisreplication",
            "redisreplications",
            "rediss",
            "redissentinel",
            "redissentinels",
        ],
        ALL_VERBS,
    ),
    (
        &[GROUP],
        &[
            "redis/finalizers",
            "rediscluster/finalizers",
            "redisclusters/finalizers",
            "redisreplication/finalizers",
            "redisreplications/finalizers",
            "redissentinel/finalizers",
            "redissentinels/finalizers",
        ],
        &["update"],
    ),
    (
        &[GROUP],
        &[
            "redis/status",
            "rediscluster/status",
            "redisclusters/status",
            "redisreplication/status",
            "redisreplications/status",
            "redissentinel/status",
            "redissentinels/status",
        ],
        &["get", "patch", "update"],
    ),
];

const ALL_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// The operator's Role in its own namespace, as upstream's
/// `leader_election_role.yaml`.
const LEADER_ELECTION_RULES: &[build::RuleSpec] = &[
    (
        &["", "coordination.k8s.io"],
        &["configmaps", "leases"],
        &[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ],
    ),
    (&[""], &["events"], &["create", "patch"]),
];

/// The Redis operator's CRDs at v0.22.1, as upstream ships them (one served version, v1beta2; no conversion webhook).
pub const CRDS: [UpstreamCrd; 4] = [
    upstream_crd!(
        "redis.redis.redis.opstreelabs.in",
        "redis-operator",
        "v0.22.1",
        "config/crd/bases/redis.redis.opstreelabs.in_redis.yaml",
        "aa441a65053704db066c5eb848cf27b3186ebc68e95fd2f16762f8e250506526"
    ),
    upstream_crd!(
        "redisclusters.redis.redis.opstreelabs.in",
        "redis-operator",
        "v0.22.1",
        "config/crd/bases/redis.redis.opstreelabs.in_redisclusters.yaml",
        "a7d369b231a550af1af8cbf13f89ebf3dffddc69b02ddcca9323ccee016a6fad"
    ),
    upstream_crd!(
        "redisreplications.redis.redis.opstreelabs.in",
        "redis-operator",
        "v0.22.1",
        "config/crd/bases/redis.redis.opstreelabs.in_redisreplications.yaml",
        "e369de9ba77c3305c2e821a3b6ea65e37a7653683f07f0ef06e4c24d2a37e397"
    ),
    upstream_crd!(
        "redissentinels.redis.redis.opstreelabs.in",
        "redis-operator",
        "v0.22.1",
        "config/crd/bases/redis.redis.opstreelabs.in_redissentinels.yaml",
        "094b72f35220eb05dc86f384f0464926aaa5fe09f31fce781b34192dd3560049"
    ),
];

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use crate::catalog::test_support::strict;
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Owned, Secrets};

    fn instance(name: &str, mode: RedisMode, instances: u32) -> RedisInstance {
        RedisInstance {
            name: name.into(),
            mode,
            instances,
            ..RedisInstance::default()
        }
    }

    fn state(extra: &[BatteryKind]) -> DesiredState {
        let mut kinds = vec![BatteryKind::Redis];
        kinds.extend_from_slice(extra);
        let mut state = DesiredState::with_batteries(&kinds).unwrap();
        let mut cache = instance("cache", RedisMode::Standalone, 1);
        cache.storage = Some(Storage::gibibytes(1));
        for object in [
            instance("shards", RedisMode::Cluster, 3),
            cache,
            instance("sessions", RedisMode::Replication, 3),
        ] {
            state.redis_instances.push(Owned::unowned(object));
        }
        state
    }

    fn run(state: &DesiredState) -> Vec<Resource> {
        generate(
            &RedisConfig::default(),
            &Context::new(state, Secrets::Preview),
        )
        .unwrap()
    }

    #[test]
    fn generates_the_operator_and_the_crds_it_watches() {
        let resources = run(&state(&[]));
        for (kind, name) in [
            ("ServiceAccount", OPERATOR),
            ("ClusterRole", OPERATOR),
            ("ClusterRoleBinding", OPERATOR),
            ("Deployment", OPERATOR),
            (
                "CustomResourceDefinition",
                "redis.redis.redis.opstreelabs.in",
            ),
            (
                "CustomResourceDefinition",
                "redisreplications.redis.redis.opstreelabs.in",
            ),
            (
                "CustomResourceDefinition",
                "redisclusters.redis.redis.opstreelabs.in",
            ),
            (
                "CustomResourceDefinition",
                "redissentinels.redis.redis.opstreelabs.in",
            ),
        ] {
            assert_eq!(find(&resources, kind, name).app, "redis");
        }
        let deployment = find(&resources, "Deployment", OPERATOR);
        assert_eq!(deployment.path.namespace.as_deref(), Some("battery-base"));
        let container = &deployment.body["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], images::REDIS_OPERATOR);
        assert_eq!(container["resources"]["requests"]["memory"], "128Mi");
        assert_eq!(container["readinessProbe"]["httpGet"]["port"], 8081);
    }

    #[test]
    fn each_mode_gets_its_kind_with_the_configured_images_and_sizes() {
        let resources = run(&state(&[]));
        let cache = find(&resources, "Redis", "cache");
        assert_eq!(cache.app, "redis-cache");
        assert_eq!(cache.path.namespace.as_deref(), Some("battery-data"));
        let spec = &cache.body["spec"];
        assert_eq!(spec["kubernetesConfig"]["image"], images::REDIS);
        assert_eq!(
            spec["kubernetesConfig"]["resources"]["limits"]["memory"],
            "512Mi"
        );
        assert_eq!(
            spec["kubernetesConfig"]["redisSecret"],
            json!({ "name": "redis-cache-connection", "key": "password" })
        );
        assert_eq!(spec["redisExporter"]["image"], images::REDIS_EXPORTER);
        assert_eq!(spec["redisExporter"]["enabled"], true);
        assert_eq!(spec["podSecurityContext"]["runAsNonRoot"], true);
        assert_eq!(
            spec["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"],
            "1Gi"
        );
        let sessions = &find(&resources, "RedisReplication", "sessions").body["spec"];
        assert_eq!(sessions["clusterSize"], 3);
        assert!(sessions.get("storage").is_none());
        let shards = &find(&resources, "RedisCluster", "shards").body["spec"];
        assert_eq!(shards["clusterSize"], 3);
        assert_eq!(shards["persistenceEnabled"], false);
    }

    #[test]
    fn connection_secrets_point_at_the_primary() {
        let mut stored = BTreeMap::new();
        for name in ["cache", "sessions", "shards"] {
            stored.insert(format!("redis/{name}"), format!("{name}/pw"));
        }
        let state = state(&[]);
        let resources = generate(
            &RedisConfig::default(),
            &Context::new(&state, Secrets::Stored(&stored)),
        )
        .unwrap();
        for (name, host) in [
            ("cache", "cache.battery-data.svc"),
            ("sessions", "sessions-master.battery-data.svc"),
            ("shards", "shards-leader.battery-data.svc"),
        ] {
            let secret = find(&resources, "Secret", &format!("redis-{name}-connection"));
            let data = &secret.body["stringData"];
            assert_eq!(data["host"], host);
            assert_eq!(data["port"], "6379");
            assert_eq!(data["password"], format!("{name}/pw"));
            assert_eq!(data["url"], format!("redis://:{name}%2Fpw@{host}:6379"));
        }
        let err = generate(
            &RedisConfig::default(),
            &Context::new(&state, Secrets::Stored(&BTreeMap::new())),
        )
        .unwrap_err();
        assert_eq!(err, GenerateError::MissingSecret("redis/cache".into()));
    }

    #[test]
    fn connection_secrets_are_published_where_users_services_run() {
        let resources = run(&state(&[BatteryKind::Knative]));
        let published = resources
            .iter()
            .filter(|r| r.path.name == "redis-cache-connection")
            .filter_map(|r| r.path.namespace.as_deref())
            .collect::<Vec<_>>();
        assert_eq!(published, ["battery-knative", "battery-data"]);
    }

    #[test]
    fn custom_resources_validate_against_their_crds() {
        let mut state = state(&[]);
        let mut persistent = instance("durable", RedisMode::Cluster, 6);
        persistent.storage = Some(Storage::gibibytes(2));
        state.redis_instances.push(Owned::unowned(persistent));
        let resources = run(&state);
        for (kind, plural) in [
            ("Redis", "redis"),
            ("RedisReplication", "redisreplications"),
            ("RedisCluster", "redisclusters"),
        ] {
            // Checked against the schema the operator ships.
            let name = format!("{plural}.{GROUP}");
            let schema = CRDS
                .iter()
                .find(|crd| crd.name == name)
                .and_then(|crd| crd.schema("v1beta2"))
                .unwrap();
            let mut checked = 0;
            for cr in resources.iter().filter(|r| r.path.kind == kind) {
                assert_eq!(violations(&schema, &cr.body), Vec::<String>::new());
                assert_eq!(violations(&strict(&schema), &cr.body), Vec::<String>::new());
                checked += 1;
            }
            assert!(checked > 0, "{kind}");
        }
        let shards = &find(&resources, "RedisCluster", "shards").body["spec"];
        assert!(shards.get("securityContext").is_none());
        for role in ["redisLeader", "redisFollower"] {
            assert_eq!(shards[role]["securityContext"]["runAsNonRoot"], true);
        }
        let durable = &find(&resources, "RedisCluster", "durable").body["spec"];
        assert_eq!(durable["storage"]["nodeConfVolume"], true);
    }

    #[test]
    fn exporters_are_scraped_only_with_victoria_metrics() {
        let without = run(&state(&[]));
        assert!(!without.iter().any(|r| r.path.kind == "VMServiceScrape"));
        let with = run(&state(&[BatteryKind::VictoriaMetrics]));
        let scrapes: Vec<_> = with
            .iter()
            .filter(|r| r.path.kind == "VMServiceScrape")
            .map(|r| (r.path.name.as_str(), r.app.as_str()))
            .collect();
        assert_eq!(
            scrapes,
            [
                ("redis-cache", "redis-cache"),
                ("redis-sessions", "redis-sessions"),
                ("redis-shards", "redis-shards"),
            ]
        );
        let cache = find(&with, "Redis", "cache");
        assert_eq!(
            cache.body["metadata"]["labels"][COMPONENT_LABEL],
            "redis-cache"
        );
    }
}
