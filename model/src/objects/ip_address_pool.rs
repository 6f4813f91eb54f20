//! IP address pools: the addresses a load balancer (MetalLB) may hand out to
//! Services of type LoadBalancer.
//!
//! A pool is a CIDR (`10.0.0.0/24`, `fd00::/120`) or an inclusive range
//! (`192.168.1.240-192.168.1.250`), IPv4 or IPv6. Two pools must not share
//! an address, or two Services could be given the same one.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::names::{check_at, check_derived_name, check_unique};
use crate::validation::{FieldError, Problems, Rule};

/// The longest name: what the names and labels bi derives from it leave
/// room for (see `catalog::metallb::POOL_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::metallb::POOL_NAME_MAX_LEN;

/// A pool of addresses a load balancer may hand out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAddressPool {
    /// The pool's name, a DNS label.
    pub name: String,
    /// Its addresses.
    pub range: IpRange,
}

impl IpAddressPool {
    /// Every problem with this pool on its own (see [`validate_pools`] for a set).
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::metallb::POOL_NAMES),
        );
        problems.into_result()
    }
}

/// Every problem with a set of pools: each pool's own, names used twice, and
/// pools that share addresses (reported on the later pool's `range`).
pub fn validate_pools(pools: &[IpAddressPool]) -> Result<(), Problems> {
    let mut problems = Problems::new();
    for (i, pool) in pools.iter().enumerate() {
        problems.merge(&format!("[{i}]"), pool.validate());
    }
    check_unique(
        &mut problems,
        "",
        "name",
        "pool",
        pools.iter().map(|p| p.name.as_str()),
    );
    for (j, later) in pools.iter().enumerate() {
        for earlier in &pools[..j] {
            if let Some((first, last)) = later.range.overlap(&earlier.range) {
                let at = if first == last {
                    format!("{first}")
                } else {
                    format!("{first}-{last}")
                };
                problems.push(
                    format!("[{j}].range"),
                    Rule::Overlap,
                    format!(
                        "pool \"{}\" ({}) overlaps pool \"{}\" ({}) at {at}",
                        later.name, later.range, earlier.name, earlier.range
                    ),
                );
            }
        }
    }
    problems.into_result()
}

/// A CIDR block or an inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum IpRange {
    /// `network/prefix_len`, with every host bit of `network` zero.
    Cidr {
        /// The first address.
        network: IpAddr,
        /// How many leading bits are fixed (≤ 32 for IPv4, ≤ 128 for IPv6).
        prefix_len: u8,
    },
    /// `start-end`, both included, `start ≤ end`, same family.
    Span {
        /// The first address.
        start: IpAddr,
        /// The last address.
        end: IpAddr,
    },
}

/// Address blocks no load balancer can hand out.
const RESERVED: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\""),
    ("127.0.0.0/8", "loopback"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("ff00::/8", "multicast"),
];

