//! Continuous backups of PostgreSQL clusters to object storage (S3-compatible) with the barman-cloud plugin.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{SecretVolumeSource, Service, Volume};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checks;
use super::cloudnative_pg::{BACKUP_OBJECT_STORE, BARMAN_PLUGIN};
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Duration, Memory};
use crate::upstream_crd;
use crate::validation::{Problems, Rule};

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::CloudnativePgBarman,
    id: "cloudnative_pg_barman",
    name: "PostgreSQL Backups",
    group: BatteryGroup::Data,
    description: "Continuous backups of PostgreSQL clusters to object storage (S3-compatible) with the barman-cloud plugin.",
    dependencies: &[BatteryKind::CloudnativePg, BatteryKind::CertManager],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of PostgreSQL Backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudnativePgBarmanConfig {
    /// The barman-cloud plugin.
    pub plugin_image: ImageRef,
    /// S3 bucket that receives the backups.
    pub bucket: String,
    /// S3 endpoint for non-AWS object stores (e.g. `https://minio.example:9000`).
    pub endpoint_url: Option<String>,
    /// How long backups are kept.
    pub retention: Duration,
}

impl Default for CloudnativePgBarmanConfig {
    fn default() -> Self {
        Self {
            plugin_image: image(images::BARMAN_CLOUD_PLUGIN),
            bucket: "bi-postgres-backups".to_owned(),
            endpoint_url: None,
            retention: Duration::hours(24 * 30),
        }
    }
}

impl CloudnativePgBarmanConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "plugin_image", &self.plugin_image);
        bucket_name(&mut problems, "bucket", &self.bucket);
        endpoint(&mut problems, "endpoint_url", self.endpoint_url.as_deref());
        checks::duration_range(
            &mut problems,
            "retention",
            self.retention,
            Duration::hours(24),
            Duration::hours(24 * 3650),
        );
        problems.into_result()
    }
}

/// S3 bucket naming rules: 3–63 characters of lowercase letters, digits, '.'
/// and '-', starting and ending with a letter or digit.
fn bucket_name(problems: &mut Problems, field: &str, bucket: &str) {
    let len = bucket.len();
    let allowed = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let edges = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !(3..=63).contains(&len) || !allowed || !edges {
        problems.push(
            field,
            Rule::Format,
            format!(
                "{bucket:?} is not a valid bucket name: 3–63 lowercase letters, digits, '.' or '-', \
                 starting and ending with a letter or digit"
            ),
        );
    }
}

/// An optional endpoint must be an http(s) URL.
fn endpoint(problems: &mut Problems, field: &str, url: Option<&str>) {
    if let Some(url) = url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|host| host.is_empty() || host.contains(char::is_whitespace)) {
            problems.push(
                field,
                Rule::Format,
                format!("{url:?} is not an http:// or https:// URL"),
            );
        }
    }
}

/// The API version of barman-cloud's `ObjectStore`.
pub const API_VERSION: &str = "barmancloud.cnpg.io/v1";

const GROUP: &str = "barmancloud.cnpg.io";

/// The plugin's Deployment, Service, ServiceAccount and RBAC. CloudNativePG
/// finds plugins by the Services in its own namespace labelled
/// `cnpg.io/pluginName`, so the plugin runs in the base namespace too.
const PLUGIN: &str = "barman-cloud";

/// The plugin's gRPC port (mutual TLS with the CloudNativePG operator).
const PLUGIN_PORT: u16 = 9090;

/// The Secret of the client certificate the operator presents to the plugin.
const CLIENT_SECRET: &str = "barman-cloud-client-tls";

/// The Secret of the plugin's serving certificate.
const SERVER_SECRET: &str = "barman-cloud-server-tls";

/// The self-signed Issuer of both certificates.
const ISSUER: &str = "barman-cloud-selfsigned";

/// The Secret holding the object store's credentials (keys `ACCESS_KEY_ID`
/// and `ACCESS_SECRET_KEY`), next to the ObjectStore in the data namespace.
const CREDENTIALS: &str = "barman-cloud-credentials";

