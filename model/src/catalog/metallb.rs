//! Gives LoadBalancer services addresses from IP address pools on bare-metal and local clusters.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    EnvVar, EnvVarSource, ObjectFieldSelector, PodSecurityContext, SeccompProfile, Toleration,
};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider, Integration};
use super::{checks, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource, UpstreamCrd};
use crate::image::ImageRef;
use crate::names::{self, DerivedName};
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::upstream_crd;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Metallb,
    id: "metallb",
    name: "MetalLB",
    group: BatteryGroup::NetSecurity,
    description: "Gives LoadBalancer services addresses from IP address pools on bare-metal and local clusters.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::VictoriaMetrics,
        what: "speaker and controller metrics",
    }],
    removable: true,
    providers: &[
        ClusterProvider::Sandbox,
        ClusterProvider::Kind,
        ClusterProvider::Provided,
    ],
};

/// Configuration of MetalLB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetallbConfig {
    /// The controller.
    pub controller_image: ImageRef,
    /// The speaker (one per node).
    pub speaker_image: ImageRef,
}

impl Default for MetallbConfig {
    fn default() -> Self {
        Self {
            controller_image: image(images::METALLB_CONTROLLER),
            speaker_image: image(images::METALLB_SPEAKER),
        }
    }
}

impl MetallbConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "controller_image", &self.controller_image);
        checks::pinned(&mut problems, "speaker_image", &self.speaker_image);
        problems.into_result()
    }
}

const CONTROLLER: &str = "metallb-controller";
const SPEAKER: &str = "metallb-speaker";
const GROUP: &str = "metallb.io";
/// MetalLB's metrics port (controller and speaker).
const MONITORING_PORT: u16 = 7472;

/// What a pool is labelled with (`battery/app`): `ippool-<name>`.
const POOL_APP_PREFIX: &str = "ippool-";

/// The names and labels derived from a pool's name; the longest name
/// validation accepts is what they all leave room for.
pub const POOL_NAMES: &[DerivedName] = &[DerivedName::app_label(&[POOL_APP_PREFIX])];

/// The longest pool name (56).
pub const POOL_NAME_MAX_LEN: usize = names::derived_max_len(POOL_NAMES);

/// MetalLB's CRDs at v0.15.3, as upstream ships them (`config/crd/bases`:
/// without the bgppeers conversion webhook, since bi runs MetalLB's webhook
/// server disabled).
pub const CRDS: [UpstreamCrd; 9] = [
    upstream_crd!(
        "bfdprofiles.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_bfdprofiles.yaml",
        "b62589379612dcd4a0f267d65364e1acdf9870ca068dfbc2dd338c73757ea156"
    ),
    upstream_crd!(
        "bgpadvertisements.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_bgpadvertisements.yaml",
        "f4764d11511d15df85deb76fec9100e464944b5c909c175ebc3aef1a69b0b811"
    ),
    upstream_crd!(
        "bgppeers.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_bgppeers.yaml",
        "dac1483cb53e361a427a7c40669fe9d08d8b86c13c5b7c1a5cff8c9ec13baf9b"
    ),
    upstream_crd!(
        "communities.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_communities.yaml",
        "c6bca6acc922264263ff2df35986453d55570adeda1560f4bc66926df853b6b6"
    ),
    upstream_crd!(
        "configurationstates.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_configurationstates.yaml",
        "1b0b826a26a88ff3e4c8426a843b0057a52b6af13e333198375454fc8ac2d44d"
    ),
    upstream_crd!(
        "ipaddresspools.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_ipaddresspools.yaml",
        "585d55016cb9cf1aac3ed4a63b1075051bf8c20aab28dfcd3cfbe58a632ed230"
    ),
    upstream_crd!(
        "l2advertisements.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_l2advertisements.yaml",
        "ca8eb410b7bbd9517c8d864d6da2db145321c654259ba4865ce1dc617b035a3a"
    ),
    upstream_crd!(
        "servicebgpstatuses.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_servicebgpstatuses.yaml",
        "3f236c79b22a7f89e9845221f025ee1a03c17673c0cd696fbf131b61ae3cd555"
    ),
    upstream_crd!(
        "servicel2statuses.metallb.io",
        "metallb",
        "v0.15.3",
        "config/crd/bases/metallb.io_servicel2statuses.yaml",
        "8f5703075435b55d229fdb72d8afdd3dc8d4167e7fa4ce65d9b08720e48c83cd"
    ),
];

