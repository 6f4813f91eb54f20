//! Decoding battery configs from JSON (what the database and the browser
//! send) never panics, whatever arrives; what decodes re-encodes to itself;
//! validation never panics on anything that decodes. 100 000 cases run in CI.

use bi_model::catalog::{BatteryConfig, BatteryKind};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "[ -~]{0,12}".prop_map(Value::String),
        // Values that look like the real thing: sizes, durations, images.
        prop::sample::select(vec![
            "512Mi",
            "1Gi",
            "500",
            "500m",
            "1.5 GB",
            "15m",
            "1h30m",
            "0s",
            "-1Gi",
            "docker.io/grafana/loki:3.6.2",
            "latest",
            "battery-core",
            "Not_A_Label",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,24}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A battery's default config as JSON with one field replaced by `value`.
fn mutated_config() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(BatteryKind::ALL.to_vec()),
        any::<prop::sample::Index>(),
        any_json(),
    )
        .prop_map(|(kind, index, value)| {
            let mut stored =
                serde_json::to_value(BatteryConfig::default_for(kind)).unwrap_or(Value::Null);
            if let Some(fields) = stored
                .get_mut("config")
                .and_then(Value::as_object_mut)
                .filter(|fields| !fields.is_empty())
            {
                let key = fields.keys().nth(index.index(fields.len())).cloned();
                if let Some(key) = key {
                    fields.insert(key, value);
                }
            }
            stored
        })
}

fn check(value: &Value) -> Result<(), TestCaseError> {
    if let Ok(config) = serde_json::from_value::<BatteryConfig>(value.clone()) {
        let _ = config.validate();
        let again: BatteryConfig = serde_json::from_value(
            serde_json::to_value(&config).map_err(|e| TestCaseError::fail(e.to_string()))?,
        )
        .map_err(|e| TestCaseError::fail(format!("re-decoding {config:?}: {e}")))?;
        prop_assert_eq!(again, config);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decoding_mutated_configs_never_panics_and_round_trips(value in mutated_config()) {
        check(&value)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_json_never_panics(
        kind in prop::sample::select(BatteryKind::ALL.to_vec()),
        config in any_json(),
    ) {
        check(&json!({ "kind": kind, "config": config }))?;
        check(&config)?;
    }
}
