//! Names people type that end up in Kubernetes: DNS labels (object names,
//! namespaces), port names, Secret names and keys, environment variables.
//!
//! Each rule is a `check_*` function returning a [`FieldError`] whose `field`
//! is empty: the caller knows where the value sits and puts the error there
//! with [`FieldError::under`]. [`DnsLabel`] is the typed form for values that
//! must always be valid once built (catalog namespaces, installation names).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validation::{FieldError, Problems, Rule, join_path};

/// The longest name a DNS label (and a Kubernetes label value) can hold.
pub const DNS_LABEL_MAX_LEN: usize = 63;

/// The longest DNS subdomain (Secret and ConfigMap names).
pub const DNS_SUBDOMAIN_MAX_LEN: usize = 253;

/// The longest port name Kubernetes accepts (an IANA service name).
pub const PORT_NAME_MAX_LEN: usize = 15;

/// A validated RFC 1123 label: 1–63 lowercase letters, digits or `-`,
/// starting with a letter and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DnsLabel(String);

impl DnsLabel {
    /// Validates what a person typed; surrounding whitespace is ignored.
    /// The error's field is empty: put it under the caller's field.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim();
        check_dns_label(name)?;
        Ok(Self(name.to_owned()))
    }

    /// The label as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DnsLabel {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DnsLabel> for String {
    fn from(label: DnsLabel) -> Self {
        label.0
    }
}

impl AsRef<str> for DnsLabel {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks the RFC 1123 label rule (at most 63 characters).
pub fn check_dns_label(name: &str) -> Result<(), FieldError> {
    check_dns_label_max(name, DNS_LABEL_MAX_LEN)
}

/// Checks the RFC 1123 label rule with a shorter length limit.
pub fn check_dns_label_max(name: &str, max_len: usize) -> Result<(), FieldError> {
    let refuse = |rule: Rule, message: String| Err(FieldError::new("", rule, message));
    if name.is_empty() {
        return refuse(Rule::Required, "must not be empty".to_owned());
    }
    let len = name.chars().count();
    if len > max_len {
        return refuse(
            Rule::DnsLabel,
            format!("must be at most {max_len} characters; \"{name}\" has {len}"),
        );
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let hint = if bad.is_ascii_uppercase() {
            let lower = name.to_ascii_lowercase();
            // NB: only suggest what would itself pass, or the hint misleads.
            if check_dns_label_max(&lower, max_len).is_ok() {
                format!(" (did you mean \"{lower}\"?)")
            } else {
                String::new()
            }
        } else if bad == '_' || bad == '.' || bad == ' ' {
            let dashed = name.replace(['_', '.', ' '], "-");
            if check_dns_label_max(&dashed, max_len).is_ok() {
                format!(" (did you mean \"{dashed}\"?)")
            } else {
                String::new()
            }
        } else {
            String::new()
        };
        return refuse(
            Rule::DnsLabel,
            format!("may only hold lowercase letters, digits and '-'; found {bad:?}{hint}"),
        );
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return refuse(
            Rule::DnsLabel,
            format!("must start with a letter; \"{name}\" does not"),
        );
    }
    if name.ends_with('-') {
        return refuse(
            Rule::DnsLabel,
            format!("must end with a letter or digit; \"{name}\" ends with '-'"),
        );
    }
    Ok(())
}

/// A limit on a name or label that Kubernetes (or an operator's admission
/// webhook) enforces: what a [`DerivedName`] must fit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The most characters.
    pub max: usize,
    /// What it limits, in a sentence: "label values".
    pub what: &'static str,
    /// Who enforces it: "Kubernetes".
    pub by: &'static str,
}

/// Label values (and `battery/app`, `battery/component`, which carry names).
pub const LABEL_VALUE: Limit = Limit {
    max: DNS_LABEL_MAX_LEN,
    what: "label values",
    by: "Kubernetes",
};

