//! Why a size, a CPU amount or a duration was refused, in words a person can act on.
//!
//! Every message names what was typed and says what to type instead; [`UnitError::at`]
//! turns one into the [`FieldError`] that forms show next to the offending input.

use std::fmt;

use crate::validation::{FieldError, Rule};

/// What kind of value was being read, so messages can say "memory size" and
/// give an example of the right form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// A Kubernetes quantity with no particular unit (`512Mi`, `250m`, `1e3`).
    Quantity,
    /// Memory, in bytes.
    Memory,
    /// Storage (volumes, disks), in bytes.
    Storage,
    /// CPU, in cores and millicores.
    Cpu,
    /// A span of time.
    Duration,
}

impl UnitKind {
    /// A well-formed value of this kind, for "write it like …" hints.
    pub fn example(self) -> &'static str {
        match self {
            Self::Quantity => "512Mi or 250m",
            Self::Memory => "512Mi",
            Self::Storage => "20Gi",
            Self::Cpu => "500m or 2",
            Self::Duration => "15m or 1h30m",
        }
    }

    /// The units this kind accepts, as a sentence fragment.
    pub fn units(self) -> &'static str {
        match self {
            Self::Quantity => {
                "one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3"
            }
            Self::Memory | Self::Storage => {
                "B, Ki/KiB, Mi/MiB, Gi/GiB, Ti/TiB, Pi/PiB, Ei/EiB (powers of 1024) or \
                 k/kB, M/MB, G/GB, T/TB, P/PB, E/EB (powers of 1000)"
            }
            Self::Cpu => "cores (2, 0.5, 2 cores) or millicores (250m, 250 millicores)",
            Self::Duration => {
                "ms, s, m, h or d (1h30m, 500ms) or words (15 minutes, 2 hours, 1 day)"
            }
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Quantity => "quantity",
            Self::Memory => "memory size",
            Self::Storage => "storage size",
            Self::Cpu => "CPU amount",
            Self::Duration => "duration",
        })
    }
}

/// A refused size, CPU amount, duration or Kubernetes quantity.
///
/// Each message quotes what was typed and says what to do; turn it into a
/// validation error for a field with [`UnitError::at`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Nothing (or only spaces) was given.
    #[error("nothing was entered: give a {kind} such as {}", kind.example())]
    Empty {
        /// What was expected.
        kind: UnitKind,
    },

    /// A number without a unit where the unit matters (`500` as memory).
    #[error("\"{input}\" has no unit: did you mean {suggestion}?")]
    MissingUnit {
        /// What was typed.
        input: String,
        /// The most likely intended value, written out (`500 MiB`).
        suggestion: String,
    },

    /// `m`, `u` or `n` on a size: a thousandth (millionth, billionth) of a byte.
    #[error(
        "\"{input}\" means {number} {fraction} of a byte ({suffix} is {prefix}, not mega): \
         did you mean {number}Mi ({number} MiB) or {number}M ({number} MB)?"
    )]
    SubByte {
        /// What was typed.
        input: String,
        /// The number as typed (`500`).
        number: String,
        /// The suffix as typed (`m`).
        suffix: String,
        /// `thousandths`, `millionths` or `billionths`.
        fraction: &'static str,
        /// `milli`, `micro` or `nano`.
        prefix: &'static str,
    },

    /// A unit that could mean two things (`512K`: KiB or kB?).
    #[error("\"{input}\" is ambiguous: did you mean {suggestion}?")]
    AmbiguousUnit {
        /// What was typed.
        input: String,
        /// The candidates, written out.
        suggestion: String,
    },

    /// A unit that is not one of this kind's units.
    #[error("\"{input}\": \"{unit}\" is not a unit of {kind}; use {}", kind.units())]
    UnknownUnit {
        /// What was typed.
        input: String,
        /// The unit part as typed.
        unit: String,
        /// What was expected.
        kind: UnitKind,
    },

    /// A unit of another kind of value (`2Gi` for CPU, `15m` for memory).
    #[error("\"{input}\" is a {found}, not a {expected}: use {}", expected.units())]
    WrongKind {
        /// What was typed.
        input: String,
        /// What was expected.
        expected: UnitKind,
        /// What the unit belongs to.
        found: UnitKind,
    },

    /// Text that is not a number followed by a unit.
    #[error("\"{input}\" is not a {kind}: write a number and a unit, such as {}", kind.example())]
    Malformed {
        /// What was typed.
        input: String,
        /// What was expected.
        kind: UnitKind,
    },

    /// A Kubernetes quantity that does not follow Kubernetes' grammar.
    #[error("\"{input}\" is not a Kubernetes quantity: {reason}")]
    InvalidQuantity {
        /// What was given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A negative size, CPU amount or duration.
    #[error("\"{input}\" is negative: a {kind} must be zero or more")]
    Negative {
        /// What was typed.
        input: String,
        /// What was expected.
        kind: UnitKind,
    },

    /// A value finer than the kind's precision (half a byte, a microsecond).
    #[error("\"{input}\" is {}", fractional_advice(*kind))]
    Fractional {
        /// What was typed.
        input: String,
        /// What was expected.
        kind: UnitKind,
    },

    /// A value above the largest one this kind can hold.
    #[error("\"{input}\" is too large: the largest {kind} is {max}")]
    TooLarge {
        /// What was typed.
        input: String,
        /// What was expected.
        kind: UnitKind,
        /// The largest value, written out.
        max: String,
    },

    /// More significant digits than can be kept exactly.
    #[error("\"{input}\" has more than {max_digits} significant digits: round it")]
    TooManyDigits {
        /// What was typed.
        input: String,
        /// How many digits are kept.
        max_digits: usize,
    },
}

