//! Kubernetes resource quantities (`512Mi`, `250m`, `1e3`), read and written
//! exactly as `k8s.io/apimachinery`'s `resource.Quantity` does.
//!
//! Memory, storage and CPU leave bi for a cluster as these strings and come
//! back as them, so this module follows `quantity.go`, `suffix.go` and
//! `amount.go` to the letter: a quantity is an exact decimal (no floating
//! point anywhere), it remembers whether it was written with a decimal suffix,
//! a binary one or an exponent, and it prints in Kubernetes' canonical form.
//! The human-friendly parsers of [`super::Memory`], [`super::Cpu`] and
//! [`super::Duration`] reuse its number grammar and exact arithmetic.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::UnitError;

/// Values finer than 10^-9 (1n) are rounded away from zero to it, as Kubernetes does.
const NANO: i64 = -9;

/// Significant digits kept for a decimal quantity. Kubernetes has no limit; 36
/// keeps every value exact in an `i128` with room to print it.
pub(crate) const MAX_DECIMAL_DIGITS: usize = 36;

/// Significant digits kept for a quantity with a binary suffix (`Ki`…`Ei`), so
/// that digits × 2^60 always fits in a `u128`.
pub(crate) const MAX_BINARY_DIGITS: usize = 19;

/// Kubernetes caps binary quantities, silently, at 2^63 − 1 in magnitude.
const BINARY_CAP: u128 = i64::MAX as u128;

/// [`BINARY_CAP`] counted in nanos.
const BINARY_CAP_NANOS: u128 = BINARY_CAP * 1_000_000_000;

/// The suffixes of binary quantities, by power of 1024.
const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// How a quantity was written, and so how it is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuantityFormat {
    /// Powers of 1000 (`n`, `u`, `m`, ``, `k`, `M`, `G`, `T`, `P`, `E`): `12M` is 12 × 10^6.
    DecimalSI,
    /// Powers of 1024 (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`): `12Mi` is 12 × 2^20.
    BinarySI,
    /// A decimal exponent: `12e6`.
    DecimalExponent,
}

/// A Kubernetes `resource.Quantity`: an exact decimal number and the format it
/// is written in.
///
/// Parsing follows Kubernetes: an optional sign, digits with an optional
/// decimal point, then a suffix among `n u m k M G T P E Ki Mi Gi Ti Pi Ei`, a
/// decimal exponent (`1e3`, `12E-3`) or nothing. A non-zero value finer than
/// 1n is rounded away from zero to 1n, a binary value is capped at 2^63 − 1 in
/// magnitude, and the suffix's format is remembered. [`fmt::Display`] prints
/// Kubernetes' canonical form (`Quantity.String()`): `1.5Gi` → `1536Mi`,
/// `0.25` → `250m`, `1.5G` → `1500M`.
///
/// Equality, ordering and hashing compare values only: `1Gi == 1024Mi` and
/// `1k == 1e3`, whatever their formats.
///
/// Unlike Kubernetes, which keeps arbitrary precision, a quantity holds at most
/// 36 significant digits (19 with a binary suffix) and a decimal exponent that
/// fits in 32 bits; longer values are refused rather than rounded.
#[derive(Clone, Copy)]
pub struct Quantity {
    /// Value = `mantissa` × 10^`scale`, with no trailing zeros in `mantissa`
    /// (and `scale` 0 for zero), so that equal values have equal fields.
    mantissa: i128,
    scale: i64,
    format: QuantityFormat,
}

impl Quantity {
    /// Zero, written `0`.
    pub const ZERO: Self = Self {
        mantissa: 0,
        scale: 0,
        format: QuantityFormat::DecimalSI,
    };

    /// `value` in `format`, as Kubernetes' `NewQuantity`.
    pub fn new(value: i64, format: QuantityFormat) -> Self {
        Self::normalized(i128::from(value), 0, format)
    }

    /// `value` thousandths in `format`, as Kubernetes' `NewMilliQuantity`.
    pub fn new_milli(value: i64, format: QuantityFormat) -> Self {
        Self::normalized(i128::from(value), -3, format)
    }

    /// The format this quantity was written in and will be written back in.
    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    /// True for zero (`0`, `0Ki`, `0m`…).
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// True when the value has no fractional part.
    pub fn is_whole(&self) -> bool {
        // Normalized: a negative scale means a non-zero digit after the point.
        self.scale >= 0
    }