/// An environment variable from a field of the pod.
fn env_from_field(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn fixed_resources(cpu: u64, memory: u64, memory_limit: u64) -> Resources {
    Resources {
        cpu_request: Cpu::millicores(cpu),
        cpu_limit: None,
        memory_request: Memory::mebibytes(memory),
        memory_limit: Some(Memory::mebibytes(memory_limit)),
    }
}

/// The controller's ClusterRole, as upstream's chart `rbac.yaml` (v0.15.3)
/// grants it; the webhook configuration and CRD rules (whose CA bundles the
/// controller keeps current) follow by name in [`controller_rbac`].
const CONTROLLER_CLUSTER_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &["services", "namespaces"],
        &["get", "list", "watch"],
    ),
    (&[""], &["nodes"], &["list"]),
    (&[""], &["services/status"], &["update"]),
    (&[""], &["events"], &["create", "patch"]),
    (
        &["admissionregistration.k8s.io"],
        &["validatingwebhookconfigurations"],
        &["list", "watch"],
    ),
    (
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        &["list", "watch"],
    ),
    (&[GROUP], &["configurationstates"], ALL_VERBS),
    (
        &[GROUP],
        &["configurationstates/status"],
        &["get", "patch", "update"],
    ),
];

/// The controller's Role in its namespace (upstream's `-controller` Role).
const CONTROLLER_NAMESPACE_RULES: &[build::RuleSpec] = &[
    (&[""], &["secrets"], ALL_VERBS),
    (&[GROUP], &["ipaddresspools"], &["get", "list", "watch"]),
    (&[GROUP], &["ipaddresspools/status"], &["update"]),
    (&[GROUP], &["bgppeers"], &["get", "list"]),
    (&[GROUP], &["bgpadvertisements"], &["get", "list"]),
    (&[GROUP], &["l2advertisements"], &["get", "list"]),
    (&[GROUP], &["communities"], &["get", "list", "watch"]),
    (&[GROUP], &["bfdprofiles"], &["get", "list", "watch"]),
];

/// The speaker's ClusterRole (upstream's `:speaker`).
const SPEAKER_CLUSTER_RULES: &[build::RuleSpec] = &[
    (
        &[""],
        &["services", "endpoints", "nodes", "namespaces"],
        &["get", "list", "watch"],
    ),
    (
        &["discovery.k8s.io"],
        &["endpointslices"],
        &["get", "list", "watch"],
    ),
    (&[""], &["events"], &["create", "patch"]),
    (
        &[GROUP],
        &[
            "servicel2statuses",
            "servicel2statuses/status",
            "configurationstates",
            "configurationstates/status",
        ],
        &["*"],
    ),
];

/// The speaker's Role in its namespace (upstream's `-pod-lister`).
const SPEAKER_NAMESPACE_RULES: &[build::RuleSpec] = &[
    (&[""], &["pods"], &["list", "get"]),
    (&[""], &["secrets"], &["get", "list", "watch"]),
    (&[""], &["configmaps"], &["get", "list", "watch"]),
    (&[GROUP], &["bfdprofiles"], &["get", "list", "watch"]),
    (&[GROUP], &["bgppeers"], &["get", "list", "watch"]),
    (&[GROUP], &["l2advertisements"], &["get", "list", "watch"]),
    (&[GROUP], &["bgpadvertisements"], &["get", "list", "watch"]),
    (&[GROUP], &["ipaddresspools"], &["get", "list", "watch"]),
    (&[GROUP], &["communities"], &["get", "list", "watch"]),
    (
        &[GROUP],
        &["servicebgpstatuses", "servicebgpstatuses/status"],
        &["*"],
    ),
];

