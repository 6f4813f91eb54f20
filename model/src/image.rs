//! Container image references (`ghcr.io/cloudnative-pg/cloudnative-pg:1.28.0`).
//!
//! [`ImageRef`] follows the grammar of the OCI distribution reference
//! (`[registry[:port]/]path[:tag][@digest]`), so whatever the form accepts a
//! container runtime can pull. It keeps the text exactly as written: bi never
//! rewrites `redis:7.4` into `docker.io/library/redis:7.4`, so what a person
//! typed is what the generated Pod shows.

use std::fmt;
use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use crate::validation::{FieldError, Rule};

/// The longest image name (registry and path, without tag or digest).
pub const NAME_MAX_LEN: usize = 255;

/// The longest tag.
pub const TAG_MAX_LEN: usize = 128;

/// A valid image reference: an optional registry, a lowercase repository
/// path, and a tag, a digest or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef {
    registry: Option<String>,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Validates what a person typed; surrounding whitespace is ignored.
    /// The error's field is empty: put it under the caller's field.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new("", Rule::Required, "must not be empty"));
        }
        let refuse = |reason: String| {
            Err(FieldError::new(
                "",
                Rule::Format,
                format!("\"{text}\" is not an image reference: {reason}"),
            ))
        };
        if let Some(bad) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return refuse(format!("it holds {bad:?}"));
        }

        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (text, None),
        };
        if let Some(digest) = digest
            && let Err(reason) = check_digest(digest)
        {
            return refuse(reason);
        }

        // NB: a ':' after the last '/' starts the tag; one before it belongs
        // to the registry's port (`localhost:5000/app`).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag
            && let Err(reason) = check_tag(tag)
        {
            return refuse(reason);
        }

        if name.is_empty() {
            return refuse("the repository name is missing".to_owned());
        }
        if name.len() > NAME_MAX_LEN {
            return refuse(format!(
                "the name is {} characters long; at most {NAME_MAX_LEN} are allowed",
                name.len()
            ));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if looks_like_registry(first) => (Some(first), path),
            _ => (None, name),
        };
        if let Some(registry) = registry
            && let Err(reason) = check_registry(registry)
        {
            return refuse(reason);
        }
        if let Err(reason) = check_repository(repository) {
            return refuse(reason);
        }

        Ok(Self {
            registry: registry.map(str::to_owned),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    /// A reference known to be valid, from a constant in the code.
    ///
    /// # Panics
    /// When `reference` is invalid: a programming error that the tests of
    /// every constant passed here catch.
    pub fn from_static(reference: &'static str) -> Self {
        match Self::parse(reference) {
            Ok(image) => image,
            Err(err) => panic!("image constant {reference:?} is invalid: {err}"),
        }
    }

    /// The registry host (and port) when written, e.g. `ghcr.io` or `localhost:5000`.
    pub fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The repository path inside the registry, e.g. `cloudnative-pg/cloudnative-pg`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, e.g. `1.28.0`.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, e.g. `sha256:…`.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Registry and repository without tag or digest, e.g. `ghcr.io/cloudnative-pg/cloudnative-pg`.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// True when the reference always names the same image: it has a digest,
    /// or a tag other than `latest` (tags can move, but by convention versions don't).
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some() || self.tag.as_deref().is_some_and(|tag| tag != "latest")
    }
}