/// Service names: DNS-1035 labels.
pub const SERVICE_NAME: Limit = Limit {
    max: DNS_LABEL_MAX_LEN,
    what: "Service names",
    by: "Kubernetes",
};

/// StatefulSet names: their Pods carry the label
/// `controller-revision-hash: <name>-<10-character hash>`, which must fit in 63.
pub const STATEFUL_SET_NAME: Limit = Limit {
    max: DNS_LABEL_MAX_LEN - 11,
    what: "StatefulSet names (their Pods' controller-revision-hash label is \
           \"<name>-<10-character hash>\")",
    by: "Kubernetes",
};

/// A name or label generated from a user's name, `<prefix><name><suffix>`,
/// and the limit it must fit in. Each user-named kind lists those next to
/// its generator; validation allows the longest name all of them leave room
/// for (see [`check_derived_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivedName {
    /// Who derives it: "bi", "the Redis operator".
    pub by: &'static str,
    /// What it is: "the battery/app label", "a Service".
    pub what: &'static str,
    /// Text before the user's name, in parts as the generator joins them
    /// (`["oauth2-proxy-", "notebook-"]`).
    pub prefix: &'static [&'static str],
    /// Text after the user's name.
    pub suffix: &'static str,
    /// The limit it must fit in.
    pub limit: Limit,
}

impl DerivedName {
    /// The `battery/app` label bi gives an object's resources: `prefix` +
    /// the name, a label value.
    pub const fn app_label(prefix: &'static [&'static str]) -> Self {
        Self {
            by: "bi",
            what: "the battery/app label",
            prefix,
            suffix: "",
            limit: LABEL_VALUE,
        }
    }

    /// The longest user name this derived name leaves room for.
    pub const fn max_len(&self) -> usize {
        let mut fixed = self.suffix.len();
        let mut i = 0;
        while i < self.prefix.len() {
            fixed += self.prefix[i].len();
            i += 1;
        }
        self.limit.max.saturating_sub(fixed)
    }

    /// The derived name with `<name>` for the user's name: `redis-<name>`.
    pub fn pattern(&self) -> String {
        self.apply("<name>")
    }

    /// The derived name for the user's `name`.
    pub fn apply(&self, name: &str) -> String {
        format!("{}{name}{}", self.prefix.concat(), self.suffix)
    }
}

/// The derived name that leaves the least room (the first, among equals);
/// the DNS label rule itself when `derived` is empty.
pub const fn binding(derived: &[DerivedName]) -> Option<&DerivedName> {
    let mut found: Option<&DerivedName> = None;
    let mut i = 0;
    while i < derived.len() {
        let candidate = &derived[i];
        found = match found {
            Some(best) if best.max_len() <= candidate.max_len() => Some(best),
            _ => Some(candidate),
        };
        i += 1;
    }
    found
}

/// The longest user name every one of `derived` leaves room for (at most 63).
pub const fn derived_max_len(derived: &[DerivedName]) -> usize {
    match binding(derived) {
        Some(name) if name.max_len() < DNS_LABEL_MAX_LEN => name.max_len(),
        _ => DNS_LABEL_MAX_LEN,
    }
}

/// Checks a user's name: a DNS label short enough that every name and label
/// in `derived` still fits its limit; a refusal names the one that binds.
pub fn check_derived_name(name: &str, derived: &[DerivedName]) -> Result<(), FieldError> {
    let max = derived_max_len(derived);
    let len = name.chars().count();
    if let Some(binding) = binding(derived).filter(|_| len > max && max < DNS_LABEL_MAX_LEN) {
        let limit = binding.limit;
        return Err(FieldError::new(
            "",
            Rule::DnsLabel,
            format!(
                "must be at most {max} characters; \"{name}\" has {len}: {} derives {} \"{}\" \
                 from it, and {} limits {} to {}",
                binding.by,
                binding.what,
                binding.pattern(),
                limit.by,
                limit.what,
                limit.max
            ),
        ));
    }
    check_dns_label(name)
}

