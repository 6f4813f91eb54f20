//! Serves open-weight language and embedding models as model instances.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSpec, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, ClusterProvider, Integration};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::{self, DerivedName};
use crate::objects::{ModelInstance, NodeType, OllamaModel};
use crate::units::Storage;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Ollama,
    id: "ollama",
    name: "Ollama",
    group: BatteryGroup::Ai,
    description: "Serves open-weight language and embedding models as model instances.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[Integration {
        partner: BatteryKind::NvidiaDevicePlugin,
        what: "GPU-backed model instances",
    }],
    removable: true,
    providers: &[],
};

/// Configuration of Ollama.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OllamaConfig {
    /// Ollama.
    pub image: ImageRef,
}

impl Default for OllamaConfig {
    fn default() -> Self {
        Self {
            image: image(images::OLLAMA),
        }
    }
}

impl OllamaConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "image", &self.image);
        problems.into_result()
    }
}

/// Ollama's API port.
const PORT: u16 = 11434;

/// Where each instance keeps its models (and Ollama its key): the volume.
const HOME: &str = "/home/ollama";

/// What an instance's StatefulSet, Service and labels are named: `model-<name>`.
const APP_PREFIX: &str = "model-";

/// The names and labels derived from an instance's name; the longest name
/// validation accepts is what they all leave room for.
pub const INSTANCE_NAMES: &[DerivedName] = &[DerivedName {
    by: "bi",
    what: "the StatefulSet",
    prefix: &[APP_PREFIX],
    suffix: "",
    limit: names::STATEFUL_SET_NAME,
}];

/// The longest instance name (46).
pub const INSTANCE_NAME_MAX_LEN: usize = names::derived_max_len(INSTANCE_NAMES);

/// The ConfigMap listing every instance's URL.
const ENDPOINTS: &str = "ollama-endpoints";

/// The label NFD puts on nodes with an NVIDIA PCI device (vendor 10de).
pub const NVIDIA_NODE_LABEL: &str = "feature.node.kubernetes.io/pci-10de.present";

/// The label Karpenter puts on the GPU nodes it launches on AWS.
const GPU_NAME_LABEL: &str = "karpenter.k8s.aws/instance-gpu-name";

/// The URL of a model instance's Ollama API.
pub fn url(ctx: &Context<'_>, instance: &ModelInstance) -> String {
    format!(
        "http://model-{}.{}.svc:{PORT}",
        instance.name,
        ctx.ai_namespace()
    )
}

/// The resources this battery needs, in the AI namespace: a ConfigMap
/// `ollama-endpoints` mapping each instance's name to its API URL, and for
/// each model instance (sorted by name; app `model-<name>`):
///
/// - a StatefulSet of `instances` replicas running the configured Ollama
///   image, each with a volume claim sized for the model (its size plus a
///   quarter, in whole GiB). An init container pulls the model onto the
///   volume before Ollama starts (it runs `ollama serve` in the background
///   and `ollama pull <model>` against it), so a pod is only ready once its
///   model is there; after a restart the pull finds it already present.
/// - the instance's CPU and memory; with `gpu_count > 0`, a
///   `nvidia.com/gpu` limit, the GPU taint tolerated, a node selector for
///   NVIDIA nodes (NFD's PCI label, plus Karpenter's GPU name label for a
///   specific GPU type) and, on kind, the `nvidia` runtime class;
/// - a Service on port 11434.
///
/// Reads no secrets.
pub fn generate(config: &OllamaConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let namespace = ctx.ai_namespace();
    let mut instances: Vec<&ModelInstance> = ctx
        .state
        .model_instances
        .iter()
        .map(|o| &o.object)
        .collect();
    instances.sort_by(|a, b| a.name.cmp(&b.name));

    let endpoints = instances
        .iter()
        .map(|instance| (instance.name.clone(), url(ctx, instance)))
        .collect();
    let mut out = vec![Resource::new(
        INFO.id,
        &build::config_map(namespace, ENDPOINTS, endpoints),
    )?];
    for instance in instances {
        out.extend(instance_resources(config, ctx, namespace, instance)?);
    }
    Ok(out)
}

