//! Label selectors (`app=web,tier in (a,b),!legacy`) and field selectors
//! (`metadata.name=web`) as list, watch and deletecollection take them.
//!
//! The grammar is Kubernetes' `labels.Parse`; a malformed selector is a
//! 400 BadRequest. Field selectors take the fields the real server supports:
//! `metadata.name` and `metadata.namespace` everywhere, plus the few a kind
//! adds (`status.phase` on Pods, `type` on Secrets…); any other field is a
//! 400 too, so code that would fail on a real cluster fails here. Values are
//! compared as strings, a missing field being "".

use serde_json::Value;

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector(Vec<LabelRequirement>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `fieldSelector`: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector(Vec<FieldRequirement>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldRequirement {
    path: String,
    value: String,
    equal: bool,
}

/// Both selectors of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Selectors {
    /// From `labelSelector`.
    pub(crate) labels: LabelSelector,
    /// From `fieldSelector`.
    pub(crate) fields: FieldSelector,
}

impl Selectors {
    /// Whether the object passes both.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }
}

impl LabelSelector {
    /// Parses a label selector; `Err` carries the sentence for a 400.
    pub(crate) fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_top_level(input) {
            let term = term.trim();
            if term.is_empty() {
                if input.trim().is_empty() {
                    continue;
                }
                return Err(format!(
                    "unable to parse requirement: empty term in {input:?}"
                ));
            }
            requirements.push(parse_requirement(term)?);
        }
        Ok(Self(requirements))
    }

    /// Whether the object's `metadata.labels` satisfy every requirement.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        let labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.0.iter().all(|requirement| match requirement {
            LabelRequirement::Equals(k, v) => label(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            LabelRequirement::In(k, set) => label(k).is_some_and(|l| set.iter().any(|v| v == l)),
            LabelRequirement::NotIn(k, set) => label(k).is_none_or(|l| !set.iter().any(|v| v == l)),
            LabelRequirement::Exists(k) => label(k).is_some(),
            LabelRequirement::NotExists(k) => label(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside `( … )`.
fn split_top_level(input: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0_i32;
    let mut start = 0;
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_requirement(term: &str) -> Result<LabelRequirement, String> {
    if let Some(key) = term.strip_prefix('!') {
        let key = key.trim();
        validate_key(key)?;
        return Ok(LabelRequirement::NotExists(key.to_owned()));
    }
    let key_end = term.find(|c: char| !is_key_char(c)).unwrap_or(term.len());
    let key = &term[..key_end];
    validate_key(key)?;
    let rest = term[key_end..].trim_start();
    if rest.is_empty() {
        return Ok(LabelRequirement::Exists(key.to_owned()));
    }
    let value = |v: &str| -> Result<String, String> {
        let v = v.trim();
        validate_value(v)?;
        Ok(v.to_owned())
    };
    if let Some(v) = rest.strip_prefix("!=") {
        return Ok(LabelRequirement::NotEquals(key.to_owned(), value(v)?));
    }
    if let Some(v) = rest.strip_prefix("==").or_else(|| rest.strip_prefix('=')) {
        return Ok(LabelRequirement::Equals(key.to_owned(), value(v)?));
    }
    if let Some(set) = rest.strip_prefix("notin") {
        return Ok(LabelRequirement::NotIn(key.to_owned(), parse_set(set)?));
    }
    if let Some(set) = rest.strip_prefix("in") {
        return Ok(LabelRequirement::In(key.to_owned(), parse_set(set)?));
    }
    Err(format!(
        "unable to parse requirement: {term:?}: expected one of =, ==, !=, in, notin after the key"
    ))
}

fn parse_set(input: &str) -> Result<Vec<String>, String> {
    let inner = input
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| {
            format!(
                "unable to parse requirement: expected a set like (a,b), got {:?}",
                input.trim()
            )
        })?;
    inner
        .split(',')
        .map(|v| {
            let v = v.trim();
            validate_value(v)?;
            Ok(v.to_owned())
        })
        .collect()
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn validate_key(key: &str) -> Result<(), String> {
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() || prefix.len() > 253 || name.contains('/') {
                return Err(format!(
                    "invalid label key {key:?}: a prefix must be a DNS subdomain"
                ));
            }
            name
        }
        None => key,
    };
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid label key {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn validate_value(value: &str) -> Result<(), String> {
    let valid = value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid label value {value:?}: must be 63 characters or less and consist of alphanumeric characters, '-', '_' or '.'"
        ))
    }
}

impl FieldSelector {
    /// Parses a field selector; `Err` carries the sentence for a 400.
    pub(crate) fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in input.split(',') {
            let term = term.trim();
            // NB: a real API server skips empty terms (`metadata.name=a,` is fine).
            if term.is_empty() {
                continue;
            }
            let (path, value, equal) = if let Some((path, value)) = term.split_once("!=") {
                (path, value, false)
            } else if let Some((path, value)) = term.split_once("==") {
                (path, value, true)
            } else if let Some((path, value)) = term.split_once('=') {
                (path, value, true)
            } else {
                return Err(format!(
                    "invalid selector: '{input}'; can't understand '{term}'"
                ));
            };
            let path = path.trim();
            let path_ok = !path.is_empty()
                && path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !path_ok {
                return Err(format!(
                    "invalid field selector {term:?}: {path:?} is not a field path"
                ));
            }
            requirements.push(FieldRequirement {
                path: path.to_owned(),
                value: value.trim().to_owned(),
                equal,
            });
        }
        Ok(Self(requirements))
    }

    /// Refuses fields the real API server does not index for `group/plural`.
    pub(crate) fn check_supported(&self, group: &str, plural: &str) -> Result<(), String> {
        let extra = supported_fields(group, plural);
        match self.0.iter().find(|r| {
            !matches!(r.path.as_str(), "metadata.name" | "metadata.namespace")
                && !extra.contains(&r.path.as_str())
        }) {
            Some(unsupported) => {
                let known: Vec<String> = ["metadata.name", "metadata.namespace"]
                    .iter()
                    .chain(extra.iter())
                    .map(|field| format!("\"{field}\""))
                    .collect();
                Err(format!(
                    "\"{}\" is not a known field selector: only {}",
                    unsupported.path,
                    known.join(", ")
                ))
            }
            None => Ok(()),
        }
    }

    /// Whether the object's fields satisfy every requirement.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|requirement| {
            let pointer = format!("/{}", requirement.path.replace('.', "/"));
            let actual = match object.pointer(&pointer) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            (actual == requirement.value) == requirement.equal
        })
    }
}

