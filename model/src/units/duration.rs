//! Durations (timeouts, intervals, retention), exact to the millisecond and
//! held as a uom `Time`.
//!
//! They are written the way Go and Kubernetes write them (`15m`, `1h30m`,
//! `500ms`), which is what controllers and CRDs expect; people may also type
//! days (`1d`) and words (`15 minutes`, `2 hours`). A bare number is refused:
//! `15` could be seconds or minutes.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uom::num_rational::Ratio;
use uom::si::rational64::Time;

use super::bytes::is_size_unit;
use super::cpu::is_cpu_unit;
use super::error::{UnitError, UnitKind};
use super::quantity::{MAX_BINARY_DIGITS, split_number};

/// The longest duration, 2^63 − 1 milliseconds (about 292 million years).
const MAX_MILLIS: u64 = i64::MAX as u64;

const NANOS_PER_MILLI: u128 = 1_000_000;

/// The units a duration may be written in: symbols (exact case, as Go) and
/// words (any case), with their length in nanoseconds.
const UNITS: [(&[&str], &[&str], u128); 7] = [
    (&["ns"], &["nanosecond", "nanoseconds"], 1),
    (&["us", "µs", "μs"], &["microsecond", "microseconds"], 1_000),
    (
        &["ms"],
        &["msec", "msecs", "millisecond", "milliseconds"],
        1_000_000,
    ),
    (&["s"], &["sec", "secs", "second", "seconds"], 1_000_000_000),
    (
        &["m"],
        &["min", "mins", "minute", "minutes"],
        60_000_000_000,
    ),
    (&["h"], &["hr", "hrs", "hour", "hours"], 3_600_000_000_000),
    (&["d"], &["day", "days"], 86_400_000_000_000),
];

/// A non-negative span of time, exact to the millisecond.
///
/// Held as a uom [`Time`] (a ratio of seconds, so milliseconds stay exact).
/// Printed and serialized the Go way (`15m`, `1h30m`, `500ms`, `0s`); equal,
/// ordered and hashed by its milliseconds.
#[derive(Clone, Copy)]
pub struct Duration {
    /// Seconds, as `milliseconds / 1000`.
    time: Time,
}

impl Duration {
    /// No time at all.
    pub const ZERO: Self = Self::from_millis(0);

    /// The longest duration, 2^63 − 1 ms; constructors saturate here.
    pub const MAX: Self = Self::from_millis(MAX_MILLIS);

    const fn from_millis(millis: u64) -> Self {
        let millis = if millis > MAX_MILLIS {
            MAX_MILLIS
        } else {
            millis
        };
        Self {
            time: Time {
                dimension: PhantomData,
                units: PhantomData,
                // At most i64::MAX, just checked.
                value: Ratio::new_raw(millis as i64, 1000),
            },
        }
    }

    /// `n` milliseconds.
    pub const fn milliseconds(n: u64) -> Self {
        Self::from_millis(n)
    }

    /// `n` seconds.
    pub const fn seconds(n: u64) -> Self {
        Self::from_millis(n.saturating_mul(1000))
    }

    /// `n` minutes.
    pub const fn minutes(n: u64) -> Self {
        Self::from_millis(n.saturating_mul(60_000))
    }

    /// `n` hours.
    pub const fn hours(n: u64) -> Self {
        Self::from_millis(n.saturating_mul(3_600_000))
    }

    /// `n` days of 24 hours.
    pub const fn days(n: u64) -> Self {
        Self::from_millis(n.saturating_mul(86_400_000))
    }