impl IpRange {
    /// Validates what a person typed: `10.0.0.0/24`, `fd00::/120` or
    /// `192.168.1.240-192.168.1.250`. The error's field is empty.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let range = Self::parse_unchecked(input)?;
        let (v4, first, last) = range.bounds();
        for (block, what) in RESERVED {
            let Ok(block) = Self::parse_unchecked(block) else {
                continue;
            };
            let (block_v4, block_first, block_last) = block.bounds();
            if block_v4 == v4 && first <= block_last && block_first <= last {
                return Err(FieldError::new(
                    "",
                    Rule::Range,
                    format!(
                        "{range} includes {what} addresses ({block}), which a load balancer \
                         cannot hand out"
                    ),
                ));
            }
        }
        Ok(range)
    }

    fn parse_unchecked(input: &str) -> Result<Self, FieldError> {
        let text = input.trim();
        let refuse = |rule: Rule, message: String| Err(FieldError::new("", rule, message));
        if text.is_empty() {
            return refuse(Rule::Required, "must not be empty".to_owned());
        }
        let address = |part: &str| -> Result<IpAddr, FieldError> {
            part.trim().parse::<IpAddr>().map_err(|_| {
                FieldError::new(
                    "",
                    Rule::Format,
                    format!("\"{}\" is not an IPv4 or IPv6 address", part.trim()),
                )
            })
        };
        if let Some((addr, prefix)) = text.split_once('/') {
            let network = address(addr)?;
            let max = if network.is_ipv4() { 32 } else { 128 };
            let prefix_len = match prefix.trim().parse::<u8>() {
                Ok(len) if len <= max => len,
                _ => {
                    return refuse(
                        Rule::Format,
                        format!(
                            "the prefix length after '/' must be a number from 0 to {max}; \
                             \"{}\" is not",
                            prefix.trim()
                        ),
                    );
                }
            };
            let bits = to_bits(network);
            let host_bits = host_mask(network.is_ipv4(), prefix_len);
            if bits & host_bits != 0 {
                let fixed = from_bits(network.is_ipv4(), bits & !host_bits);
                return refuse(
                    Rule::Format,
                    format!(
                        "{network}/{prefix_len} has host bits set; did you mean the network \
                         {fixed}/{prefix_len}?"
                    ),
                );
            }
            return Ok(Self::Cidr {
                network,
                prefix_len,
            });
        }
        if let Some((start, end)) = text.split_once('-') {
            let (start, end) = (address(start)?, address(end)?);
            if start.is_ipv4() != end.is_ipv4() {
                return refuse(
                    Rule::Format,
                    format!(
                        "a range stays in one family; {start} is {} but {end} is {}",
                        family(start),
                        family(end)
                    ),
                );
            }
            if to_bits(start) > to_bits(end) {
                return refuse(
                    Rule::Range,
                    format!("the range starts at {start}, after its end {end}; swap them"),
                );
            }
            return Ok(Self::Span { start, end });
        }
        let single = address(text)?;
        let full = if single.is_ipv4() { 32 } else { 128 };
        refuse(
            Rule::Format,
            format!(
                "a pool is a CIDR or a range; for the single address {single} write \
                 {single}/{full}"
            ),
        )
    }

    /// The first address in the pool.
    pub fn first(&self) -> IpAddr {
        match *self {
            Self::Cidr { network, .. } => network,
            Self::Span { start, .. } => start,
        }
    }

    /// The last address in the pool.
    pub fn last(&self) -> IpAddr {
        let (v4, _, last) = self.bounds();
        from_bits(v4, last)
    }

    /// True for IPv4 pools.
    pub fn is_ipv4(&self) -> bool {
        self.first().is_ipv4()
    }

    /// How many addresses the pool holds (an IPv6 `/0` saturates at `u128::MAX`).
    pub fn len(&self) -> u128 {
        let (_, first, last) = self.bounds();
        (last - first).saturating_add(1)
    }

    /// Never true: a pool always holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// True when `address` is in the pool.
    pub fn contains(&self, address: IpAddr) -> bool {
        let (v4, first, last) = self.bounds();
        let bits = to_bits(address);
        address.is_ipv4() == v4 && first <= bits && bits <= last
    }

    /// The addresses both pools hold, as (first, last), if any.
    pub fn overlap(&self, other: &IpRange) -> Option<(IpAddr, IpAddr)> {
        let (v4, first, last) = self.bounds();
        let (other_v4, other_first, other_last) = other.bounds();
        let (lo, hi) = (first.max(other_first), last.min(other_last));
        (v4 == other_v4 && lo <= hi).then(|| (from_bits(v4, lo), from_bits(v4, hi)))
    }

    /// (is IPv4, first, last) as integers.
    fn bounds(&self) -> (bool, u128, u128) {
        match *self {
            Self::Cidr {
                network,
                prefix_len,
            } => {
                let first = to_bits(network);
                (
                    network.is_ipv4(),
                    first,
                    first | host_mask(network.is_ipv4(), prefix_len),
                )
            }
            Self::Span { start, end } => (start.is_ipv4(), to_bits(start), to_bits(end)),
        }
    }
}

fn family(address: IpAddr) -> &'static str {
    if address.is_ipv4() { "IPv4" } else { "IPv6" }
}

fn to_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_bits(v4: bool, bits: u128) -> IpAddr {
    if v4 {
        // NB: IPv4 bits never exceed u32 here; the fallback is unreachable.
        IpAddr::V4(Ipv4Addr::from(u32::try_from(bits).unwrap_or(u32::MAX)))
    } else {
        IpAddr::V6(Ipv6Addr::from(bits))
    }
}

/// The host part of an address with `prefix_len` network bits.
fn host_mask(v4: bool, prefix_len: u8) -> u128 {
    let width = if v4 { 32 } else { 128 };
    let host = width - u32::from(prefix_len);
    if host == 0 {
        0
    } else if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    }
}