/// The end of the sentence for [`UnitError::Fractional`].
fn fractional_advice(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Duration => "finer than a millisecond: durations are kept to the millisecond",
        UnitKind::Cpu => "finer than a millicore: CPU is kept to the millicore",
        UnitKind::Memory | UnitKind::Storage => {
            "not a whole number of bytes: round it to whole bytes or a larger unit"
        }
        UnitKind::Quantity => "finer than a nano (1n)",
    }
}

impl UnitError {
    /// The rule this error breaks: a missing or wrong unit, a value out of
    /// range, or text that is not a value at all.
    pub fn rule(&self) -> Rule {
        match self {
            Self::Empty { .. } => Rule::Required,
            Self::MissingUnit { .. }
            | Self::SubByte { .. }
            | Self::AmbiguousUnit { .. }
            | Self::UnknownUnit { .. }
            | Self::WrongKind { .. } => Rule::Unit,
            Self::Malformed { .. } | Self::InvalidQuantity { .. } | Self::TooManyDigits { .. } => {
                Rule::Format
            }
            Self::Negative { .. } | Self::Fractional { .. } | Self::TooLarge { .. } => Rule::Range,
        }
    }

    /// This error as a validation error of `field` (`redis.memory`).
    pub fn at(self, field: &str) -> FieldError {
        FieldError::new(field, self.rule(), self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_unit_message_suggests_a_unit() {
        let err = UnitError::MissingUnit {
            input: "500".into(),
            suggestion: "500 MiB".into(),
        };
        assert_eq!(
            err.to_string(),
            "\"500\" has no unit: did you mean 500 MiB?"
        );
    }

    #[test]
    fn at_names_the_field_and_the_rule() {
        let err = UnitError::Negative {
            input: "-1Gi".into(),
            kind: UnitKind::Memory,
        }
        .at("redis.memory");
        assert_eq!(err.field, "redis.memory");
        assert_eq!(err.rule, Rule::Range);
        assert_eq!(
            err.message,
            "\"-1Gi\" is negative: a memory size must be zero or more"
        );
    }

    #[test]
    fn each_error_maps_to_the_apt_rule() {
        let input = String::from("x");
        assert_eq!(
            UnitError::Empty {
                kind: UnitKind::Cpu
            }
            .rule(),
            Rule::Required
        );
        assert_eq!(
            UnitError::Malformed {
                input: input.clone(),
                kind: UnitKind::Cpu
            }
            .rule(),
            Rule::Format
        );
        assert_eq!(
            UnitError::WrongKind {
                input: input.clone(),
                expected: UnitKind::Cpu,
                found: UnitKind::Memory
            }
            .rule(),
            Rule::Unit
        );
        assert_eq!(
            UnitError::TooLarge {
                input,
                kind: UnitKind::Cpu,
                max: "1".into()
            }
            .rule(),
            Rule::Range
        );
    }
}