const ALL_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

fn controller_rbac() -> (Vec<PolicyRule>, Vec<PolicyRule>) {
    let mut cluster = build::rules(CONTROLLER_CLUSTER_RULES);
    cluster.push(build::named_rule(
        &["admissionregistration.k8s.io"],
        &["validatingwebhookconfigurations"],
        ALL_VERBS,
        &["metallb-webhook-configuration"],
    ));
    cluster.push(build::named_rule(
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        ALL_VERBS,
        &[
            "bfdprofiles.metallb.io",
            "bgpadvertisements.metallb.io",
            "bgppeers.metallb.io",
            "ipaddresspools.metallb.io",
            "l2advertisements.metallb.io",
            "communities.metallb.io",
            "configurationstates.metallb.io",
        ],
    ));
    (cluster, build::rules(CONTROLLER_NAMESPACE_RULES))
}

fn speaker_rbac() -> (Vec<PolicyRule>, Vec<PolicyRule>) {
    (
        build::rules(SPEAKER_CLUSTER_RULES),
        build::rules(SPEAKER_NAMESPACE_RULES),
    )
}

/// The speaker: one pod per node on the host network, answering ARP for the
/// addresses it announces. NB: sending raw ARP packets needs NET_RAW in
/// effect, which only root has: the speaker is the one bi pod that runs as
/// UID 0 (with every other capability dropped, no privilege escalation).
fn speaker(config: &MetallbConfig, ns: &str) -> DaemonSet {
    let mut container = ContainerSpec::new("speaker", &config.speaker_image);
    container.args = vec![
        format!("--port={MONITORING_PORT}"),
        "--log-level=info".to_owned(),
    ];
    container.env = vec![
        env_from_field("METALLB_NODE_NAME", "spec.nodeName"),
        env_from_field("METALLB_HOST", "status.hostIP"),
        // NB: no memberlist (METALLB_ML_*): speakers learn node health from
        // the API server, which needs no shared secret.
    ];
    container.ports = vec![("monitoring", MONITORING_PORT)];
    container.health = Some(Health::Http("/metrics", MONITORING_PORT));
    container.resources = Some(fixed_resources(50, 64, 256));
    let mut daemon_set = build::daemon_set(ns, SPEAKER, Some(SPEAKER), &[container], Vec::new());
    if let Some(pod) = daemon_set
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        pod.host_network = Some(true);
        pod.termination_grace_period_seconds = Some(2);
        pod.tolerations = Some(vec![Toleration {
            operator: Some("Exists".to_owned()),
            ..Toleration::default()
        }]);
        pod.security_context = Some(PodSecurityContext {
            run_as_non_root: Some(false),
            run_as_user: Some(0),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_owned(),
                ..SeccompProfile::default()
            }),
            ..PodSecurityContext::default()
        });
        for container in &mut pod.containers {
            if let Some(security) = container.security_context.as_mut() {
                security.run_as_non_root = Some(false);
                security.read_only_root_filesystem = Some(true);
                if let Some(capabilities) = security.capabilities.as_mut() {
                    capabilities.add = Some(vec!["NET_RAW".to_owned()]);
                }
            }
        }
    }
    daemon_set
}