    /// The exact value when it is a whole number that fits in an `i128`.
    pub fn to_integer(&self) -> Option<i128> {
        if self.scale < 0 {
            return None;
        }
        let power = 10_i128.checked_pow(u32::try_from(self.scale).ok()?)?;
        self.mantissa.checked_mul(power)
    }

    /// The value in thousandths, rounded away from zero, as Kubernetes'
    /// `MilliValue` (which is how CPU amounts are read); `None` beyond `i128`.
    pub fn milli_value(&self) -> Option<i128> {
        let magnitude = self.mantissa.unsigned_abs();
        let (millis, _) = match self.scale.checked_add(3)? {
            shift if shift >= 0 => (times_power(magnitude, 0, shift)?, true),
            shift => ceil_div_power_of_ten(magnitude, shift.unsigned_abs()),
        };
        let millis = i128::try_from(millis).ok()?;
        Some(if self.is_negative() { -millis } else { millis })
    }

    /// Builds `mantissa` × 10^`scale` without trailing zeros in the mantissa.
    ///
    /// Callers keep `|mantissa|` below 10^36 (or 2^64 for binary values) and
    /// `scale` at or above −9: that is what every other method relies on.
    pub(crate) fn normalized(mut mantissa: i128, mut scale: i64, format: QuantityFormat) -> Self {
        if mantissa == 0 {
            scale = 0;
        }
        while mantissa != 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            scale += 1;
        }
        Self {
            mantissa,
            scale,
            format,
        }
    }

    /// The Kubernetes value of `number` followed by `suffix`: rounded away from
    /// zero to 1n, binary values capped at 2^63 − 1 and shown as decimal
    /// below one, exactly as `ParseQuantity` does. `None` when the number has
    /// more significant digits than [`Suffix::max_digits`].
    fn from_parts(number: &Number<'_>, suffix: Suffix) -> Option<Self> {
        let (digits, exponent) = number.significand(suffix.max_digits())?;
        let mut format = suffix.format();
        let (magnitude, scale) = match suffix {
            Suffix::Decimal(power) | Suffix::Exponent(power) if exponent + power >= NANO => {
                (digits, exponent + power)
            }
            // Finer than 1n: a decimal value rounds up to whole nanos, and that always fits.
            Suffix::Decimal(_) | Suffix::Exponent(_) => (
                count_in(digits, exponent, suffix, NANO).map_or(1, |(n, _)| n),
                NANO,
            ),
            Suffix::Binary(_) => match count_in(digits, exponent, suffix, NANO) {
                Some((nanos, _)) if nanos <= BINARY_CAP_NANOS => {
                    if nanos > 0 && nanos < 1_000_000_000 {
                        // NB: Kubernetes keeps a binary value below one as decimal.
                        format = QuantityFormat::DecimalSI;
                    }
                    (nanos, NANO)
                }
                _ => (BINARY_CAP, 0),
            },
        };
        // Below 10^36 (decimal digits) or 2^63 × 10^9 (binary nanos): always an i128.
        let magnitude = i128::try_from(magnitude).ok()?;
        let mantissa = if number.negative {
            -magnitude
        } else {
            magnitude
        };
        Some(Self::normalized(mantissa, scale, format))
    }

    /// The number and the suffix of Kubernetes' canonical form (`CanonicalizeBytes`).
    fn canonical(&self) -> (i128, String) {
        if self.mantissa == 0 {
            return (0, String::new());
        }
        if self.format == QuantityFormat::BinarySI {
            // NB: Kubernetes prints binary values below 1024, or with a
            // fraction, as decimal ones: 1023 stays "1023", 0.5Ki is "512".
            if let Some(value) = self.to_integer().filter(|v| v.unsigned_abs() >= 1024) {
                let (mut amount, mut power) = (value, 0);
                while power < BINARY_SUFFIXES.len() - 1
                    && amount.unsigned_abs() >= 1024
                    && amount % 1024 == 0
                {
                    amount /= 1024;
                    power += 1;
                }
                return (amount, BINARY_SUFFIXES[power].to_owned());
            }
        }
        // Move the exponent down to a multiple of three (1.5G → 1500M).
        let steps = self.scale.rem_euclid(3);
        let factor = match steps {
            1 => 10,
            2 => 100,
            _ => 1,
        };
        // The mantissa is below 10^36, so a hundred times it still fits.
        let mantissa = self.mantissa * factor;
        let exponent = self.scale - steps;
        let suffix = match (self.format, exponent) {
            (QuantityFormat::DecimalExponent, 0) => String::new(),
            (QuantityFormat::DecimalExponent, _) => format!("e{exponent}"),
            (_, -9) => "n".to_owned(),
            (_, -6) => "u".to_owned(),
            (_, -3) => "m".to_owned(),
            (_, 0) => String::new(),
            (_, 3) => "k".to_owned(),
            (_, 6) => "M".to_owned(),
            (_, 9) => "G".to_owned(),
            (_, 12) => "T".to_owned(),
            (_, 15) => "P".to_owned(),
            (_, 18) => "E".to_owned(),
            // NB: past E there is no suffix; Kubernetes falls back to an exponent ("1e21").
            (_, _) => format!("e{exponent}"),
        };
        (mantissa, suffix)
    }

    /// Orders the absolute values of two non-zero quantities.
    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        let (a, b) = (self.mantissa.unsigned_abs(), other.mantissa.unsigned_abs());
        let order_a = i64::from(a.ilog10()) + self.scale;
        let order_b = i64::from(b.ilog10()) + other.scale;
        if order_a != order_b {
            return order_a.cmp(&order_b);
        }
        // Same order of magnitude: the scales differ by fewer digits than a
        // mantissa has, so aligning them cannot overflow.
        let shift = |m: u128, by: i64| {
            u32::try_from(by)
                .ok()
                .and_then(|by| 10_u128.checked_pow(by))
                .and_then(|p| m.checked_mul(p))
        };
        match self.scale.cmp(&other.scale) {
            Ordering::Greater => {
                shift(a, self.scale - other.scale).map_or(Ordering::Greater, |a| a.cmp(&b))
            }
            Ordering::Less => {
                shift(b, other.scale - self.scale).map_or(Ordering::Less, |b| a.cmp(&b))
            }
            Ordering::Equal => a.cmp(&b),
        }
    }
}