/// The barman-cloud plugin (Deployment, RBAC, its mutual-TLS certificates
/// from cert-manager, the `objectstores.barmancloud.cnpg.io` CRD) and the
/// `ObjectStore` `bi-backups` in the data namespace that backed-up clusters
/// archive to (see `cloudnative_pg::cluster`).
///
/// Reads the secrets `cloudnative_pg_barman/access-key-id` and
/// `cloudnative_pg_barman/secret-access-key`.
pub fn generate(
    config: &CloudnativePgBarmanConfig,
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
        &build::service_account(namespace, PLUGIN),
    )?);
    resources.push(Resource::new(
        app,
        &build::cluster_role(PLUGIN, build::rules(PLUGIN_RULES)),
    )?);
    resources.push(Resource::new(
        app,
        &build::cluster_role_binding(PLUGIN, PLUGIN, namespace, PLUGIN),
    )?);
    resources.push(Resource::new(
        app,
        &build::role(namespace, PLUGIN, build::rules(PLUGIN_NAMESPACE_RULES)),
    )?);
    resources.push(Resource::new(
        app,
        &build::role_binding(namespace, PLUGIN, PLUGIN, PLUGIN),
    )?);
    for body in certificates(namespace) {
        resources.push(Resource::from_value(app, body)?);
    }
    resources.push(Resource::new(app, &plugin_deployment(config, namespace)?)?);
    resources.push(Resource::new(app, &plugin_service(namespace))?);

    let data = ctx.data_namespace();
    resources.push(Resource::new(
        app,
        &build::secret(
            data,
            CREDENTIALS,
            build::string_map(&[
                (
                    "ACCESS_KEY_ID",
                    &ctx.secret("cloudnative_pg_barman/access-key-id")?,
                ),
                (
                    "ACCESS_SECRET_KEY",
                    &ctx.secret("cloudnative_pg_barman/secret-access-key")?,
                ),
            ]),
        ),
    )?);
    resources.push(Resource::from_value(
        app,
        build::custom_resource(
            API_VERSION,
            "ObjectStore",
            Some(data),
            BACKUP_OBJECT_STORE,
            object_store_spec(config, ctx),
        ),
    )?);
    Ok(resources)
}

/// Where backups go: one folder per installation in the bucket (each
/// cluster then gets its own under it, named after the cluster).
fn object_store_spec(config: &CloudnativePgBarmanConfig, ctx: &Context<'_>) -> Value {
    let secret_key = |key: &str| json!({ "name": CREDENTIALS, "key": key });
    let mut configuration = json!({
        "destinationPath": format!("s3://{}/{}/", config.bucket, ctx.state.installation.as_str()),
        "s3Credentials": {
            "accessKeyId": secret_key("ACCESS_KEY_ID"),
            "secretAccessKey": secret_key("ACCESS_SECRET_KEY"),
        },
        "wal": { "compression": "gzip" },
        "data": { "compression": "gzip" },
    });
    if let Some(endpoint) = &config.endpoint_url {
        configuration["endpointURL"] = json!(endpoint);
    }
    json!({
        "configuration": configuration,
        "retentionPolicy": retention_policy(config.retention),
    })
}

/// barman's retention policy: whole days (`30d`), rounded up.
fn retention_policy(retention: Duration) -> String {
    const DAY: u64 = 24 * 60 * 60;
    let days = retention.as_seconds().div_ceil(DAY).max(1);
    format!("{days}d")
}

/// The self-signed Issuer and the plugin's client and server certificates.
fn certificates(namespace: &str) -> Vec<Value> {
    let certificate = |name: &str, secret: &str, common_name: &str, usage: &str| {
        let mut spec = json!({
            "secretName": secret,
            "commonName": common_name,
            "duration": "2160h",
            "renewBefore": "360h",
            "isCA": false,
            "usages": [usage],
            "issuerRef": { "group": "cert-manager.io", "kind": "Issuer", "name": ISSUER },
        });
        if usage == "server auth" {
            spec["dnsNames"] = json!([PLUGIN, format!("{PLUGIN}.{namespace}.svc")]);
        }
        build::custom_resource(
            "cert-manager.io/v1",
            "Certificate",
            Some(namespace),
            name,
            spec,
        )
    };
    vec![
        build::custom_resource(
            "cert-manager.io/v1",
            "Issuer",
            Some(namespace),
            ISSUER,
            json!({ "selfSigned": {} }),
        ),
        certificate(
            "barman-cloud-client",
            CLIENT_SECRET,
            "barman-cloud-client",
            "client auth",
        ),
        certificate("barman-cloud-server", SERVER_SECRET, PLUGIN, "server auth"),
    ]
}

