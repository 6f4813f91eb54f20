//! A MongoDB-compatible API on top of a PostgreSQL cluster.

use k8s_openapi::api::apps::v1::Deployment;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::checks;
use super::cloudnative_pg;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::victoria_metrics;
use crate::generate::build::{self, COMPONENT_LABEL, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::{self, DerivedName};
use crate::objects::{FerretService, PostgresCluster};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Ferretdb,
    id: "ferretdb",
    name: "FerretDB",
    group: BatteryGroup::Data,
    description: "A MongoDB-compatible API on top of a PostgreSQL cluster.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::CloudnativePg],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "metrics scraping of every FerretDB service",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of FerretDB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FerretdbConfig {
    /// FerretDB.
    pub image: ImageRef,
}

impl Default for FerretdbConfig {
    fn default() -> Self {
        Self {
            image: image(images::FERRETDB),
        }
    }
}

impl FerretdbConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The MongoDB wire protocol port.
pub const MONGODB_PORT: u16 = 27017;

/// The ServiceAccount every FerretDB Pod runs as.
const SERVICE_ACCOUNT: &str = "ferretdb";

/// FerretDB's debug listener: health (`/debug/livez`) and metrics (`/debug/metrics`).
const DEBUG_PORT: u16 = 8088;

/// What a service's Deployment, Service and labels are named: `ferret-<name>`.
const APP_PREFIX: &str = "ferret-";

/// The names and labels derived from a service's name; the longest name
/// validation accepts is what they all leave room for.
pub const SERVICE_NAMES: &[DerivedName] = &[DerivedName {
    by: "bi",
    what: "the Service and the battery/app label",
    prefix: &[APP_PREFIX],
    suffix: "",
    limit: names::SERVICE_NAME,
}];

/// The longest service name (56).
pub const SERVICE_NAME_MAX_LEN: usize = names::derived_max_len(SERVICE_NAMES);

/// A ServiceAccount `ferretdb` in the data namespace (without an API
/// token) and, per [`FerretService`], in the data namespace next to its PostgreSQL
/// cluster: a Deployment and a Service named `ferret-<name>` (the prefix
/// keeps them apart from a Redis or PostgreSQL object of the same name), a
/// connection Secret, and with VictoriaMetrics a scrape of its metrics.
///
/// FerretDB connects as the owner of the cluster's first database (the one
/// `initdb` creates), or the cluster's first user when it has no database,
/// with `FERRETDB_POSTGRESQL_URL` read from that user's PostgreSQL
/// connection Secret. MongoDB clients log in with the same PostgreSQL user,
/// so the FerretDB connection Secret (`ferret-<name>-connection`) publishes
/// `host`, `port`, `database` (the service's name), a `url` without
/// credentials, and `credentials_secret`: the name of the PostgreSQL
/// connection Secret whose `username` and `password` keys to use. No value
/// is copied from one Secret into another; like the PostgreSQL one, the
/// connection Secret is also published where users' services run
/// (`cloudnative_pg::consumer_namespaces`). Reads no stored secrets.
pub fn generate(
    config: &FerretdbConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let mut services: Vec<&FerretService> = ctx
        .state
        .ferret_services
        .iter()
        .map(|owned| &owned.object)
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    // NB: every FerretDB Pod runs as this identity (the mesh's, too), without
    // an API token: FerretDB never talks to Kubernetes.
    let mut account = build::service_account(ctx.data_namespace(), SERVICE_ACCOUNT);
    account.automount_service_account_token = Some(false);
    let mut resources = vec![Resource::new(INFO.id, &account)?];
    for service in services {
        let generated = ferret_service(config, ctx, service)?;
        resources.extend(cloudnative_pg::publish_connection_secrets(ctx, &generated)?);
        resources.extend(generated);
    }
    Ok(resources)
}

/// The PostgreSQL user FerretDB connects as (see [`generate`]).
fn postgres_user<'a>(
    service: &FerretService,
    cluster: &'a PostgresCluster,
) -> Result<&'a str, GenerateError> {
    cluster
        .databases
        .first()
        .map(|database| database.owner.as_str())
        .or_else(|| cluster.users.first().map(|user| user.name.as_str()))
        .ok_or_else(|| {
            GenerateError::Malformed(format!(
                "ferretdb {}: postgres cluster {} has no user to connect as",
                service.name, cluster.name
            ))
        })
}