/// The volume for `model`: its size plus a quarter for partial downloads, in GiB.
fn model_storage(model: OllamaModel) -> Storage {
    let bytes = model.size().as_bytes();
    Storage::gibibytes(bytes.saturating_add(bytes / 4).div_ceil(1 << 30))
}

/// The GPU model's name as Karpenter labels AWS nodes, for specific types.
fn gpu_name(node_type: NodeType) -> Option<&'static str> {
    match node_type {
        NodeType::Default | NodeType::AnyNvidia => None,
        NodeType::NvidiaA10 => Some("a10g"),
        NodeType::NvidiaA100 => Some("a100"),
        NodeType::NvidiaH100 => Some("h100"),
        NodeType::NvidiaH200 => Some("h200"),
    }
}

fn instance_resources(
    config: &OllamaConfig,
    ctx: &Context<'_>,
    namespace: &str,
    instance: &ModelInstance,
) -> Result<Vec<Resource>, GenerateError> {
    let name = format!("{APP_PREFIX}{}", instance.name);
    let app = name.as_str();
    let tag = instance.model.tag();

    let pull = ContainerSpec {
        command: vec!["/bin/sh".to_owned(), "-c".to_owned()],
        args: vec![format!(
            "ollama serve & server=$!; \
             until ollama list >/dev/null 2>&1; do sleep 1; done; \
             ollama pull {tag}; status=$?; kill $server; exit $status"
        )],
        env: vec![
            build::env("HOME", HOME),
            build::env("OLLAMA_HOST", &format!("127.0.0.1:{PORT}")),
        ],
        resources: Some(instance.resources.clone()),
        mounts: vec![("data".to_owned(), HOME.to_owned())],
        ..ContainerSpec::new("pull", &config.image)
    };
    let ollama = ContainerSpec {
        env: vec![
            build::env("HOME", HOME),
            build::env("OLLAMA_HOST", &format!("0.0.0.0:{PORT}")),
            // NB: the instance exists to serve this model: keep it loaded.
            build::env("OLLAMA_KEEP_ALIVE", "-1"),
        ],
        ports: vec![("http", PORT)],
        resources: Some(instance.resources.clone()),
        health: Some(Health::Http("/api/version", PORT)),
        mounts: vec![("data".to_owned(), HOME.to_owned())],
        ..ContainerSpec::new("ollama", &config.image)
    };
    let mut stateful_set = build::stateful_set(
        namespace,
        &name,
        instance.instances,
        None,
        &[ollama],
        Some(&model_storage(instance.model)),
    );
    if let Some(pod) = stateful_set
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        pod.init_containers = Some(vec![pull.build()]);
        if instance.gpu_count > 0 {
            on_gpus(pod, ctx, instance);
        }
    }

    Ok(vec![
        Resource::new(app, &stateful_set)?,
        Resource::new(
            app,
            &build::service(namespace, &name, &name, &[("http", PORT)]),
        )?,
    ])
}

