//! Issues Istio workload certificates through cert-manager from the Battery CA.

use k8s_openapi::api::core::v1::{KeyToPath, SecretVolumeSource, Volume};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use serde::{Deserialize, Serialize};

use super::images::{self, image};
use super::istio::IstioConfig;
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use super::{BatteryConfig, battery_ca, checks, istio, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::IstioCsr,
    id: "istio_csr",
    name: "istio-csr",
    group: BatteryGroup::NetSecurity,
    description: "Issues Istio workload certificates through cert-manager from the Battery CA.",
    dependencies: &[BatteryKind::Istio, BatteryKind::BatteryCa],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of istio-csr.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IstioCsrConfig {
    /// istio-csr.
    pub image: ImageRef,
}

impl Default for IstioCsrConfig {
    fn default() -> Self {
        Self {
            image: image(images::ISTIO_CSR),
        }
    }
}

impl IstioCsrConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// istio-csr's Deployment, ServiceAccount and Service (in the base namespace).
pub const NAME: &str = "cert-manager-istio-csr";

/// The Secret (in Istio's namespace) istio-csr keeps istiod's serving
/// certificate in; istiod mounts it.
pub const ISTIOD_TLS_SECRET: &str = "istiod-tls";

const GRPC_PORT: u16 = 6443;

/// The gRPC address proxies ask for certificates (Istio's `caAddress`).
pub fn address(ctx: &Context<'_>) -> String {
    format!("{NAME}.{}.svc:443", ctx.base_namespace())
}

/// Istio's namespace (its default when Istio is not installed).
fn istio_namespace(ctx: &Context<'_>) -> String {
    match ctx.state.batteries.get(&BatteryKind::Istio) {
        Some(BatteryConfig::Istio(istio)) => istio.namespace.to_string(),
        _ => IstioConfig::default().namespace.to_string(),
    }
}

/// Binds a role in `namespace` to a service account of another namespace.
fn role_binding_for(namespace: &str, name: &str, sa_namespace: &str) -> RoleBinding {
    RoleBinding {
        metadata: build::meta(Some(namespace), name),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: name.to_owned(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: NAME.to_owned(),
            namespace: Some(sa_namespace.to_owned()),
            ..Subject::default()
        }]),
    }
}

