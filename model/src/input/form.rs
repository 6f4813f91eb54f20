//! A battery's config as a form: one text per field of its stored JSON,
//! decoded and validated by `bi-model` (in the browser on every change, on
//! the server again before storing), with each problem on its field.
//!
//! Pure functions: the page keeps the texts in signals and calls
//! [`FormField::value`] and [`decode`]; the server calls [`decode`] again
//! and passes the typed config on.

use serde_json::{Map, Value};

use super::{clean_message, config_fields};
use crate::catalog::{BatteryConfig, BatteryKind};
use crate::{Problems, Rule};

/// How a field of the stored config is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldShape {
    /// Text: names, images, quantities (`1Gi`), durations (`5m`).
    Text,
    /// A JSON number.
    Number,
    /// A checkbox.
    Flag,
    /// An optional value, `null` when the text is empty.
    Optional,
    /// A list or nested object, edited as JSON.
    Json,
}

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// The key in the config (`storage`).
    pub key: String,
    /// How it is edited.
    pub shape: FieldShape,
    /// Its text as first shown.
    pub text: String,
}

impl FormField {
    /// The fields of a stored config object, in its key order.
    pub fn all(config: &Value) -> Vec<FormField> {
        config
            .as_object()
            .map(|fields| {
                fields
                    .iter()
                    .map(|(key, value)| {
                        let (shape, text) = match value {
                            Value::String(text) => (FieldShape::Text, text.clone()),
                            Value::Number(number) => (FieldShape::Number, number.to_string()),
                            Value::Bool(flag) => (FieldShape::Flag, flag.to_string()),
                            Value::Null => (FieldShape::Optional, String::new()),
                            other => (
                                FieldShape::Json,
                                serde_json::to_string_pretty(other).unwrap_or_default(),
                            ),
                        };
                        FormField {
                            key: key.clone(),
                            shape,
                            text,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The JSON value of `text` for this field. Text that is not of the
    /// field's type stays a string, so decoding names the field.
    pub fn value(&self, text: &str) -> Value {
        let parsed = || serde_json::from_str::<Value>(text.trim()).ok();
        match self.shape {
            FieldShape::Text => Value::String(text.to_owned()),
            FieldShape::Number | FieldShape::Json => {
                parsed().unwrap_or_else(|| Value::String(text.to_owned()))
            }
            FieldShape::Flag => Value::Bool(text == "true"),
            FieldShape::Optional if text.trim().is_empty() => Value::Null,
            FieldShape::Optional => parsed()
                .filter(|value| !value.is_string())
                .unwrap_or_else(|| Value::String(text.to_owned())),
        }
    }
}

/// The config of `kind` with `fields`, decoded and validated; every
/// problem names its field (`storage`), relative to the config.
pub fn decode(kind: BatteryKind, fields: &Value) -> Result<BatteryConfig, Problems> {
    let config = match decode_fields(kind, fields) {
        Ok(config) => config,
        Err(whole) => return Err(decode_problems(kind, fields, &whole)),
    };
    config.validate().map(|()| config)
}

fn decode_fields(kind: BatteryKind, fields: &Value) -> Result<BatteryConfig, serde_json::Error> {
    let mut stored = Map::new();
    stored.insert("kind".into(), Value::String(kind.id().into()));
    stored.insert("config".into(), fields.clone());
    serde_json::from_value(Value::Object(stored))
}

/// Which fields fail to decode: each edited field tried alone on top of
/// the defaults, so a bad value is reported under its own field.
fn decode_problems(kind: BatteryKind, fields: &Value, whole: &serde_json::Error) -> Problems {
    let mut problems = Problems::new();
    let defaults = config_fields(&BatteryConfig::default_for(kind)).unwrap_or_default();
    if let Some(edited) = fields.as_object() {
        for (key, value) in edited {
            let mut alone = defaults.clone();
            alone.insert(key.clone(), value.clone());
            if let Err(err) = decode_fields(kind, &Value::Object(alone)) {
                problems.push(key.clone(), Rule::Format, clean_message(&err));
            }
        }
    }
    if problems.is_empty() {
        problems.push("", Rule::Format, clean_message(whole));
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn grafana_fields(storage: &str) -> Value {
        let config = serde_json::to_value(BatteryConfig::default_for(BatteryKind::Grafana))
            .unwrap()["config"]
            .clone();
        let mut fields = config.as_object().unwrap().clone();
        let field = FormField {
            key: "storage".into(),
            shape: FieldShape::Text,
            text: String::new(),
        };
        fields.insert("storage".into(), field.value(storage));
        Value::Object(fields)
    }

    #[test]
    fn a_size_without_unit_is_reported_under_its_field() {
        let problems = decode(BatteryKind::Grafana, &grafana_fields("500")).unwrap_err();
        let error = problems.for_field("storage").expect("an error on storage");
        assert!(!error.message.contains("line"), "{}", error.message);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn a_size_with_unit_decodes_to_the_typed_value() {
        let config = decode(BatteryKind::Grafana, &grafana_fields("5Gi")).unwrap();
        let BatteryConfig::Grafana(grafana) = config else {
            panic!("not grafana: {config:?}");
        };
        assert_eq!(grafana.storage, crate::units::Storage::gibibytes(5));
    }

    #[test]
    fn numbers_and_flags_keep_their_json_types() {
        let number = FormField {
            key: "replicas".into(),
            shape: FieldShape::Number,
            text: String::new(),
        };
        assert_eq!(number.value("3"), Value::from(3));
        assert_eq!(number.value("three"), Value::from("three"));
        let flag = FormField {
            key: "enabled".into(),
            shape: FieldShape::Flag,
            text: String::new(),
        };
        assert_eq!(flag.value("true"), Value::Bool(true));
    }
}