impl FromStr for Quantity {
    type Err = UnitError;

    /// Parses a Kubernetes quantity; no whitespace is allowed, as in Kubernetes.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &'static str| UnitError::InvalidQuantity {
            input: input.to_owned(),
            reason,
        };
        if input.is_empty() {
            return Err(invalid("it is empty"));
        }
        let (number, rest) = split_number(input)
            .ok_or_else(|| invalid("it must start with a number, such as 512 in 512Mi"))?;
        let suffix = Suffix::kubernetes(rest).ok_or_else(|| {
            invalid(
                "its suffix must be one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei \
                 or an exponent such as e3",
            )
        })?;
        Self::from_parts(&number, suffix).ok_or_else(|| UnitError::TooManyDigits {
            input: input.to_owned(),
            max_digits: suffix.max_digits(),
        })
    }
}

impl fmt::Display for Quantity {
    /// Kubernetes' canonical form: `1536Mi`, `1500M`, `250m`, `1e3`, `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (number, suffix) = self.canonical();
        write!(f, "{number}{suffix}")
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quantity({self}, {:?})", self.format)
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.mantissa == other.mantissa && self.scale == other.scale
    }
}

impl Eq for Quantity {}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.mantissa.hash(state);
        self.scale.hash(state);
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        match self.mantissa.signum().cmp(&other.mantissa.signum()) {
            Ordering::Equal => match self.mantissa.signum() {
                0 => Ordering::Equal,
                1 => self.cmp_magnitude(other),
                _ => other.cmp_magnitude(self),
            },
            unequal => unequal,
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    /// A quantity string; like Kubernetes, a JSON number is read as one too.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// Reads a [`Quantity`] from a string or a number.
struct QuantityVisitor;

impl serde::de::Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes quantity such as \"512Mi\" or \"250m\"")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Quantity, E> {
        // NB: Kubernetes trims whitespace when it reads JSON.
        value.trim().parse().map_err(E::custom)
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Quantity, E> {
        Ok(Quantity::new(value, QuantityFormat::DecimalSI))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Quantity, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Quantity, E> {
        // Rust prints the shortest decimal that reads back as the same f64.
        self.visit_str(&value.to_string())
    }
}

/// A number as typed: sign, digits before and after the decimal point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Number<'a> {
    /// A leading `-` was given.
    pub(crate) negative: bool,
    /// Digits before the decimal point (may be empty: `.5`).
    pub(crate) whole: &'a str,
    /// Digits after the decimal point (may be empty: `1.`).
    pub(crate) fraction: &'a str,
}