/// The resources this battery needs. In the base namespace: the istio-csr
/// Deployment, ServiceAccount, Service (gRPC on 443) and a leader-election
/// Role; a ClusterRole for the `istio-ca-root-cert` ConfigMaps it writes in
/// every namespace; in Istio's namespace, a Role to create
/// CertificateRequests (signed by the `battery-ca` ClusterIssuer) and keep
/// istiod's serving certificate (`istiod-tls`). The trust anchor is the
/// Battery CA's `ca.crt`, mounted from the `battery-ca` Secret. Reads no
/// secrets.
pub fn generate(
    config: &IstioCsrConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let ns = ctx.base_namespace();
    let istio_ns = istio_namespace(ctx);
    let mut out = vec![Resource::new(app, &build::service_account(ns, NAME))?];

    let cluster_rules = vec![
        build::rule(
            &[""],
            &["configmaps"],
            &["get", "list", "watch", "create", "update", "patch"],
        ),
        build::rule(&[""], &["namespaces"], &["get", "list", "watch"]),
        build::rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
    ];
    out.push(Resource::new(
        app,
        &build::cluster_role(NAME, cluster_rules),
    )?);
    out.push(Resource::new(
        app,
        &build::cluster_role_binding(NAME, NAME, ns, NAME),
    )?);
    let leader_election = vec![
        build::rule(
            &["coordination.k8s.io"],
            &["leases"],
            &["get", "list", "watch", "create", "update"],
        ),
        build::rule(&[""], &["events"], &["create", "patch"]),
    ];
    out.push(Resource::new(app, &build::role(ns, NAME, leader_election))?);
    out.push(Resource::new(
        app,
        &build::role_binding(ns, NAME, NAME, NAME),
    )?);
    let certificates = vec![
        build::rule(
            &["cert-manager.io"],
            &["certificaterequests"],
            &["get", "list", "watch", "create", "update", "delete"],
        ),
        build::rule(
            &[""],
            &["secrets"],
            &[
                "get", "list", "watch", "create", "update", "patch", "delete",
            ],
        ),
        build::rule(&[""], &["events"], &["create", "patch"]),
    ];
    out.push(Resource::new(
        app,
        &build::role(&istio_ns, NAME, certificates),
    )?);
    out.push(Resource::new(app, &role_binding_for(&istio_ns, NAME, ns))?);

    let mut container = ContainerSpec::new("istio-csr", &config.image);
    container.args = vec![
        "--log-level=1".to_owned(),
        "--log-format=json".to_owned(),
        "--metrics-port=9402".to_owned(),
        "--readiness-probe-port=6060".to_owned(),
        "--readiness-probe-path=/readyz".to_owned(),
        format!("--certificate-namespace={istio_ns}"),
        "--issuer-enabled=true".to_owned(),
        format!("--issuer-name={}", battery_ca::CA_NAME),
        "--issuer-kind=ClusterIssuer".to_owned(),
        "--issuer-group=cert-manager.io".to_owned(),
        "--preserve-certificate-requests=false".to_owned(),
        "--root-ca-file=/var/run/secrets/istio-csr/ca.pem".to_owned(),
        format!("--serving-certificate-dns-names={NAME}.{ns}.svc"),
        "--serving-certificate-duration=1h".to_owned(),
        format!("--trust-domain={}", istio::TRUST_DOMAIN),
        "--cluster-id=Kubernetes".to_owned(),
        "--max-client-certificate-duration=1h".to_owned(),
        format!("--serving-address=0.0.0.0:{GRPC_PORT}"),
        format!("--leader-election-namespace={ns}"),
        "--istiod-cert-enabled=true".to_owned(),
        format!("--istiod-cert-name={ISTIOD_TLS_SECRET}"),
        format!("--istiod-cert-namespace={istio_ns}"),
        "--istiod-cert-duration=1h".to_owned(),
        "--istiod-cert-renew-before=30m".to_owned(),
        "--istiod-cert-istio-revisions=default".to_owned(),
    ];
    container.ports = vec![("grpc", GRPC_PORT), ("metrics", 9402)];
    container.health = Some(Health::Http("/readyz", 6060));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(50),
        cpu_limit: None,
        memory_request: Memory::mebibytes(64),
        memory_limit: Some(Memory::mebibytes(256)),
    });
    container.mounts = vec![(
        "root-ca".to_owned(),
        "/var/run/secrets/istio-csr".to_owned(),
    )];
    let root_ca = Volume {
        name: "root-ca".to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(battery_ca::CA_NAME.to_owned()),
            items: Some(vec![KeyToPath {
                key: "ca.crt".to_owned(),
                path: "ca.pem".to_owned(),
                mode: None,
            }]),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    out.push(Resource::new(
        app,
        &build::deployment(ns, NAME, 1, Some(NAME), &[container], vec![root_ca]),
    )?);
    out.push(Resource::new(
        app,
        &build::service(ns, NAME, NAME, &[("grpc", 443), ("metrics", 9402)]),
    )?);
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, ns, NAME, NAME, "metrics")? {
        out.push(scrape);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DesiredState, Secrets};
    use k8s_openapi::api::apps::v1::Deployment;

    fn generated(kinds: &[BatteryKind]) -> Vec<Resource> {
        let state = DesiredState::with_batteries(kinds).unwrap();
        let empty = std::collections::BTreeMap::new();
        generate(
            &IstioCsrConfig::default(),
            &Context::new(&state, Secrets::Stored(&empty)),
        )
        .unwrap()
    }

    #[test]
    fn generates_the_server_and_its_rbac_in_both_namespaces() {
        let resources = generated(&[BatteryKind::IstioCsr]);
        let paths: Vec<String> = resources.iter().map(|r| r.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "v1/ServiceAccount/battery-base/cert-manager-istio-csr",
                "rbac.authorization.k8s.io/v1/ClusterRole/cert-manager-istio-csr",
                "rbac.authorization.k8s.io/v1/ClusterRoleBinding/cert-manager-istio-csr",
                "rbac.authorization.k8s.io/v1/Role/battery-base/cert-manager-istio-csr",
                "rbac.authorization.k8s.io/v1/RoleBinding/battery-base/cert-manager-istio-csr",
                "rbac.authorization.k8s.io/v1/Role/battery-istio/cert-manager-istio-csr",
                "rbac.authorization.k8s.io/v1/RoleBinding/battery-istio/cert-manager-istio-csr",
                "apps/v1/Deployment/battery-base/cert-manager-istio-csr",
                "v1/Service/battery-base/cert-manager-istio-csr",
            ]
        );
        let binding = &resources[6].body["subjects"][0];
        assert_eq!(binding["namespace"], "battery-base");
    }

    #[test]
    fn issues_from_the_battery_ca_with_the_configured_image() {
        let resources = generated(&[BatteryKind::IstioCsr]);
        let deployment: Deployment = serde_json::from_value(
            resources
                .iter()
                .find(|r| r.path.kind == "Deployment")
                .unwrap()
                .body
                .clone(),
        )
        .unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(images::ISTIO_CSR));
        let args = container.args.as_ref().unwrap();
        assert!(args.contains(&"--issuer-name=battery-ca".to_owned()));
        assert!(args.contains(&"--issuer-kind=ClusterIssuer".to_owned()));
        assert!(args.contains(&"--certificate-namespace=battery-istio".to_owned()));
        assert!(container.resources.is_some() && container.readiness_probe.is_some());
        let volumes = pod.volumes.unwrap();
        assert_eq!(
            volumes[0].secret.as_ref().unwrap().secret_name.as_deref(),
            Some("battery-ca")
        );
    }

    #[test]
    fn metrics_are_scraped_only_with_victoria_metrics() {
        let without = generated(&[BatteryKind::IstioCsr]);
        assert!(without.iter().all(|r| r.path.kind != "VMServiceScrape"));
        let with = generated(&[BatteryKind::IstioCsr, BatteryKind::VictoriaMetrics]);
        assert!(with.iter().any(|r| r.path.kind == "VMServiceScrape"));
    }
}
