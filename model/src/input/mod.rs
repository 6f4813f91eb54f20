//! The one input layer: text becomes typed battery configs here, with every
//! problem named by its field, for every way in.
//!
//! - [`settings`]: `key=value` settings, as the CLI's `--set` and the JSON
//!   API send them, applied to a config (install, configure).
//! - [`form`]: a config's fields as the web UI's form edits them, decoded
//!   and validated in the browser on every change and on the server again.
//! - [`object_form`] and [`service_form`]: the project page's add forms and
//!   the service page's form, texts to typed project objects, with problems
//!   named by the form's keys. The CLI's object flags use the same typed
//!   parsers (`crate::units`, `crate::image`).
//!
//! Both end in a typed [`crate::catalog::BatteryConfig`]: install and
//! configure pass that value on, never text. [`changed_settings`] turns two
//! configs back into `key=value` text, only to describe a change in the
//! audit trail.

use serde_json::{Map, Value};

use crate::catalog::BatteryConfig;

pub mod form;
pub mod object_form;
pub mod service_form;
pub mod settings;

pub use settings::{
    apply_settings, changed_settings, describe_settings, parse_setting, parse_settings, valid_keys,
    validated,
};

/// The fields of a config's stored form (`{"kind", "config": {…}}`), as
/// the form edits them and `key=value` settings address them.
fn config_fields(config: &BatteryConfig) -> Option<Map<String, Value>> {
    match serde_json::to_value(config).ok()? {
        Value::Object(mut stored) => match stored.remove("config")? {
            Value::Object(fields) => Some(fields),
            _ => None,
        },
        _ => None,
    }
}

/// serde_json's message without its ` at line 1 column 20` suffix, which
/// points into JSON the user never wrote.
fn clean_message(err: &serde_json::Error) -> String {
    let message = err.to_string();
    if err.line() == 0 {
        return message;
    }
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    message
        .strip_suffix(&suffix)
        .map_or(message.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::clean_message;

    #[test]
    fn strips_serdes_position_suffix() {
        let err = serde_json::from_str::<u32>("\"x\"").unwrap_err();
        let message = clean_message(&err);
        assert!(!message.contains("line"), "{message}");
        assert!(message.starts_with("invalid type"), "{message}");
    }
}
