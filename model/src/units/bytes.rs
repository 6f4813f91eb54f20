//! Memory and storage sizes: exact whole bytes, held as uom `Information`.
//!
//! [`Memory`] and [`Storage`] are two types so that a volume size cannot be
//! passed where a memory limit is expected; they share one implementation
//! (a private `ByteSize` and a macro for the two public faces). A size
//! remembers whether it was written in powers of 1024 (`512Mi`) or 1000
//! (`1.5G`) so that it goes back to Kubernetes as the person wrote it.
//!
//! People type sizes in many ways (`512Mi`, `512 MiB`, `0.5Gi`, `1.5 GB`);
//! [`Memory::parse`] takes all of them and refuses the ones that are almost
//! certainly mistakes: a bare number (`500`: bytes? MiB?) and `m`, which in
//! Kubernetes means milli, so `500m` is half a byte.

use std::fmt;
use std::marker::PhantomData;

use uom::si::u64::Information;

use super::cpu::is_cpu_unit;
use super::duration::is_duration_unit;
use super::error::{UnitError, UnitKind};
use super::quantity::{Number, Quantity, QuantityFormat, Suffix, count_in, split_number};

/// The largest size, 2^63 − 1 bytes (8 EiB less a byte): Kubernetes caps
/// binary quantities there and reads sizes as `int64`.
const MAX_BYTES: u64 = i64::MAX as u64;

/// Binary units for [`ByteSize::human`], by power of 1024.
const BINARY_UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// Decimal units for [`ByteSize::human`], by power of 1000.
const DECIMAL_UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/// The shared inside of [`Memory`] and [`Storage`].
#[derive(Clone, Copy)]
struct ByteSize {
    /// Whole bytes (uom's base unit of information is the byte).
    information: Information,
    /// How the size is written back.
    format: QuantityFormat,
}

impl ByteSize {
    /// `bytes` in `format`, capped at [`MAX_BYTES`].
    const fn new(bytes: u64, format: QuantityFormat) -> Self {
        let value = if bytes > MAX_BYTES { MAX_BYTES } else { bytes };
        Self {
            information: Information {
                dimension: PhantomData,
                units: PhantomData,
                value,
            },
            format,
        }
    }

    /// `count` × `unit` bytes, capped at [`MAX_BYTES`].
    const fn scaled(count: u64, unit: u64, format: QuantityFormat) -> Self {
        Self::new(count.saturating_mul(unit), format)
    }

    const fn bytes(&self) -> u64 {
        self.information.value
    }