/// The sidecar the plugin injects into instance Pods: released with the
/// plugin, under the same name with `-sidecar` and the same tag.
fn sidecar_image(plugin: &ImageRef) -> Result<ImageRef, GenerateError> {
    let tag = plugin.tag().ok_or_else(|| {
        GenerateError::Malformed(format!(
            "cloudnative_pg_barman: the plugin image {plugin} needs a version tag to name its sidecar"
        ))
    })?;
    ImageRef::parse(&format!("{}-sidecar:{tag}", plugin.name())).map_err(|err| {
        GenerateError::Malformed(format!("cloudnative_pg_barman: sidecar of {plugin}: {err}"))
    })
}

fn plugin_deployment(
    config: &CloudnativePgBarmanConfig,
    namespace: &str,
) -> Result<Deployment, GenerateError> {
    let mut plugin = ContainerSpec::new(PLUGIN, &config.plugin_image);
    plugin.args = [
        "operator",
        "--server-cert=/server/tls.crt",
        "--server-key=/server/tls.key",
        "--client-cert=/client/tls.crt",
        "--server-address=:9090",
        "--leader-elect=false",
        "--log-level=info",
    ]
    .map(str::to_owned)
    .to_vec();
    plugin.env = vec![
        build::env(
            "SIDECAR_IMAGE",
            &sidecar_image(&config.plugin_image)?.to_string(),
        ),
        build::env("NAMESPACE", namespace),
    ];
    plugin.ports = vec![("grpc", PLUGIN_PORT)];
    plugin.health = Some(Health::Tcp(PLUGIN_PORT));
    plugin.resources = Some(Resources {
        cpu_request: Cpu::millicores(100),
        cpu_limit: None,
        memory_request: Memory::mebibytes(128),
        memory_limit: Some(Memory::mebibytes(256)),
    });
    plugin.mounts = vec![
        ("server".to_owned(), "/server".to_owned()),
        ("client".to_owned(), "/client".to_owned()),
    ];
    let secret_volume = |name: &str, secret: &str| Volume {
        name: name.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    Ok(build::deployment(
        namespace,
        PLUGIN,
        1,
        Some(PLUGIN),
        &[plugin],
        vec![
            secret_volume("server", SERVER_SECRET),
            secret_volume("client", CLIENT_SECRET),
        ],
    ))
}

/// The Service CloudNativePG discovers the plugin by: its label names the
/// plugin, its annotations the port and the certificates to use.
fn plugin_service(namespace: &str) -> Service {
    let mut service = build::service(namespace, PLUGIN, PLUGIN, &[("grpc", PLUGIN_PORT)]);
    service.metadata.labels = Some(build::string_map(&[("cnpg.io/pluginName", BARMAN_PLUGIN)]));
    service.metadata.annotations = Some(build::string_map(&[
        ("cnpg.io/pluginClientSecret", CLIENT_SECRET),
        ("cnpg.io/pluginServerSecret", SERVER_SECRET),
        ("cnpg.io/pluginPort", "9090"),
    ]));
    service
}

/// What the plugin may do, as upstream's `config/rbac` (v0.9.0) grants it:
/// the controller-gen `role.yaml` (reconcile ObjectStores, read backups, give
/// each backed-up cluster's instances a Role to read their ObjectStore and its
/// credentials) and `metrics_auth_role.yaml` (authenticated metrics).
const PLUGIN_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &["secrets"],
        &["create", "delete", "get", "list", "watch"],
    ),
    (
        &[GROUP],
        &["objectstores"],
        &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    ),
    (&[GROUP], &["objectstores/finalizers"], &["update"]),
    (
        &[GROUP],
        &["objectstores/status"],
        &["get", "patch", "update"],
    ),
    (
        &["postgresql.cnpg.io"],
        &["backups"],
        &["get", "list", "watch"],
    ),
    (
        &["postgresql.cnpg.io"],
        &["clusters/finalizers"],
        &["update"],
    ),
    (
        &["rbac.authorization.k8s.io"],
        &["rolebindings", "roles"],
        &["create", "get", "list", "patch", "update", "watch"],
    ),
    // metrics_auth_role.yaml
    (&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
    (
        &["authorization.k8s.io"],
        &["subjectaccessreviews"],
        &["create"],
    ),
];