impl TryFrom<String> for ImageRef {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ImageRef> for String {
    fn from(image: ImageRef) -> Self {
        image.to_string()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{registry}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The first path component is a registry when it has a dot or a port, or
/// is `localhost` (the same rule Docker uses, minus its uppercase case: an
/// uppercase first component is refused as a bad repository instead).
fn looks_like_registry(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.starts_with('[')
}

fn check_registry(registry: &str) -> Result<(), String> {
    let (host, port) = if let Some(bracketed) = registry.strip_prefix('[') {
        let Some((ip, after)) = bracketed.split_once(']') else {
            return Err(format!("registry \"{registry}\" has no closing ']'"));
        };
        if ip.parse::<Ipv6Addr>().is_err() {
            return Err(format!(
                "registry \"{registry}\" is not a valid IPv6 address"
            ));
        }
        match after {
            "" => (None, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(format!("registry \"{registry}\" has text after ']'")),
            },
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(registry), None),
        }
    };
    if let Some(host) = host {
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        };
        if !host.split('.').all(component_ok) {
            return Err(format!(
                "registry \"{registry}\" is not a host name (letters, digits, '-' between dots)"
            ));
        }
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.chars().all(|c| c.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(format!(
                "registry port \"{port}\" must be a number between 1 and 65535"
            ));
        }
    }
    Ok(())
}

/// Path components are lowercase alphanumerics joined by `.`, `_`, `__` or
/// runs of `-` (the distribution grammar).
fn check_repository(repository: &str) -> Result<(), String> {
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        let lower = repository.to_ascii_lowercase();
        let hint = if check_repository(&lower).is_ok() {
            format!(" (did you mean \"{lower}\"?)")
        } else {
            String::new()
        };
        return Err(format!(
            "the repository \"{repository}\" must be lowercase{hint}"
        ));
    }
    for component in repository.split('/') {
        if component.is_empty() {
            return Err(format!(
                "the repository \"{repository}\" has an empty path component"
            ));
        }
        if let Some(bad) = component.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(format!(
                "the repository \"{repository}\" holds {bad:?}; only lowercase letters, digits, \
                 '.', '_' and '-' are allowed"
            ));
        }
        if !valid_separators(component) {
            return Err(format!(
                "path component \"{component}\" must start and end with a letter or digit, \
                 with single '.', '_' or '__', or dashes, between them"
            ));
        }
    }
    Ok(())
}

/// `alnum+ (sep alnum+)*` where sep is `.`, `_`, `__` or `-+`.
fn valid_separators(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(|b| alnum(*b)) || !bytes.last().is_some_and(|b| alnum(*b)) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("the tag after ':' is empty".to_owned());
    }
    if tag.len() > TAG_MAX_LEN {
        return Err(format!(
            "the tag is {} characters long; at most {TAG_MAX_LEN} are allowed",
            tag.len()
        ));
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !tag.starts_with(word) {
        return Err(format!(
            "the tag \"{tag}\" must start with a letter, digit or '_'"
        ));
    }
    if let Some(bad) = tag.chars().find(|c| !(word(*c) || *c == '.' || *c == '-')) {
        return Err(format!(
            "the tag \"{tag}\" holds {bad:?}; only letters, digits, '_', '.' and '-' are allowed"
        ));
    }
    Ok(())
}

