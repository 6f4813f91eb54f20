//! Typed `key=value` settings for battery configs, as the CLI's `--set`
//! and the JSON API send them.
//!
//! A setting names a field of the battery's stored config
//! (`{"kind": …, "config": {…}}`) by its dotted path (`storage`,
//! `backup.schedule`); the text after `=` becomes a JSON value of the type the
//! field holds now, and the whole config is decoded again by `bi-model`, so
//! the model's own parsers judge the value and their sentences reach the
//! user (`"500" has no unit: did you mean 500 GiB?`), never a serde wrapper.

use serde_json::{Map, Number, Value};

use super::{clean_message, config_fields};
use crate::catalog::{BatteryConfig, BatteryKind};
use crate::generate::value_text;
use crate::units::{Cpu, Duration, Memory, Storage};
use crate::{Problems, Rule};

/// Splits `memory=512Mi` into its key and value (both trimmed; the value
/// may be empty, and may itself contain `=`).
pub fn parse_setting(text: &str) -> Result<(String, String), Problems> {
    let mut problems = Problems::new();
    let Some((key, value)) = text.split_once('=') else {
        problems.push(
            "setting",
            Rule::Format,
            format!("\"{text}\" is not a setting: write key=value, e.g. storage=2Gi"),
        );
        return Err(problems);
    };
    let key = key.trim();
    if key.is_empty() {
        problems.push(
            "setting",
            Rule::Required,
            format!("\"{text}\" has no key before '=': write key=value, e.g. storage=2Gi"),
        );
        return Err(problems);
    }
    Ok((key.to_owned(), value.trim().to_owned()))
}

/// Parses every `key=value` text, reporting every malformed one at once.
pub fn parse_settings(texts: &[String]) -> Result<Vec<(String, String)>, Problems> {
    let mut problems = Problems::new();
    let mut settings = Vec::new();
    for text in texts {
        match parse_setting(text) {
            Ok(setting) => settings.push(setting),
            Err(nested) => problems.extend_under("", nested),
        }
    }
    problems.into_result().map(|()| settings)
}

/// `config` with every setting applied, decoded and validated by the model.
///
/// Every problem is reported, each on `<battery>.<key>`: unknown keys (with
/// the battery's valid keys listed), values that are not of the field's type,
/// values the model's parsers refuse, and the config's own validation.
pub fn apply_settings(
    config: &BatteryConfig,
    settings: &[(String, String)],
) -> Result<BatteryConfig, Problems> {
    let battery = config.kind();
    let mut problems = Problems::new();
    let mut stored = match serde_json::to_value(config) {
        Ok(stored) => stored,
        Err(err) => {
            problems.push(
                battery.id(),
                Rule::Format,
                format!("cannot encode the config of {battery}: {err}"),
            );
            return Err(problems);
        }
    };
    for (key, raw) in settings {
        let key = key.trim();
        let field = format!("{battery}.{key}");
        // NB: every battery config serializes every field (an unset option
        // as null), so a key absent from the stored form is unknown.
        let Some(current) = fields(&stored).and_then(|fields| lookup(fields, key)) else {
            problems.push(field, Rule::Format, unknown_key(battery, key, &stored));
            continue;
        };
        let candidates = match candidates(current, raw) {
            Ok(candidates) => candidates,
            Err(message) => {
                problems.push(field, Rule::Format, message);
                continue;
            }
        };
        match first_accepted(&stored, key, raw, candidates) {
            Ok(accepted) => stored = accepted,
            Err((rule, message)) => problems.push(field, rule, message),
        }
    }
    problems.into_result()?;
    let updated: BatteryConfig = serde_json::from_value(stored).map_err(|err| {
        let mut problems = Problems::new();
        problems.push(battery.id(), Rule::Format, clean_message(&err));
        problems
    })?;
    validated(&updated).map(|()| updated)
}

/// `config`'s own validation, every problem named `<battery>.<field>` as
/// the other battery operations name them.
pub fn validated(config: &BatteryConfig) -> Result<(), Problems> {
    let mut problems = Problems::new();
    problems.merge(config.kind().id(), config.validate());
    problems.into_result()
}

/// Every settable key of `config`, dotted (`storage`, `backup.schedule`),
/// sorted.
pub fn valid_keys(config: &BatteryConfig) -> Vec<String> {
    config_fields(config)
        .as_ref()
        .map(leaf_keys)
        .unwrap_or_default()
}

