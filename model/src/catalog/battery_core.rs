//! battery-core: the control server itself and the namespaces every other
//! battery lives in. Always installed.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStrategy};
use serde::{Deserialize, Serialize};

use super::{checks, cloudnative_pg, grafana, victoria_metrics};
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, Seed};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::objects::{
    PostgresBackup, PostgresCluster, PostgresDatabase, PostgresRole, PostgresUser, Resources,
    SizePreset,
};
use crate::units::{Cpu, Memory, Storage};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::BatteryCore,
    id: "battery_core",
    name: "Battery Core",
    group: BatteryGroup::Core,
    description: "The bi control server and the base namespaces every other battery runs in.",
    dependencies: &[],
    integrations: &[
        Integration {
            partner: BatteryKind::IstioGateway,
            what: "bi's own UI at https://control.<domain>/",
        },
        Integration {
            partner: BatteryKind::VictoriaMetrics,
            what: "bi's own /metrics scraped (a token of its own)",
        },
        Integration {
            partner: BatteryKind::Grafana,
            what: "a dashboard of bi itself (with VictoriaMetrics)",
        },
    ],
    removable: false,
    providers: &[],
};

/// Configuration of battery-core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatteryCoreConfig {
    /// Where the control server runs.
    pub core_namespace: DnsLabel,
    /// Shared infrastructure (operators, CRD webhooks).
    pub base_namespace: DnsLabel,
    /// Databases and caches.
    pub data_namespace: DnsLabel,
    /// Notebooks and model instances.
    pub ai_namespace: DnsLabel,
    /// Metrics, dashboards and logs.
    pub monitoring_namespace: DnsLabel,
    /// The control server's image.
    pub control_server_image: ImageRef,
    /// Where the control server in the cluster keeps its state: `sqlite`
    /// (a file on a volume of its own) or `postgres` (a PostgreSQL cluster
    /// of its own, run by cloudnative_pg, which must be installed and stays
    /// installed while it holds the data).
    pub database: ControlServerDatabase,
}

/// Where the control server in the cluster keeps its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlServerDatabase {
    /// SQLite on a volume of the control server's own: needs no other
    /// battery, one replica, backed up with the volume.
    #[default]
    Sqlite,
    /// A CloudNativePG cluster of the control server's own, in its
    /// namespace: the production choice (WAL archiving and daily backups
    /// with cloudnative_pg_barman).
    Postgres,
}

impl ControlServerDatabase {
    /// The battery that holds the control server's data, besides its own.
    pub fn battery(self) -> Option<BatteryKind> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some(BatteryKind::CloudnativePg),
        }
    }
}

impl Default for BatteryCoreConfig {
    fn default() -> Self {
        Self {
            core_namespace: checks::label("battery-core"),
            base_namespace: checks::label("battery-base"),
            data_namespace: checks::label("battery-data"),
            ai_namespace: checks::label("battery-ai"),
            monitoring_namespace: checks::label("battery-monitoring"),
            control_server_image: image(images::CONTROL_SERVER),
            database: ControlServerDatabase::default(),
        }
    }
}

impl BatteryCoreConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::distinct_namespaces(
            &mut problems,
            &[
                ("core_namespace", &self.core_namespace),
                ("base_namespace", &self.base_namespace),
                ("data_namespace", &self.data_namespace),
                ("ai_namespace", &self.ai_namespace),
                ("monitoring_namespace", &self.monitoring_namespace),
            ],
        );
        checks::pinned(
            &mut problems,
            "control_server_image",
            &self.control_server_image,
        );
        problems.into_result()
    }
}

/// The control server's Deployment, ServiceAccount, ClusterRole(Binding) and Service.
pub const CONTROL_SERVER: &str = "control-server";

/// The port the control server listens on (named `http`).
pub const CONTROL_SERVER_PORT: u16 = 3000;

/// The Secret holding the control server's `BI_DATABASE_URL` (key `url`)
/// with `database: sqlite`.
const DATABASE_SECRET: &str = "control-server-database";

/// The control server's PostgreSQL cluster, user and database with
/// `database: postgres`.
pub const DATABASE_CLUSTER: &str = "control-server";