/// `sha256:` and 64, or `sha512:` and 128, lowercase hex digits.
fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!(
            "the digest \"{digest}\" must look like sha256:<64 hex digits>"
        ));
    };
    let expected = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        other => {
            return Err(format!(
                "the digest algorithm \"{other}\" is not supported; use sha256"
            ));
        }
    };
    let lower_hex = hex
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if hex.len() != expected || !lower_hex {
        return Err(format!(
            "a {algorithm} digest is {expected} lowercase hex digits; \"{hex}\" is not"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parts(input: &str) -> (Option<String>, String, Option<String>, Option<String>) {
        let image = ImageRef::parse(input).unwrap_or_else(|err| panic!("{input}: {err}"));
        (
            image.registry().map(str::to_owned),
            image.repository().to_owned(),
            image.tag().map(str::to_owned),
            image.digest().map(str::to_owned),
        )
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn splits_real_world_references() {
        assert_eq!(
            parts("ghcr.io/cloudnative-pg/cloudnative-pg:1.28.0"),
            (
                some("ghcr.io"),
                "cloudnative-pg/cloudnative-pg".into(),
                some("1.28.0"),
                None
            )
        );
        assert_eq!(
            parts("docker.io/library/redis:7.4"),
            (some("docker.io"), "library/redis".into(), some("7.4"), None)
        );
        assert_eq!(
            parts("quay.io/jupyter/datascience-notebook:lab-4.5.0"),
            (
                some("quay.io"),
                "jupyter/datascience-notebook".into(),
                some("lab-4.5.0"),
                None
            )
        );
        assert_eq!(
            parts(&format!("localhost:5000/x/y@{SHA}")),
            (some("localhost:5000"), "x/y".into(), None, some(SHA))
        );
        assert_eq!(parts("redis"), (None, "redis".into(), None, None));
        assert_eq!(
            parts("library/redis:7"),
            (None, "library/redis".into(), some("7"), None)
        );
        assert_eq!(
            parts(&format!("registry.k8s.io/pause:3.10@{SHA}")),
            (
                some("registry.k8s.io"),
                "pause".into(),
                some("3.10"),
                some(SHA)
            )
        );
        assert_eq!(
            parts("[::1]:5000/app:v1"),
            (some("[::1]:5000"), "app".into(), some("v1"), None)
        );
        assert_eq!(
            parts("localhost/my_app__x/a-b--c.d:V1_x"),
            (
                some("localhost"),
                "my_app__x/a-b--c.d".into(),
                some("V1_x"),
                None
            )
        );
    }

    #[test]
    fn keeps_the_reference_as_written() {
        for text in [
            "ghcr.io/cloudnative-pg/cloudnative-pg:1.28.0",
            "redis:7.4",
            "localhost:5000/x/y",
            &format!("quay.io/a/b:c@{SHA}"),
        ] {
            assert_eq!(
                ImageRef::parse(text).map(|i| i.to_string()),
                Ok(text.to_owned())
            );
        }
        assert_eq!(
            ImageRef::parse("  redis:7 ").map(|i| i.to_string()),
            Ok("redis:7".to_owned())
        );
        assert_eq!(
            ImageRef::parse("ghcr.io/a/b:1").map(|i| i.name()),
            Ok("ghcr.io/a/b".to_owned())
        );
    }

    #[test]
    fn pinned_means_a_version_tag_or_a_digest() {
        let pinned = |s: &str| ImageRef::parse(s).map(|i| i.is_pinned());
        assert_eq!(pinned("redis:7.4"), Ok(true));
        assert_eq!(pinned(&format!("redis@{SHA}")), Ok(true));
        assert_eq!(pinned(&format!("redis:latest@{SHA}")), Ok(true));
        assert_eq!(pinned("redis"), Ok(false));
        assert_eq!(pinned("redis:latest"), Ok(false));
    }

    #[test]
    fn refuses_empty_as_required() {
        assert_eq!(
            ImageRef::parse("  ").map_err(|e| e.rule),
            Err(Rule::Required)
        );
    }

    #[test]
    fn refuses_uppercase_paths_with_a_suggestion() {
        let err = ImageRef::parse("ghcr.io/MyOrg/App:1").unwrap_err();
        assert_eq!(err.rule, Rule::Format);
        assert_eq!(
            err.message,
            "\"ghcr.io/MyOrg/App:1\" is not an image reference: the repository \"MyOrg/App\" \
             must be lowercase (did you mean \"myorg/app\"?)"
        );
        assert!(ImageRef::parse("MyOrg/app").is_err());
    }

    #[test]
    fn refuses_malformed_references() {
        for (bad, says) in [
            ("redis 7", "it holds ' '"),
            (":", "the tag after ':' is empty"),
            (":7", "the repository name is missing"),
            ("redis:", "the tag after ':' is empty"),
            ("redis@sha256:abc", "64 lowercase hex digits"),
            (
                &format!("redis@{}", SHA.to_uppercase()),
                "algorithm \"SHA256\"",
            ),
            ("redis@md5:abc", "not supported"),
            ("redis@", "must look like sha256"),
            ("a@b@c", "must look like sha256"),
            ("redis:-x", "must start with a letter, digit or '_'"),
            ("redis:a+b", "holds '+'"),
            (&format!("redis:{}", "a".repeat(129)), "at most 128"),
            ("a//b", "empty path component"),
            ("ghcr.io/", "empty path component"),
            ("-redis", "must start and end with a letter or digit"),
            ("re...dis", "must start and end"),
            ("re___dis", "must start and end"),
            ("localhost:0/x", "between 1 and 65535"),
            ("localhost:99999/x", "between 1 and 65535"),
            ("bad_host.io/x", "is not a host name"),
            ("[zz]:5000/x", "not a valid IPv6 address"),
            ("a/b$c", "holds '$'"),
            (&format!("a/{}", "b".repeat(260)), "at most 255"),
        ] {
            let err = ImageRef::parse(bad).map(|i| i.to_string()).unwrap_err();
            assert_eq!(err.rule, Rule::Format, "{bad}");
            assert!(err.message.contains(says), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn serde_uses_the_text_and_validates() {
        let image = ImageRef::parse("docker.io/library/redis:7.4").unwrap();
        let json = serde_json::to_string(&image).unwrap();
        assert_eq!(json, "\"docker.io/library/redis:7.4\"");
        assert_eq!(serde_json::from_str::<ImageRef>(&json).unwrap(), image);
        assert!(serde_json::from_str::<ImageRef>("\"Redis\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in "\\PC{0,300}") {
            let _ = ImageRef::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_reference_like_text(input in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,80}") {
            if let Ok(image) = ImageRef::parse(&input) {
                // What parses prints back as written and parses to the same.
                prop_assert_eq!(image.to_string(), input.clone());
                prop_assert_eq!(ImageRef::parse(&image.to_string()), Ok(image));
            }
        }
    }
}
