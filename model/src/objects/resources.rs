//! CPU and memory for one instance of a user object, and the size presets
//! that fill them in.
//!
//! Requests are what the scheduler reserves on a node; limits are where the
//! kernel throttles (CPU) or kills (memory). A limit below its request can
//! never be scheduled sensibly, so it is refused here, before it reaches the
//! cluster. Every instance must fit on one node, which bounds the maximums.

use serde::{Deserialize, Serialize};

use crate::units::{Cpu, Memory, Storage};
use crate::validation::{Problems, Rule};

/// CPU and memory requests and limits of one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU reserved for the instance.
    pub cpu_request: Cpu,
    /// CPU the instance may burst to; none means no throttling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit: Option<Cpu>,
    /// Memory reserved for the instance.
    pub memory_request: Memory,
    /// Memory beyond which the instance is killed; none means no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<Memory>,
}

/// The smallest request an object accepts; objects raise it where their
/// software needs more (PostgreSQL, notebooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFloor {
    /// The smallest CPU request.
    pub cpu: Cpu,
    /// The smallest memory request.
    pub memory: Memory,
}

impl Default for ResourceFloor {
    /// 10m of CPU and 64 MiB of memory: below that almost no process starts.
    fn default() -> Self {
        Self {
            cpu: Cpu::millicores(10),
            memory: Memory::mebibytes(64),
        }
    }
}

impl ResourceFloor {
    /// The default CPU floor with a higher memory floor.
    pub fn with_memory(memory: Memory) -> Self {
        Self {
            memory,
            ..Self::default()
        }
    }
}

impl Resources {
    /// Field name of the CPU request in validation errors.
    pub const CPU_REQUEST: &'static str = "cpu_request";
    /// Field name of the CPU limit in validation errors.
    pub const CPU_LIMIT: &'static str = "cpu_limit";
    /// Field name of the memory request in validation errors.
    pub const MEMORY_REQUEST: &'static str = "memory_request";
    /// Field name of the memory limit in validation errors.
    pub const MEMORY_LIMIT: &'static str = "memory_limit";

    /// The most CPU one instance may ask for: 1024 cores (larger than any node sold today).
    pub fn max_cpu() -> Cpu {
        Cpu::cores(1024)
    }

    /// The most memory one instance may ask for: 32 TiB (larger than any node sold today).
    pub fn max_memory() -> Memory {
        Memory::gibibytes(32 * 1024)
    }

    /// Checks against the default floor (10m, 64 MiB).
    pub fn validate(&self) -> Result<(), Problems> {
        self.validate_at_least(&ResourceFloor::default())
    }

    /// Checks requests against `floor` and the per-instance maximums, and
    /// that each limit is at least its request.
    pub fn validate_at_least(&self, floor: &ResourceFloor) -> Result<(), Problems> {
        let mut problems = Problems::new();
        let max_cpu = Self::max_cpu();
        let max_memory = Self::max_memory();

        if self.cpu_request < floor.cpu {
            problems.push(
                Self::CPU_REQUEST,
                Rule::Range,
                format!(
                    "must be at least {}; {} is less",
                    floor.cpu, self.cpu_request
                ),
            );
        }
        for (field, cpu) in [
            (Self::CPU_REQUEST, Some(&self.cpu_request)),
            (Self::CPU_LIMIT, self.cpu_limit.as_ref()),
        ] {
            if let Some(cpu) = cpu.filter(|cpu| **cpu > max_cpu) {
                problems.push(
                    field,
                    Rule::Range,
                    format!(
                        "must be at most {max_cpu}, the most one instance can get; {cpu} is more"
                    ),
                );
            }
        }
        if let Some(limit) = self.cpu_limit.as_ref().filter(|l| **l < self.cpu_request) {
            problems.push(
                Self::CPU_LIMIT,
                Rule::Consistency,
                format!(
                    "cpu limit {limit} is below the request {}",
                    self.cpu_request
                ),
            );
        }

        if self.memory_request < floor.memory {
            problems.push(
                Self::MEMORY_REQUEST,
                Rule::Range,
                format!(
                    "must be at least {}; {} is less",
                    floor.memory.human(),
                    self.memory_request.human()
                ),
            );
        }
        for (field, memory) in [
            (Self::MEMORY_REQUEST, Some(&self.memory_request)),
            (Self::MEMORY_LIMIT, self.memory_limit.as_ref()),
        ] {
            if let Some(memory) = memory.filter(|memory| **memory > max_memory) {
                problems.push(
                    field,
                    Rule::Range,
                    format!(
                        "must be at most {}, the most one instance can get; {} is more",
                        max_memory.human(),
                        memory.human()
                    ),
                );
            }
        }
        if let Some(limit) = self
            .memory_limit
            .as_ref()
            .filter(|l| **l < self.memory_request)
        {
            problems.push(
                Self::MEMORY_LIMIT,
                Rule::Consistency,
                format!(
                    "memory limit {limit} is below the request {}",
                    self.memory_request
                ),
            );
        }
        problems.into_result()
    }