/// The `key=value` settings that turn `old` into `new` (two configs of one
/// battery): one per leaf field that differs, dotted, in the config's key
/// order; text as it is, an unset option as empty. For audit summaries.
pub fn changed_settings(old: &BatteryConfig, new: &BatteryConfig) -> Vec<(String, String)> {
    let old = config_fields(old).unwrap_or_default();
    let new = config_fields(new).unwrap_or_default();
    let mut settings = Vec::new();
    leaf_changes("", &old, &new, &mut settings);
    settings
}

/// `storage=2Gi, replicas=3`.
pub fn describe_settings(settings: &[(String, String)]) -> String {
    settings
        .iter()
        .map(|(key, value)| format!("{}={value}", key.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn leaf_changes(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    settings: &mut Vec<(String, String)>,
) {
    for (key, value) in new {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (old.get(key), value) {
            (Some(before), _) if before == value => {}
            (Some(Value::Object(before)), Value::Object(after)) => {
                leaf_changes(&path, before, after, settings);
            }
            (_, Value::Null) => settings.push((path, String::new())),
            (_, other) => settings.push((path, value_text(other))),
        }
    }
}

/// The `config` object inside a stored battery config.
fn fields(stored: &Value) -> Option<&Map<String, Value>> {
    stored.get("config").and_then(Value::as_object)
}

/// The value at a dotted path under `fields`.
fn lookup<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let mut current = fields.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// `stored` with the dotted path `key` under `config` set to `value`.
fn with_value(stored: &Value, key: &str, value: Value) -> Option<Value> {
    let mut updated = stored.clone();
    let mut current = updated.get_mut("config")?;
    for part in key.split('.') {
        current = current.as_object_mut()?.get_mut(part)?;
    }
    *current = value;
    Some(updated)
}

/// Every leaf path under `fields`, sorted: nested objects are walked,
/// arrays and scalars are leaves.
fn leaf_keys(fields: &Map<String, Value>) -> Vec<String> {
    let mut keys = Vec::new();
    for (name, value) in fields {
        match value {
            Value::Object(nested) if !nested.is_empty() => keys.extend(
                leaf_keys(nested)
                    .into_iter()
                    .map(|inner| format!("{name}.{inner}")),
            ),
            _ => keys.push(name.clone()),
        }
    }
    // NB: sorted here rather than trusting the map's order, which depends
    // on serde_json's `preserve_order` feature anywhere in the build.
    keys.sort();
    keys
}

fn unknown_key(battery: BatteryKind, key: &str, stored: &Value) -> String {
    let keys = fields(stored).map(leaf_keys).unwrap_or_default();
    if keys.is_empty() {
        format!("{battery} has no settings; \"{key}\" is not one")
    } else {
        format!(
            "{battery} has no setting \"{key}\"; valid keys: {}",
            keys.join(", ")
        )
    }
}

/// The JSON values `raw` may mean for a field that holds `current`, most
/// specific first; `Err` says why `raw` cannot be of that type.
fn candidates(current: &Value, raw: &str) -> Result<Vec<Value>, String> {
    match current {
        Value::String(_) => {
            // NB: a bare number typed for a text field is tried as a JSON
            // number first: a size or duration refuses it with the model's
            // own "has no unit" sentence (as a string, "500" would quietly
            // be 500 bytes), while a plain text field refuses its type and
            // the string is tried next.
            match bare_number(raw) {
                Some(number) => Ok(vec![Value::Number(number), Value::String(raw.to_owned())]),
                None => Ok(vec![Value::String(raw.to_owned())]),
            }
        }
        Value::Number(_) => bare_number(raw)
            .map(|number| vec![Value::Number(number)])
            .ok_or_else(|| format!("must be a number; \"{raw}\" is not")),
        Value::Bool(_) => match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(vec![Value::Bool(true)]),
            "false" => Ok(vec![Value::Bool(false)]),
            _ => Err(format!("must be true or false; \"{raw}\" is not")),
        },
        Value::Array(items) => list(items.first(), raw).map(|list| vec![list]),
        Value::Null if raw.is_empty() => Ok(vec![Value::Null]),
        Value::Null => {
            let mut values = vec![Value::String(raw.to_owned())];
            if let Ok(json) = serde_json::from_str::<Value>(raw) {
                values.push(json);
            }
            Ok(values)
        }
        Value::Object(nested) => {
            let keys = leaf_keys(nested);
            if raw.trim_start().starts_with('{')
                && let Ok(json @ Value::Object(_)) = serde_json::from_str::<Value>(raw)
            {
                return Ok(vec![json]);
            }
            Err(format!(
                "is a group of settings; set one of its keys ({}) or give a JSON object",
                keys.join(", ")
            ))
        }
    }
}

/// A list: a JSON array as typed, or comma-separated items of the type of
/// the list's current first item (text when the list is empty).
fn list(first: Option<&Value>, raw: &str) -> Result<Value, String> {
    if raw.trim_start().starts_with('[') {
        return match serde_json::from_str::<Value>(raw) {
            Ok(array @ Value::Array(_)) => Ok(array),
            _ => Err(format!("\"{raw}\" is not a JSON array")),
        };
    }
    let text = Value::String(String::new());
    let item_type = first.unwrap_or(&text);
    let mut items = Vec::new();
    for item in raw
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let mut values = candidates(item_type, item)?;
        // NB: a list item has no decoder of its own to choose between
        // readings; the last candidate is the literal one.
        if let Some(value) = values.pop() {
            items.push(value);
        }
    }
    Ok(Value::Array(items))
}

/// `raw` as a JSON number, when it is exactly one.
fn bare_number(raw: &str) -> Option<Number> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.starts_with('+') {
        return None;
    }
    serde_json::from_str::<Number>(trimmed).ok()
}