    /// Reads a duration a person typed: Go style (`15m`, `1h30m`, `900s`,
    /// `500ms`, `1.5h`), days (`1d`, 24 hours each), or words (`15 minutes`,
    /// `2 hours`, `1 hour 30 minutes`). Refused: a bare number other than
    /// `0` (`"15" has no unit: did you mean 15s (seconds) or 15m (minutes)?`),
    /// negative durations, anything finer than a millisecond, and durations
    /// above [`Self::MAX`].
    pub fn parse(input: &str) -> Result<Self, UnitError> {
        let kind = UnitKind::Duration;
        let text = input.trim();
        if text.is_empty() {
            return Err(UnitError::Empty { kind });
        }
        let owned = || text.to_owned();
        let mut rest = text;
        let mut nanos: u128 = 0;
        let mut previous_unit: Option<u128> = None;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
            if previous_unit.is_some() {
                rest = rest.strip_prefix("and ").unwrap_or(rest).trim_start();
            }
            if rest.is_empty() {
                break;
            }
            let (number, after) = split_number(rest).ok_or_else(|| UnitError::Malformed {
                input: owned(),
                kind,
            })?;
            if number.negative && !number.is_zero() {
                return Err(UnitError::Negative {
                    input: owned(),
                    kind,
                });
            }
            let after = after.trim_start();
            let unit_end = after
                .find(|c: char| !c.is_alphabetic())
                .unwrap_or(after.len());
            let (unit, tail) = after.split_at(unit_end);
            rest = tail;
            if unit.is_empty() {
                if previous_unit.is_none() && number.is_zero() && rest.trim().is_empty() {
                    // NB: "0" needs no unit, as in Go.
                    return Ok(Self::ZERO);
                }
                return Err(UnitError::MissingUnit {
                    input: owned(),
                    suggestion: suggest_unit(text, previous_unit),
                });
            }
            let unit_nanos = unit_nanos(unit).ok_or_else(|| wrong_unit(text, unit))?;
            let (digits, exponent) =
                number
                    .significand(MAX_BINARY_DIGITS)
                    .ok_or_else(|| UnitError::TooManyDigits {
                        input: owned(),
                        max_digits: MAX_BINARY_DIGITS,
                    })?;
            // Fewer than 20 digits times at most 8.64e13 ns: always fits.
            let scaled = digits * unit_nanos;
            let part = if exponent >= 0 {
                u32::try_from(exponent)
                    .ok()
                    .and_then(|e| 10_u128.checked_pow(e))
                    .and_then(|power| scaled.checked_mul(power))
            } else {
                let divisor = u32::try_from(exponent.unsigned_abs())
                    .ok()
                    .and_then(|e| 10_u128.checked_pow(e));
                match divisor {
                    Some(divisor) if scaled.is_multiple_of(divisor) => Some(scaled / divisor),
                    _ => {
                        return Err(UnitError::Fractional {
                            input: owned(),
                            kind,
                        });
                    }
                }
            };
            nanos = part
                .and_then(|part| nanos.checked_add(part))
                .ok_or_else(|| too_large(text))?;
            previous_unit = Some(unit_nanos);
        }
        if !nanos.is_multiple_of(NANOS_PER_MILLI) {
            return Err(UnitError::Fractional {
                input: owned(),
                kind,
            });
        }
        match u64::try_from(nanos / NANOS_PER_MILLI) {
            Ok(millis) if millis <= MAX_MILLIS => Ok(Self::from_millis(millis)),
            _ => Err(too_large(text)),
        }
    }

    /// The duration in whole milliseconds.
    pub fn as_millis(&self) -> u64 {
        let value = self.time.value;
        let millis = i128::from(*value.numer()) * 1000 / i128::from(*value.denom()).max(1);
        u64::try_from(millis).unwrap_or_default()
    }

    /// The duration in whole seconds, rounded down.
    pub fn as_seconds(&self) -> u64 {
        self.as_millis() / 1000
    }

    /// The duration as a uom [`Time`] (seconds as an exact ratio).
    pub fn time(&self) -> Time {
        let millis = i64::try_from(self.as_millis()).unwrap_or(i64::MAX);
        Time {
            dimension: PhantomData,
            units: PhantomData,
            value: Ratio::new(millis, 1000),
        }
    }

    /// The duration as a standard library duration (for timers and sleeps).
    pub fn to_std(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.as_millis())
    }

    /// True for no time at all.
    pub fn is_zero(&self) -> bool {
        self.as_millis() == 0
    }

    /// The duration for people: `1 hour 30 minutes`, `500 milliseconds`,
    /// `1 day`, `0 seconds`.
    pub fn human(&self) -> String {
        let millis = self.as_millis();
        if millis == 0 {
            return "0 seconds".to_owned();
        }
        let parts = [
            (millis / 86_400_000, "day"),
            (millis / 3_600_000 % 24, "hour"),
            (millis / 60_000 % 60, "minute"),
            (millis / 1000 % 60, "second"),
            (millis % 1000, "millisecond"),
        ];
        let words: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|&(n, unit)| {
                let plural = if n == 1 { "" } else { "s" };
                format!("{n} {unit}{plural}")
            })
            .collect();
        words.join(" ")
    }

    /// The sum, or `None` above [`Self::MAX`].
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let sum = self.as_millis().checked_add(other.as_millis())?;
        (sum <= MAX_MILLIS).then(|| Self::from_millis(sum))
    }

    /// The difference, or `None` below zero.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.as_millis()
            .checked_sub(other.as_millis())
            .map(Self::from_millis)
    }

    /// `factor` times the duration, or `None` above [`Self::MAX`].
    pub fn checked_mul(self, factor: u64) -> Option<Self> {
        let product = self.as_millis().checked_mul(factor)?;
        (product <= MAX_MILLIS).then(|| Self::from_millis(product))
    }

    /// The sum, at most [`Self::MAX`].
    #[must_use]
    pub fn saturating_add(self, other: Self) -> Self {
        Self::from_millis(self.as_millis().saturating_add(other.as_millis()))
    }

    /// The difference, at least zero.
    #[must_use]
    pub fn saturating_sub(self, other: Self) -> Self {
        Self::from_millis(self.as_millis().saturating_sub(other.as_millis()))
    }
}