    /// The most memory the instance can use: its limit, or its request when
    /// it has none (the request is all the scheduler promised).
    pub fn memory_ceiling(&self) -> &Memory {
        self.memory_limit.as_ref().unwrap_or(&self.memory_request)
    }

    /// The field of [`Resources::memory_ceiling`]: the limit when set.
    pub fn memory_ceiling_field(&self) -> &'static str {
        if self.memory_limit.is_some() {
            Self::MEMORY_LIMIT
        } else {
            Self::MEMORY_REQUEST
        }
    }
}

impl Default for Resources {
    /// The tiny preset.
    fn default() -> Self {
        SizePreset::Tiny.resources()
    }
}

/// A named size that fills in CPU, memory and storage at once (the
/// reference product's table, in binary units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizePreset {
    /// 512 MiB storage, 500m CPU, 512 MiB memory.
    Tiny,
    /// 16 GiB storage, 500m–2 CPU, 1–4 GiB memory.
    Small,
    /// 64 GiB storage, 4 CPU, 8 GiB memory.
    Medium,
    /// 128 GiB storage, 8 CPU, 16 GiB memory.
    Large,
    /// 256 GiB storage, 10 CPU, 32 GiB memory.
    XLarge,
    /// 1 TiB storage, 32 CPU, 256 GiB memory.
    Huge,
}

impl SizePreset {
    /// Every preset, smallest first.
    pub const ALL: [SizePreset; 6] = [
        Self::Tiny,
        Self::Small,
        Self::Medium,
        Self::Large,
        Self::XLarge,
        Self::Huge,
    ];

