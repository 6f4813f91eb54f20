//! Jupyter notebooks: one JupyterLab server with a volume for its home.

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::image::ImageRef;
use crate::names::{check_at, check_derived_name};
use crate::objects::resources::{ResourceFloor, Resources, SizePreset};
use crate::units::{Memory, Storage};
use crate::validation::{Problems, Rule};

/// The longest name: what the names and labels bi and the operator derive
/// from it leave room for (see `catalog::notebooks::NOTEBOOK_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::notebooks::NOTEBOOK_NAME_MAX_LEN;

/// The image a new notebook runs.
pub const DEFAULT_IMAGE: &str = "quay.io/jupyter/datascience-notebook:lab-4.5.0";

/// A Jupyter notebook server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notebook {
    /// The notebook's name, a DNS label.
    pub name: String,
    /// The JupyterLab image.
    pub image: ImageRef,
    /// The home volume (at least 512 MiB).
    pub storage: Storage,
    /// CPU and memory (memory at least 256 MiB).
    pub resources: Resources,
}

impl Default for Notebook {
    /// The data-science image with the small preset: pandas and friends
    /// need more than the tiny one's 512 MiB.
    fn default() -> Self {
        Self {
            name: String::new(),
            image: ImageRef::from_static(DEFAULT_IMAGE),
            storage: SizePreset::Small.storage(),
            resources: SizePreset::Small.resources(),
        }
    }
}

impl Notebook {
    /// The smallest home volume: 512 MiB.
    pub fn min_storage() -> Storage {
        Storage::mebibytes(512)
    }

    /// The smallest memory request: JupyterLab and one kernel need 256 MiB.
    pub fn resource_floor() -> ResourceFloor {
        ResourceFloor::with_memory(Memory::mebibytes(256))
    }

    /// Every problem with the notebook.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::notebooks::NOTEBOOK_NAMES),
        );
        let min_storage = Self::min_storage();
        if self.storage < min_storage {
            problems.push(
                "storage",
                Rule::Range,
                format!(
                    "must be at least {}; {} is less",
                    min_storage.human(),
                    self.storage.human()
                ),
            );
        }
        problems.merge(
            "resources",
            self.resources.validate_at_least(&Self::resource_floor()),
        );
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_uses_the_datascience_image_and_only_lacks_a_name() {
        let notebook = Notebook::default();
        assert_eq!(notebook.image.to_string(), DEFAULT_IMAGE);
        let problems = notebook.validate().unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect();
        assert_eq!(fields, [("name", Rule::Required)]);
    }

    #[test]
    fn reports_name_storage_and_memory_together() {
        let mut notebook = Notebook {
            name: "-lab".into(),
            storage: Storage::mebibytes(100),
            ..Notebook::default()
        };
        notebook.resources.memory_request = Memory::mebibytes(128);
        let problems = notebook.validate().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "storage", "resources.memory_request"]);
        assert_eq!(
            problems.for_field("storage").map(|e| e.message.as_str()),
            Some("must be at least 512 MiB; 100 MiB is less")
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let notebook = Notebook {
            name: "lab".into(),
            ..Notebook::default()
        };
        let json = serde_json::to_value(&notebook).unwrap();
        assert_eq!(json["image"], DEFAULT_IMAGE);
        assert_eq!(json["storage"], "16Gi");
        assert_eq!(serde_json::from_value::<Notebook>(json).unwrap(), notebook);
    }
}