/// The plugin's Role in its own namespace, as upstream's
/// `leader_election_role.yaml`: leases (bi runs one replica with
/// `--leader-elect=false`, but keeps upstream's grant) and its events.
const PLUGIN_NAMESPACE_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &["configmaps"],
        &[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ],
    ),
    (
        &["coordination.k8s.io"],
        &["leases"],
        &[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ],
    ),
    (&[""], &["events"], &["create", "patch"]),
];

/// The plugin's CRD at v0.9.0, as upstream ships it (`config/crd/bases`).
pub const CRDS: [UpstreamCrd; 1] = [upstream_crd!(
    "objectstores.barmancloud.cnpg.io",
    "plugin-barman-cloud",
    "v0.9.0",
    "config/crd/bases/barmancloud.cnpg.io_objectstores.yaml",
    "2f8306974d4e31e6cc79b1df94265ee96c33916b202baf9b705db78eb96ac6d3"
)];

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use crate::catalog::test_support::strict;
    use std::collections::BTreeMap;

    use super::*;
    use crate::catalog::cert_manager::{certificate_schema, issuer_schema};
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};

    fn state() -> DesiredState {
        DesiredState::with_batteries(&[BatteryKind::CloudnativePgBarman]).unwrap()
    }

    fn run(config: &CloudnativePgBarmanConfig) -> Vec<Resource> {
        let state = state();
        generate(config, &Context::new(&state, Secrets::Preview)).unwrap()
    }

    #[test]
    fn generates_the_plugin_its_certificates_and_the_object_store() {
        let resources = run(&CloudnativePgBarmanConfig::default());
        let paths: Vec<String> = resources.iter().map(|r| r.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "apiextensions.k8s.io/v1/CustomResourceDefinition/objectstores.barmancloud.cnpg.io",
                "v1/ServiceAccount/battery-base/barman-cloud",
                "rbac.authorization.k8s.io/v1/ClusterRole/barman-cloud",
                "rbac.authorization.k8s.io/v1/ClusterRoleBinding/barman-cloud",
                "rbac.authorization.k8s.io/v1/Role/battery-base/barman-cloud",
                "rbac.authorization.k8s.io/v1/RoleBinding/battery-base/barman-cloud",
                "cert-manager.io/v1/Issuer/battery-base/barman-cloud-selfsigned",
                "cert-manager.io/v1/Certificate/battery-base/barman-cloud-client",
                "cert-manager.io/v1/Certificate/battery-base/barman-cloud-server",
                "apps/v1/Deployment/battery-base/barman-cloud",
                "v1/Service/battery-base/barman-cloud",
                "v1/Secret/battery-data/barman-cloud-credentials",
                "barmancloud.cnpg.io/v1/ObjectStore/battery-data/bi-backups",
            ]
        );
        let container = &find(&resources, "Deployment", PLUGIN).body["spec"]["template"]["spec"]["containers"]
            [0];
        assert_eq!(container["image"], images::BARMAN_CLOUD_PLUGIN);
        assert_eq!(
            container["env"][0]["value"],
            "ghcr.io/cloudnative-pg/plugin-barman-cloud-sidecar:v0.9.0"
        );
        assert_eq!(container["resources"]["requests"]["cpu"], "100m");
        let service = find(&resources, "Service", PLUGIN);
        assert_eq!(
            service.body["metadata"]["labels"]["cnpg.io/pluginName"],
            BARMAN_PLUGIN
        );
        assert_eq!(
            service.body["metadata"]["annotations"]["cnpg.io/pluginPort"],
            "9090"
        );
    }

    #[test]
    fn the_object_store_follows_the_config_and_references_its_credentials() {
        let config = CloudnativePgBarmanConfig {
            bucket: "acme-backups".into(),
            endpoint_url: Some("https://minio.example:9000".into()),
            retention: Duration::hours(24 * 7 + 1),
            ..CloudnativePgBarmanConfig::default()
        };
        let resources = run(&config);
        let store = find(&resources, "ObjectStore", BACKUP_OBJECT_STORE);
        let spec = &store.body["spec"];
        assert_eq!(spec["retentionPolicy"], "8d");
        let configuration = &spec["configuration"];
        assert_eq!(configuration["destinationPath"], "s3://acme-backups/bi/");
        assert_eq!(configuration["endpointURL"], "https://minio.example:9000");
        assert_eq!(
            configuration["s3Credentials"]["secretAccessKey"],
            json!({ "name": CREDENTIALS, "key": "ACCESS_SECRET_KEY" })
        );
        let default = run(&CloudnativePgBarmanConfig::default());
        let spec = &find(&default, "ObjectStore", BACKUP_OBJECT_STORE).body["spec"];
        assert_eq!(spec["retentionPolicy"], "30d");
        assert!(spec["configuration"].get("endpointURL").is_none());
    }

    #[test]
    fn custom_resources_validate_against_their_crds() {
        // Checked against the schema the plugin ships, with and without an
        // endpoint.
        let schema = CRDS[0].schema("v1").unwrap();
        for endpoint_url in [None, Some("http://minio:9000".into())] {
            let resources = run(&CloudnativePgBarmanConfig {
                endpoint_url,
                retention: Duration::hours(24 * 7 + 1),
                ..CloudnativePgBarmanConfig::default()
            });
            let store = find(&resources, "ObjectStore", BACKUP_OBJECT_STORE);
            assert_eq!(violations(&schema, &store.body), Vec::<String>::new());
            assert_eq!(
                violations(&strict(&schema), &store.body),
                Vec::<String>::new()
            );
        }
        let resources = run(&CloudnativePgBarmanConfig::default());
        for resource in resources
            .iter()
            .filter(|r| r.path.group() == "cert-manager.io")
        {
            let schema = if resource.path.kind == "Issuer" {
                issuer_schema().unwrap()
            } else {
                certificate_schema().unwrap()
            };
            assert_eq!(
                violations(&schema, &resource.body),
                Vec::<String>::new(),
                "{}",
                resource.path
            );
        }
    }

    #[test]
    fn missing_credentials_are_an_error() {
        let state = state();
        let mut stored = BTreeMap::new();
        stored.insert(
            "cloudnative_pg_barman/access-key-id".to_owned(),
            "AKIA".to_owned(),
        );
        let err = generate(
            &CloudnativePgBarmanConfig::default(),
            &Context::new(&state, Secrets::Stored(&stored)),
        )
        .unwrap_err();
        assert_eq!(
            err,
            GenerateError::MissingSecret("cloudnative_pg_barman/secret-access-key".into())
        );
    }

    #[test]
    fn a_plugin_pinned_by_digest_alone_cannot_name_its_sidecar() {
        let digest = format!(
            "ghcr.io/cloudnative-pg/plugin-barman-cloud@sha256:{}",
            "a".repeat(64)
        );
        let config = CloudnativePgBarmanConfig {
            plugin_image: ImageRef::parse(&digest).unwrap(),
            ..CloudnativePgBarmanConfig::default()
        };
        let state = state();
        let err = generate(&config, &Context::new(&state, Secrets::Preview)).unwrap_err();
        assert!(matches!(err, GenerateError::Malformed(_)), "{err}");
    }

    #[test]
    fn refuses_bad_bucket_and_endpoint_together() {
        let config = CloudnativePgBarmanConfig {
            bucket: "My_Bucket".to_owned(),
            endpoint_url: Some("minio:9000".to_owned()),
            ..CloudnativePgBarmanConfig::default()
        };
        let problems = config.validate().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems}");
        assert_eq!(
            problems.for_field("bucket").map(|e| e.rule),
            Some(Rule::Format)
        );
        assert!(problems.for_field("endpoint_url").is_some());
    }
}
