//! CPU amounts, in whole millicores (1000m = one core), as Kubernetes counts them.
//!
//! uom has no quantity for compute, so [`Cpu`] is a newtype over millicores:
//! it can only be built from cores or millicores, never from a bare number
//! of unknown unit, and prints as Kubernetes does (`500m`, `2`, `1500m`).
//! Precision is 1m: finer values (`0.0001`, `100u`) round up to the next
//! millicore, as Kubernetes' `MilliValue` does when it schedules a pod.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::bytes::is_size_unit;
use super::duration::is_duration_unit;
use super::error::{UnitError, UnitKind};
use super::quantity::{Quantity, QuantityFormat, Suffix, count_in, split_number};

/// The largest amount, 2^63 − 1 millicores (Kubernetes reads it as `int64`).
const MAX_MILLICORES: u64 = i64::MAX as u64;

/// Words for whole cores (`2 cores`, `1 cpu`, `4 vCPUs`).
const CORE_WORDS: [&str; 6] = ["core", "cores", "cpu", "cpus", "vcpu", "vcpus"];

/// Words for millicores (`250 millicores`, `250 mcpu`).
const MILLICORE_WORDS: [&str; 5] = ["millicore", "millicores", "millicpu", "millicpus", "mcpu"];

/// An amount of CPU in millicores: `Cpu::cores(2)`, `Cpu::millicores(250)`.
///
/// Precision is one millicore; finer input is rounded up. Printed and
/// serialized as Kubernetes' canonical quantity (`"250m"`, `"2"`).
/// Deserializing accepts any Kubernetes quantity, the human forms of
/// [`Cpu::parse`], and a JSON number of cores (`2`, `0.5`): unlike a bare
/// memory size, a bare CPU number has one meaning.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cpu {
    millicores: u64,
}

impl Cpu {
    /// No CPU.
    pub const ZERO: Self = Self { millicores: 0 };

    /// The largest amount, 2^63 − 1 millicores; constructors saturate here.
    pub const MAX: Self = Self {
        millicores: MAX_MILLICORES,
    };

    /// `n` millicores (`250m`).
    pub const fn millicores(n: u64) -> Self {
        Self {
            millicores: if n > MAX_MILLICORES {
                MAX_MILLICORES
            } else {
                n
            },
        }
    }

    /// `n` whole cores.
    pub const fn cores(n: u64) -> Self {
        Self::millicores(n.saturating_mul(1000))
    }

    /// Reads a CPU amount a person typed: `250m`, `0.25`, `2`, `1.5`,
    /// `2 cores`, `1 core`, `500 millicores`, `4 vCPUs`. Refused: empty or
    /// unreadable text, negative amounts, memory units (`2Gi`) and duration
    /// units (`5s`), each with a sentence saying what to type.
    pub fn parse(input: &str) -> Result<Self, UnitError> {
        let kind = UnitKind::Cpu;
        let text = input.trim();
        if text.is_empty() {
            return Err(UnitError::Empty { kind });
        }
        let (number, rest) = split_number(text).ok_or_else(|| UnitError::Malformed {
            input: text.to_owned(),
            kind,
        })?;
        if number.negative && !number.is_zero() {
            return Err(UnitError::Negative {
                input: text.to_owned(),
                kind,
            });
        }
        let unit = rest.trim_start();
        let lower = unit.to_ascii_lowercase();
        let suffix = match unit {
            "" => Suffix::Decimal(0),
            "m" => Suffix::Decimal(-3),
            "u" => Suffix::Decimal(-6),
            "n" => Suffix::Decimal(-9),
            _ if CORE_WORDS.contains(&lower.as_str()) => Suffix::Decimal(0),
            _ if MILLICORE_WORDS.contains(&lower.as_str()) => Suffix::Decimal(-3),
            _ => match Suffix::kubernetes(unit) {
                Some(exponent @ Suffix::Exponent(_)) => exponent,
                _ => return Err(wrong_unit(text, unit)),
            },
        };
        let (digits, exponent) =
            number
                .significand(suffix.max_digits())
                .ok_or_else(|| UnitError::TooManyDigits {
                    input: text.to_owned(),
                    max_digits: suffix.max_digits(),
                })?;
        match count_in(digits, exponent, suffix, -3) {
            Some((millicores, _)) if millicores <= u128::from(MAX_MILLICORES) => Ok(
                Self::millicores(u64::try_from(millicores).unwrap_or(MAX_MILLICORES)),
            ),
            _ => Err(too_large(text)),
        }
    }

