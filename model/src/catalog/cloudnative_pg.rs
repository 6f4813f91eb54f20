//! The CloudNativePG operator: highly available PostgreSQL clusters with failover, users and databases.
//!
//! Besides the operator, this module owns [`cluster`], which turns one
//! [`PostgresCluster`] into a CloudNativePG `Cluster` with its users'
//! password and connection Secrets: users' clusters go through it here,
//! and Keycloak and Forgejo call it for their internal databases.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::core::v1::{EmptyDirVolumeSource, SecretVolumeSource, Volume};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::victoria_metrics;
use crate::generate::build::{self, COMPONENT_LABEL, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::names::{self, DerivedName};
use crate::objects::{PostgresBackup, PostgresCluster, PostgresRole, PostgresUser, Resources};
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::CloudnativePg,
    id: "cloudnative_pg",
    name: "CloudNativePG",
    group: BatteryGroup::Data,
    description: "The CloudNativePG operator: highly available PostgreSQL clusters with failover, users and databases.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "metrics scraping of every PostgreSQL cluster",
        },
        Integration {
            partner: BatteryKind::CloudnativePgBarman,
            what: "object-storage backups of every PostgreSQL cluster",
        },
    ],
    removable: false,
    providers: &[],
};

/// Configuration of CloudNativePG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudnativePgConfig {
    /// The operator.
    pub operator_image: ImageRef,
    /// PostgreSQL for new clusters.
    pub postgres_image: ImageRef,
}

impl Default for CloudnativePgConfig {
    fn default() -> Self {
        Self {
            operator_image: image(images::CLOUDNATIVE_PG),
            postgres_image: image(images::POSTGRES),
        }
    }
}

impl CloudnativePgConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "operator_image", &self.operator_image);
        checks::pinned(&mut problems, "postgres_image", &self.postgres_image);
        problems.into_result()
    }
}

/// The API version of CloudNativePG's custom resources.
pub const API_VERSION: &str = "postgresql.cnpg.io/v1";

/// The API group of CloudNativePG's custom resources.
const GROUP: &str = "postgresql.cnpg.io";

/// What a cluster's objects are labelled with (`battery/app`,
/// `battery/component`): `postgres-<name>`.
const APP_PREFIX: &str = "postgres-";

/// The suffix of a cluster's metrics Service.
const METRICS_SUFFIX: &str = "-metrics";

/// The longest `Cluster` name CloudNativePG's webhook admits: it derives
/// Pods (`<name>-<n>`), Jobs (`<name>-<n>-initdb`) and Services from it.
pub const CNPG_CLUSTER_NAME: names::Limit = names::Limit {
    max: 50,
    what: "Cluster names",
    by: "CloudNativePG",
};

/// The names and labels derived from a cluster's name; the longest name
/// validation accepts is what they all leave room for (CloudNativePG's own
/// limit binds). Users' and databases' names only go into Secret and
/// `Database` names (DNS subdomains of up to 253), so they stay DNS labels.
pub const CLUSTER_NAMES: &[DerivedName] = &[
    DerivedName::app_label(&[APP_PREFIX]),
    DerivedName {
        by: "bi",
        what: "the metrics Service",
        prefix: &[],
        suffix: METRICS_SUFFIX,
        limit: names::SERVICE_NAME,
    },
    DerivedName {
        by: "bi",
        what: "the Cluster",
        prefix: &[],
        suffix: "",
        limit: CNPG_CLUSTER_NAME,
    },
];

/// The longest cluster name (50).
pub const CLUSTER_NAME_MAX_LEN: usize = names::derived_max_len(CLUSTER_NAMES);

/// The operator's Deployment (and `battery/component`).
const OPERATOR: &str = "cnpg-controller-manager";

/// The operator's ServiceAccount, ClusterRole and ClusterRoleBinding.
const SERVICE_ACCOUNT: &str = "cnpg-manager";

/// The Service the API server calls the operator's webhooks through; the
/// operator looks it up by this name to inject its CA.
const WEBHOOK_SERVICE: &str = "cnpg-webhook-service";

/// Where the operator serves its admission webhooks.
const WEBHOOK_PORT: u16 = 9443;

/// Where the operator serves its own metrics.
const OPERATOR_METRICS_PORT: u16 = 8080;

/// PostgreSQL's port on every instance and on the `<cluster>-rw` Service.
pub const POSTGRES_PORT: u16 = 5432;

/// Where each instance's built-in exporter listens (port name `metrics`).
const INSTANCE_METRICS_PORT: u16 = 9187;

/// The barman-cloud plugin's name, as a Cluster's `spec.plugins` names it.
pub const BARMAN_PLUGIN: &str = "barman-cloud.cloudnative-pg.io";

/// The barman-cloud `ObjectStore` backed-up clusters archive to; the
/// cloudnative_pg_barman battery generates it in the data namespace.
pub const BACKUP_OBJECT_STORE: &str = "bi-backups";

