//! Self-hosted git with issues and pull requests; its database is a PostgreSQL cluster.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ExecAction, Lifecycle, LifecycleHandler};
use serde::{Deserialize, Serialize};

use super::checks;
use super::cloudnative_pg;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::victoria_metrics;
use crate::generate::build::{self, COMPONENT_LABEL, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
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
    kind: BatteryKind::Forgejo,
    id: "forgejo",
    name: "Forgejo",
    group: BatteryGroup::Devtools,
    description: "Self-hosted git with issues and pull requests; its database is a PostgreSQL cluster.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::CloudnativePg],
    integrations: &[Integration {
        partner: BatteryKind::Sso,
        what: "sign-in through Keycloak",
    }, Integration {
        partner: BatteryKind::IstioGateway,
        what: "its web UI at https://forgejo.<domain>/",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Forgejo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForgejoConfig {
    /// Forgejo.
    pub image: ImageRef,
    /// Name of the initial administrator.
    pub admin_username: DnsLabel,
    /// Volume for repositories.
    pub storage: Storage,
}

impl Default for ForgejoConfig {
    fn default() -> Self {
        Self {
            image: image(images::FORGEJO),
            admin_username: checks::label("battery-forgejo-admin"),
            storage: Storage::gibibytes(10),
        }
    }
}

impl ForgejoConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::storage_at_least(
            &mut problems,
            "storage",
            self.storage,
            Storage::gibibytes(1),
        );
        problems.into_result()
    }
}

/// Forgejo's StatefulSet, Service, and the name of its internal PostgreSQL
/// cluster, user and database.
pub const NAME: &str = "forgejo";
const FORGEJO: &str = NAME;

/// The web UI and API.
pub const HTTP_PORT: u16 = 3000;

/// Git over SSH (the rootless image's built-in server).
const SSH_PORT: u16 = 2222;

/// The Secret holding the administrator's name and password.
const ADMIN_SECRET: &str = "forgejo-admin";

/// Where repositories, attachments and `app.ini` live (the volume).
const DATA_DIR: &str = "/var/lib/gitea";

/// Creates the administrator once the database is migrated, or resets its
/// password to the stored one; never fails (a failing postStart hook would
/// kill the container) and gives up after ten minutes.
const ADMIN_SCRIPT: &str = r#"for i in $(seq 120); do forgejo admin user list >/dev/null 2>&1 && break; sleep 5; done
forgejo admin user create --admin --username "$FORGEJO_ADMIN_USERNAME" --password "$FORGEJO_ADMIN_PASSWORD" --email "$FORGEJO_ADMIN_USERNAME@forgejo.invalid" --must-change-password=false >/dev/null 2>&1 \
  || forgejo admin user change-password --username "$FORGEJO_ADMIN_USERNAME" --password "$FORGEJO_ADMIN_PASSWORD" --must-change-password=false >/dev/null 2>&1
exit 0"#;

/// Forgejo in the base namespace: a StatefulSet with a volume of
/// `config.storage` for repositories, a Service (http 3000, ssh 2222), an
/// internal PostgreSQL cluster `forgejo` (through `cloudnative_pg::cluster`)
/// whose connection Secret feeds the database settings by `secretKeyRef`,
/// and an administrator named `config.admin_username` created by a
/// postStart hook. With VictoriaMetrics, metrics are turned on and scraped.
///
/// Reads the secrets `forgejo/admin-password` and `postgres/forgejo/forgejo`.
pub fn generate(config: &ForgejoConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.base_namespace();
    let mut resources = cloudnative_pg::cluster(ctx, app, namespace, &database_cluster())?;
    resources.push(Resource::new(
        app,
        &build::secret(
            namespace,
            ADMIN_SECRET,
            build::string_map(&[
                ("username", config.admin_username.as_str()),
                ("password", &ctx.secret("forgejo/admin-password")?),
            ]),
        ),
    )?);
    let monitored = ctx.installed(BatteryKind::VictoriaMetrics);
    resources.push(Resource::new(
        app,
        &stateful_set(config, namespace, monitored),
    )?);
    let mut service = build::service(
        namespace,
        FORGEJO,
        FORGEJO,
        &[("http", HTTP_PORT), ("ssh", SSH_PORT)],
    );
    service.metadata.labels = Some(build::string_map(&[(COMPONENT_LABEL, FORGEJO)]));
    resources.push(Resource::new(app, &service)?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, namespace, FORGEJO, FORGEJO, "http")? {
        resources.push(scrape);
    }
    Ok(resources)
}

/// Forgejo's own database: one small instance, one user owning one database.
fn database_cluster() -> PostgresCluster {
    PostgresCluster {
        name: FORGEJO.to_owned(),
        instances: 1,
        storage: Storage::gibibytes(1),
        resources: SizePreset::Tiny.resources(),
        users: vec![PostgresUser {
            name: FORGEJO.to_owned(),
            roles: vec![PostgresRole::Login],
        }],
        databases: vec![PostgresDatabase {
            name: FORGEJO.to_owned(),
            owner: FORGEJO.to_owned(),
        }],
        backup: PostgresBackup::None,
    }
}

fn stateful_set(config: &ForgejoConfig, namespace: &str, monitored: bool) -> StatefulSet {
    let database = build::connection_secret_name("postgres", FORGEJO, Some(FORGEJO));
    let mut forgejo = ContainerSpec::new(FORGEJO, &config.image);
    forgejo.env = vec![
        // NB: the rootless image keeps app.ini under /etc, which only its own
        // user may write; bi runs it as another, so app.ini goes to the volume.
        build::env("GITEA_WORK_DIR", DATA_DIR),
        build::env("GITEA_CUSTOM", &format!("{DATA_DIR}/custom")),
        build::env("GITEA_APP_INI", &format!("{DATA_DIR}/custom/conf/app.ini")),
        build::env("HOME", &format!("{DATA_DIR}/git")),
        build::env("FORGEJO__database__DB_TYPE", "postgres"),
        build::env_from_secret("FORGEJO__database__HOST", &database, "host"),
        build::env_from_secret("FORGEJO__database__NAME", &database, "database"),
        build::env_from_secret("FORGEJO__database__USER", &database, "username"),
        build::env_from_secret("FORGEJO__database__PASSWD", &database, "password"),
        build::env("FORGEJO__security__INSTALL_LOCK", "true"),
        build::env("FORGEJO__server__HTTP_PORT", &HTTP_PORT.to_string()),
        build::env("FORGEJO__server__START_SSH_SERVER", "true"),
        build::env("FORGEJO__server__SSH_LISTEN_PORT", &SSH_PORT.to_string()),
        build::env(
            "FORGEJO__metrics__ENABLED",
            if monitored { "true" } else { "false" },
        ),
        build::env_from_secret("FORGEJO_ADMIN_USERNAME", ADMIN_SECRET, "username"),
        build::env_from_secret("FORGEJO_ADMIN_PASSWORD", ADMIN_SECRET, "password"),
    ];
    forgejo.ports = vec![("http", HTTP_PORT), ("ssh", SSH_PORT)];
    forgejo.health = Some(Health::Http("/api/healthz", HTTP_PORT));
    forgejo.resources = Some(Resources {
        cpu_request: Cpu::millicores(250),
        cpu_limit: None,
        memory_request: Memory::mebibytes(512),
        memory_limit: Some(Memory::gibibytes(1)),
    });
    forgejo.mounts = vec![("data".to_owned(), DATA_DIR.to_owned())];
    let mut stateful_set = build::stateful_set(
        namespace,
        FORGEJO,
        1,
        None,
        &[forgejo],
        Some(&config.storage),
    );
    let containers = stateful_set
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
        .map(|pod| &mut pod.containers);
    if let Some(container) = containers.and_then(|containers| containers.first_mut()) {
        container.lifecycle = Some(Lifecycle {
            post_start: Some(LifecycleHandler {
                exec: Some(ExecAction {
                    command: Some(vec![
                        "sh".to_owned(),
                        "-c".to_owned(),
                        ADMIN_SCRIPT.to_owned(),
                    ]),
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        });
    }
    stateful_set
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::generate::{DesiredState, Secrets};

    fn run(extra: &[BatteryKind]) -> Vec<Resource> {
        let mut kinds = vec![BatteryKind::Forgejo];
        kinds.extend_from_slice(extra);
        let state = DesiredState::with_batteries(&kinds).unwrap();
        generate(
            &ForgejoConfig::default(),
            &Context::new(&state, Secrets::Preview),
        )
        .unwrap()
    }

    #[test]
    fn generates_forgejo_with_its_own_database() {
        let resources = run(&[]);
        assert!(resources.iter().all(|r| r.app == "forgejo"));
        assert!(
            resources
                .iter()
                .all(|r| r.path.namespace.as_deref() == Some("battery-base"))
        );
        let cluster = find(&resources, "Cluster", FORGEJO);
        assert_eq!(
            cluster.body["spec"]["bootstrap"]["initdb"]["owner"],
            FORGEJO
        );
        find(&resources, "Secret", "postgres-forgejo-forgejo-connection");
        find(&resources, "Secret", ADMIN_SECRET);
        find(&resources, "Service", FORGEJO);
        let stateful_set = find(&resources, "StatefulSet", FORGEJO);
        let spec = &stateful_set.body["spec"];
        assert_eq!(
            spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "10Gi"
        );
        let container = &spec["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], images::FORGEJO);
        assert_eq!(container["volumeMounts"][0]["mountPath"], DATA_DIR);
        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"],
            "/api/healthz"
        );
        let env = container["env"].as_array().unwrap();
        let password = env
            .iter()
            .find(|e| e["name"] == "FORGEJO__database__PASSWD")
            .unwrap();
        assert_eq!(
            password["valueFrom"]["secretKeyRef"],
            json!({ "name": "postgres-forgejo-forgejo-connection", "key": "password", "optional": false })
        );
        assert!(
            container["lifecycle"]["postStart"]["exec"]["command"][2]
                .as_str()
                .unwrap()
                .contains("forgejo admin user create")
        );
        // Typed objects round-trip.
        let typed: StatefulSet = serde_json::from_value(stateful_set.body.clone()).unwrap();
        assert_eq!(serde_json::to_value(typed).unwrap(), stateful_set.body);
        assert!(!resources.iter().any(|r| r.path.kind == "VMServiceScrape"));
    }

    #[test]
    fn storage_and_admin_follow_the_config() {
        let state = DesiredState::with_batteries(&[BatteryKind::Forgejo]).unwrap();
        let config = ForgejoConfig {
            storage: Storage::gibibytes(50),
            admin_username: checks::label("root-of-all"),
            ..ForgejoConfig::default()
        };
        let mut stored = BTreeMap::new();
        stored.insert("forgejo/admin-password".to_owned(), "hunter2".to_owned());
        stored.insert("postgres/forgejo/forgejo".to_owned(), "db-pass".to_owned());
        let resources = generate(&config, &Context::new(&state, Secrets::Stored(&stored))).unwrap();
        let admin = &find(&resources, "Secret", ADMIN_SECRET).body["stringData"];
        assert_eq!(
            *admin,
            json!({ "username": "root-of-all", "password": "hunter2" })
        );
        let spec = &find(&resources, "StatefulSet", FORGEJO).body["spec"];
        assert_eq!(
            spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "50Gi"
        );
        stored.remove("forgejo/admin-password");
        let err = generate(&config, &Context::new(&state, Secrets::Stored(&stored))).unwrap_err();
        assert_eq!(
            err,
            GenerateError::MissingSecret("forgejo/admin-password".into())
        );
    }

    #[test]
    fn monitoring_turns_metrics_on_and_scrapes_them() {
        let resources = run(&[BatteryKind::VictoriaMetrics]);
        let scrape = find(&resources, "VMServiceScrape", FORGEJO);
        assert_eq!(scrape.body["spec"]["endpoints"][0]["port"], "http");
        let env = &find(&resources, "StatefulSet", FORGEJO).body["spec"]["template"]["spec"]["containers"]
            [0]["env"];
        assert!(
            env.as_array()
                .unwrap()
                .contains(&json!({ "name": "FORGEJO__metrics__ENABLED", "value": "true" }))
        );
    }
}