impl Number<'_> {
    /// The number's value as `digits` × 10^`exponent`, with no leading or
    /// trailing zeros in `digits`; `None` with more than `max_digits`
    /// significant digits.
    pub(crate) fn significand(&self, max_digits: usize) -> Option<(u128, i64)> {
        let digits = || self.whole.bytes().chain(self.fraction.bytes());
        let total = self.whole.len() + self.fraction.len();
        let Some(first) = digits().position(|d| d != b'0') else {
            return Some((0, 0));
        };
        let trailing_zeros = digits().rev().take_while(|&d| d == b'0').count();
        let significant = total - first - trailing_zeros;
        if significant > max_digits {
            return None;
        }
        let value = digits()
            .skip(first)
            .take(significant)
            .fold(0_u128, |acc, d| acc * 10 + u128::from(d - b'0'));
        let length = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        Some((value, length(trailing_zeros) - length(self.fraction.len())))
    }

    /// True when the number is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.whole
            .bytes()
            .chain(self.fraction.bytes())
            .all(|d| d == b'0')
    }

    /// The number as typed, without its sign (`0.5`, `.5`, `12`).
    pub(crate) fn text(&self) -> String {
        if self.fraction.is_empty() {
            self.whole.to_owned()
        } else {
            format!("{}.{}", self.whole, self.fraction)
        }
    }
}

/// Splits Kubernetes' `<signedNumber>` off the front of `input`:
/// `[+-]?` then digits, `digits.digits`, `digits.` or `.digits`. `None` when
/// there is no digit (Kubernetes' own scanner reads `.` or `-` as zero; its
/// documented grammar, followed here, needs a digit).
pub(crate) fn split_number(input: &str) -> Option<(Number<'_>, &str)> {
    let bytes = input.as_bytes();
    let digits_from = |start: usize| {
        start
            + bytes
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
    };
    let (negative, whole_start) = match bytes.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let whole_end = digits_from(whole_start);
    let whole = input.get(whole_start..whole_end)?;
    let (fraction, end) = if bytes.get(whole_end) == Some(&b'.') {
        let fraction_end = digits_from(whole_end + 1);
        (input.get(whole_end + 1..fraction_end)?, fraction_end)
    } else {
        ("", whole_end)
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let number = Number {
        negative,
        whole,
        fraction,
    };
    Some((number, input.get(end..)?))
}

/// What a suffix multiplies a number by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suffix {
    /// 10^n, from a decimal SI suffix (`m` is −3, `k` is 3, nothing is 0).
    Decimal(i64),
    /// 2^n, from a binary suffix (`Ki` is 10 … `Ei` is 60).
    Binary(u32),
    /// 10^n, from a decimal exponent (`e3`).
    Exponent(i64),
}

impl Suffix {
    /// Reads a Kubernetes suffix: `n u m k M G T P E`, `Ki Mi Gi Ti Pi Ei`,
    /// nothing, or `e`/`E` with a signed integer that fits in 32 bits.
    pub(crate) fn kubernetes(suffix: &str) -> Option<Self> {
        Some(match suffix {
            "" => Self::Decimal(0),
            "n" => Self::Decimal(-9),
            "u" => Self::Decimal(-6),
            "m" => Self::Decimal(-3),
            "k" => Self::Decimal(3),
            "M" => Self::Decimal(6),
            "G" => Self::Decimal(9),
            "T" => Self::Decimal(12),
            "P" => Self::Decimal(15),
            "E" => Self::Decimal(18),
            "Ki" => Self::Binary(10),
            "Mi" => Self::Binary(20),
            "Gi" => Self::Binary(30),
            "Ti" => Self::Binary(40),
            "Pi" => Self::Binary(50),
            "Ei" => Self::Binary(60),
            _ => {
                let exponent = suffix.strip_prefix(['e', 'E'])?;
                let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // NB: Kubernetes narrows the exponent to int32 and wraps; we refuse instead.
                Self::Exponent(i64::from(exponent.parse::<i32>().ok()?))
            }
        })
    }

