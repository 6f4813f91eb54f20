//! Environment variables of a user's containers: a literal value, or a key
//! of a Secret so that passwords never sit in the desired state as text.

use serde::{Deserialize, Serialize};

use crate::names::{
    check_at, check_dns_subdomain, check_env_var_name, check_secret_key, check_unique,
};
use crate::validation::Problems;

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    /// The variable's name, e.g. `DATABASE_URL`.
    pub name: String,
    /// Where its value comes from.
    pub value: EnvValue,
}

/// Where an environment variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EnvValue {
    /// The value itself.
    Literal(String),
    /// A key of a Secret in the same namespace.
    SecretRef {
        /// The Secret's name.
        secret: String,
        /// The key inside it.
        key: String,
    },
}

impl EnvVar {
    /// A variable with a literal value.
    pub fn literal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: EnvValue::Literal(value.into()),
        }
    }

    /// A variable read from `key` of the Secret `secret`.
    pub fn secret(
        name: impl Into<String>,
        secret: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            value: EnvValue::SecretRef {
                secret: secret.into(),
                key: key.into(),
            },
        }
    }

    /// Every problem with this variable: its name and, for a Secret
    /// reference, the Secret's name and key.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(&mut problems, "name", check_env_var_name(&self.name));
        if let EnvValue::SecretRef { secret, key } = &self.value {
            check_at(
                &mut problems,
                "value.secret_ref.secret",
                check_dns_subdomain(secret),
            );
            check_at(&mut problems, "value.secret_ref.key", check_secret_key(key));
        }
        problems.into_result()
    }
}

/// Every problem with a list of variables (paths `[i].name`, …), including
/// names used twice: the later one would silently win.
pub fn validate_env(env: &[EnvVar]) -> Result<(), Problems> {
    let mut problems = Problems::new();
    for (i, var) in env.iter().enumerate() {
        problems.merge(&format!("[{i}]"), var.validate());
    }
    check_unique(
        &mut problems,
        "",
        "name",
        "variable",
        env.iter().map(|v| v.name.as_str()),
    );
    problems.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Rule;

    #[test]
    fn literal_and_secret_variables_are_valid() {
        let env = [
            EnvVar::literal("LOG_LEVEL", "debug"),
            EnvVar::secret("DATABASE_URL", "pg-main.app", "uri"),
        ];
        assert_eq!(validate_env(&env), Ok(()));
    }

    #[test]
    fn every_bad_part_is_reported_with_its_path() {
        let env = [
            EnvVar::literal("LOG_LEVEL", "debug"),
            EnvVar::secret("db-url", "Bad_Secret", "a/b"),
            EnvVar::literal("LOG_LEVEL", "info"),
        ];
        let problems = validate_env(&env).unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect();
        assert_eq!(
            fields,
            [
                ("[1].name", Rule::Format),
                ("[1].value.secret_ref.secret", Rule::DnsLabel),
                ("[1].value.secret_ref.key", Rule::Format),
                ("[2].name", Rule::Unique),
            ]
        );
    }

    #[test]
    fn env_round_trips_through_serde() {
        let env = vec![
            EnvVar::literal("A", "1"),
            EnvVar::secret("B", "creds", "password"),
        ];
        let json = serde_json::to_string(&env).unwrap();
        assert_eq!(
            json,
            r#"[{"name":"A","value":{"literal":"1"}},{"name":"B","value":{"secret_ref":{"secret":"creds","key":"password"}}}]"#
        );
        assert_eq!(serde_json::from_str::<Vec<EnvVar>>(&json).unwrap(), env);
        assert!(
            serde_json::from_str::<EnvVar>(
                r#"{"name":"B","value":{"secret_ref":{"secret":"s","key":"k","optional":true}}}"#
            )
            .is_err()
        );
    }
}