    /// Reads what a person typed (see [`Memory::parse`]).
    fn parse(input: &str, kind: UnitKind) -> Result<Self, UnitError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(UnitError::Empty { kind });
        }
        let malformed = || UnitError::Malformed {
            input: text.to_owned(),
            kind,
        };
        let (number, rest) = split_number(text).ok_or_else(malformed)?;
        if number.negative && !number.is_zero() {
            return Err(UnitError::Negative {
                input: text.to_owned(),
                kind,
            });
        }
        let unit = rest.trim_start();
        let suffix = match size_unit(unit) {
            SizeUnit::Suffix(suffix) => suffix,
            SizeUnit::None if number.is_zero() => Suffix::Decimal(0),
            SizeUnit::None => {
                return Err(UnitError::MissingUnit {
                    input: text.to_owned(),
                    suggestion: suggest_unit(&number, kind),
                });
            }
            SizeUnit::SubByte { fraction, prefix } => {
                return Err(UnitError::SubByte {
                    input: text.to_owned(),
                    number: number.text(),
                    suffix: unit.to_owned(),
                    fraction,
                    prefix,
                });
            }
            SizeUnit::Ambiguous { binary, decimal } => {
                let n = number.text();
                return Err(UnitError::AmbiguousUnit {
                    input: text.to_owned(),
                    suggestion: format!(
                        "{n}{binary} ({n} {binary}B, powers of 1024) or {n}{decimal} \
                         ({n} {}B, powers of 1000)",
                        decimal.to_ascii_uppercase().replace('K', "k")
                    ),
                });
            }
            SizeUnit::Unknown => return Err(wrong_unit(text, unit, kind)),
        };
        Self::exact(text, &number, suffix, kind)
    }

    /// Reads a Kubernetes quantity (see [`Memory::from_kubernetes`]).
    fn from_kubernetes(input: &str, kind: UnitKind) -> Result<Self, UnitError> {
        let quantity: Quantity = input.trim().parse()?;
        Self::from_quantity(&quantity, kind).map_err(|err| match err {
            UnitError::Negative { .. } => UnitError::Negative {
                input: input.trim().to_owned(),
                kind,
            },
            UnitError::Fractional { .. } => UnitError::Fractional {
                input: input.trim().to_owned(),
                kind,
            },
            UnitError::TooLarge { max, .. } => UnitError::TooLarge {
                input: input.trim().to_owned(),
                kind,
                max,
            },
            other => other,
        })
    }

    /// A whole, non-negative number of bytes from a quantity, keeping its format.
    fn from_quantity(quantity: &Quantity, kind: UnitKind) -> Result<Self, UnitError> {
        let input = quantity.to_string();
        if quantity.is_negative() {
            return Err(UnitError::Negative { input, kind });
        }
        if !quantity.is_whole() {
            return Err(UnitError::Fractional { input, kind });
        }
        let Some(bytes) = quantity.to_integer() else {
            return Err(too_large(input, kind));
        };
        match u64::try_from(bytes) {
            Ok(bytes) if bytes <= MAX_BYTES => Ok(Self::new(bytes, quantity.format())),
            _ => Err(too_large(input, kind)),
        }
    }

    /// The exact whole number of bytes `number` × `suffix`.
    fn exact(
        text: &str,
        number: &Number<'_>,
        suffix: Suffix,
        kind: UnitKind,
    ) -> Result<Self, UnitError> {
        let (digits, exponent) =
            number
                .significand(suffix.max_digits())
                .ok_or_else(|| UnitError::TooManyDigits {
                    input: text.to_owned(),
                    max_digits: suffix.max_digits(),
                })?;
        match count_in(digits, exponent, suffix, 0) {
            Some((_, false)) => Err(UnitError::Fractional {
                input: text.to_owned(),
                kind,
            }),
            Some((bytes, true)) if bytes <= u128::from(MAX_BYTES) => {
                // Fits: checked just above.
                let bytes = u64::try_from(bytes).unwrap_or(MAX_BYTES);
                Ok(Self::new(bytes, suffix.format()))
            }
            _ => Err(too_large(text.to_owned(), kind)),
        }
    }

    fn to_quantity(self) -> Quantity {
        // At most i64::MAX, by construction.
        Quantity::new(i64::try_from(self.bytes()).unwrap_or(i64::MAX), self.format)
    }

    /// A rounded size for people: the largest unit of the size's own family
    /// (1024s or 1000s) that is at least one, with up to two decimals.
    fn human(self) -> String {
        let bytes = u128::from(self.bytes());
        let (units, base): (&[&str; 7], u128) = match self.format {
            QuantityFormat::BinarySI => (&BINARY_UNITS, 1024),
            QuantityFormat::DecimalSI | QuantityFormat::DecimalExponent => (&DECIMAL_UNITS, 1000),
        };
        let mut unit = 1_u128;
        let mut name = units[0];
        for candidate in &units[1..] {
            if bytes < unit * base {
                break;
            }
            unit *= base;
            name = candidate;
        }
        // Hundredths of the unit, rounded half up.
        let hundredths = (bytes * 100 + unit / 2) / unit;
        let (whole, cents) = (hundredths / 100, hundredths % 100);
        match cents {
            0 => format!("{whole} {name}"),
            c if c.is_multiple_of(10) => format!("{whole}.{} {name}", c / 10),
            c => format!("{whole}.{c:02} {name}"),
        }
    }

    /// `self` op `other`, keeping `self`'s format unless `self` is zero
    /// (then `other`'s), as Kubernetes' `Add` and `Sub` do.
    fn combine(self, other: Self, bytes: u64) -> Self {
        let format = if self.bytes() == 0 {
            other.format
        } else {
            self.format
        };
        Self::new(bytes, format)
    }

    fn checked_add(self, other: Self) -> Option<Self> {
        let sum = self.bytes().checked_add(other.bytes())?;
        (sum <= MAX_BYTES).then(|| self.combine(other, sum))
    }

    fn checked_sub(self, other: Self) -> Option<Self> {
        let difference = self.bytes().checked_sub(other.bytes())?;
        Some(self.combine(other, difference))
    }

    fn checked_mul(self, factor: u64) -> Option<Self> {
        let product = self.bytes().checked_mul(factor)?;
        (product <= MAX_BYTES).then(|| Self::new(product, self.format))
    }

    fn saturating_add(self, other: Self) -> Self {
        self.combine(other, self.bytes().saturating_add(other.bytes()))
    }

    fn saturating_sub(self, other: Self) -> Self {
        self.combine(other, self.bytes().saturating_sub(other.bytes()))
    }
}

/// The error for a size above [`MAX_BYTES`].
fn too_large(input: String, kind: UnitKind) -> UnitError {
    UnitError::TooLarge {
        input,
        kind,
        max: format!("{MAX_BYTES} bytes (8 EiB less one byte)"),
    }
}