/// Its user and database.
const DATABASE_USER: &str = "bi";

/// The Secret holding the one-time token that creates the in-cluster
/// control server's first admin (key `token`): `kubectl get secret` it,
/// then open `/setup?token=…` or run `bi setup --token …`.
const SETUP_SECRET: &str = "control-server-setup";

/// The stored secret VictoriaMetrics scrapes the control server's
/// `/metrics` with (the server admits it for that route alone).
pub const METRICS_TOKEN_SECRET: &str = "battery_core/metrics-token";

/// The Secret holding that token beside the server, for its VMServiceScrape.
const METRICS_SECRET: &str = "control-server-metrics";

/// The ConfigMap of bi's own Grafana dashboard, in the monitoring namespace.
pub const DASHBOARD: &str = "bi-control-server-dashboard";

/// The Secret holding the installation's [`Seed`] (key [`SEED_KEY`]),
/// mounted into the control server: with an empty database it starts from
/// it instead of from nothing.
pub const SEED_SECRET: &str = "control-server-seed";

/// The seed's key in [`SEED_SECRET`].
pub const SEED_KEY: &str = "seed.json";

/// Where the control server finds the seed.
const SEED_DIR: &str = "/etc/bi/seed";

/// Where the control server keeps its SQLite database and other state.
const DATA_DIR: &str = "/var/lib/bi";

/// The namespaces every other battery runs in, and the control server.
///
/// With `database: sqlite` the control server keeps its state in SQLite on
/// a volume of its own; `BI_DATABASE_URL` still comes from a Secret, so
/// that a URL with credentials can replace it without touching the
/// Deployment. With `database: postgres` it has a CloudNativePG cluster of
/// its own in its namespace, and `BI_DATABASE_URL` is that cluster's
/// connection Secret's `url`. Its stored secrets are the setup token of its
/// first admin and (postgres) its database password.
pub fn generate(
    config: &BatteryCoreConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let mut resources = Vec::new();

    // NB: with the mesh and the installation's CA both present, bi's own and
    // the users' workloads join the mesh (and its STRICT mTLS).
    let mesh = ctx.installed(BatteryKind::Istio) && ctx.installed(BatteryKind::BatteryCa);
    let injected: &[(&str, &str)] = if mesh {
        &[("istio-injection", "enabled")]
    } else {
        &[]
    };
    for (namespace, labels) in [
        (&config.core_namespace, injected),
        (&config.base_namespace, &[][..]),
        (&config.data_namespace, injected),
        (&config.ai_namespace, injected),
        (&config.monitoring_namespace, &[][..]),
    ] {
        resources.push(Resource::new(
            app,
            &build::namespace(namespace.as_str(), labels),
        )?);
    }

    let namespace = config.core_namespace.as_str();
    resources.push(Resource::new(
        app,
        &build::service_account(namespace, CONTROL_SERVER),
    )?);
    // NB: the engine applies whatever the catalog generates, ClusterRoles
    // and CRDs included, and Kubernetes only lets it grant rights it holds:
    // all verbs on all resources is what that takes.
    let cluster_role = format!("bi-{CONTROL_SERVER}");
    resources.push(Resource::new(
        app,
        &build::cluster_role(&cluster_role, vec![build::rule(&["*"], &["*"], &["*"])]),
    )?);
    resources.push(Resource::new(
        app,
        &build::cluster_role_binding(&cluster_role, &cluster_role, namespace, CONTROL_SERVER),
    )?);
    // NB: the volume stays when the server moves to postgres: the SQLite
    // file with its history is kept for whoever wants it back.
    let claim = format!("{CONTROL_SERVER}-data");
    resources.push(Resource::new(
        app,
        &build::persistent_volume_claim(namespace, &claim, &Storage::gibibytes(1)),
    )?);
    let database_url = match config.database {
        ControlServerDatabase::Sqlite => {
            resources.push(Resource::new(
                app,
                &build::secret(
                    namespace,
                    DATABASE_SECRET,
                    build::string_map(&[(
                        "url",
                        &format!("sqlite://{DATA_DIR}/bi.db?mode=rwc"),
                    )]),
                ),
            )?);
            DATABASE_SECRET.to_owned()
        }
        ControlServerDatabase::Postgres => {
            // NB: in the data namespace, where the backups' ObjectStore is;
            // its connection Secret is published again beside the server,
            // which can only reference a Secret of its own namespace.
            let cluster = cloudnative_pg::cluster(ctx, app, ctx.data_namespace(), &database())?;
            resources.extend(cloudnative_pg::connection_secrets_in(
                &cluster,
                &[namespace.to_owned()],
            )?);
            resources.extend(cluster);
            build::connection_secret_name("postgres", DATABASE_CLUSTER, Some(DATABASE_USER))
        }
    };
    resources.push(Resource::new(
        app,
        &build::secret(
            namespace,
            SETUP_SECRET,
            build::string_map(&[("token", &ctx.secret("battery_core/setup-token")?)]),
        ),
    )?);
    let seed = Seed {
        state: ctx.state.canonical(),
        secrets: ctx.stored_secrets(),
    };
    let seed = serde_json::to_string(&seed)
        .map_err(|err| GenerateError::Malformed(format!("the installation's seed: {err}")))?;
    resources.push(Resource::new(
        app,
        &build::secret(namespace, SEED_SECRET, build::string_map(&[(SEED_KEY, &seed)])),
    )?);
    resources.push(Resource::new(
        app,
        &control_server(config, namespace, &database_url, &claim),
    )?);
    resources.push(Resource::new(
        app,
        &build::service(
            namespace,
            CONTROL_SERVER,
            CONTROL_SERVER,
            &[("http", CONTROL_SERVER_PORT)],
        ),
    )?);
    resources.extend(own_metrics(ctx, namespace)?);
    Ok(resources)
}

