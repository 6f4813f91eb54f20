//! Identity and access management: realms, users, OIDC clients; its database is a PostgreSQL cluster.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::{checks, cloudnative_pg, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
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
    kind: BatteryKind::Keycloak,
    id: "keycloak",
    name: "Keycloak",
    group: BatteryGroup::NetSecurity,
    description: "Identity and access management: realms, users, OIDC clients; its database is a PostgreSQL cluster.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::CloudnativePg],
    integrations: &[Integration {
        partner: BatteryKind::IstioGateway,
        what: "its console at https://keycloak.<domain>/",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Keycloak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeycloakConfig {
    /// Keycloak.
    pub image: ImageRef,
    /// Name of the initial administrator (its password is generated and stored once).
    pub admin_username: DnsLabel,
    /// Keycloak replicas.
    pub replicas: u32,
    /// Keycloak's log level.
    pub log_level: LogLevel,
}

impl Default for KeycloakConfig {
    fn default() -> Self {
        Self {
            image: image(images::KEYCLOAK),
            admin_username: checks::label("batteryadmin"),
            replicas: 1,
            log_level: LogLevel::Info,
        }
    }
}

impl KeycloakConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        checks::replicas(&mut problems, "replicas", self.replicas, 5);
        problems.into_result()
    }
}

/// Keycloak's log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Very detailed.
    Debug,
    /// The default.
    #[default]
    Info,
    /// Problems only.
    Warn,
    /// Errors only.
    Error,
}

impl LogLevel {
    /// The level as Keycloak's `KC_LOG_LEVEL` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// Keycloak's Deployment and Service (in the base namespace).
pub const NAME: &str = "keycloak";
/// Keycloak's HTTP port (the realms and the admin console).
pub const HTTP_PORT: u16 = 8080;
/// Where Keycloak answers inside the cluster: its Service's DNS name.
pub fn internal_url(ctx: &Context<'_>) -> String {
    format!(
        "http://{NAME}.{}.svc.cluster.local:{HTTP_PORT}",
        ctx.base_namespace()
    )
}

/// Where browsers open Keycloak: `https://keycloak.<domain>` through the
/// ingress gateway, when there is one.
pub fn public_url(ctx: &Context<'_>) -> Option<String> {
    crate::reach::endpoints(ctx)
        .into_iter()
        .find(|endpoint| {
            matches!(
                endpoint.owner,
                crate::reach::Owner::Battery {
                    battery: BatteryKind::Keycloak
                }
            )
        })
        .map(|endpoint| format!("https://{}", endpoint.host))
}

/// Keycloak's management port (health and metrics).
const MANAGEMENT_PORT: u16 = 9000;
/// The Secret with the initial administrator's name and password.
const ADMIN_SECRET: &str = "keycloak-admin";
/// The UID the Keycloak image owns its files with.
const KEYCLOAK_UID: i64 = 1000;

/// Keycloak's own PostgreSQL cluster: one instance, one user and database
/// named `keycloak`, in the base namespace.
fn database() -> PostgresCluster {
    PostgresCluster {
        name: NAME.to_owned(),
        instances: 1,
        storage: Storage::gibibytes(2),
        resources: SizePreset::Tiny.resources(),
        users: vec![PostgresUser {
            name: NAME.to_owned(),
            roles: vec![PostgresRole::Login],
        }],
        databases: vec![PostgresDatabase {
            name: NAME.to_owned(),
            owner: NAME.to_owned(),
        }],
        backup: PostgresBackup::None,
    }
}

fn deployment(config: &KeycloakConfig, namespace: &str, public: Option<&str>) -> Deployment {
    let connection = build::connection_secret_name("postgres", NAME, Some(NAME));
    let mut container = ContainerSpec::new(NAME, &config.image);
    container.args = vec!["start".to_owned()];
    container.env = vec![
        build::env("KC_DB", "postgres"),
        build::env_from_secret("KC_DB_URL_HOST", &connection, "host"),
        build::env_from_secret("KC_DB_URL_PORT", &connection, "port"),
        build::env_from_secret("KC_DB_URL_DATABASE", &connection, "database"),
        build::env_from_secret("KC_DB_USERNAME", &connection, "username"),
        build::env_from_secret("KC_DB_PASSWORD", &connection, "password"),
        build::env_from_secret("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN_SECRET, "username"),
        build::env_from_secret("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_SECRET, "password"),
        build::env("KC_LOG_LEVEL", config.log_level.as_str()),
        build::env("KC_HEALTH_ENABLED", "true"),
        build::env("KC_METRICS_ENABLED", "true"),
        build::env("KC_HTTP_ENABLED", "true"),
        build::env("KC_HTTP_PORT", &HTTP_PORT.to_string()),
        build::env("KC_PROXY_HEADERS", "xforwarded"),
        // Replicas find each other through the database: no cluster API access.
        build::env("KC_CACHE", "ispn"),
        build::env("KC_CACHE_STACK", "jdbc-ping"),
        build::env("JAVA_OPTS_KC_HEAP", "-XX:MaxRAMPercentage=70"),
    ];
    match public {
        // NB: tokens name the address browsers use (`iss`), also when the
        // proxies and bi redeem codes at the in-cluster Service.
        Some(url) => container.env.extend([
            build::env("KC_HOSTNAME", url),
            build::env("KC_HOSTNAME_BACKCHANNEL_DYNAMIC", "true"),
        ]),
        None => container.env.push(build::env("KC_HOSTNAME_STRICT", "false")),
    }
    container.ports = vec![("http", HTTP_PORT), ("management", MANAGEMENT_PORT)];
    container.health = Some(Health::Http("/health/ready", MANAGEMENT_PORT));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(500),
        cpu_limit: None,
        memory_request: Memory::gibibytes(1),
        memory_limit: Some(Memory::gibibytes(2)),
    });
    let mut deployment = build::deployment(
        namespace,
        NAME,
        config.replicas,
        None,
        &[container],
        Vec::new(),
    );
    if let Some(pod) = deployment
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        // NB: Keycloak builds its server on first start, writing under
        // /opt/keycloak, which its image owns as UID 1000 (still non-root).
        if let Some(security) = pod.security_context.as_mut() {
            security.run_as_user = Some(KEYCLOAK_UID);
        }
        // The first start (build, schema migration) is slow: give it 5 minutes
        // before liveness counts.
        for container in &mut pod.containers {
            container.startup_probe = Some(Probe {
                http_get: Some(HTTPGetAction {
                    path: Some("/health/started".to_owned()),
                    port: IntOrString::Int(i32::from(MANAGEMENT_PORT)),
                    ..HTTPGetAction::default()
                }),
                period_seconds: Some(10),
                failure_threshold: Some(30),
                ..Probe::default()
            });
        }
    }
    deployment
}