/// Every resource of the operator, plus one PostgreSQL cluster per
/// [`PostgresCluster`] of the desired state (in the data namespace), whose
/// connection Secrets are also published where users' services run
/// ([`consumer_namespaces`]).
///
/// Reads the secrets `postgres/<cluster>/<user>` for every user of every cluster.
pub fn generate(
    config: &CloudnativePgConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.base_namespace();
    let mut resources = Vec::new();
    for crd in &CRDS {
        resources.push(crd.resource(app)?);
    }
    resources.push(Resource::new(
        app,
        &build::service_account(namespace, SERVICE_ACCOUNT),
    )?);
    resources.push(Resource::new(
        app,
        &build::cluster_role(SERVICE_ACCOUNT, build::rules(OPERATOR_RULES)),
    )?);
    resources.push(Resource::new(
        app,
        &build::cluster_role_binding(SERVICE_ACCOUNT, SERVICE_ACCOUNT, namespace, SERVICE_ACCOUNT),
    )?);
    resources.push(Resource::new(app, &operator_deployment(config, namespace))?);
    resources.push(Resource::new(
        app,
        &build::service(
            namespace,
            WEBHOOK_SERVICE,
            OPERATOR,
            &[("webhook-server", 443)],
        ),
    )?);
    resources.push(Resource::new(app, &mutating_webhooks(namespace))?);
    resources.push(Resource::new(app, &validating_webhooks(namespace))?);
    if ctx.installed(BatteryKind::VictoriaMetrics) {
        let mut metrics = build::service(
            namespace,
            "cnpg-controller-manager-metrics",
            OPERATOR,
            &[("metrics", OPERATOR_METRICS_PORT)],
        );
        metrics.metadata.labels = Some(build::string_map(&[(COMPONENT_LABEL, OPERATOR)]));
        resources.push(Resource::new(app, &metrics)?);
    }
    if let Some(scrape) =
        victoria_metrics::scrape(ctx, app, namespace, "cnpg-operator", OPERATOR, "metrics")?
    {
        resources.push(scrape);
    }

    let mut clusters: Vec<&PostgresCluster> = ctx
        .state
        .postgres_clusters
        .iter()
        .map(|owned| &owned.object)
        .collect();
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    for pg in clusters {
        let generated = cluster(
            ctx,
            &format!("{APP_PREFIX}{}", pg.name),
            ctx.data_namespace(),
            pg,
        )?;
        resources.extend(publish_connection_secrets(ctx, &generated)?);
        resources.extend(generated);
    }
    Ok(resources)
}

/// The namespaces where users' own workloads run (Knative services,
/// traditional services, notebooks), for the batteries installed, apart from
/// the data namespace: a `secretKeyRef` only reaches a Secret of the Pod's
/// own namespace.
pub fn consumer_namespaces(ctx: &Context<'_>) -> Vec<String> {
    let mut namespaces = Vec::new();
    if let Some(super::BatteryConfig::Knative(knative)) =
        ctx.state.batteries.get(&BatteryKind::Knative)
    {
        namespaces.push(knative.namespace.as_str().to_owned());
    }
    if let Some(super::BatteryConfig::TraditionalServices(traditional)) =
        ctx.state.batteries.get(&BatteryKind::TraditionalServices)
    {
        namespaces.push(traditional.namespace.as_str().to_owned());
    }
    if ctx.installed(BatteryKind::Notebooks) {
        namespaces.push(ctx.ai_namespace().to_owned());
    }
    namespaces.sort();
    namespaces.dedup();
    namespaces.retain(|namespace| namespace != ctx.data_namespace());
    namespaces
}

/// The connection Secrets (`*-connection`) among `generated`, published
/// again in every [`consumer_namespaces`] so users' services can reference
/// them by `secretKeyRef` there. The same generated Secret, not a copy read
/// from the cluster: its values come from the desired state like the
/// original's.
pub fn publish_connection_secrets(
    ctx: &Context<'_>,
    generated: &[Resource],
) -> Result<Vec<Resource>, GenerateError> {
    connection_secrets_in(generated, &consumer_namespaces(ctx))
}

/// The connection Secrets among `generated`, again in each of `namespaces`
/// (a `secretKeyRef` only reaches a Secret of the Pod's own namespace).
pub fn connection_secrets_in(
    generated: &[Resource],
    namespaces: &[String],
) -> Result<Vec<Resource>, GenerateError> {
    let mut published = Vec::new();
    for secret in generated
        .iter()
        .filter(|r| crate::generate::is_connection(r))
    {
        for namespace in namespaces {
            let mut body = secret.body.clone();
            body["metadata"]["namespace"] = json!(namespace);
            published.push(Resource::from_value(&secret.app, body)?);
        }
    }
    Ok(published)
}