/// Stores the first candidate the model decodes. A candidate of the wrong
/// JSON type lets the next one try; any other refusal is the model's verdict
/// on the value and is reported as it is.
fn first_accepted(
    stored: &Value,
    key: &str,
    raw: &str,
    candidates: Vec<Value>,
) -> Result<Value, (Rule, String)> {
    let mut last = (Rule::Format, format!("\"{raw}\" is not a valid value"));
    for candidate in candidates {
        let Some(updated) = with_value(stored, key, candidate) else {
            break;
        };
        match serde_json::from_value::<BatteryConfig>(updated.clone()) {
            Ok(_) => return Ok(updated),
            Err(err) => {
                let message = clean_message(&err);
                let wrong_type = message.starts_with("invalid type: ");
                last = (rule_of(raw, &message), message);
                if !wrong_type {
                    break;
                }
            }
        }
    }
    Err(last)
}

/// The rule a decode failure broke: a unit parser's own rule when the
/// message is one of its sentences about `raw`, else [`Rule::Format`].
fn rule_of(raw: &str, message: &str) -> Rule {
    let unit_errors = [
        Memory::parse(raw).err(),
        Storage::parse(raw).err(),
        Duration::parse(raw).err(),
        Cpu::parse(raw).err(),
    ];
    unit_errors
        .into_iter()
        .flatten()
        .find(|err| err.to_string() == message)
        .map_or(Rule::Format, |err| err.rule())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::catalog::loki::LokiConfig;

    fn set(kind: BatteryKind, pairs: &[(&str, &str)]) -> Result<BatteryConfig, Problems> {
        let settings: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        apply_settings(&BatteryConfig::default_for(kind), &settings)
    }

    fn loki(config: BatteryConfig) -> LokiConfig {
        match config {
            BatteryConfig::Loki(loki) => loki,
            other => panic!("not loki: {other:?}"),
        }
    }

    #[test]
    fn parses_key_and_value_and_keeps_later_equals_signs() {
        assert_eq!(
            parse_setting(" storage = 2Gi ").unwrap(),
            ("storage".to_owned(), "2Gi".to_owned())
        );
        assert_eq!(
            parse_setting("bucket=a=b").unwrap(),
            ("bucket".to_owned(), "a=b".to_owned())
        );
    }

    #[test]
    fn refuses_a_setting_without_equals_or_key() {
        let missing = parse_setting("storage").unwrap_err();
        assert_eq!(missing.for_field("setting").unwrap().rule, Rule::Format);
        let empty = parse_setting("=2Gi").unwrap_err();
        assert_eq!(empty.for_field("setting").unwrap().rule, Rule::Required);
        let both = parse_settings(&["a".to_owned(), "=b".to_owned(), "c=d".to_owned()]);
        assert_eq!(both.unwrap_err().len(), 2);
    }

    #[test]
    fn sets_a_size_a_number_and_a_duration_by_their_types() {
        let config = loki(
            set(
                BatteryKind::Loki,
                &[("storage", "20Gi"), ("replicas", "3"), ("retention", "14d")],
            )
            .unwrap(),
        );
        assert_eq!(config.storage, Storage::gibibytes(20));
        assert_eq!(config.replicas, 3);
        assert_eq!(config.retention, Duration::parse("14d").unwrap());
    }

    #[test]
    fn rejects_memory_without_unit_with_the_models_sentence() {
        let problems = set(BatteryKind::Grafana, &[("storage", "500")]).unwrap_err();
        let error = problems.for_field("grafana.storage").unwrap();
        assert_eq!(error.message, "\"500\" has no unit: did you mean 500 GiB?");
        assert_eq!(error.rule, Rule::Unit);
        assert!(!error.message.contains("line"), "{}", error.message);
    }

    #[test]
    fn a_number_field_refuses_text() {
        let problems = set(BatteryKind::Loki, &[("replicas", "three")]).unwrap_err();
        assert_eq!(
            problems.for_field("loki.replicas").unwrap().message,
            "must be a number; \"three\" is not"
        );
    }

    #[test]
    fn a_bare_number_stays_text_in_a_text_field() {
        let config = set(BatteryKind::CloudnativePgBarman, &[("bucket", "12345")]).unwrap();
        assert!(matches!(
            config,
            BatteryConfig::CloudnativePgBarman(ref c) if c.bucket == "12345"
        ));
    }

    #[test]
    fn booleans_and_optional_text_are_typed() {
        let sso = set(BatteryKind::Sso, &[("mfa", "true")]).unwrap();
        assert!(matches!(sso, BatteryConfig::Sso(ref c) if c.mfa));
        let problems = set(BatteryKind::Sso, &[("mfa", "maybe")]).unwrap_err();
        assert_eq!(
            problems.for_field("sso.mfa").unwrap().message,
            "must be true or false; \"maybe\" is not"
        );
        let cert = set(
            BatteryKind::CertManager,
            &[("acme_email", "ops@example.com")],
        )
        .unwrap();
        assert!(matches!(
            cert,
            BatteryConfig::CertManager(ref c) if c.acme_email.as_deref() == Some("ops@example.com")
        ));
    }

    #[test]
    fn lists_take_commas_or_json() {
        let key = "subnets";
        let kind = BatteryKind::AwsLoadBalancerController;
        let commas = set(kind, &[(key, "subnet-0abc1234, subnet-0abc5678")]);
        let json = set(kind, &[(key, r#"["subnet-0abc1234","subnet-0abc5678"]"#)]);
        let subnets = |config: Result<BatteryConfig, Problems>| match config {
            Ok(BatteryConfig::AwsLoadBalancerController(c)) => c.subnets,
            other => panic!("{other:?}"),
        };
        assert_eq!(subnets(commas), ["subnet-0abc1234", "subnet-0abc5678"]);
        assert_eq!(subnets(json), ["subnet-0abc1234", "subnet-0abc5678"]);
    }

    #[test]
    fn an_unknown_key_is_refused_listing_the_valid_ones() {
        let problems = set(BatteryKind::Loki, &[("memory", "512Mi")]).unwrap_err();
        let error = problems.for_field("loki.memory").unwrap();
        assert_eq!(
            error.message,
            "loki has no setting \"memory\"; valid keys: image, replicas, retention, storage"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = set(
            BatteryKind::Loki,
            &[("storage", "500"), ("replicas", "x"), ("nope", "1")],
        )
        .unwrap_err();
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["loki.storage", "loki.replicas", "loki.nope"]);
    }

    #[test]
    fn validation_problems_carry_the_battery_prefix() {
        let problems = set(BatteryKind::Grafana, &[("storage", "1Mi")]).unwrap_err();
        assert_eq!(
            problems.for_field("grafana.storage").unwrap().rule,
            Rule::Range
        );
    }

    #[test]
    fn valid_keys_follow_the_config() {
        assert_eq!(
            valid_keys(&BatteryConfig::default_for(BatteryKind::Grafana)),
            ["image", "sidecar_image", "storage"]
        );
    }

    #[test]
    fn changed_settings_lists_only_the_leaves_that_differ() {
        let old = BatteryConfig::default_for(BatteryKind::Grafana);
        let new = apply_settings(&old, &[("storage".into(), "2Gi".into())]).unwrap();
        assert_eq!(
            changed_settings(&old, &new),
            [("storage".to_owned(), "2Gi".to_owned())]
        );
        assert!(changed_settings(&old, &old).is_empty());
        assert_eq!(
            describe_settings(&changed_settings(&old, &new)),
            "storage=2Gi"
        );
    }
}