/// Nanoseconds in one `unit`, or `None` when it is not a duration unit.
fn unit_nanos(unit: &str) -> Option<u128> {
    let lower = unit.to_lowercase();
    UNITS
        .iter()
        .find(|(symbols, words, _)| symbols.contains(&unit) || words.contains(&lower.as_str()))
        .map(|&(_, _, nanos)| nanos)
}

/// True for duration units (`s`, `ms`, `minutes`, `hours`), so other parsers
/// can say "that is a duration".
pub(crate) fn is_duration_unit(unit: &str) -> bool {
    unit_nanos(unit).is_some()
}

/// The error for an unknown unit: a size's, a CPU's, or none at all.
fn wrong_unit(input: &str, unit: &str) -> UnitError {
    let found = if is_size_unit(unit) {
        Some(UnitKind::Memory)
    } else if is_cpu_unit(unit) {
        Some(UnitKind::Cpu)
    } else {
        None
    };
    match found {
        Some(found) => UnitError::WrongKind {
            input: input.to_owned(),
            expected: UnitKind::Duration,
            found,
        },
        None => UnitError::UnknownUnit {
            input: input.to_owned(),
            unit: unit.to_owned(),
            kind: UnitKind::Duration,
        },
    }
}

/// What a number without a unit most likely meant: seconds or minutes when
/// it stands alone, else the unit below the one before it (`1h30` → `1h30m`).
fn suggest_unit(text: &str, previous_unit: Option<u128>) -> String {
    let next = match previous_unit {
        None => return format!("{text}s (seconds) or {text}m (minutes)"),
        Some(86_400_000_000_000) => "h",
        Some(3_600_000_000_000) => "m",
        Some(60_000_000_000) => "s",
        Some(_) => "ms",
    };
    format!("{text}{next}")
}

/// The error for a duration above [`Duration::MAX`].
fn too_large(input: &str) -> UnitError {
    UnitError::TooLarge {
        input: input.to_owned(),
        kind: UnitKind::Duration,
        max: format!("{MAX_MILLIS}ms"),
    }
}