/// The error for a unit that is not a size unit: another kind's, or none at all.
fn wrong_unit(input: &str, unit: &str, kind: UnitKind) -> UnitError {
    let found = if is_cpu_unit(unit) {
        Some(UnitKind::Cpu)
    } else if is_duration_unit(unit) {
        Some(UnitKind::Duration)
    } else {
        None
    };
    match found {
        Some(found) => UnitError::WrongKind {
            input: input.to_owned(),
            expected: kind,
            found,
        },
        None => UnitError::UnknownUnit {
            input: input.to_owned(),
            unit: unit.to_owned(),
            kind,
        },
    }
}

/// What a bare number most likely meant: MiB for memory, GiB for storage,
/// bytes when it is far too large for either.
fn suggest_unit(number: &Number<'_>, kind: UnitKind) -> String {
    let text = number.text();
    let likely_bytes = number.fraction.is_empty()
        && text
            .parse::<u64>()
            .is_ok_and(|n| (1 << 20..=MAX_BYTES).contains(&n));
    if likely_bytes {
        let bytes = text.parse::<u64>().unwrap_or_default();
        let format = if bytes.is_multiple_of(1024) {
            QuantityFormat::BinarySI
        } else {
            QuantityFormat::DecimalSI
        };
        let canonical = ByteSize::new(bytes, format).to_quantity();
        return format!("{text} bytes (write {text}B, or {canonical})");
    }
    match kind {
        UnitKind::Storage => format!("{text} GiB"),
        _ => format!("{text} MiB"),
    }
}

/// What the unit after a size means.
enum SizeUnit {
    /// A size unit.
    Suffix(Suffix),
    /// No unit at all.
    None,
    /// `m`, `u` or `n`: a fraction of a byte.
    SubByte {
        fraction: &'static str,
        prefix: &'static str,
    },
    /// `K` (Ki or k?) and lower-case `g`, `t`, `p`.
    Ambiguous {
        binary: &'static str,
        decimal: &'static str,
    },
    /// Not a size unit.
    Unknown,
}

/// Reads the unit typed after a size: Kubernetes suffixes (`Mi`, `G`),
/// byte units in any case (`MiB`, `mib`, `GB`, `gb`), `B`/`bytes`, or the
/// spelled-out names (`mebibytes`, `gigabytes`).
fn size_unit(unit: &str) -> SizeUnit {
    const BINARY: [(&str, &str, &str); 6] = [
        ("ki", "kib", "kibibyte"),
        ("mi", "mib", "mebibyte"),
        ("gi", "gib", "gibibyte"),
        ("ti", "tib", "tebibyte"),
        ("pi", "pib", "pebibyte"),
        ("ei", "eib", "exbibyte"),
    ];
    const DECIMAL: [(&str, &str, &str); 6] = [
        ("k", "kb", "kilobyte"),
        ("M", "mb", "megabyte"),
        ("G", "gb", "gigabyte"),
        ("T", "tb", "terabyte"),
        ("P", "pb", "petabyte"),
        ("E", "eb", "exabyte"),
    ];
    if unit.is_empty() {
        return SizeUnit::None;
    }
    let lower = unit.to_ascii_lowercase();
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    if matches!(lower.as_str(), "b" | "byte" | "bytes") {
        return SizeUnit::Suffix(Suffix::Decimal(0));
    }
    for (power, (short, symbol, word)) in (1..).zip(BINARY) {
        if lower == short || lower == symbol || singular == word {
            return SizeUnit::Suffix(Suffix::Binary(10 * power));
        }
    }
    for (power, (short, symbol, word)) in (1..).zip(DECIMAL) {
        if unit == short || lower == symbol || singular == word {
            return SizeUnit::Suffix(Suffix::Decimal(3 * power));
        }
    }
    match unit {
        "m" => SizeUnit::SubByte {
            fraction: "thousandths",
            prefix: "milli",
        },
        "u" | "µ" => SizeUnit::SubByte {
            fraction: "millionths",
            prefix: "micro",
        },
        "n" => SizeUnit::SubByte {
            fraction: "billionths",
            prefix: "nano",
        },
        "K" => SizeUnit::Ambiguous {
            binary: "Ki",
            decimal: "k",
        },
        "g" => SizeUnit::Ambiguous {
            binary: "Gi",
            decimal: "G",
        },
        "t" => SizeUnit::Ambiguous {
            binary: "Ti",
            decimal: "T",
        },
        "p" => SizeUnit::Ambiguous {
            binary: "Pi",
            decimal: "P",
        },
        // A Kubernetes exponent (1e9) counts bytes.
        _ => match Suffix::kubernetes(unit) {
            Some(suffix @ Suffix::Exponent(_)) => SizeUnit::Suffix(suffix),
            _ => SizeUnit::Unknown,
        },
    }
}

