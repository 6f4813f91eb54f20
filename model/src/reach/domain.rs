//! The installation domain every hostname is derived from, and where the
//! gateway's certificates come from.
//!
//! The default, `bi.localhost`, needs no DNS at all: browsers (Chromium,
//! Firefox, Safari), curl and systemd-resolved resolve every name under
//! `localhost` to the loopback address (RFC 6761), so with the gateway
//! forwarded to the laptop (`kubectl port-forward`, or kind's port mappings)
//! `https://grafana.bi.localhost:8443` opens Grafana.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::names::DNS_SUBDOMAIN_MAX_LEN;
use crate::validation::Rule;

/// The two labels bi puts in front of the domain at most
/// (`<service>.<project>.`), each up to 63 characters plus its dot.
const PREFIX_MAX_LEN: usize = 2 * (63 + 1);

/// The longest domain: what leaves room for `<service>.<project>.` within
/// DNS's 253 characters (125).
pub const DOMAIN_MAX_LEN: usize = DNS_SUBDOMAIN_MAX_LEN - PREFIX_MAX_LEN;

/// Suffixes no public certificate authority will issue for: names that
/// resolve only on this machine or this network (RFC 6761, RFC 6762,
/// RFC 8375, ICANN's `.internal`).
const PRIVATE_SUFFIXES: [&str; 8] = [
    "localhost",
    "local",
    "internal",
    "test",
    "example",
    "invalid",
    "home.arpa",
    "lan",
];

/// A validated DNS name (RFC 1123): dot-separated labels of lowercase
/// letters, digits and `-`, each starting and ending with a letter or digit,
/// at most [`DOMAIN_MAX_LEN`] characters in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

impl Domain {
    /// The default: names under `localhost` resolve to this machine with no
    /// DNS set-up at all.
    pub fn default_domain() -> Self {
        Self("bi.localhost".to_owned())
    }

    /// Validates what a person typed; surrounding whitespace and one
    /// trailing dot (a fully qualified name) are ignored. The error's field
    /// is empty: put it under the caller's field.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
        let refuse = |rule: Rule, message: String| Err(FieldError::new("", rule, message));
        if name.is_empty() {
            return refuse(Rule::Required, "must not be empty".to_owned());
        }
        if let Some(scheme) = ["https://", "http://"]
            .iter()
            .find(|s| name.starts_with(*s))
        {
            let rest = name.trim_start_matches(scheme).trim_end_matches('/');
            return refuse(
                Rule::DnsLabel,
                format!(
                    "is a domain, not a URL: leave out \"{scheme}\" (did you mean \"{rest}\"?)"
                ),
            );
        }
        let len = name.chars().count();
        if len > DOMAIN_MAX_LEN {
            return refuse(
                Rule::DnsLabel,
                format!(
                    "must be at most {DOMAIN_MAX_LEN} characters, so that \
                     <service>.<project>.<domain> fits DNS's 253; \"{name}\" has {len}"
                ),
            );
        }
        if name.chars().any(|c| c.is_ascii_uppercase()) {
            let lower = name.to_ascii_lowercase();
            let hint = if Self::parse(&lower).is_ok() {
                format!(" (did you mean \"{lower}\"?)")
            } else {
                String::new()
            };
            return refuse(Rule::DnsLabel, format!("must be lowercase{hint}"));
        }
        for label in name.split('.') {
            if label.is_empty() {
                return refuse(
                    Rule::DnsLabel,
                    format!("\"{name}\" has an empty part between dots"),
                );
            }
            if label.len() > 63 {
                return refuse(
                    Rule::DnsLabel,
                    format!(
                        "each dot-separated part must be at most 63 characters; \"{label}\" has {}",
                        label.len()
                    ),
                );
            }
            if let Some(bad) = label
                .chars()
                .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
            {
                return refuse(
                    Rule::DnsLabel,
                    format!("may only hold lowercase letters, digits, '-' and dots; found {bad:?}"),
                );
            }
            if label.starts_with('-') || label.ends_with('-') {
                return refuse(
                    Rule::DnsLabel,
                    format!(
                        "each dot-separated part must start and end with a letter or digit; \"{label}\" does not"
                    ),
                );
            }
        }
        if name
            .split('.')
            .all(|label| label.chars().all(|c| c.is_ascii_digit()))
        {
            return refuse(
                Rule::DnsLabel,
                format!(
                    "\"{name}\" is an IP address; hostnames need a name (for an address \
                     without DNS, try \"{name}.sslip.io\")"
                ),
            );
        }
        Ok(Self(name.to_owned()))
    }

    /// The domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a public certificate authority (Let's Encrypt) can issue for
    /// names under it: not under `localhost`, `.local`, `.internal`, `.test`
    /// and the like, and with at least two labels.
    pub fn is_public(&self) -> bool {
        let private = PRIVATE_SUFFIXES
            .iter()
            .any(|suffix| self.0 == *suffix || self.0.ends_with(&format!(".{suffix}")));
        !private && self.0.contains('.')
    }

    /// `<label>.<domain>`.
    pub fn under(&self, label: &str) -> String {
        format!("{label}.{}", self.0)
    }
}

