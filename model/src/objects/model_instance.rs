//! Ollama model instances: one of the known language or embedding models,
//! served by Ollama, optionally on GPU nodes.
//!
//! A model must fit in memory to load at all, so the memory limit (or the
//! request, without a limit) must be at least the model's size, and GPUs
//! are asked for exactly when a GPU node type is chosen.

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::names::{check_at, check_derived_name};
use crate::objects::resources::{Resources, SizePreset};
use crate::units::{Memory, Storage};
use crate::validation::{Problems, Rule};

/// The longest name: what the names and labels bi and the operator derive
/// from it leave room for (see `catalog::ollama::INSTANCE_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::ollama::INSTANCE_NAME_MAX_LEN;

/// The most instances.
pub const MAX_INSTANCES: u32 = 9;

/// The most GPUs one instance may ask for (the most a node usually has).
pub const MAX_GPUS: u32 = 8;

/// A model served by Ollama.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInstance {
    /// The instance's name, a DNS label.
    pub name: String,
    /// Which model to serve.
    pub model: OllamaModel,
    /// How many instances (1–9).
    pub instances: u32,
    /// CPU and memory of each instance; memory must hold the model.
    pub resources: Resources,
    /// GPUs per instance (0–8); more than 0 exactly on a GPU node type.
    #[serde(default)]
    pub gpu_count: u32,
    /// Which nodes to run on.
    #[serde(default)]
    pub node_type: NodeType,
}

/// The models bi knows how to serve, with their download sizes as the
/// Ollama library publishes them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum OllamaModel {
    #[serde(rename = "deepseek-r1:1.5b")]
    DeepseekR1_1_5b,
    #[serde(rename = "deepseek-r1:7b")]
    DeepseekR1_7b,
    #[serde(rename = "gpt-oss:20b")]
    GptOss20b,
    #[serde(rename = "gpt-oss:120b")]
    GptOss120b,
    #[serde(rename = "llama3.1:8b")]
    Llama3_1_8b,
    #[serde(rename = "llama3.1:70b")]
    Llama3_1_70b,
    #[default]
    #[serde(rename = "llama3.2:1b")]
    Llama3_2_1b,
    #[serde(rename = "llama3.2:3b")]
    Llama3_2_3b,
    #[serde(rename = "mxbai-embed-large")]
    MxbaiEmbedLarge,
    #[serde(rename = "nomic-embed-text")]
    NomicEmbedText,
    #[serde(rename = "phi4")]
    Phi4,
    #[serde(rename = "snowflake-arctic-embed2")]
    SnowflakeArcticEmbed2,
}

impl OllamaModel {
    /// Every known model.
    pub const ALL: [OllamaModel; 12] = [
        Self::DeepseekR1_1_5b,
        Self::DeepseekR1_7b,
        Self::GptOss20b,
        Self::GptOss120b,
        Self::Llama3_1_8b,
        Self::Llama3_1_70b,
        Self::Llama3_2_1b,
        Self::Llama3_2_3b,
        Self::MxbaiEmbedLarge,
        Self::NomicEmbedText,
        Self::Phi4,
        Self::SnowflakeArcticEmbed2,
    ];

