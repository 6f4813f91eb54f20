//! battery-core: the control server itself and the namespaces every other
//! battery lives in. Always installed.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStrategy};
use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::objects::Resources;
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
    integrations: &[],
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

/// The Secret holding the control server's `BI_DATABASE_URL` (key `url`).
const DATABASE_SECRET: &str = "control-server-database";

/// The Secret holding the one-time token that creates the in-cluster
/// control server's first admin (key `token`): `kubectl get secret` it,
/// then open `/setup?token=…` or run `bi setup --token …`.
const SETUP_SECRET: &str = "control-server-setup";

/// Where the control server keeps its SQLite database and other state.
const DATA_DIR: &str = "/var/lib/bi";

/// The namespaces every other battery runs in, and the control server.
///
/// The control server keeps its state in SQLite on a volume of its own: its
/// database must not depend on a battery that could be installed later (the
/// desired state lives there). `BI_DATABASE_URL` still comes from a Secret,
/// so that a URL with credentials can replace it without touching the
/// Deployment. Its one stored secret is the setup token of its first admin.
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
    resources.push(Resource::new(
        app,
        &build::secret(
            namespace,
            DATABASE_SECRET,
            build::string_map(&[("url", &format!("sqlite://{DATA_DIR}/bi.db?mode=rwc"))]),
        ),
    )?);
    resources.push(Resource::new(
        app,
        &build::secret(
            namespace,
            SETUP_SECRET,
            build::string_map(&[("token", &ctx.secret("battery_core/setup-token")?)]),
        ),
    )?);
    let claim = format!("{CONTROL_SERVER}-data");
    resources.push(Resource::new(
        app,
        &build::persistent_volume_claim(namespace, &claim, &Storage::gibibytes(1)),
    )?);
    resources.push(Resource::new(
        app,
        &control_server(config, namespace, &claim),
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
    Ok(resources)
}

/// The control server: one replica (it holds the apply lock and its SQLite
/// file), replaced rather than rolled so two never share the volume.
fn control_server(config: &BatteryCoreConfig, namespace: &str, claim: &str) -> Deployment {
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
        build::env_from_secret("BI_DATABASE_URL", DATABASE_SECRET, "url"),
        build::env_from_secret("BI_SETUP_TOKEN", SETUP_SECRET, "token"),
    ];
    server.ports = vec![("http", CONTROL_SERVER_PORT)];
    server.health = Some(Health::Http("/healthz", CONTROL_SERVER_PORT));
    server.resources = Some(Resources {
        cpu_request: Cpu::millicores(250),
        cpu_limit: None,
        memory_request: Memory::mebibytes(256),
        memory_limit: Some(Memory::gibibytes(1)),
    });
    server.mounts = vec![("data".to_owned(), DATA_DIR.to_owned())];
    let mut deployment = build::deployment(
        namespace,
        CONTROL_SERVER,
        1,
        Some(CONTROL_SERVER),
        &[server],
        vec![build::claim_volume("data", claim)],
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
                ("Secret", "control-server-database"),
                ("Secret", "control-server-setup"),
                ("PersistentVolumeClaim", "control-server-data"),
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