/// Asks for the instance's GPUs and places it on NVIDIA nodes.
fn on_gpus(pod: &mut PodSpec, ctx: &Context<'_>, instance: &ModelInstance) {
    let mut selector = build::string_map(&[(NVIDIA_NODE_LABEL, "true")]);
    if let Some(gpu) = gpu_name(instance.node_type) {
        selector.insert(GPU_NAME_LABEL.to_owned(), gpu.to_owned());
    }
    pod.node_selector = Some(selector);
    pod.tolerations = Some(vec![Toleration {
        key: Some("nvidia.com/gpu".to_owned()),
        operator: Some("Exists".to_owned()),
        effect: Some("NoSchedule".to_owned()),
        ..Toleration::default()
    }]);
    if ctx.state.provider == ClusterProvider::Kind {
        pod.runtime_class_name = Some("nvidia".to_owned());
    }
    let gpus = Quantity(instance.gpu_count.to_string());
    for container in &mut pod.containers {
        if let Some(resources) = container.resources.as_mut() {
            resources
                .limits
                .get_or_insert_with(BTreeMap::new)
                .insert("nvidia.com/gpu".to_owned(), gpus.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find_required as find;
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::{DesiredState, Owned, Secrets};
    use crate::objects::SizePreset;

    fn state(instances: Vec<ModelInstance>) -> DesiredState {
        let mut state = DesiredState::with_batteries(&[BatteryKind::Ollama]).unwrap();
        state.model_instances = instances.into_iter().map(Owned::unowned).collect();
        state
    }

    fn generated(state: &DesiredState) -> Vec<Resource> {
        generate(
            &OllamaConfig::default(),
            &Context::new(state, Secrets::Preview),
        )
        .unwrap()
    }

    fn instance(name: &str) -> ModelInstance {
        ModelInstance {
            name: name.into(),
            ..ModelInstance::default()
        }
    }

    #[test]
    fn each_instance_gets_a_stateful_set_and_a_service_and_the_endpoints_list_them() {
        let resources = generated(&state(vec![instance("writer"), instance("chat")]));
        let paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{} ({})", r.path.kind, r.path.name, r.app))
            .collect();
        assert_eq!(
            paths,
            [
                "ConfigMap/ollama-endpoints (ollama)",
                "StatefulSet/model-chat (model-chat)",
                "Service/model-chat (model-chat)",
                "StatefulSet/model-writer (model-writer)",
                "Service/model-writer (model-writer)",
            ]
        );
        let endpoints = &find(&resources, "ConfigMap", "ollama-endpoints").body["data"];
        assert_eq!(endpoints["chat"], "http://model-chat.battery-ai.svc:11434");
        // Nothing but the endpoints without instances.
        assert_eq!(generated(&state(Vec::new())).len(), 1);
    }

    #[test]
    fn the_model_is_pulled_by_an_init_container_onto_a_volume_that_fits_it() {
        let config = OllamaConfig {
            image: ImageRef::parse("registry.example/ollama:1.0.0").unwrap(),
        };
        let mut model = instance("big");
        model.model = OllamaModel::GptOss20b;
        model.instances = 2;
        model.resources = SizePreset::XLarge.resources();
        let state = state(vec![model]);
        let resources = generate(&config, &Context::new(&state, Secrets::Preview)).unwrap();
        let set = &find(&resources, "StatefulSet", "model-big").body["spec"];
        assert_eq!(set["replicas"], 2);
        // 14 GB plus a quarter is 16.3 GiB: 17Gi.
        assert_eq!(
            set["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "17Gi"
        );
        let pod = &set["template"]["spec"];
        let pull = &pod["initContainers"][0];
        assert_eq!(pull["image"], "registry.example/ollama:1.0.0");
        assert!(
            pull["args"][0]
                .as_str()
                .unwrap()
                .contains("ollama pull gpt-oss:20b")
        );
        let ollama = &pod["containers"][0];
        assert_eq!(ollama["image"], "registry.example/ollama:1.0.0");
        assert_eq!(ollama["ports"][0]["containerPort"], 11434);
        assert_eq!(ollama["resources"]["limits"]["memory"], "32Gi");
        assert!(
            ollama["resources"]["limits"]
                .get("nvidia.com/gpu")
                .is_none()
        );
        assert!(pod.get("nodeSelector").is_none());
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    }

    #[test]
    fn gpu_instances_ask_for_gpus_on_nvidia_nodes() {
        let mut model = instance("fast");
        model.gpu_count = 2;
        model.node_type = NodeType::NvidiaH100;
        let mut state = state(vec![model]);
        state.provider = ClusterProvider::Kind;
        let resources = generated(&state);
        let pod = &find(&resources, "StatefulSet", "model-fast").body["spec"]["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
            "2"
        );
        assert_eq!(pod["nodeSelector"][NVIDIA_NODE_LABEL], "true");
        assert_eq!(pod["nodeSelector"][GPU_NAME_LABEL], "h100");
        assert_eq!(pod["tolerations"][0]["key"], "nvidia.com/gpu");
        assert_eq!(pod["runtimeClassName"], "nvidia");

        let mut any = instance("any");
        any.gpu_count = 1;
        any.node_type = NodeType::AnyNvidia;
        let resources = generated(&self::state(vec![any]));
        let pod = &find(&resources, "StatefulSet", "model-any").body["spec"]["template"]["spec"];
        assert!(pod["nodeSelector"].get(GPU_NAME_LABEL).is_none());
        assert!(pod.get("runtimeClassName").is_none());
    }

    #[test]
    fn reads_no_secrets() {
        let state = state(vec![instance("chat")]);
        let stored = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        assert!(generate(&OllamaConfig::default(), &ctx).is_ok());
    }
}