    /// The name Ollama pulls, e.g. `llama3.2:1b`.
    pub fn tag(self) -> &'static str {
        self.facts().0
    }

    /// The name shown in the UI, e.g. `Llama 3.2 1B`.
    pub fn label(self) -> &'static str {
        self.facts().1
    }

    /// The download size in megabytes (10^6 bytes), as Ollama lists it.
    fn megabytes(self) -> u64 {
        self.facts().2
    }

    /// (tag, label, size in MB).
    fn facts(self) -> (&'static str, &'static str, u64) {
        match self {
            Self::DeepseekR1_1_5b => ("deepseek-r1:1.5b", "DeepSeek-R1 1.5B", 1_100),
            Self::DeepseekR1_7b => ("deepseek-r1:7b", "DeepSeek-R1 7B", 4_700),
            Self::GptOss20b => ("gpt-oss:20b", "gpt-oss 20B", 14_000),
            Self::GptOss120b => ("gpt-oss:120b", "gpt-oss 120B", 65_000),
            Self::Llama3_1_8b => ("llama3.1:8b", "Llama 3.1 8B", 4_900),
            Self::Llama3_1_70b => ("llama3.1:70b", "Llama 3.1 70B", 43_000),
            Self::Llama3_2_1b => ("llama3.2:1b", "Llama 3.2 1B", 1_300),
            Self::Llama3_2_3b => ("llama3.2:3b", "Llama 3.2 3B", 2_000),
            Self::MxbaiEmbedLarge => ("mxbai-embed-large", "mxbai-embed-large", 670),
            Self::NomicEmbedText => ("nomic-embed-text", "nomic-embed-text", 274),
            Self::Phi4 => ("phi4", "Phi-4", 9_100),
            Self::SnowflakeArcticEmbed2 => {
                ("snowflake-arctic-embed2", "Snowflake Arctic Embed 2", 1_200)
            }
        }
    }

    /// The space the model takes on disk.
    pub fn size(self) -> Storage {
        Storage::megabytes(self.megabytes())
    }

    /// The memory it needs to load: at least its size.
    pub fn memory(self) -> Memory {
        Memory::megabytes(self.megabytes())
    }

    /// True when an instance with `resources` can hold the model.
    pub fn fits(self, resources: &Resources) -> bool {
        *resources.memory_ceiling() >= self.memory()
    }

    /// The presets whose memory holds the model (the others are greyed out).
    pub fn presets(self) -> Vec<SizePreset> {
        SizePreset::ALL
            .into_iter()
            .filter(|preset| self.fits(&preset.resources()))
            .collect()
    }
}

/// Which nodes an instance runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeType {
    /// Any node, no GPU.
    #[default]
    Default,
    /// Any node with an NVIDIA GPU.
    AnyNvidia,
    /// NVIDIA A10.
    NvidiaA10,
    /// NVIDIA A100.
    NvidiaA100,
    /// NVIDIA H100.
    NvidiaH100,
    /// NVIDIA H200.
    NvidiaH200,
}

impl NodeType {
    /// True for the GPU node types.
    pub fn is_gpu(self) -> bool {
        self != Self::Default
    }

    /// The name shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Default => "Default",
            Self::AnyNvidia => "Any NVIDIA GPU",
            Self::NvidiaA10 => "NVIDIA A10",
            Self::NvidiaA100 => "NVIDIA A100",
            Self::NvidiaH100 => "NVIDIA H100",
            Self::NvidiaH200 => "NVIDIA H200",
        }
    }
}

impl Default for ModelInstance {
    /// The smallest chat model on the small preset (its 4 GiB limit holds it).
    fn default() -> Self {
        Self {
            name: String::new(),
            model: OllamaModel::default(),
            instances: 1,
            resources: SizePreset::Small.resources(),
            gpu_count: 0,
            node_type: NodeType::Default,
        }
    }
}