impl TryFrom<String> for IpRange {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<IpRange> for String {
    fn from(range: IpRange) -> Self {
        range.to_string()
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cidr {
                network,
                prefix_len,
            } => write!(f, "{network}/{prefix_len}"),
            Self::Span { start, end } => write!(f, "{start}-{end}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn range(text: &str) -> IpRange {
        IpRange::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn pool(name: &str, text: &str) -> IpAddressPool {
        IpAddressPool {
            name: name.to_owned(),
            range: range(text),
        }
    }

    fn refusal(text: &str) -> FieldError {
        match IpRange::parse(text) {
            Ok(range) => panic!("{text} was accepted as {range}"),
            Err(err) => err,
        }
    }

    #[test]
    fn parses_cidrs_and_ranges_of_both_families() {
        assert_eq!(range("10.0.0.0/24").len(), 256);
        assert_eq!(
            range("10.0.0.0/24").last(),
            "10.0.0.255".parse::<IpAddr>().unwrap()
        );
        assert_eq!(range("192.168.1.240-192.168.1.250").len(), 11);
        assert_eq!(
            range(" 192.168.1.240 - 192.168.1.250 ").to_string(),
            "192.168.1.240-192.168.1.250"
        );
        assert_eq!(range("10.1.2.3/32").len(), 1);
        assert_eq!(range("fd00::/120").len(), 256);
        assert_eq!(range("FD00::1-fd00::ff").to_string(), "fd00::1-fd00::ff");
        assert!(range("fd00::/64").contains("fd00::1234".parse().unwrap()));
        assert!(!range("fd00::/64").contains("10.0.0.1".parse().unwrap()));
        assert!(!range("fd00::/120").is_ipv4());
        assert_eq!(range("2000::/3").len(), 1 << 125);
    }

    #[test]
    fn refuses_host_bits_and_suggests_the_network() {
        let err = refusal("10.0.0.5/24");
        assert_eq!(err.rule, Rule::Format);
        assert_eq!(
            err.message,
            "10.0.0.5/24 has host bits set; did you mean the network 10.0.0.0/24?"
        );
        assert!(
            refusal("fd00::1/64")
                .message
                .contains("did you mean the network fd00::/64?")
        );
    }

    #[test]
    fn refuses_malformed_pools() {
        for (text, rule, says) in [
            ("", Rule::Required, "must not be empty"),
            (
                "10.0.0/24",
                Rule::Format,
                "\"10.0.0\" is not an IPv4 or IPv6 address",
            ),
            ("10.0.0.0/33", Rule::Format, "from 0 to 32; \"33\""),
            ("fd00::/129", Rule::Format, "from 0 to 128"),
            ("10.0.0.0/x", Rule::Format, "\"x\" is not"),
            (
                "10.0.0.9-10.0.0.1",
                Rule::Range,
                "starts at 10.0.0.9, after its end 10.0.0.1",
            ),
            (
                "10.0.0.1-fd00::1",
                Rule::Format,
                "10.0.0.1 is IPv4 but fd00::1 is IPv6",
            ),
            ("10.0.0.1", Rule::Format, "write 10.0.0.1/32"),
            ("10.0.0.1-", Rule::Format, "\"\" is not"),
            (
                "0.0.0.0/0",
                Rule::Range,
                "\"this network\" addresses (0.0.0.0/8)",
            ),
            (
                "126.0.0.0-128.0.0.0",
                Rule::Range,
                "loopback addresses (127.0.0.0/8)",
            ),
            ("::1/128", Rule::Range, "loopback"),
            ("ff02::/16", Rule::Range, "multicast"),
        ] {
            let err = refusal(text);
            assert_eq!(err.rule, rule, "{text}: {err}");
            assert!(err.message.contains(says), "{text}: {}", err.message);
        }
    }

    #[test]
    fn pool_names_must_be_dns_labels() {
        let problems = IpAddressPool {
            name: "Lan".into(),
            range: range("10.0.0.0/24"),
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            problems.for_field("name").map(|e| e.rule),
            Some(Rule::DnsLabel)
        );
    }

    #[test]
    fn overlap_of_a_cidr_and_a_range_names_both_pools_and_the_addresses() {
        let pools = [
            pool("lan", "10.0.0.0/24"),
            pool("extra", "10.0.0.250-10.0.1.10"),
        ];
        let problems = validate_pools(&pools).unwrap_err();
        assert_eq!(problems.len(), 1);
        let err = problems.for_field("[1].range").unwrap();
        assert_eq!(err.rule, Rule::Overlap);
        assert_eq!(
            err.message,
            "pool \"extra\" (10.0.0.250-10.0.1.10) overlaps pool \"lan\" (10.0.0.0/24) at \
             10.0.0.250-10.0.0.255"
        );
    }

    #[test]
    fn overlap_of_one_address_names_that_address() {
        let pools = [pool("a", "10.0.0.0/24"), pool("b", "10.0.0.255-10.0.1.0")];
        let problems = validate_pools(&pools).unwrap_err();
        assert!(
            problems
                .iter()
                .all(|e| e.message.ends_with("at 10.0.0.255"))
        );
    }

    #[test]
    fn ipv6_pools_overlap_too() {
        let pools = [pool("v6", "fd00::/64"), pool("v6b", "fd00::ff00-fd00::1:0")];
        let err = validate_pools(&pools).unwrap_err();
        assert!(
            err.for_field("[1].range")
                .unwrap()
                .message
                .ends_with("at fd00::ff00-fd00::1:0")
        );
    }

    #[test]
    fn adjacent_pools_and_other_families_do_not_overlap() {
        let pools = [
            pool("a", "10.0.0.0/25"),
            pool("b", "10.0.0.128/25"),
            pool("c", "10.0.1.0-10.0.1.9"),
            pool("d", "10.0.1.10-10.0.1.20"),
            pool("e", "::a00:0/120"),
        ];
        assert_eq!(validate_pools(&pools), Ok(()));
    }

    #[test]
    fn duplicate_names_and_bad_names_are_all_reported() {
        let pools = [
            pool("lan", "10.0.0.0/25"),
            pool("lan", "10.0.1.0/25"),
            pool("Bad", "10.0.2.0/25"),
            pool("wide", "10.0.0.0/16"),
        ];
        let problems = validate_pools(&pools).unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect();
        assert_eq!(
            fields,
            [
                ("[2].name", Rule::DnsLabel),
                ("[1].name", Rule::Unique),
                ("[3].range", Rule::Overlap),
                ("[3].range", Rule::Overlap),
                ("[3].range", Rule::Overlap),
            ]
        );
        assert_eq!(
            problems.for_field("[1].name").map(|e| e.message.as_str()),
            Some("another pool is already named \"lan\" ([0])")
        );
    }

    #[test]
    fn pools_round_trip_through_serde_as_text() {
        let pools = vec![pool("lan", "10.0.0.0/24"), pool("v6", "fd00::1-fd00::9")];
        let json = serde_json::to_string(&pools).unwrap();
        assert_eq!(
            json,
            r#"[{"name":"lan","range":"10.0.0.0/24"},{"name":"v6","range":"fd00::1-fd00::9"}]"#
        );
        assert_eq!(
            serde_json::from_str::<Vec<IpAddressPool>>(&json).unwrap(),
            pools
        );
        assert!(
            serde_json::from_str::<IpAddressPool>(r#"{"name":"x","range":"10.0.0.1/24"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<IpAddressPool>(
                r#"{"name":"x","range":"10.0.0.0/24","extra":1}"#
            )
            .is_err()
        );
    }

    /// A random pool inside 10.0.0.0/24: an aligned CIDR or a span.
    fn small_range() -> impl Strategy<Value = IpRange> {
        prop_oneof![
            (24u8..=32, 0u32..256).prop_map(|(prefix, host)| {
                let size = 1u32 << (32 - prefix);
                let network = Ipv4Addr::from(0x0a00_0000 | (host / size * size));
                IpRange::Cidr {
                    network: IpAddr::V4(network),
                    prefix_len: prefix,
                }
            }),
            (0u32..256, 0u32..256).prop_map(|(a, b)| IpRange::Span {
                start: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | a.min(b))),
                end: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | a.max(b))),
            }),
        ]
    }

    fn addresses(range: &IpRange) -> BTreeSet<IpAddr> {
        (0u32..256)
            .map(|host| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | host)))
            .filter(|ip| range.contains(*ip))
            .collect()
    }

    proptest! {
        #[test]
        fn overlap_agrees_with_brute_force(a in small_range(), b in small_range()) {
            let both: Vec<IpAddr> = addresses(&a).intersection(&addresses(&b)).copied().collect();
            let expected = both.first().copied().zip(both.last().copied());
            prop_assert_eq!(a.overlap(&b), expected);
            prop_assert_eq!(b.overlap(&a), expected);
            prop_assert_eq!(addresses(&a).len() as u128, a.len());
        }

        #[test]
        fn display_parses_back(a in small_range()) {
            prop_assert_eq!(IpRange::parse(&a.to_string()), Ok(a));
        }

        #[test]
        fn parse_never_panics(input in "[0-9a-fA-F:./\\- ]{0,50}") {
            let _ = IpRange::parse(&input);
        }
    }
}