/// With VictoriaMetrics: a scrape of the control server's `/metrics` with
/// a token of its own; with Grafana too, bi's dashboard.
fn own_metrics(ctx: &Context<'_>, namespace: &str) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let Some(scrape) = victoria_metrics::scrape_with_token(
        ctx,
        app,
        namespace,
        CONTROL_SERVER,
        CONTROL_SERVER,
        "http",
        (METRICS_SECRET, "token"),
    )?
    else {
        return Ok(Vec::new());
    };
    let mut resources = vec![
        Resource::new(
            app,
            &build::secret(
                namespace,
                METRICS_SECRET,
                build::string_map(&[("token", &ctx.secret(METRICS_TOKEN_SECRET)?)]),
            ),
        )?,
        scrape,
    ];
    if ctx.installed(BatteryKind::Grafana) {
        let mut dashboard = build::config_map(
            ctx.monitoring_namespace(),
            DASHBOARD,
            [("bi.json".to_owned(), DASHBOARD_JSON.to_owned())].into(),
        );
        dashboard
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(grafana::DASHBOARD_LABEL.to_owned(), "1".to_owned());
        resources.push(Resource::new(app, &dashboard)?);
    }
    Ok(resources)
}

/// bi's Grafana dashboard: snapshots, writes, drift, HTTP and the cluster
/// cache, from `/metrics`.
const DASHBOARD_JSON: &str = include_str!("dashboards/bi.json");

/// The control server's own PostgreSQL cluster: one instance, a user and a
/// database named `bi`; WAL-archived and backed up daily when
/// cloudnative_pg_barman is installed.
fn database() -> PostgresCluster {
    PostgresCluster {
        name: DATABASE_CLUSTER.to_owned(),
        instances: 1,
        storage: Storage::gibibytes(2),
        resources: SizePreset::Tiny.resources(),
        users: vec![PostgresUser {
            name: DATABASE_USER.to_owned(),
            roles: vec![PostgresRole::Login],
        }],
        databases: vec![PostgresDatabase {
            name: DATABASE_USER.to_owned(),
            owner: DATABASE_USER.to_owned(),
        }],
        backup: PostgresBackup::ObjectStore,
    }
}