impl ModelInstance {
    /// Every problem with the instance.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::ollama::INSTANCE_NAMES),
        );
        problems.range("instances", self.instances, 1, MAX_INSTANCES);
        problems.merge("resources", self.resources.validate());
        if !self.model.fits(&self.resources) {
            let (which, field) = if self.resources.memory_limit.is_some() {
                ("memory limit", Resources::MEMORY_LIMIT)
            } else {
                ("memory request", Resources::MEMORY_REQUEST)
            };
            problems.push(
                format!("resources.{field}"),
                Rule::Capacity,
                format!(
                    "{which} {} cannot hold {}, which needs {}",
                    self.resources.memory_ceiling().human(),
                    self.model.tag(),
                    self.model.memory().human()
                ),
            );
        }
        problems.range("gpu_count", self.gpu_count, 0, MAX_GPUS);
        if self.gpu_count > 0 && !self.node_type.is_gpu() {
            problems.push(
                "node_type",
                Rule::Consistency,
                format!(
                    "{} GPU(s) need a GPU node type; \"{}\" nodes have none",
                    self.gpu_count,
                    self.node_type.label()
                ),
            );
        } else if self.gpu_count == 0 && self.node_type.is_gpu() {
            problems.push(
                "gpu_count",
                Rule::Consistency,
                format!(
                    "must be at least 1 on {} nodes (or pick the default node type)",
                    self.node_type.label()
                ),
            );
        }
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> ModelInstance {
        ModelInstance {
            name: "chat".into(),
            ..ModelInstance::default()
        }
    }

    fn fields(problems: &Problems) -> Vec<(&str, Rule)> {
        problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect()
    }

    #[test]
    fn the_default_model_fits_the_default_resources() {
        assert_eq!(instance().validate(), Ok(()));
        assert_eq!(OllamaModel::default().tag(), "llama3.2:1b");
    }

    #[test]
    fn knows_twelve_models_each_with_a_size_and_a_serde_name() {
        assert_eq!(OllamaModel::ALL.len(), 12);
        for model in OllamaModel::ALL {
            assert!(model.size().as_bytes() > 0, "{model:?}");
            assert_eq!(model.size().as_bytes(), model.memory().as_bytes());
            let json = serde_json::to_string(&model).unwrap();
            assert_eq!(json, format!("\"{}\"", model.tag()));
            assert_eq!(serde_json::from_str::<OllamaModel>(&json).unwrap(), model);
        }
        assert_eq!(OllamaModel::Llama3_1_8b.size(), Storage::megabytes(4_900));
    }

    #[test]
    fn memory_must_hold_the_model_naming_both_sizes() {
        let value = ModelInstance {
            model: OllamaModel::Llama3_1_8b,
            ..instance()
        };
        let problems = value.validate().unwrap_err();
        assert_eq!(
            fields(&problems),
            [("resources.memory_limit", Rule::Capacity)]
        );
        let message = &problems.iter().next().unwrap().message;
        assert!(
            message.starts_with("memory limit 4 GiB cannot hold llama3.1:8b, which needs "),
            "{message}"
        );

        let mut no_limit = value.clone();
        no_limit.resources.memory_limit = None;
        let problems = no_limit.validate().unwrap_err();
        assert_eq!(
            fields(&problems),
            [("resources.memory_request", Rule::Capacity)]
        );
    }

    #[test]
    fn presets_too_small_for_a_model_are_left_out() {
        // 9.1 GB is more than Medium's 8 GiB (8.59 GB).
        assert_eq!(
            OllamaModel::Phi4.presets(),
            [SizePreset::Large, SizePreset::XLarge, SizePreset::Huge]
        );
        assert_eq!(OllamaModel::Llama3_1_70b.presets(), [SizePreset::Huge]);
        assert_eq!(OllamaModel::NomicEmbedText.presets(), SizePreset::ALL);
        assert_eq!(OllamaModel::GptOss120b.presets(), [SizePreset::Huge]);
    }

    #[test]
    fn gpus_go_with_gpu_node_types() {
        let gpus_on_default = ModelInstance {
            gpu_count: 1,
            ..instance()
        };
        assert_eq!(
            fields(&gpus_on_default.validate().unwrap_err()),
            [("node_type", Rule::Consistency)]
        );
        let gpu_nodes_without_gpus = ModelInstance {
            node_type: NodeType::NvidiaH100,
            ..instance()
        };
        let problems = gpu_nodes_without_gpus.validate().unwrap_err();
        assert_eq!(fields(&problems), [("gpu_count", Rule::Consistency)]);
        assert_eq!(
            problems.iter().next().map(|e| e.message.as_str()),
            Some("must be at least 1 on NVIDIA H100 nodes (or pick the default node type)")
        );
        let both = ModelInstance {
            node_type: NodeType::AnyNvidia,
            gpu_count: 2,
            ..instance()
        };
        assert_eq!(both.validate(), Ok(()));
        let too_many = ModelInstance {
            node_type: NodeType::NvidiaA100,
            gpu_count: 9,
            ..instance()
        };
        assert_eq!(
            fields(&too_many.validate().unwrap_err()),
            [("gpu_count", Rule::Range)]
        );
    }

    #[test]
    fn reports_name_instances_and_model_fit_together() {
        let value = ModelInstance {
            name: "Chat".into(),
            instances: 0,
            model: OllamaModel::Phi4,
            ..instance()
        };
        assert_eq!(
            fields(&value.validate().unwrap_err()),
            [
                ("name", Rule::DnsLabel),
                ("instances", Rule::Range),
                ("resources.memory_limit", Rule::Capacity),
            ]
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let value = ModelInstance {
            model: OllamaModel::GptOss20b,
            resources: SizePreset::Large.resources(),
            gpu_count: 1,
            node_type: NodeType::NvidiaA10,
            ..instance()
        };
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(json["model"], "gpt-oss:20b");
        assert_eq!(json["node_type"], "nvidia_a10");
        assert_eq!(
            serde_json::from_value::<ModelInstance>(json).unwrap(),
            value
        );
        assert!(
            serde_json::from_str::<OllamaModel>("\"llama2\"").is_err(),
            "unknown models are refused"
        );
    }
}