    /// Reads a Kubernetes quantity as a cluster returns it (`"250m"`, `"2"`,
    /// `"1e3"`, `"100u"`), rounding up to the millicore. Refused: negative
    /// amounts and amounts above [`Self::MAX`].
    pub fn from_kubernetes(quantity: &str) -> Result<Self, UnitError> {
        let text = quantity.trim();
        let parsed: Quantity = text.parse()?;
        Self::from_quantity(&parsed).map_err(|err| match err {
            UnitError::Negative { kind, .. } => UnitError::Negative {
                input: text.to_owned(),
                kind,
            },
            UnitError::TooLarge { .. } => too_large(text),
            other => other,
        })
    }

    /// A CPU amount from a parsed quantity, rounded up to the millicore.
    pub fn from_quantity(quantity: &Quantity) -> Result<Self, UnitError> {
        if quantity.is_negative() {
            return Err(UnitError::Negative {
                input: quantity.to_string(),
                kind: UnitKind::Cpu,
            });
        }
        match quantity.milli_value().map(u64::try_from) {
            Some(Ok(millicores)) if millicores <= MAX_MILLICORES => Ok(Self { millicores }),
            _ => Err(too_large(&quantity.to_string())),
        }
    }

    /// The amount in millicores.
    pub const fn as_millicores(&self) -> u64 {
        self.millicores
    }

    /// True for no CPU at all.
    pub const fn is_zero(&self) -> bool {
        self.millicores == 0
    }

    /// The amount as a Kubernetes quantity.
    pub fn to_quantity(&self) -> Quantity {
        // At most i64::MAX, by construction.
        let millicores = i64::try_from(self.millicores).unwrap_or(i64::MAX);
        Quantity::new_milli(millicores, QuantityFormat::DecimalSI)
    }

    /// The amount for people: `2 cores`, `1 core`, `0.5 cores`, `1.25 cores`;
    /// below one core and not a tenth of one, in millicores: `250 millicores`.
    pub fn human(&self) -> String {
        let (cores, millis) = (self.millicores / 1000, self.millicores % 1000);
        match (cores, millis) {
            (1, 0) => "1 core".to_owned(),
            (cores, 0) => format!("{cores} cores"),
            (0, 1) => "1 millicore".to_owned(),
            (0, millis) if !millis.is_multiple_of(100) => format!("{millis} millicores"),
            (cores, millis) => {
                let decimals = format!("{millis:03}");
                format!("{cores}.{} cores", decimals.trim_end_matches('0'))
            }
        }
    }

    /// The sum, or `None` above [`Self::MAX`].
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let sum = self.millicores.checked_add(other.millicores)?;
        (sum <= MAX_MILLICORES).then_some(Self { millicores: sum })
    }

    /// The difference, or `None` below zero.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        let difference = self.millicores.checked_sub(other.millicores)?;
        Some(Self {
            millicores: difference,
        })
    }

    /// `factor` times the amount, or `None` above [`Self::MAX`].
    pub fn checked_mul(self, factor: u64) -> Option<Self> {
        let product = self.millicores.checked_mul(factor)?;
        (product <= MAX_MILLICORES).then_some(Self {
            millicores: product,
        })
    }

    /// The sum, at most [`Self::MAX`].
    #[must_use]
    pub fn saturating_add(self, other: Self) -> Self {
        Self::millicores(self.millicores.saturating_add(other.millicores))
    }

    /// The difference, at least zero.
    #[must_use]
    pub fn saturating_sub(self, other: Self) -> Self {
        Self {
            millicores: self.millicores.saturating_sub(other.millicores),
        }
    }
}

/// The error for an amount above [`Cpu::MAX`].
fn too_large(input: &str) -> UnitError {
    UnitError::TooLarge {
        input: input.to_owned(),
        kind: UnitKind::Cpu,
        max: format!("{MAX_MILLICORES} millicores"),
    }
}

/// The error for a unit that is not a CPU unit: memory's, a duration's, or none.
fn wrong_unit(input: &str, unit: &str) -> UnitError {
    let found = if is_size_unit(unit) {
        Some(UnitKind::Memory)
    } else if is_duration_unit(unit) {
        Some(UnitKind::Duration)
    } else {
        None
    };
    match found {
        Some(found) => UnitError::WrongKind {
            input: input.to_owned(),
            expected: UnitKind::Cpu,
            found,
        },
        None => UnitError::UnknownUnit {
            input: input.to_owned(),
            unit: unit.to_owned(),
            kind: UnitKind::Cpu,
        },
    }
}

/// True for CPU units (`cores`, `millicores`, `vcpu`), so other parsers can
/// say "that is a CPU amount".
pub(crate) fn is_cpu_unit(unit: &str) -> bool {
    let lower = unit.to_ascii_lowercase();
    CORE_WORDS.contains(&lower.as_str()) || MILLICORE_WORDS.contains(&lower.as_str())
}

