//! Projects: a named group of a person's databases, services and notebooks,
//! created together and exported together.

use serde::{Deserialize, Serialize};

use crate::names::{check_at, check_dns_label};
use crate::validation::{Problems, Rule};

/// The longest description, in characters.
pub const DESCRIPTION_MAX_LEN: usize = 1000;

/// A project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project's name, a DNS label.
    pub name: String,
    /// What the project is for, at most 1000 characters.
    #[serde(default)]
    pub description: String,
}

impl Project {
    /// Every problem with the project.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(&mut problems, "name", check_dns_label(&self.name));
        let len = self.description.chars().count();
        if len > DESCRIPTION_MAX_LEN {
            problems.push(
                "description",
                Rule::Range,
                format!("must be at most {DESCRIPTION_MAX_LEN} characters; it has {len}"),
            );
        }
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_project_is_valid() {
        let project = Project {
            name: "shop".into(),
            description: "é".repeat(DESCRIPTION_MAX_LEN),
        };
        assert_eq!(project.validate(), Ok(()));
    }

    #[test]
    fn a_default_project_needs_a_name() {
        let problems = Project::default().validate().unwrap_err();
        assert_eq!(
            problems.for_field("name").map(|e| e.rule),
            Some(Rule::Required)
        );
    }

    #[test]
    fn reports_bad_name_and_long_description_together() {
        let project = Project {
            name: "My Shop".into(),
            description: "x".repeat(1001),
        };
        let problems = project.validate().unwrap_err();
        assert_eq!(problems.len(), 2);
        assert_eq!(
            problems.for_field("name").map(|e| e.rule),
            Some(Rule::DnsLabel)
        );
        assert_eq!(
            problems
                .for_field("description")
                .map(|e| e.message.as_str()),
            Some("must be at most 1000 characters; it has 1001")
        );
    }

    #[test]
    fn round_trips_through_serde_and_defaults_the_description() {
        let project = Project {
            name: "shop".into(),
            description: "the shop".into(),
        };
        let json = serde_json::to_string(&project).unwrap();
        assert_eq!(serde_json::from_str::<Project>(&json).unwrap(), project);
        let bare: Project = serde_json::from_str(r#"{"name":"shop"}"#).unwrap();
        assert_eq!(bare.description, "");
        assert!(serde_json::from_str::<Project>(r#"{"name":"shop","type":"web"}"#).is_err());
    }
}