/// Field labels a kind supports beyond `metadata.name` / `metadata.namespace`
/// (from the Kubernetes registry's `GetAttrs`/`AddFieldLabelConversionFunc`s).
fn supported_fields(group: &str, plural: &str) -> &'static [&'static str] {
    match (group, plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "secrets") => &["type"],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "namespaces") => &["status.phase"],
        ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        ("certificates.k8s.io", "certificatesigningrequests") => &["spec.signerName"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labelled(labels: Value) -> Value {
        json!({ "metadata": { "name": "web", "namespace": "shop", "labels": labels } })
    }

    #[test]
    fn equality_selectors_match_labels() {
        let object = labelled(json!({ "app": "web", "tier": "front" }));
        assert!(LabelSelector::parse("app=web").unwrap().matches(&object));
        assert!(
            LabelSelector::parse("app==web,tier=front")
                .unwrap()
                .matches(&object)
        );
        assert!(!LabelSelector::parse("app=db").unwrap().matches(&object));
        assert!(LabelSelector::parse("app!=db").unwrap().matches(&object));
        assert!(LabelSelector::parse("").unwrap().matches(&object));
    }

    #[test]
    fn set_based_selectors_match_labels() {
        let object = labelled(json!({ "app": "web", "example.com/team": "a" }));
        assert!(
            LabelSelector::parse("app in (web, db)")
                .unwrap()
                .matches(&object)
        );
        assert!(
            !LabelSelector::parse("app notin (web,db)")
                .unwrap()
                .matches(&object)
        );
        assert!(
            LabelSelector::parse("missing notin (x)")
                .unwrap()
                .matches(&object)
        );
        assert!(
            LabelSelector::parse("example.com/team,!legacy")
                .unwrap()
                .matches(&object)
        );
        assert!(!LabelSelector::parse("legacy").unwrap().matches(&object));
        assert!(!LabelSelector::parse("!app").unwrap().matches(&object));
        assert!(
            LabelSelector::parse("app in (web),tier notin (x)")
                .unwrap()
                .matches(&object)
        );
    }

    #[test]
    fn rejects_malformed_label_selectors() {
        for bad in [
            "app=(",
            "app in web",
            "=web",
            "app>3",
            "app=web,",
            "a b=c",
            "app=we b",
        ] {
            assert!(
                LabelSelector::parse(bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn field_selectors_compare_paths() {
        let object = labelled(json!({}));
        assert!(
            FieldSelector::parse("metadata.name=web")
                .unwrap()
                .matches(&object)
        );
        assert!(
            FieldSelector::parse("metadata.name==web,metadata.namespace=shop")
                .unwrap()
                .matches(&object)
        );
        assert!(
            !FieldSelector::parse("metadata.namespace!=shop")
                .unwrap()
                .matches(&object)
        );
        assert!(
            FieldSelector::parse("status.phase=")
                .unwrap()
                .matches(&object)
        );
        assert!(FieldSelector::parse("metadata.name").is_err());
        let phase = FieldSelector::parse("status.phase=Running").unwrap();
        assert!(phase.check_supported("", "pods").is_ok());
        assert!(
            phase
                .check_supported("", "configmaps")
                .unwrap_err()
                .contains("status.phase")
        );
        assert!(FieldSelector::parse("meta data=x").is_err());
    }
}
