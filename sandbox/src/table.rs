//! `meta.k8s.io/v1` Tables, the server-side printing kubectl asks for
//! (`Accept: application/json;as=Table;…`), so `kubectl get` prints columns
//! (Name, a per-kind column or two, Age) instead of raw objects; and
//! `PartialObjectMetadata` (`as=PartialObjectMetadata` or
//! `…List`), the metadata alone, which controllers and bi's plan ask for.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use serde_json::{Value, json};

use super::discovery::ResourceType;

/// Whether the client asked for a Table.
pub(crate) fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains("as=Table"))
}

/// Whether the client asked for metadata only (`PartialObjectMetadata` or
/// `PartialObjectMetadataList`).
pub(crate) fn metadata_wanted(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains("as=PartialObjectMetadata"))
}

/// `object` as a `PartialObjectMetadata`: its metadata alone.
pub(crate) fn partial(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// A `PartialObjectMetadataList` of `items` with the list's `metadata`.
pub(crate) fn partial_list(items: &[Value], list_metadata: Value) -> Value {
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "items": items.iter().map(partial).collect::<Vec<_>>(),
    })
}

/// A Table of `items`; rows carry the full object when `include_object` is `Object`,
/// else its metadata only (kubectl's default).
pub(crate) fn table(
    rt: &ResourceType,
    items: &[Value],
    list_metadata: Value,
    include_object: Option<&str>,
) -> Value {
    let extra = extra_columns(rt);
    let mut columns = vec![column(
        "Name",
        "name",
        "Name must be unique within a namespace.",
    )];
    columns.extend(extra.iter().map(|(name, _)| column(name, "", "")));
    columns.push(column(
        "Age",
        "",
        "CreationTimestamp is when the object was created.",
    ));
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut cells = vec![item.pointer("/metadata/name").cloned().unwrap_or(json!(""))];
            cells.extend(extra.iter().map(|(_, cell)| json!(cell(item))));
            cells.push(json!(age(item)));
            let object = match include_object {
                Some("Object") => item.clone(),
                Some("None") => Value::Null,
                _ => partial(item),
            };
            json!({ "cells": cells, "object": object })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn column(name: &str, format: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": "string",
        "format": format,
        "description": description,
        "priority": 0,
    })
}

type Cell = fn(&Value) -> String;

fn extra_columns(rt: &ResourceType) -> Vec<(&'static str, Cell)> {
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("apps", "deployments" | "statefulsets") => vec![("Ready", |item: &Value| {
            let ready = item
                .pointer("/status/readyReplicas")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let wanted = item
                .pointer("/spec/replicas")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            format!("{ready}/{wanted}")
        })],
        ("", "namespaces") => vec![("Status", |item: &Value| {
            item.pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        })],
        ("", "nodes") => vec![("Status", |item: &Value| {
            let ready = item
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            if ready { "Ready (sandbox)" } else { "NotReady" }.to_owned()
        })],
        _ => Vec::new(),
    }
}

/// Age as kubectl prints it: `45s`, `3m12s`, `5h`, `2d3h`, `40d`.
fn age(item: &Value) -> String {
    let created = item
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let Some(created) = created else {
        return "<unknown>".into();
    };
    let seconds = (chrono::Utc::now() - created.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    human_duration(seconds)
}

fn human_duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    match () {
        () if seconds < 120 => format!("{seconds}s"),
        () if minutes < 10 && seconds % 60 != 0 => format!("{minutes}m{}s", seconds % 60),
        () if minutes < 180 => format!("{minutes}m"),
        () if hours < 8 && minutes % 60 != 0 => format!("{hours}h{}m", minutes % 60),
        () if hours < 48 => format!("{hours}h"),
        () if days < 8 && hours % 24 != 0 => format!("{days}d{}h", hours % 24),
        () if days < 730 => format!("{days}d"),
        () => format!("{}y", days / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(190), "3m10s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
        assert_eq!(human_duration(20 * 3600), "20h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(40 * 86400), "40d");
    }
}