impl Default for Domain {
    fn default() -> Self {
        Self::default_domain()
    }
}

impl TryFrom<String> for Domain {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Domain> for String {
    fn from(domain: Domain) -> Self {
        domain.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who signs the gateway's certificates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateIssuer {
    /// The installation's own CA (the Battery CA battery): works anywhere,
    /// offline too; browsers trust it once its certificate is imported
    /// (`bi ca`, or the link on the dashboard).
    #[default]
    BatteryCa,
    /// Let's Encrypt, through an ACME HTTP-01 challenge on the gateway: the
    /// domain must be public and point at the gateway's address, and
    /// cert-manager needs an `acme_email`.
    LetsEncrypt,
}

impl CertificateIssuer {
    /// Its identifier in configs and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Self::BatteryCa => "battery_ca",
            Self::LetsEncrypt => "lets_encrypt",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(input: &str) -> String {
        Domain::parse(input).unwrap_err().message
    }

    #[test]
    fn accepts_dns_names_and_drops_a_trailing_dot() {
        for good in [
            "bi.localhost",
            "example.com",
            "apps.eu-1.example.com",
            "lan",
            "10-0-0-1.sslip.io",
        ] {
            assert_eq!(Domain::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(
            Domain::parse(" example.com. ").unwrap().as_str(),
            "example.com"
        );
    }

    #[test]
    fn refuses_what_dns_refuses_naming_the_rule() {
        assert_eq!(refused(""), "must not be empty");
        assert!(refused("Example.com").contains("did you mean \"example.com\""));
        assert!(refused("https://example.com/").contains("did you mean \"example.com\""));
        assert!(refused("a..b").contains("empty part"));
        assert!(refused("-a.com").contains("start and end"));
        assert!(refused("a_b.com").contains("'_'"));
        assert!(refused("10.0.0.1").contains("10.0.0.1.sslip.io"));
        assert!(refused(&format!("{}.com", "a".repeat(64))).contains("at most 63"));
    }

    #[test]
    fn leaves_room_for_service_and_project_within_253() {
        let longest = format!("{}.{}", "a".repeat(62), "b".repeat(62));
        assert_eq!(longest.len(), DOMAIN_MAX_LEN);
        let domain = Domain::parse(&longest).unwrap();
        let host = format!("{}.{}.{domain}", "s".repeat(63), "p".repeat(63));
        assert_eq!(host.len(), DNS_SUBDOMAIN_MAX_LEN);
        assert!(refused(&format!("x{longest}")).contains("at most 125"));
    }

    #[test]
    fn only_public_domains_can_have_public_certificates() {
        for private in [
            "bi.localhost",
            "localhost",
            "cluster.local",
            "corp.internal",
            "a.test",
            "lan",
        ] {
            assert!(!Domain::parse(private).unwrap().is_public(), "{private}");
        }
        for public in ["example.com", "10-0-0-1.sslip.io", "apps.example.co.uk"] {
            assert!(Domain::parse(public).unwrap().is_public(), "{public}");
        }
    }
}
