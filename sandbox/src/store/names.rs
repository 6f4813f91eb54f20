//! Object names as a real API server judges them, per kind, and the names
//! `generateName` makes.

use crate::discovery::ResourceType;

/// Checks an object name the way the API server does for this kind: an RFC 1123
/// label (at most 63 characters, no dots) for Namespaces and Services, a path
/// segment for RBAC, else an RFC 1123 subdomain (at most 253 characters, dots
/// allowed, no limit per dot-separated part). `Err` holds every cause.
pub(super) fn validate_name(rt: &ResourceType, name: &str) -> Result<(), Vec<String>> {
    let invalid = |rule: &str| format!("metadata.name: Invalid value: {name:?}: {rule}");
    if rt.group == "rbac.authorization.k8s.io" {
        // NB: RBAC names are path segments (`system:controller:…` is common).
        if name == "." || name == ".." || name.contains(['/', '%']) {
            return Err(vec![invalid(
                "may not be '.' or '..' and may not contain '/' or '%'",
            )]);
        }
        return Ok(());
    }
    let label_shaped = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if rt.is("", "namespaces") || rt.is("", "services") {
        let mut causes = Vec::new();
        if name.len() > 63 {
            causes.push(invalid("must be no more than 63 characters"));
        } else if !label_shaped(name) {
            causes.push(invalid(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ));
        }
        // NB: a Namespace is labelled with its own name, so that label is checked too.
        if rt.is("", "namespaces") && !causes.is_empty() {
            let labels = |rule: &str| format!("metadata.labels: Invalid value: {name:?}: {rule}");
            if name.len() > 63 {
                causes.push(labels("must be no more than 63 bytes"));
            } else if !is_label_value(name) {
                causes.push(labels(
                    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                ));
            }
        }
        return if causes.is_empty() {
            Ok(())
        } else {
            Err(causes)
        };
    }
    if name.len() > 253 {
        return Err(vec![invalid("must be no more than 253 characters")]);
    }
    if name.split('.').all(label_shaped) {
        Ok(())
    } else {
        Err(vec![invalid(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        )])
    }
}

/// Whether `value` is a valid label value (at most 63 characters of
/// alphanumerics, '-', '_' and '.', alphanumeric at both ends, or empty).
pub(super) fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `generateName` + five random lowercase letters or digits.
pub(super) fn generated_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let random = uuid::Uuid::new_v4();
    let suffix: String = random
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{prefix}{suffix}")
}