/// The control server: one replica (it holds the apply lock and its SQLite
/// file), replaced rather than rolled so two never share the volume.
fn control_server(
    config: &BatteryCoreConfig,
    namespace: &str,
    database_secret: &str,
    claim: &str,
) -> Deployment {
    let mut server = ContainerSpec::new(CONTROL_SERVER, &config.control_server_image);
    // NB: it manages the cluster it runs in, with its service account; it
    // listens on the pod network, which the mesh (when installed) encrypts,
    // so plain HTTP there is a choice made here, not a default.
    server.args = ["serve", "--in-cluster", "--insecure-listen"]
        .map(str::to_owned)
        .to_vec();
    server.env = vec![
        build::env("BI_LISTEN", &format!("0.0.0.0:{CONTROL_SERVER_PORT}")),
        build::env("BI_DATA_DIR", DATA_DIR),
        build::env_from_secret("BI_DATABASE_URL", database_secret, "url"),
        build::env_from_secret("BI_SETUP_TOKEN", SETUP_SECRET, "token"),
        build::env("BI_SEED_FILE", &format!("{SEED_DIR}/{SEED_KEY}")),
    ];
    server.ports = vec![("http", CONTROL_SERVER_PORT)];
    server.health = Some(Health::Http("/healthz", CONTROL_SERVER_PORT));
    server.resources = Some(Resources {
        cpu_request: Cpu::millicores(250),
        cpu_limit: None,
        memory_request: Memory::mebibytes(256),
        memory_limit: Some(Memory::gibibytes(1)),
    });
    server.mounts = vec![
        ("data".to_owned(), DATA_DIR.to_owned()),
        ("seed".to_owned(), SEED_DIR.to_owned()),
    ];
    let mut deployment = build::deployment(
        namespace,
        CONTROL_SERVER,
        1,
        Some(CONTROL_SERVER),
        &[server],
        vec![
            build::claim_volume("data", claim),
            build::secret_volume("seed", SEED_SECRET, true),
        ],
    );
    if let Some(spec) = deployment.spec.as_mut() {
        spec.strategy = Some(DeploymentStrategy {
            type_: Some("Recreate".to_owned()),
            ..DeploymentStrategy::default()
        });
    }
    deployment
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::find_required as find;
    use crate::generate::{DesiredState, Secrets};

    fn run(kinds: &[BatteryKind]) -> Vec<Resource> {
        let mut all = vec![BatteryKind::BatteryCore];
        all.extend_from_slice(kinds);
        let state = DesiredState::with_batteries(&all).unwrap();
        let stored = std::collections::BTreeMap::from([(
            "battery_core/setup-token".to_owned(),
            "a-setup-token-of-the-tests".to_owned(),
        )]);
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        generate(&BatteryCoreConfig::default(), &ctx).unwrap()
    }

    #[test]
    fn generates_the_namespaces_and_the_control_server() {
        let resources = run(&[]);
        let kinds: Vec<(&str, &str)> = resources
            .iter()
            .map(|r| (r.path.kind.as_str(), r.path.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Namespace", "battery-core"),
                ("Namespace", "battery-base"),
                ("Namespace", "battery-data"),
                ("Namespace", "battery-ai"),
                ("Namespace", "battery-monitoring"),
                ("ServiceAccount", "control-server"),
                ("ClusterRole", "bi-control-server"),
                ("ClusterRoleBinding", "bi-control-server"),
                ("PersistentVolumeClaim", "control-server-data"),
                ("Secret", "control-server-database"),
                ("Secret", "control-server-setup"),
                ("Secret", "control-server-seed"),
                ("Deployment", "control-server"),
                ("Service", "control-server"),
            ]
        );
        assert!(resources.iter().all(|r| r.app == "battery_core"));
        let namespace = find(&resources, "Namespace", "battery-data");
        assert!(
            namespace.body["metadata"]["labels"]
                .get("istio-injection")
                .is_none()
        );
    }

    #[test]
    fn the_control_server_runs_the_configured_image_with_its_settings() {
        let resources = run(&[]);
        let deployment = find(&resources, "Deployment", CONTROL_SERVER);
        assert_eq!(deployment.path.namespace.as_deref(), Some("battery-core"));
        let pod = &deployment.body["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], images::CONTROL_SERVER);
        assert_eq!(container["ports"][0]["name"], "http");
        assert_eq!(container["ports"][0]["containerPort"], 3000);
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(container["securityContext"]["runAsNonRoot"], true);
        let env = container["env"].as_array().unwrap();
        assert!(env.contains(&serde_json::json!({ "name": "BI_LISTEN", "value": "0.0.0.0:3000" })));
        let url = env.iter().find(|e| e["name"] == "BI_DATABASE_URL").unwrap();
        assert_eq!(
            url["valueFrom"]["secretKeyRef"],
            serde_json::json!({ "name": "control-server-database", "key": "url", "optional": false })
        );
        assert_eq!(
            container["args"],
            serde_json::json!(["serve", "--in-cluster", "--insecure-listen"])
        );
        let setup = env.iter().find(|e| e["name"] == "BI_SETUP_TOKEN").unwrap();
        assert_eq!(
            setup["valueFrom"]["secretKeyRef"],
            serde_json::json!({ "name": "control-server-setup", "key": "token", "optional": false })
        );
        let secret = find(&resources, "Secret", "control-server-setup");
        assert_eq!(secret.body["stringData"]["token"], "a-setup-token-of-the-tests");
        assert_eq!(deployment.body["spec"]["strategy"]["type"], "Recreate");
        assert_eq!(pod["serviceAccountName"], CONTROL_SERVER);
        let role = find(&resources, "ClusterRole", "bi-control-server");
        assert_eq!(role.body["rules"][0]["verbs"], serde_json::json!(["*"]));
        // Typed objects survive a round trip through k8s-openapi.
        let typed: Deployment = serde_json::from_value(deployment.body.clone()).unwrap();
        assert_eq!(serde_json::to_value(typed).unwrap(), deployment.body);
    }

    #[test]
    fn on_postgres_the_control_server_has_a_backed_up_cluster_of_its_own() {
        let state = DesiredState::with_batteries(&[
            BatteryKind::BatteryCore,
            BatteryKind::CloudnativePg,
            BatteryKind::CloudnativePgBarman,
        ])
        .unwrap();
        let config = BatteryCoreConfig {
            database: ControlServerDatabase::Postgres,
            ..BatteryCoreConfig::default()
        };
        let stored = std::collections::BTreeMap::from([
            ("battery_core/setup-token".to_owned(), "a-setup-token-of-the-tests".to_owned()),
            ("postgres/control-server/bi".to_owned(), "a-database-password".to_owned()),
        ]);
        let resources = generate(&config, &Context::new(&state, Secrets::Stored(&stored))).unwrap();
        assert!(resources.iter().all(|r| r.app == "battery_core"));
        // No SQLite URL; the volume stays, with the SQLite file of before.
        assert!(
            !resources
                .iter()
                .any(|r| r.path.kind == "Secret" && r.path.name == "control-server-database")
        );
        find(&resources, "PersistentVolumeClaim", "control-server-data");
        let cluster = find(&resources, "Cluster", DATABASE_CLUSTER);
        assert_eq!(cluster.path.namespace.as_deref(), Some("battery-data"));
        assert_eq!(cluster.body["spec"]["bootstrap"]["initdb"]["database"], "bi");
        assert_eq!(cluster.body["spec"]["bootstrap"]["initdb"]["owner"], "bi");
        // Backed up like users' clusters in the data namespace.
        assert_eq!(cluster.body["spec"]["plugins"][0]["name"], cloudnative_pg::BARMAN_PLUGIN);
        find(&resources, "ScheduledBackup", "control-server-daily");

        // The connection Secret, beside the cluster and beside the server.
        let connection = build::connection_secret_name("postgres", DATABASE_CLUSTER, Some("bi"));
        let published: Vec<_> = resources
            .iter()
            .filter(|r| r.path.kind == "Secret" && r.path.name == connection)
            .map(|r| r.path.namespace.as_deref().unwrap())
            .collect();
        assert_eq!(published, ["battery-core", "battery-data"]);
        let secret = resources
            .iter()
            .find(|r| r.path.name == connection && r.path.namespace.as_deref() == Some("battery-core"))
            .unwrap();
        assert_eq!(
            secret.body["stringData"]["url"],
            "postgres://bi:a-database-password@control-server-rw.battery-data.svc:5432/bi"
        );

        let deployment = find(&resources, "Deployment", CONTROL_SERVER);
        let pod = &deployment.body["spec"]["template"]["spec"];
        let env = pod["containers"][0]["env"].as_array().unwrap();
        let url = env.iter().find(|e| e["name"] == "BI_DATABASE_URL").unwrap();
        assert_eq!(
            url["valueFrom"]["secretKeyRef"],
            serde_json::json!({ "name": connection, "key": "url", "optional": false })
        );
        assert_eq!(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "control-server-data");
    }

    #[test]
    fn the_seed_carries_the_state_and_secrets_the_server_was_generated_from() {
        let resources = run(&[BatteryKind::Redis]);
        let secret = find(&resources, "Secret", SEED_SECRET);
        let text = secret.body["stringData"][SEED_KEY].as_str().unwrap();
        let seed: Seed = serde_json::from_str(text).unwrap();
        let state = DesiredState::with_batteries(&[BatteryKind::BatteryCore, BatteryKind::Redis]).unwrap();
        assert_eq!(seed.state, state);
        assert_eq!(
            seed.secrets.get("battery_core/setup-token").map(String::as_str),
            Some("a-setup-token-of-the-tests")
        );
        assert!(!format!("{seed:?}").contains("a-setup-token-of-the-tests"));
        // Same state, same bytes.
        assert_eq!(run(&[BatteryKind::Redis]), resources);

        let deployment = find(&resources, "Deployment", CONTROL_SERVER);
        let pod = &deployment.body["spec"]["template"]["spec"];
        let env = pod["containers"][0]["env"].as_array().unwrap();
        assert!(env.contains(&serde_json::json!({ "name": "BI_SEED_FILE", "value": "/etc/bi/seed/seed.json" })));
        let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "seed").unwrap();
        assert_eq!(volume["secret"]["secretName"], SEED_SECRET);
        assert_eq!(volume["secret"]["optional"], true);
        // A preview shows no secret's value.
        let preview = generate(&BatteryCoreConfig::default(), &Context::new(&state, Secrets::Preview)).unwrap();
        let text = find(&preview, "Secret", SEED_SECRET).body["stringData"][SEED_KEY].to_string();
        assert!(!text.contains("a-setup-token-of-the-tests"), "{text}");
    }

    #[test]
    fn the_mesh_and_the_ca_together_label_namespaces_for_injection() {
        let resources = run(&[BatteryKind::Istio, BatteryKind::BatteryCa]);
        for (name, injected) in [
            ("battery-core", true),
            ("battery-base", false),
            ("battery-data", true),
            ("battery-ai", true),
            ("battery-monitoring", false),
        ] {
            let labels = &find(&resources, "Namespace", name).body["metadata"]["labels"];
            assert_eq!(
                labels.get("istio-injection").and_then(|v| v.as_str()),
                injected.then_some("enabled"),
                "{name}"
            );
        }
        // Istio alone is not enough.
        let istio_only = run(&[BatteryKind::Istio]);
        let labels = &find(&istio_only, "Namespace", "battery-data").body["metadata"]["labels"];
        assert!(labels.get("istio-injection").is_none());
    }

    #[test]
    fn namespaces_follow_the_config() {
        let config = BatteryCoreConfig {
            data_namespace: checks::label("databases"),
            ..BatteryCoreConfig::default()
        };
        let state = DesiredState::default();
        let resources = generate(&config, &Context::new(&state, Secrets::Preview)).unwrap();
        find(&resources, "Namespace", "databases");
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(BatteryCoreConfig::default().validate(), Ok(()));
    }

    #[test]
    fn refuses_a_namespace_used_twice() {
        let config = BatteryCoreConfig {
            ai_namespace: checks::label("battery-data"),
            ..BatteryCoreConfig::default()
        };
        let problems = config.validate().unwrap_err();
        let err = problems.for_field("ai_namespace").unwrap();
        assert_eq!(
            err.message,
            "namespace battery-data is already used by data_namespace"
        );
    }
}