    /// The format a quantity written with this suffix keeps.
    pub(crate) fn format(self) -> QuantityFormat {
        match self {
            Self::Decimal(_) => QuantityFormat::DecimalSI,
            Self::Binary(_) => QuantityFormat::BinarySI,
            Self::Exponent(_) => QuantityFormat::DecimalExponent,
        }
    }

    /// How many significant digits a number may have before this suffix.
    pub(crate) fn max_digits(self) -> usize {
        match self {
            Self::Binary(_) => MAX_BINARY_DIGITS,
            Self::Decimal(_) | Self::Exponent(_) => MAX_DECIMAL_DIGITS,
        }
    }
}

/// `digits` (with `exponent` and `suffix`) counted in units of 10^`target`,
/// rounded up, and whether that is exact; `None` when it does not fit a `u128`.
///
/// `digits` must have at most [`MAX_BINARY_DIGITS`] digits for a binary
/// suffix, as [`Number::significand`] ensures.
pub(crate) fn count_in(
    digits: u128,
    exponent: i64,
    suffix: Suffix,
    target: i64,
) -> Option<(u128, bool)> {
    let (exponent, power_of_two) = match suffix {
        Suffix::Decimal(power) | Suffix::Exponent(power) => (exponent.checked_add(power)?, 0),
        Suffix::Binary(power) => (exponent, power),
    };
    match exponent.checked_sub(target)? {
        shift if shift >= 0 => times_power(digits, power_of_two, shift).map(|v| (v, true)),
        shift => times_power(digits, power_of_two, 0)
            .map(|scaled| ceil_div_power_of_ten(scaled, shift.unsigned_abs())),
    }
}

/// `value` × 2^`power_of_two` × 10^`power_of_ten`, or `None` on overflow.
fn times_power(value: u128, power_of_two: u32, power_of_ten: i64) -> Option<u128> {
    let ten = 10_u128.checked_pow(u32::try_from(power_of_ten).ok()?)?;
    value
        .checked_mul(1_u128.checked_shl(power_of_two)?)?
        .checked_mul(ten)
}