/// A CloudNativePG `Cluster` for `cluster` in `namespace`, with everything
/// that comes with it:
///
/// - per user, a `kubernetes.io/basic-auth` Secret with the password (the
///   role's `passwordSecret`) and a connection Secret named
///   `build::connection_secret_name("postgres", <cluster>, Some(<user>))`
///   with `host` (`<cluster>-rw.<namespace>.svc`), `port`, `username`,
///   `password`, `database` (the first database the user owns, else the
///   cluster's first database, else `postgres`) and `url`;
/// - a `Database` per database (the first one is also created by `initdb`);
/// - with VictoriaMetrics installed, a metrics Service and a `VMServiceScrape`;
/// - with cloudnative_pg_barman installed and `backup: object_store`, WAL
///   archiving through the barman-cloud plugin and a daily `ScheduledBackup`
///   (only in the data namespace, where the `bi-backups` ObjectStore lives).
///
/// Reads the secrets `postgres/<cluster>/<user>`. Keycloak and Forgejo call it
/// for their internal clusters.
pub fn cluster(
    ctx: &Context<'_>,
    app: &str,
    namespace: &str,
    cluster: &PostgresCluster,
) -> Result<Vec<Resource>, GenerateError> {
    let postgres_image = match ctx.state.batteries.get(&BatteryKind::CloudnativePg) {
        Some(super::BatteryConfig::CloudnativePg(config)) => config.postgres_image.clone(),
        _ => image(images::POSTGRES),
    };
    let component = format!("{APP_PREFIX}{}", cluster.name);
    let host = format!("{}-rw.{namespace}.svc", cluster.name);
    let mut users: Vec<&PostgresUser> = cluster.users.iter().collect();
    users.sort_by(|a, b| a.name.cmp(&b.name));

    let mut resources = Vec::new();
    for user in &users {
        let password = ctx.secret(&format!("postgres/{}/{}", cluster.name, user.name))?;
        let mut auth = build::secret(
            namespace,
            &password_secret_name(&cluster.name, &user.name),
            build::string_map(&[("username", &user.name), ("password", &password)]),
        );
        auth.type_ = Some("kubernetes.io/basic-auth".to_owned());
        resources.push(Resource::new(app, &auth)?);

        let database = default_database(cluster, &user.name);
        let url = format!(
            "postgres://{}:{}@{host}:{POSTGRES_PORT}/{database}",
            percent_encode(&user.name),
            percent_encode(&password)
        );
        let port = POSTGRES_PORT.to_string();
        let connection = build::secret(
            namespace,
            &build::connection_secret_name("postgres", &cluster.name, Some(&user.name)),
            build::string_map(&[
                ("host", &host),
                ("port", &port),
                ("username", &user.name),
                ("password", &password),
                ("database", database),
                ("url", &url),
            ]),
        );
        resources.push(Resource::new(app, &connection)?);
    }

    let backed_up = cluster.backup == PostgresBackup::ObjectStore
        && ctx.installed(BatteryKind::CloudnativePgBarman)
        && namespace == ctx.data_namespace();
    let spec = cluster_spec(cluster, &postgres_image, &component, &users, backed_up)?;
    let mut body =
        build::custom_resource(API_VERSION, "Cluster", Some(namespace), &cluster.name, spec);
    body["metadata"]["labels"] = json!({ COMPONENT_LABEL: component });
    resources.push(Resource::from_value(app, body)?);

    for database in &cluster.databases {
        let spec = json!({
            "name": database.name,
            "owner": database.owner,
            "ensure": "present",
            "cluster": { "name": cluster.name },
        });
        resources.push(Resource::from_value(
            app,
            build::custom_resource(
                API_VERSION,
                "Database",
                Some(namespace),
                &format!("{}-{}", cluster.name, database.name),
                spec,
            ),
        )?);
    }

    if backed_up {
        let spec = json!({
            "schedule": "0 0 0 * * *",
            "immediate": true,
            "backupOwnerReference": "self",
            "cluster": { "name": cluster.name },
            "method": "plugin",
            "pluginConfiguration": { "name": BARMAN_PLUGIN },
        });
        resources.push(Resource::from_value(
            app,
            build::custom_resource(
                API_VERSION,
                "ScheduledBackup",
                Some(namespace),
                &format!("{}-daily", cluster.name),
                spec,
            ),
        )?);
    }

    if ctx.installed(BatteryKind::VictoriaMetrics) {
        // NB: CloudNativePG's own Services expose only PostgreSQL; the
        // exporter every instance runs needs a Service of its own to be scraped.
        let mut metrics = build::service(
            namespace,
            &format!("{}{METRICS_SUFFIX}", cluster.name),
            &component,
            &[("metrics", INSTANCE_METRICS_PORT)],
        );
        metrics.metadata.labels = Some(build::string_map(&[(COMPONENT_LABEL, &component)]));
        resources.push(Resource::new(app, &metrics)?);
    }
    if let Some(scrape) =
        victoria_metrics::scrape(ctx, app, namespace, &component, &component, "metrics")?
    {
        resources.push(scrape);
    }
    Ok(resources)
}

/// The `kubernetes.io/basic-auth` Secret holding a user's password.
fn password_secret_name(cluster: &str, user: &str) -> String {
    format!("postgres-{cluster}-{user}-auth")
}

/// The database a user's connection Secret names: the first one it owns,
/// else the cluster's first, else PostgreSQL's own `postgres`.
fn default_database<'a>(cluster: &'a PostgresCluster, user: &str) -> &'a str {
    cluster
        .databases
        .iter()
        .find(|database| database.owner == user)
        .or_else(|| cluster.databases.first())
        .map_or("postgres", |database| database.name.as_str())
}

/// The `spec` of a CloudNativePG `Cluster`.
fn cluster_spec(
    cluster: &PostgresCluster,
    postgres_image: &ImageRef,
    component: &str,
    users: &[&PostgresUser],
    backed_up: bool,
) -> Result<Value, GenerateError> {
    let resources = serde_json::to_value(build::resources(&cluster.resources))
        .map_err(|err| GenerateError::Malformed(format!("cluster {}: {err}", cluster.name)))?;
    let roles: Vec<Value> = users
        .iter()
        .map(|user| managed_role(&cluster.name, user))
        .collect();
    let mut spec = json!({
        "instances": cluster.instances,
        "imageName": postgres_image.to_string(),
        "enableSuperuserAccess": false,
        // NB: a PodDisruptionBudget on a single instance would block every node drain.
        "enablePDB": cluster.instances > 1,
        "primaryUpdateStrategy": "unsupervised",
        "storage": { "size": cluster.storage.to_string(), "resizeInUseVolumes": true },
        "resources": resources,
        "postgresql": { "parameters": parameters(cluster) },
        "inheritedMetadata": { "labels": { COMPONENT_LABEL: component } },
        "managed": { "roles": roles },
    });
    if let Some(first) = cluster.databases.first() {
        if !cluster.users.iter().any(|user| user.name == first.owner) {
            return Err(GenerateError::Malformed(format!(
                "postgres cluster {}: database {} is owned by {}, who is not one of its users",
                cluster.name, first.name, first.owner
            )));
        }
        spec["bootstrap"] = json!({
            "initdb": {
                "database": first.name,
                "owner": first.owner,
                "secret": { "name": password_secret_name(&cluster.name, &first.owner) },
                "dataChecksums": true,
            }
        });
    }
    if backed_up {
        spec["plugins"] = json!([{
            "name": BARMAN_PLUGIN,
            "isWALArchiver": true,
            "parameters": {
                "barmanObjectName": BACKUP_OBJECT_STORE,
                "serverName": cluster.name,
            },
        }]);
    }
    Ok(spec)
}