/// True for units of memory or storage (`Gi`, `MB`, `k`, `bytes`), so other
/// parsers can say "that is a memory size".
pub(crate) fn is_size_unit(unit: &str) -> bool {
    match size_unit(unit) {
        SizeUnit::Suffix(Suffix::Exponent(_)) | SizeUnit::None | SizeUnit::Unknown => false,
        SizeUnit::Suffix(_) | SizeUnit::Ambiguous { .. } => true,
        SizeUnit::SubByte { .. } => false,
    }
}

/// Declares a size type ([`Memory`], [`Storage`]) over [`ByteSize`].
macro_rules! byte_size {
    (
        $(#[$doc:meta])*
        $name:ident, $kind:expr, $example:literal
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name(ByteSize);

        impl $name {
            /// Zero bytes.
            pub const ZERO: Self = Self(ByteSize::new(0, QuantityFormat::DecimalSI));

            /// The largest size, 2^63 − 1 bytes; constructors saturate here.
            pub const MAX: Self = Self(ByteSize::new(MAX_BYTES, QuantityFormat::DecimalSI));

            /// `n` bytes, written in powers of 1000.
            pub const fn bytes(n: u64) -> Self {
                Self(ByteSize::new(n, QuantityFormat::DecimalSI))
            }

            /// `n` KiB (1024 bytes), written `Ki`.
            pub const fn kibibytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1 << 10, QuantityFormat::BinarySI))
            }

            /// `n` MiB (1024² bytes), written `Mi`.
            pub const fn mebibytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1 << 20, QuantityFormat::BinarySI))
            }

            /// `n` GiB (1024³ bytes), written `Gi`.
            pub const fn gibibytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1 << 30, QuantityFormat::BinarySI))
            }

            /// `n` TiB (1024⁴ bytes), written `Ti`.
            pub const fn tebibytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1 << 40, QuantityFormat::BinarySI))
            }

            /// `n` kB (1000 bytes), written `k`.
            pub const fn kilobytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1_000, QuantityFormat::DecimalSI))
            }

            /// `n` MB (1000² bytes), written `M`.
            pub const fn megabytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1_000_000, QuantityFormat::DecimalSI))
            }

            /// `n` GB (1000³ bytes), written `G`.
            pub const fn gigabytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1_000_000_000, QuantityFormat::DecimalSI))
            }

            /// `n` TB (1000⁴ bytes), written `T`.
            pub const fn terabytes(n: u64) -> Self {
                Self(ByteSize::scaled(n, 1_000_000_000_000, QuantityFormat::DecimalSI))
            }

            /// Reads a size a person typed: `512Mi`, `512 MiB`, `0.5Gi`,
            /// `1.5G`, `1.5 GB`, `100 bytes`. Powers of 1024 (`Ki`…`Ei`,
            /// `KiB`…`EiB`) and of 1000 (`k`…`E`, `kB`…`EB`) are both exact
            /// and kept apart. Refused: a bare number other than zero
            /// (`"500" has no unit: did you mean 500 MiB?`; GiB for storage), `m`/`u`/`n`
            /// (fractions of a byte), `K` (KiB or kB?), fractional bytes,
            /// negative sizes and sizes above [`Self::MAX`].
            pub fn parse(input: &str) -> Result<Self, UnitError> {
                ByteSize::parse(input, $kind).map(Self)
            }

            /// Reads a Kubernetes quantity as a cluster returns it: any
            /// suffix or exponent, and a bare number counts bytes (`"1e9"`,
            /// `"536870912"`). Like Kubernetes, binary values above 2^63 − 1
            /// are capped there. Refused: negative or fractional byte counts
            /// (`"1500m"`), and values above [`Self::MAX`].
            pub fn from_kubernetes(quantity: &str) -> Result<Self, UnitError> {
                ByteSize::from_kubernetes(quantity, $kind).map(Self)
            }

            /// A whole, non-negative number of bytes from a parsed quantity, keeping its format.
            pub fn from_quantity(quantity: &Quantity) -> Result<Self, UnitError> {
                ByteSize::from_quantity(quantity, $kind).map(Self)
            }

            /// The size in bytes (at most 2^63 − 1).
            pub const fn as_bytes(&self) -> u64 {
                self.0.bytes()
            }

            /// The size as a uom quantity of information (integer bytes).
            pub const fn information(&self) -> Information {
                self.0.information
            }

            /// Whether the size is written in powers of 1024 or 1000.
            pub const fn format(&self) -> QuantityFormat {
                self.0.format
            }

            /// The same size, written in `format`.
            #[must_use]
            pub const fn with_format(self, format: QuantityFormat) -> Self {
                Self(ByteSize::new(self.0.bytes(), format))
            }

            /// True for zero bytes.
            pub const fn is_zero(&self) -> bool {
                self.0.bytes() == 0
            }

            /// The size as a Kubernetes quantity.
            pub fn to_quantity(&self) -> Quantity {
                self.0.to_quantity()
            }

            /// The size for people, rounded to two decimals in its own
            /// family of units: `512 MiB`, `1.5 GB`, `20 GiB`, `0 B`.
            pub fn human(&self) -> String {
                self.0.human()
            }

            /// The sum, or `None` above [`Self::MAX`]; keeps `self`'s format
            /// (`other`'s when `self` is zero), as Kubernetes does.
            pub fn checked_add(self, other: Self) -> Option<Self> {
                self.0.checked_add(other.0).map(Self)
            }

            /// The difference, or `None` below zero; formats as [`Self::checked_add`].
            pub fn checked_sub(self, other: Self) -> Option<Self> {
                self.0.checked_sub(other.0).map(Self)
            }

            /// `factor` times the size, or `None` above [`Self::MAX`].
            pub fn checked_mul(self, factor: u64) -> Option<Self> {
                self.0.checked_mul(factor).map(Self)
            }

            /// The sum, at most [`Self::MAX`].
            #[must_use]
            pub fn saturating_add(self, other: Self) -> Self {
                Self(self.0.saturating_add(other.0))
            }

            /// The difference, at least zero.
            #[must_use]
            pub fn saturating_sub(self, other: Self) -> Self {
                Self(self.0.saturating_sub(other.0))
            }
        }

        impl fmt::Display for $name {
            /// Kubernetes' canonical form: `512Mi`, `1Gi`, `1500M`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.to_quantity(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnitError;

            /// Same as [`Self::parse`].
            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Self::parse(input)
            }
        }

        impl From<$name> for Quantity {
            fn from(size: $name) -> Self {
                size.to_quantity()
            }
        }

        /// Sizes compare by bytes; the format is ignored (`1Gi == 1024Mi`).
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_bytes() == other.as_bytes()
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_bytes().hash(state);
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_bytes().cmp(&other.as_bytes())
            }
        }

        impl serde::Serialize for $name {
            /// As its canonical Kubernetes string (`"512Mi"`).
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            /// Any Kubernetes quantity string (so output reads back exactly) or
            /// a human one (`"512 MiB"`); a JSON number is refused as a bare
            /// number would be (`500` has no unit), zero excepted.
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;

                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a {} with a unit, such as \"{}\"", $kind, $example)
                    }

                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        $name::from_kubernetes(value)
                            .or_else(|_| $name::parse(value))
                            .map_err(E::custom)
                    }

                    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<$name, E> {
                        $name::parse(&value.to_string()).map_err(E::custom)
                    }

                    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<$name, E> {
                        $name::parse(&value.to_string()).map_err(E::custom)
                    }

                    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<$name, E> {
                        $name::parse(&value.to_string()).map_err(E::custom)
                    }
                }

                deserializer.deserialize_any(Visitor)
            }
        }
    };
}