/// ⌈`value` / 10^`power`⌉ and whether the division was exact.
fn ceil_div_power_of_ten(value: u128, power: u64) -> (u128, bool) {
    let divisor = u32::try_from(power)
        .ok()
        .and_then(|power| 10_u128.checked_pow(power));
    match divisor {
        Some(divisor) => {
            let remainder = value % divisor;
            (value / divisor + u128::from(remainder != 0), remainder == 0)
        }
        // A divisor beyond u128 is larger than any value: a non-zero value rounds up to one.
        None => (u128::from(value != 0), value == 0),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse(input: &str) -> Quantity {
        input
            .parse()
            .unwrap_or_else(|err| panic!("{input:?} should parse: {err}"))
    }

    fn canonical(input: &str) -> String {
        parse(input).to_string()
    }

    #[test]
    fn formats_decimal_like_kubernetes() {
        // From Kubernetes' TestQuantityParseEmit and TestQuantityString.
        for (input, expected) in [
            ("0", "0"),
            ("1", "1"),
            ("1.5", "1500m"),
            ("0.25", "250m"),
            ("250m", "250m"),
            ("1000m", "1"),
            ("1080m", "1080m"),
            ("1.08", "1080m"),
            ("1.5G", "1500M"),
            ("1000M", "1G"),
            ("0.001T", "1G"),
            ("1000u", "1m"),
            ("300M", "300M"),
            ("1234567M", "1234567M"),
            ("3k", "3k"),
            ("50k", "50k"),
            ("100.035k", "100035"),
            ("12E", "12E"),
            ("1000E", "1e21"),
            ("9.01", "9010m"),
            ("-9.01", "-9010m"),
            ("1080000000n", "1080m"),
            ("1.", "1"),
            ("1.G", "1G"),
            (".001", "1m"),
            ("+5", "5"),
        ] {
            assert_eq!(canonical(input), expected, "{input}");
        }
    }

    #[test]
    fn formats_binary_like_kubernetes() {
        for (input, expected) in [
            ("1Ki", "1Ki"),
            ("1Mi", "1Mi"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("300Mi", "300Mi"),
            ("307200Ki", "300Mi"),
            ("1025024Mi", "1001Gi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("0.5Mi", "512Ki"),
            // Below 1024 or fractional: shown as decimal.
            ("0.5Ki", "512"),
            ("1.5Ki", "1536"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            ("100.035Ki", "102435840m"),
            ("3Ei", "3Ei"),
            ("-1Gi", "-1Gi"),
        ] {
            assert_eq!(canonical(input), expected, "{input}");
        }
    }

    #[test]
    fn parses_kubernetes_own_test_table() {
        // Inputs from Kubernetes' TestQuantityParse; outputs are its canonical forms.
        for (input, expected) in [
            ("0.0005k", "500m"),
            ("0.00050k", "500m"),
            (".0001k", "100m"),
            ("10.035M", "10035k"),
            ("7.123456M", "7123456"),
            ("6.987654321G", "6987654321"),
            ("5.444T", "5444G"),
            ("40.1T", "40100G"),
            ("2.5P", "2500T"),
            ("1.01E", "1010P"),
            ("8.1k", "8100"),
            ("0.05Gi", "53687091200m"),
            ("0.025Ti", "27487790694400m"),
            ("5n", "5n"),
            ("4u", "4u"),
            ("1.40e9", "1400e6"),
            ("1.53E12", "1530e9"),
            ("1.7E18", "1700e15"),
        ] {
            assert_eq!(canonical(input), expected, "{input}");
        }
    }

    #[test]
    fn formats_exponents_like_kubernetes() {
        for (input, expected) in [
            ("1e3", "1e3"),
            ("1E6", "1e6"),
            ("1e9", "1e9"),
            ("1E-3", "1e-3"),
            ("12E-3", "12e-3"),
            ("1.2e3", "1200"),
            ("1.3E+6", "1300e3"),
            ("1e14", "100e12"),
            ("0.5e0", "500e-3"),
            ("1e0", "1"),
            ("1e-0", "1"),
            ("1.1E-9", "2e-9"),
        ] {
            assert_eq!(canonical(input), expected, "{input}");
        }
    }

    #[test]
    fn remembers_the_format_of_the_suffix() {
        assert_eq!(parse("1e3").format(), QuantityFormat::DecimalExponent);
        assert_eq!(parse("1k").format(), QuantityFormat::DecimalSI);
        assert_eq!(parse("1Ki").format(), QuantityFormat::BinarySI);
        assert_eq!(parse("0Ki").format(), QuantityFormat::BinarySI);
        assert_eq!(parse("0.5Ki").format(), QuantityFormat::BinarySI);
        // A binary value below one flips to decimal, as in Kubernetes.
        assert_eq!(
            parse("0.000000000001Ki").format(),
            QuantityFormat::DecimalSI
        );
    }

    #[test]
    fn rounds_finer_than_nano_away_from_zero() {
        // From Kubernetes' TestQuantityParse and quantity_subnano_test.go.
        for (input, expected) in [
            ("3.001n", "4n"),
            ("0.0000000001", "1n"),
            ("0.0000000005", "1n"),
            ("0.9n", "1n"),
            ("-0.9n", "-1n"),
            ("0.00000012345", "124n"),
            ("0.00000012354", "124n"),
            ("1e-100", "1e-9"),
            ("-1e-2147483647", "-1e-9"),
            ("15e-10", "2e-9"),
            ("1000000000000000000000e-30", "1e-9"),
            ("1000000000000000000001e-30", "2e-9"),
            ("0.000000000001Ki", "2n"),
            ("0.00000000000000000000001Ki", "1n"),
            ("0e-2147483648", "0"),
            ("0.0e-100", "0"),
        ] {
            assert_eq!(canonical(input), expected, "{input}");
        }
    }

    #[test]
    fn caps_binary_values_at_the_int64_maximum() {
        assert_eq!(canonical("9Ei"), "9223372036854775807");
        assert_eq!(canonical("9223372036854775807Ki"), "9223372036854775807");
        assert_eq!(canonical("-9Ei"), "-9223372036854775807");
        assert_eq!(parse("9Ei").format(), QuantityFormat::BinarySI);
        // Decimal values are not capped.
        assert_eq!(canonical("18446744073709551616"), "18446744073709551616");
        assert_eq!(canonical("100E"), "100E");
    }

    #[test]
    fn zero_is_always_plain_zero() {
        for input in [
            "0", "0n", "0m", "0Ki", "0Gi", "0T", "-0", "+0.000", "0e5", "00",
        ] {
            assert_eq!(canonical(input), "0", "{input}");
            assert!(parse(input).is_zero());
        }
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for input in [
            "", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-",
            " 1", "1 ", "1K", "1e", "1E+", "1Ki3", "1kb", "1 Gi", "1Gi ", "1Gb", "1e1.5",
        ] {
            assert!(
                input.parse::<Quantity>().is_err(),
                "{input:?} should be refused"
            );
        }
    }

    #[test]
    fn rejects_numbers_without_digits() {
        // NB: Kubernetes' scanner reads these as zero; its documented grammar
        // (and its own exact test oracle) refuse them, and so do we.
        for input in [".", "-", "+", "-.", "k", "Mi", "e3"] {
            assert!(
                input.parse::<Quantity>().is_err(),
                "{input:?} should be refused"
            );
        }
    }

    #[test]
    fn rejects_exponents_beyond_32_bits() {
        // NB: Kubernetes wraps these to int32 (2^32 becomes 0, so "1e4294967296" is 1).
        assert!("1e4294967296".parse::<Quantity>().is_err());
        assert!("1e2147483648".parse::<Quantity>().is_err());
        assert_eq!(canonical("1e2147483647"), "10e2147483646");
    }

    #[test]
    fn rejects_more_digits_than_kept_exactly() {
        let long = "1234567890123456789012345678901234567";
        assert!(matches!(
            long.parse::<Quantity>(),
            Err(UnitError::TooManyDigits { max_digits: 36, .. })
        ));
        // Leading and trailing zeros are not significant.
        assert_eq!(canonical("000000000000000000000000000000000000000001"), "1");
        assert_eq!(
            canonical("1000000000000000000000000000000000000000000000"),
            "1e45"
        );
        assert!("12345678901234567891Ki".parse::<Quantity>().is_err());
        // 19 digits are kept with a binary suffix (this one is then capped).
        assert_eq!(canonical("1234567890123456789Ki"), "9223372036854775807");
    }

    #[test]
    fn invalid_quantity_says_why() {
        let err = "12Q".parse::<Quantity>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "\"12Q\" is not a Kubernetes quantity: its suffix must be one of n, u, m, k, M, \
                 G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3"
            )
        );
    }

    #[test]
    fn compares_values_not_spellings() {
        assert_eq!(parse("1Gi"), parse("1024Mi"));
        assert_eq!(parse("1k"), parse("1e3"));
        assert_eq!(parse("1000m"), parse("1"));
        assert!(parse("100m") > parse("50m"));
        assert!(parse("10000T") > parse("100Gi"));
        assert!(parse("-1") < parse("1n"));
        assert!(parse("-2") < parse("-1"));
        assert!(parse("0.999") < parse("1"));
        assert!(parse("1e2147483647") > parse("9Ei"));
        assert_eq!(parse("0").cmp(&parse("-0")), Ordering::Equal);
    }

    #[test]
    fn milli_value_rounds_up_like_kubernetes() {
        assert_eq!(parse("1").milli_value(), Some(1000));
        assert_eq!(parse("250m").milli_value(), Some(250));
        assert_eq!(parse("1n").milli_value(), Some(1));
        assert_eq!(parse("1.0001").milli_value(), Some(1001));
        assert_eq!(parse("-1.0001").milli_value(), Some(-1001));
        assert_eq!(parse("1e100").milli_value(), None);
    }

    #[test]
    fn constructors_match_kubernetes() {
        // TestNewSet and TestMilliNewSet.
        assert_eq!(
            Quantity::new(1000, QuantityFormat::DecimalSI).to_string(),
            "1k"
        );
        assert_eq!(
            Quantity::new(1024, QuantityFormat::BinarySI).to_string(),
            "1Ki"
        );
        assert_eq!(
            Quantity::new(1_000_000, QuantityFormat::DecimalExponent).to_string(),
            "1e6"
        );
        assert_eq!(
            Quantity::new_milli(1, QuantityFormat::DecimalSI).to_string(),
            "1m"
        );
        assert_eq!(
            Quantity::new_milli(1024, QuantityFormat::BinarySI).to_string(),
            "1024m"
        );
    }

    #[test]
    fn serializes_as_its_canonical_string() {
        let q = parse("1.5Gi");
        assert_eq!(
            serde_json::to_string(&q).ok().as_deref(),
            Some("\"1536Mi\"")
        );
        let back: Quantity = serde_json::from_str("\"1536Mi\"").unwrap_or(Quantity::ZERO);
        assert_eq!(back, q);
        let number: Quantity = serde_json::from_str("10").unwrap_or(Quantity::ZERO);
        assert_eq!(number.to_string(), "10");
        let padded: Quantity = serde_json::from_str("\" 1 \"").unwrap_or(Quantity::ZERO);
        assert_eq!(padded.to_string(), "1");
        assert!(serde_json::from_str::<Quantity>("\"1Q\"").is_err());
    }

    /// Canonical strings: what Kubernetes prints for a parsed quantity, made
    /// by printing random values in random formats, then parsing and printing
    /// once more. (That second step matters: a binary value that is not a
    /// multiple of 1024 prints as a plain number, which parses as decimal, so
    /// `NewQuantity(5000, BinarySI)` prints "5000" but "5000" prints "5k".)
    fn canonical_strings() -> impl Strategy<Value = String> {
        let decimal = (
            any::<i64>(),
            -9_i64..=30,
            prop_oneof![
                Just(QuantityFormat::DecimalSI),
                Just(QuantityFormat::DecimalExponent)
            ],
        )
            .prop_map(|(m, s, f)| Quantity::normalized(i128::from(m), s, f));
        // Binary values stay within Kubernetes' cap, or they would parse capped.
        let binary = (-(i64::MAX)..=i64::MAX, 0_u32..=60).prop_map(|(v, shift)| {
            let v = i128::from(v >> shift.min(62)) << shift;
            let v = v.clamp(-i128::from(i64::MAX), i128::from(i64::MAX));
            Quantity::normalized(v, 0, QuantityFormat::BinarySI)
        });
        let milli = any::<i64>().prop_map(|v| Quantity::new_milli(v, QuantityFormat::BinarySI));
        prop_oneof![decimal, binary, milli].prop_map(|q| {
            let printed = q.to_string();
            printed
                .parse::<Quantity>()
                .map_or(printed, |q| q.to_string())
        })
    }

    proptest! {
        #[test]
        fn format_after_parse_is_identity_on_canonical_forms(text in canonical_strings()) {
            let parsed: Quantity = text.parse().map_err(|e: UnitError| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.to_string(), text);
        }

        #[test]
        fn parse_never_panics_on_any_text(text in "\\PC{0,40}") {
            let _ = text.parse::<Quantity>();
        }
    }

    /// A quantity-shaped string spelled out from the bits of `seed`: a sign,
    /// up to six digits, maybe a fraction of up to four, and any suffix or
    /// exponent. NB: decoding one `u64` is far cheaper per case than a regex
    /// strategy, which keeps 100k cases within a few seconds in debug builds.
    fn quantity_text(mut seed: u64) -> String {
        const SUFFIXES: [&str; 17] = [
            "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
            "e",
        ];
        let mut take = |n: u64| {
            let value = seed % n;
            seed /= n;
            value
        };
        let mut text = String::from(["", "-", "+"][take(3) as usize]);
        for _ in 0..take(7) {
            text.push(char::from(b'0' + take(10) as u8));
        }
        if take(2) == 1 {
            text.push('.');
            for _ in 0..take(5) {
                text.push(char::from(b'0' + take(10) as u8));
            }
        }
        let suffix = SUFFIXES[take(SUFFIXES.len() as u64) as usize];
        text.push_str(suffix);
        if suffix == "e" {
            text.push_str(["", "-", "+"][take(3) as usize]);
            text.push_str(&take(40).to_string());
        }
        text
    }

    proptest! {
        // NB: 100k cases as a plain test so CI runs them; the property is cheap
        // (a parse, two prints and two re-parses).
        #![proptest_config(ProptestConfig::with_cases(100_000))]
        #[test]
        fn parser_is_total_and_its_output_is_stable(seed in any::<u64>()) {
            let text = quantity_text(seed);
            if let Ok(q) = text.parse::<Quantity>() {
                let reparse = |s: &str| s.parse::<Quantity>().map_err(|e| TestCaseError::fail(e.to_string()));
                let again = reparse(&q.to_string())?;
                prop_assert_eq!(again, q);
                // After one round the text is canonical, and stays as it is.
                let canonical = again.to_string();
                prop_assert_eq!(reparse(&canonical)?.to_string(), canonical);
            }
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_the_quantity_alphabet(text in "[-+0-9.eEinumkKMGTPi ]{0,24}") {
            let _ = text.parse::<Quantity>();
        }
    }
}