    /// The name shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Tiny => "Tiny",
            Self::Small => "Small",
            Self::Medium => "Medium",
            Self::Large => "Large",
            Self::XLarge => "XLarge",
            Self::Huge => "Huge",
        }
    }

    /// CPU and memory of the preset.
    pub fn resources(self) -> Resources {
        // (cpu request, cpu limit) in millicores, (memory request, limit) in MiB.
        let ((cpu_request, cpu_limit), (memory_request, memory_limit)) = match self {
            Self::Tiny => ((500, 500), (512, 512)),
            Self::Small => ((500, 2_000), (1_024, 4 * 1_024)),
            Self::Medium => ((4_000, 4_000), (8 * 1_024, 8 * 1_024)),
            Self::Large => ((8_000, 8_000), (16 * 1_024, 16 * 1_024)),
            Self::XLarge => ((10_000, 10_000), (32 * 1_024, 32 * 1_024)),
            Self::Huge => ((32_000, 32_000), (256 * 1_024, 256 * 1_024)),
        };
        Resources {
            cpu_request: Cpu::millicores(cpu_request),
            cpu_limit: Some(Cpu::millicores(cpu_limit)),
            memory_request: Memory::mebibytes(memory_request),
            memory_limit: Some(Memory::mebibytes(memory_limit)),
        }
    }

    /// Storage of the preset.
    pub fn storage(self) -> Storage {
        match self {
            Self::Tiny => Storage::mebibytes(512),
            Self::Small => Storage::gibibytes(16),
            Self::Medium => Storage::gibibytes(64),
            Self::Large => Storage::gibibytes(128),
            Self::XLarge => Storage::gibibytes(256),
            Self::Huge => Storage::gibibytes(1_024),
        }
    }

    /// The preset whose CPU and memory are exactly `resources`, if any
    /// (the UI shows "custom" otherwise).
    pub fn matching(resources: &Resources) -> Option<SizePreset> {
        Self::ALL
            .into_iter()
            .find(|preset| preset.resources() == *resources)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(cpu: u64, cpu_limit: Option<u64>, mib: u64, mib_limit: Option<u64>) -> Resources {
        Resources {
            cpu_request: Cpu::millicores(cpu),
            cpu_limit: cpu_limit.map(Cpu::millicores),
            memory_request: Memory::mebibytes(mib),
            memory_limit: mib_limit.map(Memory::mebibytes),
        }
    }

    #[test]
    fn every_preset_is_valid_and_recognised() {
        for preset in SizePreset::ALL {
            assert_eq!(preset.resources().validate(), Ok(()), "{preset:?}");
            assert_eq!(SizePreset::matching(&preset.resources()), Some(preset));
        }
        assert_eq!(SizePreset::matching(&resources(100, None, 100, None)), None);
    }

    #[test]
    fn presets_follow_the_reference_table_in_binary_units() {
        let small = SizePreset::Small.resources();
        assert_eq!(small.cpu_request, Cpu::millicores(500));
        assert_eq!(small.cpu_limit, Some(Cpu::cores(2)));
        assert_eq!(small.memory_request, Memory::gibibytes(1));
        assert_eq!(small.memory_limit, Some(Memory::gibibytes(4)));
        assert_eq!(SizePreset::Tiny.storage(), Storage::mebibytes(512));
        assert_eq!(SizePreset::Huge.storage().to_string(), "1Ti");
        assert_eq!(
            SizePreset::Huge.resources().memory_request.to_string(),
            "256Gi"
        );
    }

    #[test]
    fn presets_serialize_in_lowercase() {
        assert_eq!(
            serde_json::to_string(&SizePreset::XLarge).unwrap(),
            "\"xlarge\""
        );
        assert_eq!(SizePreset::XLarge.label(), "XLarge");
    }

    #[test]
    fn limits_below_requests_name_both_values() {
        let problems = resources(500, Some(250), 512, Some(256))
            .validate()
            .unwrap_err();
        assert_eq!(problems.len(), 2);
        let cpu = problems.for_field("cpu_limit").unwrap();
        assert_eq!(cpu.rule, Rule::Consistency);
        assert_eq!(cpu.message, "cpu limit 250m is below the request 500m");
        let memory = problems.for_field("memory_limit").unwrap();
        assert_eq!(memory.rule, Rule::Consistency);
        assert_eq!(
            memory.message,
            "memory limit 256Mi is below the request 512Mi"
        );
    }

    #[test]
    fn limits_equal_to_requests_or_absent_are_fine() {
        assert_eq!(resources(500, Some(500), 512, Some(512)).validate(), Ok(()));
        assert_eq!(resources(10, None, 64, None).validate(), Ok(()));
    }

    #[test]
    fn requests_below_the_floor_are_refused() {
        let problems = resources(5, None, 32, None).validate().unwrap_err();
        assert_eq!(problems.len(), 2);
        assert_eq!(
            problems
                .for_field("cpu_request")
                .map(|e| e.message.as_str()),
            Some("must be at least 10m; 5m is less")
        );
        assert_eq!(
            problems
                .for_field("memory_request")
                .map(|e| (e.rule, e.message.as_str())),
            Some((Rule::Range, "must be at least 64 MiB; 32 MiB is less"))
        );
        let floor = ResourceFloor::with_memory(Memory::mebibytes(256));
        let problems = resources(500, None, 128, None)
            .validate_at_least(&floor)
            .unwrap_err();
        assert!(problems.for_field("memory_request").is_some());
    }

    #[test]
    fn more_than_a_node_can_offer_is_refused() {
        let huge = Resources {
            cpu_request: Cpu::cores(2_000),
            cpu_limit: Some(Cpu::cores(2_000)),
            memory_request: Memory::gibibytes(64 * 1_024),
            memory_limit: None,
        };
        let problems = huge.validate().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cpu_request", "cpu_limit", "memory_request"]);
        assert!(problems.iter().all(|e| e.rule == Rule::Range));
    }

    #[test]
    fn memory_ceiling_is_the_limit_or_else_the_request() {
        let with_limit = resources(500, None, 512, Some(1024));
        assert_eq!(with_limit.memory_ceiling(), &Memory::gibibytes(1));
        assert_eq!(with_limit.memory_ceiling_field(), "memory_limit");
        let without = resources(500, None, 512, None);
        assert_eq!(without.memory_ceiling(), &Memory::mebibytes(512));
        assert_eq!(without.memory_ceiling_field(), "memory_request");
    }

    #[test]
    fn resources_round_trip_through_serde_and_refuse_unknown_fields() {
        let value = SizePreset::Small.resources();
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(
            json,
            r#"{"cpu_request":"500m","cpu_limit":"2","memory_request":"1Gi","memory_limit":"4Gi"}"#
        );
        assert_eq!(serde_json::from_str::<Resources>(&json).unwrap(), value);
        let minimal: Resources =
            serde_json::from_str(r#"{"cpu_request":"100m","memory_request":"128Mi"}"#).unwrap();
        assert_eq!(minimal.cpu_limit, None);
        assert!(
            serde_json::from_str::<Resources>(
                r#"{"cpu_request":"1","memory_request":"1Gi","gpu":1}"#
            )
            .is_err()
        );
    }
}
