//! Exposes NVIDIA GPUs to pods as nvidia.com/gpu resources.

use k8s_openapi::api::core::v1::{HostPathVolumeSource, Toleration, Volume};
use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use super::ollama;
use crate::generate::build::{self, ContainerSpec};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::NvidiaDevicePlugin,
    id: "nvidia_device_plugin",
    name: "NVIDIA Device Plugin",
    group: BatteryGroup::Ai,
    description: "Exposes NVIDIA GPUs to pods as nvidia.com/gpu resources.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::NodeFeatureDiscovery],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of NVIDIA Device Plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NvidiaDevicePluginConfig {
    /// The device plugin.
    pub image: ImageRef,
}

impl Default for NvidiaDevicePluginConfig {
    fn default() -> Self {
        Self {
            image: image(images::NVIDIA_DEVICE_PLUGIN),
        }
    }
}

impl NvidiaDevicePluginConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// The DaemonSet and its ServiceAccount.
const NAME: &str = "nvidia-device-plugin";

/// Where the kubelet expects device plugins' sockets.
const DEVICE_PLUGINS_DIR: &str = "/var/lib/kubelet/device-plugins";

/// The resources this battery needs, in the base namespace: a DaemonSet
/// that runs the plugin on every node Node Feature Discovery labelled as
/// having an NVIDIA PCI device (tolerating the GPU taint), and its
/// ServiceAccount.
///
/// NB: the plugin registers with the kubelet through a socket in the
/// node's `/var/lib/kubelet/device-plugins`, a directory only root may
/// write; so it runs as root, with every capability dropped and no
/// privilege escalation (as NVIDIA's own manifest does). Reads no secrets.
pub fn generate(
    config: &NvidiaDevicePluginConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    let app = INFO.id;
    let namespace = ctx.base_namespace();
    let container = ContainerSpec {
        env: vec![build::env("FAIL_ON_INIT_ERROR", "false")],
        resources: Some(Resources {
            cpu_request: Cpu::millicores(10),
            cpu_limit: None,
            memory_request: Memory::mebibytes(64),
            memory_limit: Some(Memory::mebibytes(256)),
        }),
        mounts: vec![("device-plugins".to_owned(), DEVICE_PLUGINS_DIR.to_owned())],
        ..ContainerSpec::new("device-plugin", &config.image)
    };
    let volumes = vec![Volume {
        name: "device-plugins".to_owned(),
        host_path: Some(HostPathVolumeSource {
            path: DEVICE_PLUGINS_DIR.to_owned(),
            type_: Some("Directory".to_owned()),
        }),
        ..Volume::default()
    }];
    let mut daemon_set = build::daemon_set(namespace, NAME, Some(NAME), &[container], volumes);
    if let Some(pod) = daemon_set
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        pod.node_selector = Some(build::string_map(&[(ollama::NVIDIA_NODE_LABEL, "true")]));
        pod.tolerations = Some(vec![
            Toleration {
                key: Some("nvidia.com/gpu".to_owned()),
                operator: Some("Exists".to_owned()),
                effect: Some("NoSchedule".to_owned()),
                ..Toleration::default()
            },
            Toleration {
                key: Some("CriticalAddonsOnly".to_owned()),
                operator: Some("Exists".to_owned()),
                ..Toleration::default()
            },
        ]);
        pod.priority_class_name = Some("system-node-critical".to_owned());
        // NB: the plugin never calls the Kubernetes API.
        pod.automount_service_account_token = Some(false);
        if let Some(context) = pod.security_context.as_mut() {
            context.run_as_non_root = Some(false);
            context.run_as_user = Some(0);
            context.run_as_group = Some(0);
        }
        for container in &mut pod.containers {
            if let Some(context) = container.security_context.as_mut() {
                context.run_as_non_root = Some(false);
            }
        }
    }
    Ok(vec![
        Resource::new(app, &build::service_account(namespace, NAME))?,
        Resource::new(app, &daemon_set)?,
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::{DesiredState, Secrets};

    #[test]
    fn runs_the_plugin_on_nvidia_nodes() {
        let state = DesiredState::with_batteries(&[BatteryKind::NvidiaDevicePlugin]).unwrap();
        let stored = BTreeMap::new();
        let config = NvidiaDevicePluginConfig {
            image: ImageRef::parse("registry.example/device-plugin:v1.0.0").unwrap(),
        };
        let resources = generate(&config, &Context::new(&state, Secrets::Stored(&stored))).unwrap();
        let paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{}", r.path.kind, r.path.name))
            .collect();
        assert_eq!(
            paths,
            [
                "ServiceAccount/nvidia-device-plugin",
                "DaemonSet/nvidia-device-plugin"
            ]
        );
        let pod = &resources[1].body["spec"]["template"]["spec"];
        assert_eq!(resources[1].path.namespace.as_deref(), Some("battery-base"));
        assert_eq!(pod["nodeSelector"][ollama::NVIDIA_NODE_LABEL], "true");
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "registry.example/device-plugin:v1.0.0");
        assert_eq!(container["resources"]["requests"]["cpu"], "10m");
        assert_eq!(
            container["securityContext"]["capabilities"]["drop"][0],
            "ALL"
        );
        assert_eq!(
            container["securityContext"]["allowPrivilegeEscalation"],
            false
        );
        assert_eq!(
            pod["volumes"][0]["hostPath"]["path"],
            "/var/lib/kubelet/device-plugins"
        );
    }
}