impl fmt::Display for Duration {
    /// Go style without zero parts: `15m`, `1h30m`, `1m1.5s`, `500ms`, `0s`.
    /// Days are written as hours (`24h`), which Go's `ParseDuration` reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.as_millis();
        if millis == 0 {
            return f.write_str("0s");
        }
        let (hours, minutes) = (millis / 3_600_000, millis / 60_000 % 60);
        let (seconds, rest) = (millis / 1000 % 60, millis % 1000);
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        match (seconds, rest) {
            (0, 0) => Ok(()),
            (0, rest) => write!(f, "{rest}ms"),
            (seconds, 0) => write!(f, "{seconds}s"),
            (seconds, rest) => {
                let decimals = format!("{rest:03}");
                write!(f, "{seconds}.{}s", decimals.trim_end_matches('0'))
            }
        }
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duration({self})")
    }
}

impl FromStr for Duration {
    type Err = UnitError;

    /// Same as [`Duration::parse`].
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl From<Duration> for std::time::Duration {
    fn from(duration: Duration) -> Self {
        duration.to_std()
    }
}

impl PartialEq for Duration {
    fn eq(&self, other: &Self) -> bool {
        self.as_millis() == other.as_millis()
    }
}

impl Eq for Duration {}

impl std::hash::Hash for Duration {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_millis().hash(state);
    }
}

impl PartialOrd for Duration {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Duration {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_millis().cmp(&other.as_millis())
    }
}

impl Default for Duration {
    fn default() -> Self {
        Self::ZERO
    }
}