/// The resources this battery needs, in the base namespace: the internal
/// PostgreSQL cluster `keycloak` (through CloudNativePG, with its
/// connection Secret), the admin Secret `keycloak-admin`, and Keycloak's
/// Deployment (`replicas`, `log_level`, `image`; database settings by
/// `secretKeyRef` to the connection Secret) and Service (HTTP 8080,
/// management 9000). Metrics are scraped once VictoriaMetrics is installed.
/// Realms and clients are not resources: the control plane creates them
/// through Keycloak's admin API.
///
/// Reads the stored secrets `keycloak/admin-password` and
/// `postgres/keycloak/keycloak`.
pub fn generate(
    config: &KeycloakConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = ctx.base_namespace();
    let mut out = cloudnative_pg::cluster(ctx, app, ns, &database())?;

    let mut admin = build::secret(
        ns,
        ADMIN_SECRET,
        build::string_map(&[
            ("username", config.admin_username.as_str()),
            ("password", &ctx.secret("keycloak/admin-password")?),
        ]),
    );
    admin.type_ = Some("kubernetes.io/basic-auth".to_owned());
    out.push(Resource::new(app, &admin)?);
    let public = public_url(ctx);
    out.push(Resource::new(app, &deployment(config, ns, public.as_deref()))?);
    out.push(Resource::new(
        app,
        &build::service(
            ns,
            NAME,
            NAME,
            &[("http", HTTP_PORT), ("management", MANAGEMENT_PORT)],
        ),
    )?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, NAME, NAME, "management")? {
        out.push(scrape);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DesiredState, Secrets};
    use std::collections::BTreeMap;

    fn generated(kinds: &[BatteryKind], config: &KeycloakConfig) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    fn typed_deployment(resources: &[Resource]) -> Deployment {
        let body = &resources
            .iter()
            .find(|r| r.path.kind == "Deployment")
            .unwrap()
            .body;
        serde_json::from_value(body.clone()).unwrap()
    }

    #[test]
    fn generates_keycloak_its_admin_secret_and_its_database() {
        let resources = generated(&[BatteryKind::Keycloak], &KeycloakConfig::default());
        let has = |kind: &str, name: &str| {
            resources
                .iter()
                .any(|r| r.path.kind == kind && r.path.name == name)
        };
        assert!(has("Cluster", "keycloak"), "no internal PostgreSQL cluster");
        assert!(has("Secret", "postgres-keycloak-keycloak-connection"));
        assert!(has("Secret", ADMIN_SECRET));
        assert!(has("Deployment", NAME));
        assert!(has("Service", NAME));
        assert!(
            resources
                .iter()
                .all(|r| r.path.namespace.as_deref() == Some("battery-base")),
            "everything lives in the base namespace"
        );
        assert!(resources.iter().all(|r| r.app == "keycloak"));
    }

    #[test]
    fn the_pod_follows_the_config_and_reads_the_database_by_reference() {
        let image = crate::image::ImageRef::parse("quay.io/keycloak/keycloak:26.4.6").unwrap();
        let config = KeycloakConfig {
            image: image.clone(),
            replicas: 2,
            log_level: LogLevel::Debug,
            ..KeycloakConfig::default()
        };
        let stored = BTreeMap::from([
            ("keycloak/admin-password".to_owned(), "adm1n-pw".to_owned()),
            ("postgres/keycloak/keycloak".to_owned(), "db-pw".to_owned()),
        ]);
        let state = DesiredState::with_batteries(&[BatteryKind::Keycloak]).unwrap();
        let resources = generate(&config, &Context::new(&state, Secrets::Stored(&stored))).unwrap();
        let deployment = typed_deployment(&resources);
        let text = serde_json::to_string(&deployment).unwrap();
        assert!(
            !text.contains("adm1n-pw") && !text.contains("db-pw"),
            "{text}"
        );
        let spec = deployment.spec.unwrap();
        assert_eq!(spec.replicas, Some(2));
        let pod = spec.template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(image.to_string().as_str()));
        let env = container.env.as_ref().unwrap();
        let value = |name: &str| env.iter().find(|e| e.name == name).unwrap();
        assert_eq!(value("KC_LOG_LEVEL").value.as_deref(), Some("debug"));
        let password = value("KC_DB_PASSWORD").value_from.as_ref().unwrap();
        let password = password.secret_key_ref.as_ref().unwrap();
        assert_eq!(password.name, "postgres-keycloak-keycloak-connection");
        assert_eq!(password.key, "password");
        assert!(container.resources.is_some() && container.readiness_probe.is_some());
        assert!(container.startup_probe.is_some());
        let security = pod.security_context.unwrap();
        assert_eq!(security.run_as_non_root, Some(true));
        assert_eq!(security.run_as_user, Some(KEYCLOAK_UID));

        let admin = resources
            .iter()
            .find(|r| r.path.name == ADMIN_SECRET)
            .unwrap();
        assert_eq!(admin.body["stringData"]["password"], "adm1n-pw");
        assert_eq!(admin.body["stringData"]["username"], "batteryadmin");
    }

    #[test]
    fn a_missing_stored_secret_is_an_error() {
        let state = DesiredState::with_batteries(&[BatteryKind::Keycloak]).unwrap();
        let empty = BTreeMap::new();
        let err = generate(
            &KeycloakConfig::default(),
            &Context::new(&state, Secrets::Stored(&empty)),
        )
        .unwrap_err();
        assert!(matches!(err, GenerateError::MissingSecret(_)), "{err}");
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let config = KeycloakConfig::default();
        let without = generated(&[BatteryKind::Keycloak], &config);
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(
            &[BatteryKind::Keycloak, BatteryKind::VictoriaMetrics],
            &config,
        );
        assert!(
            with.iter()
                .any(|r| r.path.kind == "VMServiceScrape" && r.path.name == NAME)
        );
    }
}