/// The resources this battery needs, in the base namespace: the controller
/// Deployment and the speaker DaemonSet (host network, see [`speaker`]),
/// their ServiceAccounts and RBAC, MetalLB's CRDs (`ipaddresspools` and
/// `l2advertisements` with typed schemas, the others it watches open), and
/// for every pool in the desired state an `IPAddressPool` and an
/// `L2Advertisement` of the same name (app `ippool-<name>`). The admission
/// webhook is off (`--webhook-mode=disabled`): bi validates pools itself.
/// With VictoriaMetrics, a metrics Service per component and their scrapes.
/// Reads no secrets.
pub fn generate(config: &MetallbConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = ctx.base_namespace();
    let mut out = Vec::new();
    for crd in &CRDS {
        out.push(crd.resource(app)?);
    }

    let rbac = [(CONTROLLER, controller_rbac()), (SPEAKER, speaker_rbac())];
    for (name, (cluster, namespaced)) in rbac {
        let role = format!("metallb:{name}");
        out.push(Resource::new(app, &build::service_account(ns, name))?);
        out.push(Resource::new(app, &build::cluster_role(&role, cluster))?);
        out.push(Resource::new(
            app,
            &build::cluster_role_binding(&role, &role, ns, name),
        )?);
        out.push(Resource::new(app, &build::role(ns, name, namespaced))?);
        out.push(Resource::new(
            app,
            &build::role_binding(ns, name, name, name),
        )?);
    }

    let mut controller = ContainerSpec::new("controller", &config.controller_image);
    controller.args = vec![
        format!("--port={MONITORING_PORT}"),
        "--log-level=info".to_owned(),
        "--webhook-mode=disabled".to_owned(),
        format!("--namespace={ns}"),
    ];
    controller.ports = vec![("monitoring", MONITORING_PORT)];
    controller.health = Some(Health::Http("/metrics", MONITORING_PORT));
    controller.resources = Some(fixed_resources(50, 64, 256));
    out.push(Resource::new(
        app,
        &build::deployment(
            ns,
            CONTROLLER,
            1,
            Some(CONTROLLER),
            &[controller],
            Vec::new(),
        ),
    )?);
    out.push(Resource::new(app, &speaker(config, ns))?);

    if ctx.installed(BatteryKind::VictoriaMetrics) {
        for component in [CONTROLLER, SPEAKER] {
            let metrics = format!("{component}-monitoring");
            out.push(Resource::new(
                app,
                &build::service(ns, &metrics, component, &[("monitoring", MONITORING_PORT)]),
            )?);
            if let Some(scrape) =
                victoria_metrics::scrape(ctx, app, ns, component, component, "monitoring")?
            {
                out.push(scrape);
            }
        }
    }

    let mut pools: Vec<_> = ctx.state.ip_address_pools.iter().collect();
    pools.sort_by(|a, b| a.name.cmp(&b.name));
    for pool in pools {
        let pool_app = format!("{POOL_APP_PREFIX}{}", pool.name);
        let addresses = build::custom_resource(
            "metallb.io/v1beta1",
            "IPAddressPool",
            Some(ns),
            &pool.name,
            json!({
                "addresses": [pool.range.to_string()],
                "autoAssign": true,
                "avoidBuggyIPs": true,
            }),
        );
        let advertisement = build::custom_resource(
            "metallb.io/v1beta1",
            "L2Advertisement",
            Some(ns),
            &pool.name,
            json!({ "ipAddressPools": [pool.name] }),
        );
        out.push(Resource::from_value(&pool_app, addresses)?);
        out.push(Resource::from_value(&pool_app, advertisement)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::names_of;
    use crate::generate::schema::violations;
    use crate::generate::{DesiredState, Secrets};
    use crate::objects::{IpAddressPool, IpRange};

    fn state(kinds: &[BatteryKind]) -> DesiredState {
        DesiredState::with_batteries(kinds).unwrap()
    }

    fn generated(state: &DesiredState, config: &MetallbConfig) -> Vec<Resource> {
        let empty = std::collections::BTreeMap::new();
        generate(config, &Context::new(state, Secrets::Stored(&empty))).unwrap()
    }

    fn pool(name: &str, range: &str) -> IpAddressPool {
        IpAddressPool {
            name: name.to_owned(),
            range: IpRange::parse(range).unwrap(),
        }
    }

    #[test]
    fn generates_controller_speaker_rbac_and_crds() {
        let resources = generated(&state(&[BatteryKind::Metallb]), &MetallbConfig::default());
        assert_eq!(names_of(&resources, "Deployment"), [CONTROLLER]);
        assert_eq!(names_of(&resources, "DaemonSet"), [SPEAKER]);
        assert_eq!(
            names_of(&resources, "ServiceAccount"),
            [CONTROLLER, SPEAKER]
        );
        assert_eq!(names_of(&resources, "ClusterRole").len(), 2);
        assert_eq!(names_of(&resources, "ClusterRoleBinding").len(), 2);
        let crds = names_of(&resources, "CustomResourceDefinition");
        assert!(crds.contains(&"ipaddresspools.metallb.io"));
        assert!(crds.contains(&"l2advertisements.metallb.io"));
        assert!(names_of(&resources, "IPAddressPool").is_empty());
        assert!(names_of(&resources, "VMServiceScrape").is_empty());
    }

    #[test]
    fn the_speaker_uses_the_host_network_and_only_net_raw() {
        let image = crate::image::ImageRef::parse("quay.io/metallb/speaker:v0.15.2").unwrap();
        let config = MetallbConfig {
            speaker_image: image.clone(),
            ..MetallbConfig::default()
        };
        let resources = generated(&state(&[BatteryKind::Metallb]), &config);
        let speaker = resources
            .iter()
            .find(|r| r.path.kind == "DaemonSet")
            .unwrap();
        let speaker: DaemonSet = serde_json::from_value(speaker.body.clone()).unwrap();
        let pod = speaker.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.host_network, Some(true));
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(image.to_string().as_str()));
        assert!(container.resources.is_some() && container.liveness_probe.is_some());
        let security = container.security_context.as_ref().unwrap();
        let capabilities = security.capabilities.as_ref().unwrap();
        assert_eq!(
            capabilities.add.as_deref(),
            Some(&["NET_RAW".to_owned()][..])
        );
        assert_eq!(capabilities.drop.as_deref(), Some(&["ALL".to_owned()][..]));
        assert_eq!(security.allow_privilege_escalation, Some(false));
    }

    #[test]
    fn every_pool_gets_an_address_pool_and_an_advertisement_sorted_by_name() {
        let mut state = state(&[BatteryKind::Metallb]);
        state.ip_address_pools = vec![
            pool("office", "192.168.1.240-192.168.1.250"),
            pool("lab", "10.0.0.0/28"),
        ];
        let resources = generated(&state, &MetallbConfig::default());
        assert_eq!(names_of(&resources, "IPAddressPool"), ["lab", "office"]);
        assert_eq!(names_of(&resources, "L2Advertisement"), ["lab", "office"]);
        let office = resources
            .iter()
            .find(|r| r.path.kind == "IPAddressPool" && r.path.name == "office")
            .unwrap();
        assert_eq!(office.app, "ippool-office");
        assert_eq!(
            office.body["spec"]["addresses"],
            json!(["192.168.1.240-192.168.1.250"])
        );
        for resource in resources.iter().filter(|r| r.app.starts_with("ippool-")) {
            // Checked against the schema MetalLB ships.
            let name = match resource.path.kind.as_str() {
                "IPAddressPool" => "ipaddresspools.metallb.io",
                _ => "l2advertisements.metallb.io",
            };
            let schema = CRDS
                .iter()
                .find(|crd| crd.name == name)
                .and_then(|crd| crd.schema("v1beta1"))
                .unwrap();
            assert_eq!(violations(&schema, &resource.body), Vec::<String>::new());
        }
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let with = generated(
            &state(&[BatteryKind::Metallb, BatteryKind::VictoriaMetrics]),
            &MetallbConfig::default(),
        );
        assert_eq!(names_of(&with, "VMServiceScrape"), [CONTROLLER, SPEAKER]);
        assert!(names_of(&with, "Service").contains(&"metallb-speaker-monitoring"));
    }
}