fn ferret_service(
    config: &FerretdbConfig,
    ctx: &Context<'_>,
    service: &FerretService,
) -> Result<Vec<Resource>, GenerateError> {
    let cluster = ctx
        .state
        .postgres_clusters
        .iter()
        .map(|owned| &owned.object)
        .find(|cluster| cluster.name == service.postgres_cluster)
        .ok_or_else(|| {
            GenerateError::Malformed(format!(
                "ferretdb {}: postgres cluster {:?} does not exist",
                service.name, service.postgres_cluster
            ))
        })?;
    let user = postgres_user(service, cluster)?;
    let postgres_secret = build::connection_secret_name("postgres", &cluster.name, Some(user));

    let app = format!("{APP_PREFIX}{}", service.name);
    let namespace = ctx.data_namespace();
    let mut ferret = ContainerSpec::new("ferretdb", &config.image);
    ferret.env = vec![
        build::env_from_secret("FERRETDB_POSTGRESQL_URL", &postgres_secret, "url"),
        build::env("FERRETDB_LISTEN_ADDR", &format!(":{MONGODB_PORT}")),
        build::env("FERRETDB_DEBUG_ADDR", &format!(":{DEBUG_PORT}")),
        build::env("FERRETDB_TELEMETRY", "disable"),
    ];
    ferret.ports = vec![("mongodb", MONGODB_PORT), ("debug", DEBUG_PORT)];
    ferret.health = Some(Health::Http("/debug/livez", DEBUG_PORT));
    ferret.resources = Some(service.resources.clone());
    let mut deployment: Deployment = build::deployment(
        namespace,
        &app,
        service.instances,
        Some(SERVICE_ACCOUNT),
        &[ferret],
        Vec::new(),
    );
    if let Some(pod) = deployment
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        pod.automount_service_account_token = Some(false);
    }

    let mut front = build::service(
        namespace,
        &app,
        &app,
        &[("mongodb", MONGODB_PORT), ("debug", DEBUG_PORT)],
    );
    front.metadata.labels = Some(build::string_map(&[(COMPONENT_LABEL, &app)]));

    let host = format!("{app}.{namespace}.svc");
    let port = MONGODB_PORT.to_string();
    let url = format!("mongodb://{host}:{MONGODB_PORT}/{}", service.name);
    let connection = build::secret(
        namespace,
        &build::connection_secret_name("ferret", &service.name, None),
        build::string_map(&[
            ("host", &host),
            ("port", &port),
            ("database", &service.name),
            ("url", &url),
            ("credentials_secret", &postgres_secret),
        ]),
    );

    let mut resources = vec![
        Resource::new(&app, &connection)?,
        Resource::new(&app, &deployment)?,
        Resource::new(&app, &front)?,
    ];
    if let Some(scrape) = victoria_metrics::scrape(ctx, &app, namespace, &app, &app, "debug")? {
        // NB: FerretDB serves its metrics under /debug, not at /metrics.
        let mut body = scrape.body;
        if let Some(endpoints) = body["spec"]["endpoints"].as_array_mut() {
            for endpoint in endpoints {
                endpoint["path"] = json!("/debug/metrics");
            }
        }
        resources.push(Resource::from_value(&app, body)?);
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::{DesiredState, Owned, Secrets};
    use crate::objects::{PostgresDatabase, PostgresUser, SizePreset};

    fn state(extra: &[BatteryKind]) -> DesiredState {
        let mut kinds = vec![BatteryKind::Ferretdb];
        kinds.extend_from_slice(extra);
        let mut state = DesiredState::with_batteries(&kinds).unwrap();
        state
            .postgres_clusters
            .push(Owned::unowned(PostgresCluster {
                name: "main".into(),
                users: vec![
                    PostgresUser {
                        name: "admin".into(),
                        roles: Vec::new(),
                    },
                    PostgresUser {
                        name: "docs".into(),
                        roles: Vec::new(),
                    },
                ],
                databases: vec![PostgresDatabase {
                    name: "documents".into(),
                    owner: "docs".into(),
                }],
                ..PostgresCluster::default()
            }));
        state.ferret_services.push(Owned::unowned(FerretService {
            name: "docs".into(),
            instances: 2,
            postgres_cluster: "main".into(),
            resources: SizePreset::Small.resources(),
        }));
        state
    }

    fn run(state: &DesiredState) -> Result<Vec<Resource>, GenerateError> {
        // Reads no secrets: works with an empty store.
        let empty = BTreeMap::new();
        generate(
            &FerretdbConfig::default(),
            &Context::new(state, Secrets::Stored(&empty)),
        )
    }

    #[test]
    fn a_service_gets_a_deployment_a_service_and_a_connection_secret() {
        let resources = run(&state(&[])).unwrap();
        let paths: Vec<String> = resources.iter().map(|r| r.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "v1/ServiceAccount/battery-data/ferretdb",
                "v1/Secret/battery-data/ferret-docs-connection",
                "apps/v1/Deployment/battery-data/ferret-docs",
                "v1/Service/battery-data/ferret-docs",
            ]
        );
        assert_eq!(resources[0].app, "ferretdb");
        assert!(resources[1..].iter().all(|r| r.app == "ferret-docs"));
        let pod = &find(&resources, "Deployment", "ferret-docs").body["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], SERVICE_ACCOUNT);
        assert_eq!(pod["automountServiceAccountToken"], false);
        let deployment = find(&resources, "Deployment", "ferret-docs");
        assert_eq!(deployment.body["spec"]["replicas"], 2);
        let container = &deployment.body["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], images::FERRETDB);
        assert_eq!(container["resources"]["limits"]["memory"], "4Gi");
        assert_eq!(
            container["livenessProbe"]["httpGet"]["path"],
            "/debug/livez"
        );
        // The owner of the first database, by reference.
        assert_eq!(
            container["env"][0],
            json!({
                "name": "FERRETDB_POSTGRESQL_URL",
                "valueFrom": { "secretKeyRef": {
                    "name": "postgres-main-docs-connection", "key": "url", "optional": false,
                } },
            })
        );
        let service = find(&resources, "Service", "ferret-docs");
        assert_eq!(service.body["spec"]["ports"][0]["port"], 27017);
    }

    #[test]
    fn the_connection_secret_publishes_the_address_and_names_the_credentials() {
        let resources = run(&state(&[])).unwrap();
        let data = &find(&resources, "Secret", "ferret-docs-connection").body["stringData"];
        assert_eq!(
            *data,
            json!({
                "host": "ferret-docs.battery-data.svc",
                "port": "27017",
                "database": "docs",
                "url": "mongodb://ferret-docs.battery-data.svc:27017/docs",
                "credentials_secret": "postgres-main-docs-connection",
            })
        );
    }

    #[test]
    fn without_databases_the_first_user_connects() {
        let mut state = state(&[]);
        state.postgres_clusters[0].object.databases.clear();
        let resources = run(&state).unwrap();
        let data = &find(&resources, "Secret", "ferret-docs-connection").body["stringData"];
        assert_eq!(data["credentials_secret"], "postgres-main-admin-connection");
    }

    #[test]
    fn a_missing_cluster_is_named_in_the_error() {
        let mut state = state(&[]);
        state.ferret_services[0].object.postgres_cluster = "gone".into();
        let err = run(&state).unwrap_err();
        assert!(
            matches!(&err, GenerateError::Malformed(m) if m.contains("\"gone\"")),
            "{err}"
        );
        state.ferret_services[0].object.postgres_cluster = "main".into();
        state.postgres_clusters[0].object.users.clear();
        state.postgres_clusters[0].object.databases.clear();
        assert!(matches!(run(&state), Err(GenerateError::Malformed(_))));
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let without = run(&state(&[])).unwrap();
        assert!(!without.iter().any(|r| r.path.kind == "VMServiceScrape"));
        let with = run(&state(&[BatteryKind::VictoriaMetrics])).unwrap();
        let scrape = find(&with, "VMServiceScrape", "ferret-docs");
        assert_eq!(
            scrape.body["spec"]["endpoints"][0]["path"],
            "/debug/metrics"
        );
        assert_eq!(scrape.body["spec"]["endpoints"][0]["port"], "debug");
    }
}