/// Checks a container or Service port name: a DNS label of at most 15
/// characters without `--`, as Kubernetes requires (an IANA service name).
pub fn check_port_name(name: &str) -> Result<(), FieldError> {
    check_dns_label_max(name, PORT_NAME_MAX_LEN)?;
    if name.contains("--") {
        return Err(FieldError::new(
            "",
            Rule::DnsLabel,
            format!("must not hold \"--\"; \"{name}\" does"),
        ));
    }
    Ok(())
}

/// Checks a DNS subdomain (the names of Secrets and ConfigMaps): dot-separated
/// lowercase labels, at most 253 characters in all.
pub fn check_dns_subdomain(name: &str) -> Result<(), FieldError> {
    if name.is_empty() {
        return Err(FieldError::new("", Rule::Required, "must not be empty"));
    }
    let len = name.chars().count();
    if len > DNS_SUBDOMAIN_MAX_LEN {
        return Err(FieldError::new(
            "",
            Rule::DnsLabel,
            format!("must be at most {DNS_SUBDOMAIN_MAX_LEN} characters; \"{name}\" has {len}"),
        ));
    }
    for part in name.split('.') {
        let valid = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            return Err(FieldError::new(
                "",
                Rule::DnsLabel,
                format!(
                    "\"{name}\" is not a DNS name: each dot-separated part must be lowercase \
                     letters, digits and '-', starting and ending with a letter or digit"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a key inside a Secret or ConfigMap: letters, digits, `-`, `_`, `.`.
pub fn check_secret_key(key: &str) -> Result<(), FieldError> {
    if key.is_empty() {
        return Err(FieldError::new("", Rule::Required, "must not be empty"));
    }
    if key.len() > DNS_SUBDOMAIN_MAX_LEN {
        return Err(FieldError::new(
            "",
            Rule::Format,
            format!("must be at most {DNS_SUBDOMAIN_MAX_LEN} characters"),
        ));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(FieldError::new(
            "",
            Rule::Format,
            format!("may only hold letters, digits, '-', '_' and '.'; found {bad:?}"),
        ));
    }
    if key == "." || key == ".." {
        return Err(FieldError::new(
            "",
            Rule::Format,
            format!("\"{key}\" is not a usable key"),
        ));
    }
    Ok(())
}

/// Checks an environment variable name: a letter or `_`, then letters,
/// digits or `_` (what every shell and most programs can read back).
pub fn check_env_var_name(name: &str) -> Result<(), FieldError> {
    if name.is_empty() {
        return Err(FieldError::new("", Rule::Required, "must not be empty"));
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if let Some(bad) = name.chars().find(|c| !is_word(*c)) {
        let hint = if bad == '-' || bad == '.' || bad == ' ' {
            let fixed = name.replace(['-', '.', ' '], "_").to_ascii_uppercase();
            if check_env_var_name(&fixed).is_ok() {
                format!(" (did you mean \"{fixed}\"?)")
            } else {
                String::new()
            }
        } else {
            String::new()
        };
        return Err(FieldError::new(
            "",
            Rule::Format,
            format!("may only hold letters, digits and '_'; found {bad:?}{hint}"),
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(FieldError::new(
            "",
            Rule::Format,
            format!("must start with a letter or '_'; \"{name}\" starts with a digit"),
        ));
    }
    Ok(())
}

/// Records the outcome of a `check_*` function for `field`.
pub fn check_at(problems: &mut Problems, field: &str, result: Result<(), FieldError>) {
    if let Err(err) = result {
        problems.add(err.under(field));
    }
}

/// Records every name in a list that an earlier item already uses, at
/// `{list}[j].{field}`; `what` names one item for the message ("user").
/// Empty names are skipped: they are reported as missing already.
pub fn check_unique<'a>(
    problems: &mut Problems,
    list: &str,
    field: &str,
    what: &str,
    names: impl IntoIterator<Item = &'a str>,
) {
    let names: Vec<&str> = names.into_iter().collect();
    for (j, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(i) = names[..j].iter().position(|seen| seen == name) {
            problems.push(
                join_path(&format!("{list}[{j}]"), field),
                Rule::Unique,
                format!("another {what} is already named \"{name}\" ({list}[{i}])"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn message(result: Result<(), FieldError>) -> String {
        result.err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn accepts_dns_labels_and_trims_whitespace() {
        for ok in ["db", "pg-main-1", "a", &"a".repeat(63)] {
            assert_eq!(DnsLabel::parse(ok).map(String::from), Ok(ok.to_owned()));
        }
        assert_eq!(
            DnsLabel::parse("  web \n").map(String::from),
            Ok("web".to_owned())
        );
    }

    #[test]
    fn refuses_empty_dns_label_as_required() {
        let err = DnsLabel::parse(" ").unwrap_err();
        assert_eq!(err.rule, Rule::Required);
        assert_eq!(err.field, "");
        assert_eq!(err.message, "must not be empty");
    }

    #[test]
    fn refuses_uppercase_and_suggests_lowercase() {
        let err = DnsLabel::parse("MyDb").unwrap_err();
        assert_eq!(err.rule, Rule::DnsLabel);
        assert_eq!(
            err.message,
            "may only hold lowercase letters, digits and '-'; found 'M' (did you mean \"mydb\"?)"
        );
    }

    #[test]
    fn refuses_underscores_and_suggests_dashes() {
        let err = DnsLabel::parse("my_db").unwrap_err();
        assert!(err.message.contains("did you mean \"my-db\""), "{err}");
    }

    #[test]
    fn gives_no_suggestion_that_would_itself_fail() {
        let err = DnsLabel::parse("1Db").unwrap_err();
        assert!(!err.message.contains("did you mean"), "{err}");
    }

    #[test]
    fn refuses_bad_starts_ends_and_lengths() {
        for (bad, says) in [
            ("1st", "must start with a letter"),
            ("-x", "must start with a letter"),
            ("x-", "must end with a letter or digit"),
            ("héllo", "found 'é'"),
            (&"a".repeat(64), "at most 63 characters; "),
        ] {
            let err = DnsLabel::parse(bad).unwrap_err();
            assert_eq!(err.rule, Rule::DnsLabel, "{bad}");
            assert!(err.message.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn dns_label_errors_go_under_the_callers_field() {
        let err = DnsLabel::parse("X").unwrap_err().under("users[1].name");
        assert_eq!(err.field, "users[1].name");
    }

    #[test]
    fn deserializing_a_dns_label_validates() {
        let bad: Result<DnsLabel, _> = serde_json::from_str("\"Not OK\"");
        assert!(bad.is_err());
        let good: DnsLabel = serde_json::from_str("\"ok\"").unwrap();
        assert_eq!(serde_json::to_string(&good).unwrap(), "\"ok\"");
    }

    #[test]
    fn port_names_are_short_labels_without_double_dashes() {
        assert_eq!(check_port_name("http"), Ok(()));
        assert_eq!(check_port_name("grpc-web"), Ok(()));
        assert!(message(check_port_name("metrics-endpoint")).contains("at most 15 characters"));
        assert!(message(check_port_name("a--b")).contains("\"--\""));
        assert!(message(check_port_name("HTTP")).contains("did you mean \"http\""));
    }

    #[test]
    fn subdomains_allow_dots_but_not_empty_parts() {
        assert_eq!(check_dns_subdomain("db-credentials"), Ok(()));
        assert_eq!(check_dns_subdomain("pg.main.app"), Ok(()));
        for bad in ["a..b", ".a", "a.", "A.b", "a_b", "-a.b"] {
            assert!(check_dns_subdomain(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_dns_subdomain("").map_err(|e| e.rule),
            Err(Rule::Required)
        );
    }

    #[test]
    fn secret_keys_allow_dots_dashes_and_underscores() {
        for ok in ["password", "tls.crt", "DB_URL", "a-b"] {
            assert_eq!(check_secret_key(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a/b", "a b", ".", ".."] {
            assert!(check_secret_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_var_names_are_identifiers() {
        for ok in ["PATH", "_x", "DATABASE_URL", "a1"] {
            assert_eq!(check_env_var_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_env_var_name("").map_err(|e| e.rule),
            Err(Rule::Required)
        );
        assert!(message(check_env_var_name("1X")).contains("starts with a digit"));
        assert_eq!(
            message(check_env_var_name("database-url")),
            "may only hold letters, digits and '_'; found '-' (did you mean \"DATABASE_URL\"?)"
        );
        assert!(message(check_env_var_name("A=B")).contains("found '='"));
    }

    #[test]
    fn reports_each_repeated_name_at_its_later_place() {
        let mut problems = Problems::new();
        check_unique(
            &mut problems,
            "users",
            "name",
            "user",
            ["a", "b", "a", "", "", "a"],
        );
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["users[2].name", "users[5].name"]);
        assert_eq!(
            problems.iter().next().map(|e| e.message.as_str()),
            Some("another user is already named \"a\" (users[0])")
        );
    }

    const SHORT: DerivedName = DerivedName::app_label(&["redis-"]);
    const SHORTER: DerivedName = DerivedName {
        by: "the Redis operator",
        what: "the StatefulSet",
        prefix: &[],
        suffix: "-follower",
        limit: STATEFUL_SET_NAME,
    };

    #[test]
    fn the_derived_name_that_leaves_least_room_binds() {
        assert_eq!(SHORT.max_len(), 57);
        assert_eq!(SHORTER.max_len(), 43);
        assert_eq!(binding(&[SHORT, SHORTER]), Some(&SHORTER));
        assert_eq!(derived_max_len(&[SHORT, SHORTER]), 43);
        assert_eq!(derived_max_len(&[]), DNS_LABEL_MAX_LEN);
        assert_eq!(SHORTER.pattern(), "<name>-follower");
        assert_eq!(SHORT.apply("cache"), "redis-cache");
    }

    #[test]
    fn derived_names_refuse_what_does_not_fit_and_say_why() {
        let derived = [SHORT, SHORTER];
        assert_eq!(check_derived_name(&"a".repeat(43), &derived), Ok(()));
        let long = "a".repeat(44);
        assert_eq!(
            message(check_derived_name(&long, &derived)),
            format!(
                "must be at most 43 characters; \"{long}\" has 44: the Redis operator derives the \
                 StatefulSet \"<name>-follower\" from it, and Kubernetes limits StatefulSet names \
                 (their Pods' controller-revision-hash label is \"<name>-<10-character hash>\") to 52"
            )
        );
        // The other rules of a DNS label still hold.
        assert_eq!(
            check_derived_name("", &derived).map_err(|e| e.rule),
            Err(Rule::Required)
        );
        assert!(message(check_derived_name("Cache", &derived)).contains("did you mean"));
    }

    proptest! {
        #[test]
        fn dns_label_parse_never_panics_and_accepts_only_valid_labels(input in "\\PC{0,80}") {
            if let Ok(label) = DnsLabel::parse(&input) {
                let s = label.as_str();
                prop_assert!(!s.is_empty() && s.len() <= DNS_LABEL_MAX_LEN);
                prop_assert!(s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
                prop_assert!(s.starts_with(|c: char| c.is_ascii_lowercase()));
                prop_assert!(!s.ends_with('-'));
            }
        }

        #[test]
        fn generated_labels_are_accepted(input in "[a-z]([a-z0-9-]{0,61}[a-z0-9])?") {
            prop_assert_eq!(DnsLabel::parse(&input).map(String::from), Ok(input));
        }
    }
}