impl Serialize for Duration {
    /// As its Go-style string (`"1h30m"`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    /// A duration string (`"15m"`, `"15 minutes"`); a JSON number is refused
    /// as a bare number would be, zero excepted.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Reads a [`Duration`] from a string (or refuses a number with a suggestion).
struct DurationVisitor;

impl serde::de::Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration with a unit, such as \"15m\" or \"1h30m\"")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Duration, E> {
        Duration::parse(value).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Duration, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Duration, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Duration, E> {
        self.visit_str(&value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use uom::si::time::{millisecond, second};

    use super::*;

    fn duration(input: &str) -> Duration {
        Duration::parse(input).unwrap_or_else(|err| panic!("{input:?} should parse: {err}"))
    }

    fn message(result: Result<Duration, UnitError>) -> String {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn parses_go_style_and_words() {
        for (input, millis, canonical) in [
            ("15m", 900_000, "15m"),
            ("1h30m", 5_400_000, "1h30m"),
            ("900s", 900_000, "15m"),
            ("500ms", 500, "500ms"),
            ("2h", 7_200_000, "2h"),
            ("1d", 86_400_000, "24h"),
            ("1.5h", 5_400_000, "1h30m"),
            (".5s", 500, "500ms"),
            ("1m1.5s", 61_500, "1m1.5s"),
            ("1h0.5s", 3_600_500, "1h500ms"),
            ("15 minutes", 900_000, "15m"),
            ("2 hours", 7_200_000, "2h"),
            ("30 seconds", 30_000, "30s"),
            ("1 second", 1000, "1s"),
            ("1 hour 30 minutes", 5_400_000, "1h30m"),
            ("1 hour, 30 minutes", 5_400_000, "1h30m"),
            ("1 hour and 30 minutes", 5_400_000, "1h30m"),
            ("1h 30m", 5_400_000, "1h30m"),
            ("2 Days", 172_800_000, "48h"),
            ("1000000ns", 1, "1ms"),
            ("2000us", 2, "2ms"),
            ("2000µs", 2, "2ms"),
            ("1500000µs", 1_500, "1.5s"),
            ("0", 0, "0s"),
            ("0s", 0, "0s"),
            ("  5s ", 5000, "5s"),
        ] {
            let parsed = duration(input);
            assert_eq!(parsed.as_millis(), millis, "{input}");
            assert_eq!(parsed.to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn rejects_duration_without_unit() {
        assert_eq!(
            message(Duration::parse("15")),
            "\"15\" has no unit: did you mean 15s (seconds) or 15m (minutes)?"
        );
        assert_eq!(
            message(Duration::parse("1h30")),
            "\"1h30\" has no unit: did you mean 1h30m?"
        );
        assert_eq!(
            Duration::parse("15")
                .err()
                .map(|e| e.at("backup.every").rule),
            Some(crate::Rule::Unit)
        );
    }

    #[test]
    fn rejects_negative_sub_millisecond_and_other_units() {
        assert_eq!(
            message(Duration::parse("-5m")),
            "\"-5m\" is negative: a duration must be zero or more"
        );
        assert_eq!(
            message(Duration::parse("1.0005s")),
            "\"1.0005s\" is finer than a millisecond: durations are kept to the millisecond"
        );
        assert!(matches!(
            Duration::parse("1500ns"),
            Err(UnitError::Fractional { .. })
        ));
        assert!(matches!(
            Duration::parse("2Gi"),
            Err(UnitError::WrongKind {
                found: UnitKind::Memory,
                ..
            })
        ));
        assert!(matches!(
            Duration::parse("2 cores"),
            Err(UnitError::WrongKind {
                found: UnitKind::Cpu,
                ..
            })
        ));
        assert!(matches!(
            Duration::parse("3 fortnights"),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(matches!(
            Duration::parse("soon"),
            Err(UnitError::Malformed { .. })
        ));
        assert!(matches!(Duration::parse(""), Err(UnitError::Empty { .. })));
        assert!(matches!(
            Duration::parse("9999999999999999999d"),
            Err(UnitError::TooLarge { .. })
        ));
    }

    #[test]
    fn holds_a_uom_time() {
        let d = Duration::milliseconds(1500);
        assert_eq!(d.time().get::<millisecond>(), Ratio::from_integer(1500));
        assert_eq!(d.time().get::<second>(), Ratio::new(3, 2));
        assert_eq!(d.as_seconds(), 1);
        assert_eq!(d.to_std(), std::time::Duration::from_millis(1500));
    }

    #[test]
    fn constructors_and_arithmetic() {
        assert_eq!(Duration::minutes(15), duration("15m"));
        assert_eq!(
            Duration::hours(1).checked_add(Duration::minutes(30)),
            Some(duration("90m"))
        );
        assert_eq!(Duration::seconds(1).checked_sub(Duration::seconds(2)), None);
        assert_eq!(
            Duration::seconds(1).saturating_sub(Duration::seconds(2)),
            Duration::ZERO
        );
        assert_eq!(
            Duration::seconds(20).checked_mul(3),
            Some(Duration::minutes(1))
        );
        assert_eq!(Duration::MAX.checked_add(Duration::milliseconds(1)), None);
        assert_eq!(Duration::days(u64::MAX), Duration::MAX);
        assert!(Duration::seconds(59) < Duration::minutes(1));
        assert_eq!(format!("{:?}", Duration::minutes(90)), "Duration(1h30m)");
    }

    #[test]
    fn human_spells_it_out() {
        assert_eq!(Duration::minutes(90).human(), "1 hour 30 minutes");
        assert_eq!(Duration::minutes(15).human(), "15 minutes");
        assert_eq!(Duration::milliseconds(500).human(), "500 milliseconds");
        assert_eq!(Duration::days(1).human(), "1 day");
        assert_eq!(Duration::ZERO.human(), "0 seconds");
    }

    #[test]
    fn serializes_as_a_go_duration_string() {
        let json = serde_json::to_string(&Duration::minutes(90)).unwrap_or_default();
        assert_eq!(json, "\"1h30m\"");
        let read = |json: &str| serde_json::from_str::<Duration>(json).map_err(|e| e.to_string());
        assert_eq!(read("\"1h30m\""), Ok(Duration::minutes(90)));
        assert_eq!(read("\"15 minutes\""), Ok(Duration::minutes(15)));
        assert!(read("15").is_err_and(|e| {
            e.starts_with("\"15\" has no unit: did you mean 15s (seconds) or 15m (minutes)?")
        }));
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(millis in 0..=MAX_MILLIS) {
            let d = Duration::milliseconds(millis);
            prop_assert_eq!(Duration::parse(&d.to_string()), Ok(d));
            prop_assert_eq!(Duration::parse(&d.human()), Ok(d));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,24}") {
            let _ = Duration::parse(&text);
        }

        #[test]
        fn parse_never_panics_on_duration_like_text(text in "[-+0-9. ,µa-z]{0,20}") {
            let _ = Duration::parse(&text);
        }
    }
}