byte_size! {
    /// An amount of memory: whole bytes (a uom [`Information`]) and whether
    /// it is written in powers of 1024 (`512Mi`) or 1000 (`1500M`).
    ///
    /// Equality, order and hashing compare bytes only: `1Gi == 1024Mi`.
    /// Serialized as its canonical Kubernetes string.
    Memory, UnitKind::Memory, "512Mi"
}

byte_size! {
    /// An amount of storage (a volume, a disk): whole bytes (a uom
    /// [`Information`]) and whether it is written in powers of 1024 (`20Gi`)
    /// or 1000 (`20G`).
    ///
    /// Equality, order and hashing compare bytes only: `1Gi == 1024Mi`.
    /// Serialized as its canonical Kubernetes string.
    Storage, UnitKind::Storage, "20Gi"
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use uom::si::information::{byte, kibibyte};

    use super::*;

    fn memory(input: &str) -> Memory {
        Memory::parse(input).unwrap_or_else(|err| panic!("{input:?} should parse: {err}"))
    }

    fn message(result: Result<Memory, UnitError>) -> String {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn parses_what_people_type() {
        for (input, bytes, canonical) in [
            ("512Mi", 512 << 20, "512Mi"),
            ("512 MiB", 512 << 20, "512Mi"),
            ("512MiB", 512 << 20, "512Mi"),
            ("512 mib", 512 << 20, "512Mi"),
            ("512 mebibytes", 512 << 20, "512Mi"),
            ("0.5Gi", 512 << 20, "512Mi"),
            ("0.5 GiB", 512 << 20, "512Mi"),
            ("1.5G", 1_500_000_000, "1500M"),
            ("1.5 GB", 1_500_000_000, "1500M"),
            ("1.5 gb", 1_500_000_000, "1500M"),
            ("2 gigabytes", 2_000_000_000, "2G"),
            ("1Gi", 1 << 30, "1Gi"),
            ("1024Mi", 1 << 30, "1Gi"),
            ("1.5Gi", 3 << 29, "1536Mi"),
            ("20 GiB", 20 << 30, "20Gi"),
            ("100 B", 100, "100"),
            ("100 bytes", 100, "100"),
            ("1 kB", 1000, "1k"),
            ("1 KB", 1000, "1k"),
            ("1k", 1000, "1k"),
            ("1KiB", 1024, "1Ki"),
            ("2 TB", 2_000_000_000_000, "2T"),
            ("1Ei", 1 << 60, "1Ei"),
            ("1e9", 1_000_000_000, "1e9"),
            ("  64Mi  ", 64 << 20, "64Mi"),
            ("0", 0, "0"),
            ("0Mi", 0, "0"),
        ] {
            let size = memory(input);
            assert_eq!(size.as_bytes(), bytes, "{input}");
            assert_eq!(size.to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn keeps_binary_and_decimal_apart() {
        assert_eq!(memory("1Gi").format(), QuantityFormat::BinarySI);
        assert_eq!(memory("1 GiB").format(), QuantityFormat::BinarySI);
        assert_eq!(memory("1G").format(), QuantityFormat::DecimalSI);
        assert_eq!(memory("1 GB").format(), QuantityFormat::DecimalSI);
        assert_ne!(memory("1Gi"), memory("1G"));
        assert_eq!(memory("1Gi"), memory("1024Mi"));
    }

    #[test]
    fn rejects_memory_without_unit() {
        assert_eq!(
            message(Memory::parse("500")),
            "\"500\" has no unit: did you mean 500 MiB?"
        );
        assert_eq!(
            message(Memory::parse("0.5")),
            "\"0.5\" has no unit: did you mean 0.5 MiB?"
        );
        assert_eq!(
            Storage::parse("20").err().map(|e| e.to_string()).as_deref(),
            Some("\"20\" has no unit: did you mean 20 GiB?")
        );
        assert_eq!(
            message(Memory::parse("536870912")),
            "\"536870912\" has no unit: did you mean 536870912 bytes (write 536870912B, or 512Mi)?"
        );
        let err = Memory::parse("500").err().map(|e| e.at("redis.memory"));
        assert_eq!(err.map(|e| e.rule), Some(crate::Rule::Unit));
    }

    #[test]
    fn rejects_milli_as_memory() {
        assert_eq!(
            message(Memory::parse("500m")),
            "\"500m\" means 500 thousandths of a byte (m is milli, not mega): did you mean \
             500Mi (500 MiB) or 500M (500 MB)?"
        );
        assert!(matches!(
            Memory::parse("1000m"),
            Err(UnitError::SubByte { .. })
        ));
        assert!(matches!(
            Memory::parse("5u"),
            Err(UnitError::SubByte { .. })
        ));
        assert!(matches!(
            Memory::parse("5n"),
            Err(UnitError::SubByte { .. })
        ));
    }

    #[test]
    fn rejects_ambiguous_k() {
        assert_eq!(
            message(Memory::parse("512K")),
            "\"512K\" is ambiguous: did you mean 512Ki (512 KiB, powers of 1024) or 512k \
             (512 kB, powers of 1000)?"
        );
        assert!(matches!(
            Memory::parse("2g"),
            Err(UnitError::AmbiguousUnit { .. })
        ));
    }

    #[test]
    fn rejects_fractional_negative_and_huge_sizes() {
        assert!(matches!(
            Memory::parse("1.5 B"),
            Err(UnitError::Fractional { .. })
        ));
        assert!(matches!(
            Memory::parse("0.3Ki"),
            Err(UnitError::Fractional { .. })
        ));
        assert_eq!(
            message(Memory::parse("-1Gi")),
            "\"-1Gi\" is negative: a memory size must be zero or more"
        );
        assert!(matches!(
            Memory::parse("8Ei"),
            Err(UnitError::TooLarge { .. })
        ));
        assert!(matches!(
            Memory::parse("10E"),
            Err(UnitError::TooLarge { .. })
        ));
        assert!(matches!(
            Memory::parse("1e100"),
            Err(UnitError::TooLarge { .. })
        ));
        assert_eq!(Memory::parse("-0Mi").map(|m| m.as_bytes()), Ok(0));
    }

    #[test]
    fn rejects_other_units_and_garbage() {
        assert_eq!(
            message(Memory::parse("2 cores")),
            "\"2 cores\" is a CPU amount, not a memory size: use B, Ki/KiB, Mi/MiB, Gi/GiB, \
             Ti/TiB, Pi/PiB, Ei/EiB (powers of 1024) or k/kB, M/MB, G/GB, T/TB, P/PB, E/EB \
             (powers of 1000)"
        );
        assert!(matches!(
            Memory::parse("15 minutes"),
            Err(UnitError::WrongKind {
                found: UnitKind::Duration,
                ..
            })
        ));
        assert!(matches!(
            Memory::parse("5 furlongs"),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(matches!(
            Memory::parse("lots"),
            Err(UnitError::Malformed { .. })
        ));
        assert!(matches!(
            Memory::parse("Gi"),
            Err(UnitError::Malformed { .. })
        ));
        assert!(matches!(Memory::parse("   "), Err(UnitError::Empty { .. })));
    }

    #[test]
    fn reads_kubernetes_quantities_from_a_cluster() {
        for (input, bytes, canonical) in [
            ("536870912", 536_870_912, "536870912"),
            ("512Mi", 512 << 20, "512Mi"),
            ("1e9", 1_000_000_000, "1e9"),
            ("1G", 1_000_000_000, "1G"),
            ("1000m", 1, "1"),
            ("0", 0, "0"),
            ("9Ei", MAX_BYTES, "9223372036854775807"),
        ] {
            let size = Memory::from_kubernetes(input)
                .unwrap_or_else(|err| panic!("{input:?} should read: {err}"));
            assert_eq!(size.as_bytes(), bytes, "{input}");
            assert_eq!(size.to_string(), canonical, "{input}");
        }
        assert!(matches!(
            Memory::from_kubernetes("1500m"),
            Err(UnitError::Fractional { .. })
        ));
        assert!(matches!(
            Memory::from_kubernetes("-1Gi"),
            Err(UnitError::Negative { .. })
        ));
        assert!(matches!(
            Memory::from_kubernetes("10E"),
            Err(UnitError::TooLarge { .. })
        ));
        assert!(matches!(
            Memory::from_kubernetes("512 MiB"),
            Err(UnitError::InvalidQuantity { .. })
        ));
    }

    #[test]
    fn constructors_pick_the_family() {
        assert_eq!(Memory::mebibytes(512).to_string(), "512Mi");
        assert_eq!(Memory::gibibytes(1).to_string(), "1Gi");
        assert_eq!(Memory::kibibytes(1).as_bytes(), 1024);
        assert_eq!(Memory::tebibytes(1).as_bytes(), 1 << 40);
        assert_eq!(Memory::megabytes(1500).to_string(), "1500M");
        assert_eq!(Memory::gigabytes(2).to_string(), "2G");
        assert_eq!(Memory::kilobytes(1).as_bytes(), 1000);
        assert_eq!(Memory::terabytes(1).to_string(), "1T");
        assert_eq!(Memory::bytes(100).to_string(), "100");
        assert_eq!(Memory::gibibytes(u64::MAX), Memory::MAX);
        const LIMIT: Memory = Memory::mebibytes(64);
        assert_eq!(LIMIT.as_bytes(), 64 << 20);
    }

    #[test]
    fn holds_a_uom_information() {
        let size = Memory::kibibytes(3);
        assert_eq!(size.information().get::<byte>(), 3072);
        assert_eq!(size.information().get::<kibibyte>(), 3);
    }

    #[test]
    fn human_is_friendly() {
        assert_eq!(Memory::mebibytes(512).human(), "512 MiB");
        assert_eq!(memory("1.5 GB").human(), "1.5 GB");
        assert_eq!(memory("1.5Gi").human(), "1.5 GiB");
        assert_eq!(Memory::gibibytes(20).human(), "20 GiB");
        assert_eq!(Memory::ZERO.human(), "0 B");
        assert_eq!(
            Memory::bytes(1023)
                .with_format(QuantityFormat::BinarySI)
                .human(),
            "1023 B"
        );
        assert_eq!(Memory::bytes(1_234_567).human(), "1.23 MB");
        assert_eq!(Memory::bytes(1_005_000).human(), "1.01 MB");
        assert_eq!(
            Memory::mebibytes(1)
                .saturating_add(Memory::bytes(1))
                .human(),
            "1 MiB"
        );
    }

    #[test]
    fn arithmetic_is_checked_and_keeps_the_format() {
        let a = Memory::mebibytes(512);
        let b = Memory::mebibytes(512);
        assert_eq!(
            a.checked_add(b).map(|m| m.to_string()).as_deref(),
            Some("1Gi")
        );
        assert_eq!(a.checked_sub(b), Some(Memory::ZERO));
        assert_eq!(b.checked_sub(Memory::gibibytes(1)), None);
        assert_eq!(a.checked_mul(4), Some(Memory::gibibytes(2)));
        assert_eq!(Memory::MAX.checked_add(Memory::bytes(1)), None);
        assert_eq!(Memory::MAX.checked_mul(2), None);
        assert_eq!(a.saturating_sub(Memory::gibibytes(1)), Memory::ZERO);
        // Zero takes the other side's format, as Kubernetes' Add does.
        assert_eq!(
            Memory::ZERO.checked_add(a).map(|m| m.format()),
            Some(QuantityFormat::BinarySI)
        );
    }

    #[test]
    fn compares_by_bytes_only() {
        assert_eq!(memory("1Gi"), memory("1073741824 B"));
        assert!(memory("1Gi") > memory("1G"));
        let mut sizes = [memory("1G"), memory("1Mi"), memory("1Gi")];
        sizes.sort();
        assert_eq!(sizes.map(|s| s.to_string()), ["1Mi", "1G", "1Gi"]);
    }

    #[test]
    fn memory_and_storage_are_distinct_types() {
        fn wants_memory(_: Memory) {}
        wants_memory(Memory::gibibytes(1));
        assert_eq!(Storage::gibibytes(20).to_string(), "20Gi");
        assert_eq!(format!("{:?}", Storage::gibibytes(20)), "Storage(20Gi)");
    }

    #[test]
    fn serializes_as_kubernetes_and_reads_back_exactly() {
        let size = memory("1.5 GB");
        let json = serde_json::to_string(&size).unwrap_or_default();
        assert_eq!(json, "\"1500M\"");
        let back: Memory = serde_json::from_str(&json).unwrap_or(Memory::ZERO);
        assert_eq!((back, back.format()), (size, size.format()));
        let human: Memory = serde_json::from_str("\"512 MiB\"").unwrap_or(Memory::ZERO);
        assert_eq!(human, Memory::mebibytes(512));
        let bytes: Memory = serde_json::from_str("\"500\"").unwrap_or(Memory::ZERO);
        assert_eq!(bytes, Memory::bytes(500));
        let number = serde_json::from_str::<Memory>("500")
            .err()
            .map(|e| e.to_string());
        assert!(
            number.is_some_and(|e| e.starts_with("\"500\" has no unit: did you mean 500 MiB?"))
        );
        let milli = serde_json::from_str::<Memory>("\"500m\"")
            .err()
            .map(|e| e.to_string());
        assert!(milli.is_some_and(|m| m.contains("milli")));
    }

    fn any_size() -> impl Strategy<Value = Memory> {
        (0..=MAX_BYTES, 0_u32..=50, any::<bool>()).prop_map(|(bytes, shift, binary)| {
            let bytes = (bytes >> shift) << shift;
            let format = if binary {
                QuantityFormat::BinarySI
            } else {
                QuantityFormat::DecimalSI
            };
            Memory::bytes(bytes).with_format(format)
        })
    }

    proptest! {
        #[test]
        fn display_then_parse_keeps_the_bytes(size in any_size()) {
            let text = size.to_string();
            prop_assert_eq!(Memory::from_kubernetes(&text), Ok(size));
            if text.ends_with(|c: char| c.is_ascii_alphabetic()) {
                // Bare numbers are refused by `parse`, by design.
                prop_assert_eq!(Memory::parse(&text), Ok(size));
            }
        }

        #[test]
        fn display_then_parse_is_identity_on_canonical_forms(size in any_size()) {
            // Canonical: what a size that came back from Kubernetes prints.
            let canonical = Memory::from_kubernetes(&size.to_string()).map(|s| s.to_string());
            let again = canonical.clone().and_then(|text| Memory::from_kubernetes(&text));
            prop_assert_eq!(again.map(|s| s.to_string()), canonical);
        }

        #[test]
        fn json_round_trips(size in any_size()) {
            let json = serde_json::to_string(&size).unwrap_or_default();
            let back: Memory = serde_json::from_str(&json).unwrap_or(Memory::ZERO);
            prop_assert_eq!(back, size);
            let again = serde_json::to_string(&back).unwrap_or_default();
            let back_again: Memory = serde_json::from_str(&again).unwrap_or(Memory::ZERO);
            prop_assert_eq!((back_again, back_again.format()), (back, back.format()));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,24}") {
            let _ = Memory::parse(&text);
            let _ = Storage::from_kubernetes(&text);
        }
    }
}