impl fmt::Display for Cpu {
    /// Kubernetes' canonical form: `500m`, `2`, `1500m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_quantity(), f)
    }
}

impl fmt::Debug for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cpu({self})")
    }
}

impl FromStr for Cpu {
    type Err = UnitError;

    /// Same as [`Cpu::parse`].
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl From<Cpu> for Quantity {
    fn from(cpu: Cpu) -> Self {
        cpu.to_quantity()
    }
}

impl Serialize for Cpu {
    /// As its canonical Kubernetes string (`"500m"`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cpu {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CpuVisitor)
    }
}

/// Reads a [`Cpu`] from a quantity string, a human string or a number of cores.
struct CpuVisitor;

impl serde::de::Visitor<'_> for CpuVisitor {
    type Value = Cpu;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CPU amount such as \"500m\" or \"2\"")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Cpu, E> {
        // NB: Kubernetes' own decimal forms ("1k" for 1000 cores) read back,
        // but a binary suffix ("2Gi") is a memory size typed in the wrong place.
        Cpu::parse(value)
            .or_else(|err| match value.trim().parse::<Quantity>() {
                Ok(q) if q.format() != QuantityFormat::BinarySI => Cpu::from_quantity(&q),
                _ => Err(err),
            })
            .map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Cpu, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Cpu, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Cpu, E> {
        // Rust prints the shortest decimal that reads back as the same f64.
        self.visit_str(&value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cpu(input: &str) -> Cpu {
        Cpu::parse(input).unwrap_or_else(|err| panic!("{input:?} should parse: {err}"))
    }

    fn message(result: Result<Cpu, UnitError>) -> String {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn parses_what_people_type() {
        for (input, millicores, canonical) in [
            ("250m", 250, "250m"),
            ("0.25", 250, "250m"),
            ("2", 2000, "2"),
            ("1.5", 1500, "1500m"),
            ("2 cores", 2000, "2"),
            ("1 core", 1000, "1"),
            ("1 CPU", 1000, "1"),
            ("4 vCPUs", 4000, "4"),
            ("500 millicores", 500, "500m"),
            ("500 mcpu", 500, "500m"),
            ("0.5", 500, "500m"),
            (".5", 500, "500m"),
            ("  2  ", 2000, "2"),
            ("0", 0, "0"),
            ("1000", 1_000_000, "1k"),
        ] {
            let amount = cpu(input);
            assert_eq!(amount.as_millicores(), millicores, "{input}");
            assert_eq!(amount.to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn rounds_finer_than_a_millicore_up() {
        assert_eq!(cpu("0.0001").as_millicores(), 1);
        assert_eq!(cpu("1.0001").as_millicores(), 1001);
        assert_eq!(cpu("100u").as_millicores(), 1);
        assert_eq!(cpu("1n").as_millicores(), 1);
        assert_eq!(Cpu::from_kubernetes("1n").map(|c| c.as_millicores()), Ok(1));
        assert_eq!(cpu("0.0").as_millicores(), 0);
    }

    #[test]
    fn rejects_memory_units_as_cpu() {
        assert_eq!(
            message(Cpu::parse("2Gi")),
            "\"2Gi\" is a memory size, not a CPU amount: use cores (2, 0.5, 2 cores) or \
             millicores (250m, 250 millicores)"
        );
        for input in ["2 GB", "2G", "512Mi", "2k", "100 bytes"] {
            assert!(
                matches!(
                    Cpu::parse(input),
                    Err(UnitError::WrongKind {
                        found: UnitKind::Memory,
                        ..
                    })
                ),
                "{input}"
            );
        }
        assert!(matches!(
            Cpu::parse("5s"),
            Err(UnitError::WrongKind {
                found: UnitKind::Duration,
                ..
            })
        ));
    }

    #[test]
    fn rejects_negative_empty_and_garbage() {
        assert_eq!(
            message(Cpu::parse("-1")),
            "\"-1\" is negative: a CPU amount must be zero or more"
        );
        assert!(matches!(Cpu::parse(""), Err(UnitError::Empty { .. })));
        assert!(matches!(
            Cpu::parse("lots"),
            Err(UnitError::Malformed { .. })
        ));
        assert!(matches!(
            Cpu::parse("2 potatoes"),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(matches!(
            Cpu::parse("1e30"),
            Err(UnitError::TooLarge { .. })
        ));
        assert_eq!(
            Cpu::parse("-1").err().map(|e| e.at("redis.cpu").rule),
            Some(crate::Rule::Range)
        );
    }

    #[test]
    fn reads_kubernetes_quantities_from_a_cluster() {
        for (input, millicores) in [
            ("250m", 250),
            ("2", 2000),
            ("1e3", 1_000_000),
            ("1k", 1_000_000),
            ("0.5", 500),
            ("1Ki", 1_024_000),
        ] {
            assert_eq!(
                Cpu::from_kubernetes(input).map(|c| c.as_millicores()),
                Ok(millicores),
                "{input}"
            );
        }
        assert!(matches!(
            Cpu::from_kubernetes("-250m"),
            Err(UnitError::Negative { .. })
        ));
        assert!(matches!(
            Cpu::from_kubernetes("1E"),
            Err(UnitError::TooLarge { .. })
        ));
        assert!(matches!(
            Cpu::from_kubernetes("2 cores"),
            Err(UnitError::InvalidQuantity { .. })
        ));
    }

    #[test]
    fn formats_like_kubernetes() {
        assert_eq!(Cpu::millicores(500).to_string(), "500m");
        assert_eq!(Cpu::cores(2).to_string(), "2");
        assert_eq!(Cpu::millicores(1500).to_string(), "1500m");
        assert_eq!(Cpu::ZERO.to_string(), "0");
        assert_eq!(format!("{:?}", Cpu::millicores(250)), "Cpu(250m)");
    }

    #[test]
    fn human_says_cores_or_millicores() {
        assert_eq!(Cpu::millicores(500).human(), "0.5 cores");
        assert_eq!(Cpu::cores(2).human(), "2 cores");
        assert_eq!(Cpu::cores(1).human(), "1 core");
        assert_eq!(Cpu::millicores(250).human(), "250 millicores");
        assert_eq!(Cpu::millicores(1).human(), "1 millicore");
        assert_eq!(Cpu::millicores(1250).human(), "1.25 cores");
        assert_eq!(Cpu::millicores(1001).human(), "1.001 cores");
        assert_eq!(Cpu::ZERO.human(), "0 cores");
    }

    #[test]
    fn arithmetic_is_checked() {
        let half = Cpu::millicores(500);
        assert_eq!(half.checked_add(half), Some(Cpu::cores(1)));
        assert_eq!(half.checked_sub(Cpu::cores(1)), None);
        assert_eq!(half.checked_mul(3), Some(Cpu::millicores(1500)));
        assert_eq!(Cpu::MAX.checked_add(Cpu::millicores(1)), None);
        assert_eq!(Cpu::MAX.checked_mul(2), None);
        assert_eq!(half.saturating_sub(Cpu::cores(1)), Cpu::ZERO);
        assert_eq!(Cpu::MAX.saturating_add(half), Cpu::MAX);
        assert!(Cpu::millicores(999) < Cpu::cores(1));
        assert_eq!(Cpu::cores(u64::MAX), Cpu::MAX);
    }

    #[test]
    fn serializes_as_a_kubernetes_string() {
        let json = serde_json::to_string(&Cpu::millicores(500)).unwrap_or_default();
        assert_eq!(json, "\"500m\"");
        let read = |json: &str| serde_json::from_str::<Cpu>(json).map_err(|e| e.to_string());
        assert_eq!(read("\"500m\""), Ok(Cpu::millicores(500)));
        assert_eq!(read("\"2\""), Ok(Cpu::cores(2)));
        assert_eq!(read("\"2 cores\""), Ok(Cpu::cores(2)));
        assert_eq!(read("2"), Ok(Cpu::cores(2)));
        assert_eq!(read("0.5"), Ok(Cpu::millicores(500)));
        assert!(read("-1").is_err());
        assert!(read("\"2Gi\"").is_err_and(|e| e.contains("memory size")));
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(millicores in 0..=MAX_MILLICORES) {
            let amount = Cpu::millicores(millicores);
            let text = amount.to_string();
            prop_assert_eq!(Cpu::from_kubernetes(&text), Ok(amount));
            prop_assert_eq!(Cpu::parse(&amount.human()), Ok(amount));
            // NB: from 1000 cores Kubernetes writes "1k", which `parse` refuses as
            // a memory unit; deserializing reads it through `from_kubernetes`.
            if millicores < 1_000_000 || !millicores.is_multiple_of(1_000_000) {
                prop_assert_eq!(Cpu::parse(&text), Ok(amount));
            }
            let json = serde_json::to_string(&amount).unwrap_or_default();
            prop_assert_eq!(serde_json::from_str::<Cpu>(&json).ok(), Some(amount));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,24}") {
            let _ = Cpu::parse(&text);
            let _ = Cpu::from_kubernetes(&text);
        }
    }
}