/// A managed role: every attribute spelled out, so the operator never
/// falls back to a default that differs from PostgreSQL's.
fn managed_role(cluster: &str, user: &PostgresUser) -> Value {
    let has = |role: PostgresRole| user.roles.contains(&role);
    json!({
        "name": user.name,
        "ensure": "present",
        // NB: every bi user is meant to log in unless it says NOLOGIN.
        "login": !has(PostgresRole::Nologin),
        "superuser": has(PostgresRole::Superuser),
        "createdb": has(PostgresRole::Createdb),
        "createrole": has(PostgresRole::Createrole),
        "inherit": !has(PostgresRole::Noinherit),
        "replication": has(PostgresRole::Replication),
        "bypassrls": has(PostgresRole::Bypassrls),
        "passwordSecret": { "name": password_secret_name(cluster, &user.name) },
    })
}

/// PostgreSQL settings sized from the instance's memory and volume:
/// shared buffers a quarter of memory, and WAL kept to a quarter of the
/// volume so that WAL alone can never fill it.
fn parameters(cluster: &PostgresCluster) -> Value {
    const MIB: u64 = 1024 * 1024;
    let memory = cluster.resources.memory_ceiling().as_bytes() / MIB;
    let storage = cluster.storage.as_bytes() / MIB;
    let max_wal = (storage / 4).clamp(64, 8 * 1024);
    let min_wal = (max_wal / 2).min(80);
    json!({
        "shared_buffers": format!("{}MB", (memory / 4).max(32)),
        "effective_cache_size": format!("{}MB", (memory * 3 / 4).max(64)),
        "maintenance_work_mem": format!("{}MB", (memory / 16).clamp(16, 2 * 1024)),
        "max_wal_size": format!("{max_wal}MB"),
        "min_wal_size": format!("{min_wal}MB"),
    })
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for the
/// user-info part of a URL.
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

/// Fixed requests for the operator: it watches clusters, it does not serve data.
fn operator_resources() -> Resources {
    Resources {
        cpu_request: Cpu::millicores(100),
        cpu_limit: None,
        memory_request: Memory::mebibytes(128),
        memory_limit: Some(Memory::mebibytes(512)),
    }
}

fn operator_deployment(
    config: &CloudnativePgConfig,
    namespace: &str,
) -> k8s_openapi::api::apps::v1::Deployment {
    let mut manager = ContainerSpec::new("manager", &config.operator_image);
    manager.command = vec!["/manager".to_owned()];
    manager.args = [
        "controller",
        "--leader-elect",
        "--max-concurrent-reconciles=10",
        "--config-map-name=cnpg-controller-manager-config",
        "--secret-name=cnpg-controller-manager-config",
        "--webhook-port=9443",
    ]
    .map(str::to_owned)
    .to_vec();
    manager.env = vec![
        // NB: the operator copies itself into every instance Pod as its instance manager.
        build::env("OPERATOR_IMAGE_NAME", &config.operator_image.to_string()),
        build::env("OPERATOR_NAMESPACE", namespace),
    ];
    manager.ports = vec![
        ("metrics", OPERATOR_METRICS_PORT),
        ("webhook-server", WEBHOOK_PORT),
    ];
    manager.resources = Some(operator_resources());
    // NB: the webhook port speaks TLS with the operator's own CA; a TCP check avoids the scheme.
    manager.health = Some(Health::Tcp(WEBHOOK_PORT));
    manager.mounts = vec![
        ("scratch-data".to_owned(), "/controller".to_owned()),
        (
            "webhook-certificates".to_owned(),
            "/run/secrets/cnpg.io/webhook".to_owned(),
        ),
    ];
    let volumes = vec![
        Volume {
            name: "scratch-data".to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
        Volume {
            name: "webhook-certificates".to_owned(),
            // NB: the operator creates this Secret itself and waits for it to appear here.
            secret: Some(SecretVolumeSource {
                secret_name: Some("cnpg-webhook-cert".to_owned()),
                optional: Some(true),
                default_mode: Some(0o644),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
    ];
    build::deployment(
        namespace,
        OPERATOR,
        1,
        Some(SERVICE_ACCOUNT),
        &[manager],
        volumes,
    )
}

/// What the operator may do, as upstream's controller-gen `role.yaml`
/// (v1.28.0) grants it: it runs instance Pods with their own ServiceAccounts
/// and Roles (so it needs what it grants), Services, PVCs,
/// PodDisruptionBudgets, Jobs, leases and webhook CA injection.
const OPERATOR_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &["configmaps", "secrets", "services"],
        &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    ),
    (
        &[""],
        &["configmaps/status", "secrets/status"],
        &["get", "patch", "update"],
    ),
    (&[""], &["events"], &["create", "patch"]),
    (&[""], &["nodes"], &["get", "list", "watch"]),
    (
        &[""],
        &["persistentvolumeclaims", "pods", "pods/exec"],
        &["create", "delete", "get", "list", "patch", "watch"],
    ),
    (&[""], &["pods/status"], &["get"]),
    (
        &[""],
        &["serviceaccounts"],
        &["create", "get", "list", "patch", "update", "watch"],
    ),
    (
        &["admissionregistration.k8s.io"],
        &[
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
        ],
        &["get", "patch"],
    ),
    (
        &["apps"],
        &["deployments"],
        &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    ),
    (
        &["batch"],
        &["jobs"],
        &["create", "delete", "get", "list", "patch", "watch"],
    ),
    (
        &["coordination.k8s.io"],
        &["leases"],
        &["create", "get", "update"],
    ),
    (
        &["monitoring.coreos.com"],
        &["podmonitors"],
        &["create", "delete", "get", "list", "patch", "watch"],
    ),
    (
        &["policy"],
        &["poddisruptionbudgets"],
        &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    ),
    (
        &[GROUP],
        &[
            "backups",
            "clusters",
            "databases",
            "poolers",
            "publications",
            "scheduledbackups",
            "subscriptions",
        ],
        &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    ),
    (
        &[GROUP],
        &[
            "backups/status",
            "databases/status",
            "publications/status",
            "scheduledbackups/status",
            "subscriptions/status",
        ],
        &["get", "patch", "update"],
    ),
    (
        &[GROUP],
        &["clusterimagecatalogs", "imagecatalogs"],
        &["get", "list", "watch"],
    ),
    (
        &[GROUP],
        &["clusters/finalizers", "poolers/finalizers"],
        &["update"],
    ),
    (
        &[GROUP],
        &[
            "clusters/status",
            "failoverquorums/status",
            "poolers/status",
        ],
        &["get", "patch", "update", "watch"],
    ),
    (
        &[GROUP],
        &["failoverquorums"],
        &["create", "delete", "get", "list", "watch"],
    ),
    (
        &["rbac.authorization.k8s.io"],
        &["rolebindings", "roles"],
        &["create", "get", "list", "patch", "update", "watch"],
    ),
    (
        &["snapshot.storage.k8s.io"],
        &["volumesnapshots"],
        &["create", "get", "list", "patch", "watch"],
    ),
];

fn webhook_client(namespace: &str, path: &str) -> WebhookClientConfig {
    WebhookClientConfig {
        service: Some(ServiceReference {
            name: WEBHOOK_SERVICE.to_owned(),
            namespace: namespace.to_owned(),
            path: Some(path.to_owned()),
            port: Some(443),
        }),
        ..WebhookClientConfig::default()
    }
}

fn webhook_rule(resource: &str) -> Vec<RuleWithOperations> {
    vec![RuleWithOperations {
        api_groups: Some(vec![GROUP.to_owned()]),
        api_versions: Some(vec!["v1".to_owned()]),
        operations: Some(vec!["CREATE".to_owned(), "UPDATE".to_owned()]),
        resources: Some(vec![resource.to_owned()]),
        ..RuleWithOperations::default()
    }]
}

/// The defaulting webhooks. NB: the operator injects its CA into `caBundle`
/// (bi never sets that field, so applying again does not undo it).
fn mutating_webhooks(namespace: &str) -> MutatingWebhookConfiguration {
    let webhook = |kind: &str, plural: &str| MutatingWebhook {
        name: format!("m{kind}.cnpg.io"),
        admission_review_versions: vec!["v1".to_owned()],
        client_config: webhook_client(namespace, &format!("/mutate-postgresql-cnpg-io-v1-{kind}")),
        failure_policy: Some("Fail".to_owned()),
        rules: Some(webhook_rule(plural)),
        side_effects: "None".to_owned(),
        ..MutatingWebhook::default()
    };
    MutatingWebhookConfiguration {
        metadata: build::meta(None, "cnpg-mutating-webhook-configuration"),
        webhooks: Some(vec![
            webhook("backup", "backups"),
            webhook("cluster", "clusters"),
            webhook("database", "databases"),
            webhook("scheduledbackup", "scheduledbackups"),
        ]),
    }
}

/// The validating webhooks (see [`mutating_webhooks`] for the CA).
fn validating_webhooks(namespace: &str) -> ValidatingWebhookConfiguration {
    let webhook = |kind: &str, plural: &str| ValidatingWebhook {
        name: format!("v{kind}.cnpg.io"),
        admission_review_versions: vec!["v1".to_owned()],
        client_config: webhook_client(
            namespace,
            &format!("/validate-postgresql-cnpg-io-v1-{kind}"),
        ),
        failure_policy: Some("Fail".to_owned()),
        rules: Some(webhook_rule(plural)),
        side_effects: "None".to_owned(),
        ..ValidatingWebhook::default()
    };
    ValidatingWebhookConfiguration {
        metadata: build::meta(None, "cnpg-validating-webhook-configuration"),
        webhooks: Some(vec![
            webhook("backup", "backups"),
            webhook("cluster", "clusters"),
            webhook("database", "databases"),
            webhook("pooler", "poolers"),
            webhook("scheduledbackup", "scheduledbackups"),
        ]),
    }
}

/// CloudNativePG's CRDs at 1.28.0, as upstream ships them: the operator refuses to start without any of them.
pub const CRDS: [UpstreamCrd; 10] = [
    upstream_crd!(
        "backups.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_backups.yaml",
        "4a448983dc7a2ae0976c876c21c62a039e5d9e526ab5d3ea8ec8c3c4a40674eb"
    ),
    upstream_crd!(
        "clusterimagecatalogs.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_clusterimagecatalogs.yaml",
        "9fe08a9f5be3311d929022962d40847d7b3480b042337fccc8d49580b15dd9c7"
    ),
    upstream_crd!(
        "clusters.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_clusters.yaml",
        "51268ebddd087e77d91a0251da74176bae9814b6009b33efcf552b965e66b44c"
    ),
    upstream_crd!(
        "databases.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_databases.yaml",
        "468631e3b466932b28282f6419854998399e8c318b23e35c38b332d4c7e61b26"
    ),
    upstream_crd!(
        "failoverquorums.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_failoverquorums.yaml",
        "023e2e20a795ca9fa3b4f211201d08bc799396dd9ebd0d7173fa5743e266259f"
    ),
    upstream_crd!(
        "imagecatalogs.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_imagecatalogs.yaml",
        "194864ac832a182e9b0934a9d05ba833e44d47ab8ba11c45674902d73d69c8f4"
    ),
    upstream_crd!(
        "poolers.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_poolers.yaml",
        "f04d46592a061c657867e19009b2d71ae8ab00003b930622a64e01cacc606324"
    ),
    upstream_crd!(
        "publications.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_publications.yaml",
        "92f93346fc8ad2e764ba32358183e13c7f97402c7764a7f472e932b668b2d1c7"
    ),
    upstream_crd!(
        "scheduledbackups.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml",
        "4c3c0747daae3c8664d7d4695b3f62f8fa921b87c28d7ce3169bdeb2411d5141"
    ),
    upstream_crd!(
        "subscriptions.postgresql.cnpg.io",
        "cloudnative-pg",
        "1.28.0",
        "config/crd/bases/postgresql.cnpg.io_subscriptions.yaml",
        "f794e1406b94bbbb9113fec86e433246fb85272aad4c931333af4637df120d7d"
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
    use crate::objects::{PostgresDatabase, SizePreset};
    use crate::units::Storage;

    fn user(name: &str, roles: &[PostgresRole]) -> PostgresUser {
        PostgresUser {
            name: name.into(),
            roles: roles.to_vec(),
        }
    }

    fn main_cluster() -> PostgresCluster {
        PostgresCluster {
            name: "main".into(),
            instances: 3,
            storage: Storage::gibibytes(20),
            resources: SizePreset::Small.resources(),
            users: vec![
                user("reporting", &[PostgresRole::Login]),
                user("app", &[PostgresRole::Createdb]),
            ],
            databases: vec![
                PostgresDatabase {
                    name: "shop".into(),
                    owner: "app".into(),
                },
                PostgresDatabase {
                    name: "stats".into(),
                    owner: "reporting".into(),
                },
            ],
            backup: PostgresBackup::ObjectStore,
        }
    }

    fn state(extra: &[BatteryKind]) -> DesiredState {
        let mut kinds = vec![BatteryKind::CloudnativePg];
        kinds.extend_from_slice(extra);
        let mut state = DesiredState::with_batteries(&kinds).unwrap();
        state.postgres_clusters.push(Owned::unowned(main_cluster()));
        state
    }

    fn run(state: &DesiredState) -> Vec<Resource> {
        generate(
            &CloudnativePgConfig::default(),
            &Context::new(state, Secrets::Preview),
        )
        .unwrap()
    }

    fn schema_of(resources: &[Resource], crd: &str) -> Value {
        find(resources, "CustomResourceDefinition", crd).body["spec"]["versions"][0]["schema"]
            ["openAPIV3Schema"]
            .clone()
    }

    fn assert_valid(resources: &[Resource], crd: &str, cr: &Resource) {
        let schema = schema_of(resources, crd);
        assert_eq!(violations(&schema, &cr.body), Vec::<String>::new(), "{crd}");
        assert_eq!(
            violations(&strict(&schema), &cr.body),
            Vec::<String>::new(),
            "{crd} (strict)"
        );
    }

    #[test]
    fn generates_the_operator_its_rbac_webhooks_and_crds() {
        let resources = run(&state(&[]));
        let base = "battery-base";
        for (kind, name) in [
            ("ServiceAccount", SERVICE_ACCOUNT),
            ("ClusterRole", SERVICE_ACCOUNT),
            ("ClusterRoleBinding", SERVICE_ACCOUNT),
            ("Deployment", OPERATOR),
            ("Service", WEBHOOK_SERVICE),
            (
                "MutatingWebhookConfiguration",
                "cnpg-mutating-webhook-configuration",
            ),
            (
                "ValidatingWebhookConfiguration",
                "cnpg-validating-webhook-configuration",
            ),
        ] {
            let resource = find(&resources, kind, name);
            if !kind.contains("Cluster") && !kind.contains("Webhook") {
                assert_eq!(resource.path.namespace.as_deref(), Some(base), "{kind}");
            }
            assert_eq!(resource.app, "cloudnative_pg");
        }
        let crds: Vec<&str> = resources
            .iter()
            .filter(|r| r.path.kind == "CustomResourceDefinition")
            .map(|r| r.path.name.as_str())
            .collect();
        assert_eq!(crds.len(), 10, "{crds:?}");
        assert!(crds.contains(&"clusters.postgresql.cnpg.io"));
        let clusters = find(
            &resources,
            "CustomResourceDefinition",
            "clusters.postgresql.cnpg.io",
        );
        assert_eq!(
            clusters.body["spec"]["versions"][0]["subresources"]["status"],
            json!({})
        );
        let pod = &find(&resources, "Deployment", OPERATOR).body["spec"]["template"]["spec"];
        assert_eq!(pod["containers"][0]["image"], images::CLOUDNATIVE_PG);
        assert_eq!(pod["containers"][0]["resources"]["requests"]["cpu"], "100m");
        assert_eq!(pod["serviceAccountName"], SERVICE_ACCOUNT);
        // No monitoring, no scrape.
        assert!(!resources.iter().any(|r| r.path.kind == "VMServiceScrape"));
    }

    #[test]
    fn a_cluster_uses_the_config_image_and_the_typed_sizes() {
        let mut state = state(&[]);
        let custom = ImageRef::parse("ghcr.io/cloudnative-pg/postgresql:16.4").unwrap();
        state.batteries.insert(
            BatteryKind::CloudnativePg,
            super::super::BatteryConfig::CloudnativePg(CloudnativePgConfig {
                postgres_image: custom.clone(),
                ..CloudnativePgConfig::default()
            }),
        );
        let resources = run(&state);
        let cluster = find(&resources, "Cluster", "main");
        assert_eq!(cluster.path.namespace.as_deref(), Some("battery-data"));
        assert_eq!(cluster.app, "postgres-main");
        let spec = &cluster.body["spec"];
        assert_eq!(spec["imageName"], custom.to_string());
        assert_eq!(spec["instances"], 3);
        assert_eq!(spec["enablePDB"], true);
        assert_eq!(spec["storage"]["size"], "20Gi");
        assert_eq!(spec["resources"]["requests"]["memory"], "1Gi");
        assert_eq!(spec["resources"]["limits"]["cpu"], "2");
        // A quarter of 4 GiB of memory; WAL a quarter of the 20 GiB volume.
        assert_eq!(spec["postgresql"]["parameters"]["shared_buffers"], "1024MB");
        assert_eq!(spec["postgresql"]["parameters"]["max_wal_size"], "5120MB");
        assert_eq!(spec["bootstrap"]["initdb"]["database"], "shop");
        assert_eq!(spec["bootstrap"]["initdb"]["owner"], "app");
        assert_eq!(
            spec["bootstrap"]["initdb"]["secret"]["name"],
            "postgres-main-app-auth"
        );
        // Roles sorted by name, every attribute spelled out.
        let roles = spec["managed"]["roles"].as_array().unwrap();
        assert_eq!(roles[0]["name"], "app");
        assert_eq!(roles[0]["createdb"], true);
        assert_eq!(roles[0]["login"], true);
        assert_eq!(roles[1]["name"], "reporting");
        assert_eq!(roles[1]["createdb"], false);
        assert_eq!(
            roles[1]["passwordSecret"]["name"],
            "postgres-main-reporting-auth"
        );
        // Backups are asked for but the barman battery is not installed.
        assert!(spec.get("plugins").is_none());
        let databases: Vec<_> = resources
            .iter()
            .filter(|r| r.path.kind == "Database")
            .map(|r| r.path.name.as_str())
            .collect();
        assert_eq!(databases, ["main-shop", "main-stats"]);
    }

    #[test]
    fn the_smallest_volume_keeps_wal_well_below_its_size() {
        let mut pg = main_cluster();
        pg.storage = PostgresCluster::min_storage();
        let parameters = parameters(&pg);
        assert_eq!(parameters["max_wal_size"], "128MB");
        assert_eq!(parameters["min_wal_size"], "64MB");
    }

    #[test]
    fn every_user_gets_a_basic_auth_secret_and_a_connection_secret() {
        let mut stored = BTreeMap::new();
        stored.insert("postgres/main/app".to_owned(), "p@ss word".to_owned());
        stored.insert("postgres/main/reporting".to_owned(), "r3port".to_owned());
        let state = state(&[]);
        let resources = generate(
            &CloudnativePgConfig::default(),
            &Context::new(&state, Secrets::Stored(&stored)),
        )
        .unwrap();
        let auth = find(&resources, "Secret", "postgres-main-app-auth");
        assert_eq!(auth.body["type"], "kubernetes.io/basic-auth");
        assert_eq!(auth.body["stringData"]["username"], "app");
        assert_eq!(auth.body["stringData"]["password"], "p@ss word");
        let connection = find(&resources, "Secret", "postgres-main-app-connection");
        let data = &connection.body["stringData"];
        assert_eq!(data["host"], "main-rw.battery-data.svc");
        assert_eq!(data["port"], "5432");
        assert_eq!(data["username"], "app");
        assert_eq!(data["database"], "shop");
        assert_eq!(
            data["url"],
            "postgres://app:p%40ss%20word@main-rw.battery-data.svc:5432/shop"
        );
        let reporting = find(&resources, "Secret", "postgres-main-reporting-connection");
        assert_eq!(reporting.body["stringData"]["database"], "stats");
    }

    #[test]
    fn a_missing_password_is_an_error_and_a_preview_needs_none() {
        let state = state(&[]);
        let empty = BTreeMap::new();
        let err = generate(
            &CloudnativePgConfig::default(),
            &Context::new(&state, Secrets::Stored(&empty)),
        )
        .unwrap_err();
        assert_eq!(
            err,
            GenerateError::MissingSecret("postgres/main/app".into())
        );
        assert!(!run(&state).is_empty());
    }

    #[test]
    fn a_first_database_owned_by_a_stranger_is_refused() {
        let mut state = state(&[]);
        state.postgres_clusters[0].object.databases[0].owner = "nobody".into();
        let err = generate(
            &CloudnativePgConfig::default(),
            &Context::new(&state, Secrets::Preview),
        )
        .unwrap_err();
        assert!(
            matches!(err, GenerateError::Malformed(ref m) if m.contains("nobody")),
            "{err}"
        );
    }

    #[test]
    fn custom_resources_validate_against_their_crds() {
        let resources = run(&state(&[BatteryKind::CloudnativePgBarman]));
        assert_valid(
            &resources,
            "clusters.postgresql.cnpg.io",
            find(&resources, "Cluster", "main"),
        );
        assert_valid(
            &resources,
            "databases.postgresql.cnpg.io",
            find(&resources, "Database", "main-shop"),
        );
        assert_valid(
            &resources,
            "scheduledbackups.postgresql.cnpg.io",
            find(&resources, "ScheduledBackup", "main-daily"),
        );
        // A cluster without users or databases too.
        let mut bare = state(&[]);
        bare.postgres_clusters[0].object = PostgresCluster {
            name: "bare".into(),
            ..PostgresCluster::default()
        };
        let resources = run(&bare);
        let cluster = find(&resources, "Cluster", "bare");
        assert!(cluster.body["spec"].get("bootstrap").is_none());
        assert_valid(&resources, "clusters.postgresql.cnpg.io", cluster);
    }

    #[test]
    fn backups_go_to_the_object_store_only_with_the_barman_battery() {
        let resources = run(&state(&[BatteryKind::CloudnativePgBarman]));
        let spec = &find(&resources, "Cluster", "main").body["spec"];
        assert_eq!(spec["plugins"][0]["name"], BARMAN_PLUGIN);
        assert_eq!(spec["plugins"][0]["isWALArchiver"], true);
        assert_eq!(
            spec["plugins"][0]["parameters"]["barmanObjectName"],
            BACKUP_OBJECT_STORE
        );
        let scheduled = find(&resources, "ScheduledBackup", "main-daily");
        assert_eq!(scheduled.body["spec"]["method"], "plugin");

        let without = run(&state(&[]));
        assert!(!without.iter().any(|r| r.path.kind == "ScheduledBackup"));
    }

    #[test]
    fn monitoring_adds_metrics_services_and_scrapes() {
        let resources = run(&state(&[BatteryKind::VictoriaMetrics]));
        let metrics = find(&resources, "Service", "main-metrics");
        assert_eq!(metrics.body["spec"]["ports"][0]["port"], 9187);
        assert_eq!(
            metrics.body["spec"]["selector"][COMPONENT_LABEL],
            "postgres-main"
        );
        let cluster = find(&resources, "Cluster", "main");
        assert_eq!(
            cluster.body["spec"]["inheritedMetadata"]["labels"][COMPONENT_LABEL],
            "postgres-main"
        );
        let scrapes = resources
            .iter()
            .filter(|r| r.path.kind == "VMServiceScrape")
            .count();
        assert_eq!(scrapes, 2, "the operator and the cluster");
    }

    #[test]
    fn connection_secrets_are_published_where_users_services_run() {
        let without = run(&state(&[]));
        let homes = |resources: &[Resource]| -> Vec<String> {
            resources
                .iter()
                .filter(|r| r.path.name == "postgres-main-app-connection")
                .filter_map(|r| r.path.namespace.clone())
                .collect()
        };
        assert_eq!(homes(&without), ["battery-data"]);
        let with = run(&state(&[
            BatteryKind::Knative,
            BatteryKind::TraditionalServices,
        ]));
        let mut namespaces = homes(&with);
        namespaces.sort();
        assert_eq!(
            namespaces,
            ["battery-data", "battery-knative", "battery-traditional"]
        );
        let original = with
            .iter()
            .find(|r| {
                r.path.namespace.as_deref() == Some("battery-data")
                    && r.path.name == "postgres-main-app-connection"
            })
            .unwrap();
        let published = with
            .iter()
            .find(|r| {
                r.path.namespace.as_deref() == Some("battery-knative")
                    && r.path.name == "postgres-main-app-connection"
            })
            .unwrap();
        assert_eq!(published.body["stringData"], original.body["stringData"]);
        assert_eq!(published.app, "postgres-main");
        // The password Secret stays with the cluster.
        assert!(!with.iter().any(|r| r.path.name == "postgres-main-app-auth"
            && r.path.namespace.as_deref() != Some("battery-data")));
    }

    #[test]
    fn the_order_of_users_and_clusters_in_the_state_does_not_matter() {
        let mut reordered = state(&[]);
        reordered.postgres_clusters[0].object.users.reverse();
        let mut other = main_cluster();
        other.name = "alpha".into();
        reordered
            .postgres_clusters
            .insert(0, Owned::unowned(other.clone()));
        let mut plain = state(&[]);
        plain.postgres_clusters.push(Owned::unowned(other));
        assert_eq!(run(&reordered), run(&plain));
    }

    #[test]
    fn typed_objects_round_trip_through_k8s_openapi() {
        use k8s_openapi::api::apps::v1::Deployment;
        use k8s_openapi::api::core::v1::{Secret, Service};
        let resources = run(&state(&[BatteryKind::VictoriaMetrics]));
        for resource in &resources {
            let body = resource.body.clone();
            let back = match resource.path.kind.as_str() {
                "Deployment" => serde_json::to_value(
                    serde_json::from_value::<Deployment>(body.clone()).unwrap(),
                ),
                "Service" => {
                    serde_json::to_value(serde_json::from_value::<Service>(body.clone()).unwrap())
                }
                "Secret" => {
                    serde_json::to_value(serde_json::from_value::<Secret>(body.clone()).unwrap())
                }
                _ => continue,
            }
            .unwrap();
            assert_eq!(back, body, "{}", resource.path);
        }
    }
}
