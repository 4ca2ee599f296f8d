//! Kubernetes resource quantities, exact.
//!
//! A [`Quantity`] is a fixed-point number with nano (10⁻⁹) precision stored in an `i128`, so
//! quotas, requests and money are added, subtracted and compared without floating point.
//! Parsing follows the whole Kubernetes grammar (`resource.ParseQuantity`):
//!
//! ```text
//! <quantity>        ::= <signedNumber><suffix>
//! <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//! <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
//! <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
//! <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
//! <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>
//! ```
//!
//! Like the API server, precision finer than `1n` is rounded up (away from zero), and
//! [`Display`](std::fmt::Display) prints the canonical form (`1.5Gi` → `1536Mi`, `0.1` →
//! `100m`, `2e3` → `2e3`). Values must stay below 1.7 × 10²⁹ in magnitude.
//!
//! ```
//! use hxb_core::Quantity;
//! let q: Quantity = "1.5Gi".parse()?;
//! assert_eq!(q.to_string(), "1536Mi");
//! assert_eq!(q.to_int_ceil(), 1_610_612_736);
//! let cpu: Quantity = "0.1".parse()?;
//! assert_eq!(cpu.to_string(), "100m");
//! assert_eq!(cpu.checked_add(&"400m".parse()?)?.to_string(), "500m");
//! # Ok::<(), hxb_core::Error>(())
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANO: i128 = 1_000_000_000;

/// How a quantity prefers to be written (it does not change its value).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Format {
    /// Powers of 1000 with SI suffixes: `500m`, `2k`, `1G`.
    #[default]
    DecimalSi,
    /// Powers of 1024: `512Mi`, `2Gi`.
    BinarySi,
    /// Scientific: `2e3`.
    DecimalExponent,
}

/// Why a string is not a quantity.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParseReason {
    /// Nothing to parse.
    Empty,
    /// No digits before the suffix (`"Gi"`, `"-"`, `"."`).
    NoDigits,
    /// A second decimal point (`"1.5.5Gi"`).
    ExtraDecimalPoint,
    /// The suffix is not one of the grammar's.
    UnknownSuffix(String),
    /// The exponent after `e`/`E` is not an integer.
    BadExponent,
}

impl fmt::Display for ParseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseReason::Empty => f.write_str("quantity is empty"),
            ParseReason::NoDigits => f.write_str("expected a number before the suffix"),
            ParseReason::ExtraDecimalPoint => f.write_str("more than one decimal point"),
            ParseReason::UnknownSuffix(s) => write!(
                f,
                "unknown suffix {s:?} (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent)"
            ),
            ParseReason::BadExponent => f.write_str("the exponent must be an integer"),
        }
    }
}

/// A quantity that could not be parsed, or arithmetic that would not fit.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum QuantityError {
    /// The text does not follow the quantity grammar.
    #[error("invalid quantity {input:?}: {reason}")]
    Parse {
        /// The rejected text.
        input: String,
        /// What is wrong with it.
        reason: ParseReason,
    },
    /// The value is too large to represent (|value| ≥ 1.7 × 10²⁹).
    #[error("quantity {input:?} is out of range")]
    OutOfRange {
        /// The rejected text.
        input: String,
    },
    /// A negative amount where only non-negative ones make sense (requests, quotas, prices).
    #[error("quantity {input:?} must not be negative")]
    Negative {
        /// The rejected value.
        input: String,
    },
    /// Arithmetic on quantities overflowed.
    #[error("quantity arithmetic overflowed in {op}")]
    Overflow {
        /// The operation (`add`, `sub`, `mul`…).
        op: &'static str,
    },
}

/// An exact Kubernetes resource quantity. See the [module docs](self).
#[derive(Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity {
        nanos: 0,
        format: Format::DecimalSi,
    };

    /// A quantity of `nanos` × 10⁻⁹ written in `format`.
    pub const fn from_nanos(nanos: i128, format: Format) -> Self {
        Quantity { nanos, format }
    }

    /// `milli` thousandths (`Quantity::from_milli(250)` is `250m`).
    pub const fn from_milli(milli: i64) -> Self {
        Quantity {
            nanos: milli as i128 * 1_000_000,
            format: Format::DecimalSi,
        }
    }

    /// A whole number in decimal SI (`4`, `2k`).
    pub const fn from_int(n: i64) -> Self {
        Quantity {
            nanos: n as i128 * NANO,
            format: Format::DecimalSi,
        }
    }

    /// A whole number of bytes in binary SI (`from_bytes(1 << 30)` is `1Gi`).
    pub const fn from_bytes(n: i64) -> Self {
        Quantity {
            nanos: n as i128 * NANO,
            format: Format::BinarySi,
        }
    }

    /// Parse the Kubernetes grammar; see the [module docs](self).
    pub fn parse(input: &str) -> Result<Self, QuantityError> {
        parse(input)
    }

    /// Parse and refuse negative values (for requests, limits, quotas and prices).
    pub fn parse_non_negative(input: &str) -> Result<Self, QuantityError> {
        let q = parse(input)?;
        if q.is_negative() {
            return Err(QuantityError::Negative {
                input: input.to_owned(),
            });
        }
        Ok(q)
    }

    /// The exact value in units of 10⁻⁹.
    pub const fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The preferred format.
    pub const fn format(&self) -> Format {
        self.format
    }

    /// The same value with another preferred format.
    pub const fn with_format(self, format: Format) -> Self {
        Quantity {
            nanos: self.nanos,
            format,
        }
    }

    /// Whether the value is zero.
    pub const fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Whether the value is below zero.
    pub const fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// The value in thousandths, rounded up (Kubernetes `MilliValue`): cpu in millicores.
    pub fn to_milli_ceil(&self) -> i128 {
        div_ceil(self.nanos, 1_000_000)
    }

    /// The value as a whole number, rounded up (Kubernetes `Value`): memory in bytes, counts.
    pub fn to_int_ceil(&self) -> i128 {
        div_ceil(self.nanos, NANO)
    }

    /// The value as `f64` (for metrics and reports only, never for admission).
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / NANO as f64
    }

    /// A quantity from an `f64`, rounded up to the nano; `None` for NaN, infinities and
    /// out-of-range values.
    pub fn from_f64(v: f64, format: Format) -> Option<Self> {
        if !v.is_finite() {
            return None;
        }
        let n = (v * NANO as f64).ceil();
        if n.abs() >= 1.0e38 {
            return None;
        }
        Some(Quantity {
            nanos: n as i128,
            format,
        })
    }

    /// `self + other`, keeping `self`'s format.
    pub fn checked_add(&self, other: &Quantity) -> Result<Quantity, QuantityError> {
        let nanos = self
            .nanos
            .checked_add(other.nanos)
            .filter(|n| in_range(*n))
            .ok_or(QuantityError::Overflow { op: "add" })?;
        Ok(Quantity {
            nanos,
            format: self.pick_format(other),
        })
    }

    /// `self - other`, keeping `self`'s format (may go negative).
    pub fn checked_sub(&self, other: &Quantity) -> Result<Quantity, QuantityError> {
        let nanos = self
            .nanos
            .checked_sub(other.nanos)
            .filter(|n| in_range(*n))
            .ok_or(QuantityError::Overflow { op: "sub" })?;
        Ok(Quantity {
            nanos,
            format: self.pick_format(other),
        })
    }

    /// `self × n`.
    pub fn checked_mul(&self, n: i64) -> Result<Quantity, QuantityError> {
        let nanos = self
            .nanos
            .checked_mul(n as i128)
            .filter(|n| in_range(*n))
            .ok_or(QuantityError::Overflow { op: "mul" })?;
        Ok(Quantity {
            nanos,
            format: self.format,
        })
    }

    /// `self × numerator / denominator`, rounded up (away from zero) to the nano.
    pub fn checked_mul_ratio(
        &self,
        numerator: i64,
        denominator: i64,
    ) -> Result<Quantity, QuantityError> {
        if denominator == 0 {
            return Err(QuantityError::Overflow {
                op: "divide by zero",
            });
        }
        let prod = self
            .nanos
            .checked_mul(numerator as i128)
            .ok_or(QuantityError::Overflow { op: "mul_ratio" })?;
        let d = denominator as i128;
        let (q, r) = (prod / d, prod % d);
        let nanos = if r == 0 {
            q
        } else if (prod < 0) == (d < 0) {
            q + 1
        } else {
            q - 1
        };
        if !in_range(nanos) {
            return Err(QuantityError::Overflow { op: "mul_ratio" });
        }
        Ok(Quantity {
            nanos,
            format: self.format,
        })
    }

    /// The larger of two quantities.
    pub fn max(self, other: Quantity) -> Quantity {
        if other.nanos > self.nanos {
            other
        } else {
            self
        }
    }

    /// The smaller of two quantities.
    pub fn min(self, other: Quantity) -> Quantity {
        if other.nanos < self.nanos {
            other
        } else {
            self
        }
    }

    fn pick_format(&self, other: &Quantity) -> Format {
        if self.is_zero() {
            other.format
        } else {
            self.format
        }
    }

    /// The Kubernetes wire type, in canonical form.
    pub fn to_k8s(&self) -> K8sQuantity {
        K8sQuantity(self.to_string())
    }
}

impl TryFrom<&K8sQuantity> for Quantity {
    type Error = QuantityError;
    fn try_from(q: &K8sQuantity) -> Result<Self, Self::Error> {
        Quantity::parse(&q.0)
    }
}

impl From<Quantity> for K8sQuantity {
    fn from(q: Quantity) -> Self {
        q.to_k8s()
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}
impl Eq for Quantity {}
impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.nanos.hash(state)
    }
}
impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity::ZERO
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            F(f64),
        }
        match Raw::deserialize(d)? {
            Raw::S(s) => Quantity::parse(&s).map_err(serde::de::Error::custom),
            Raw::I(i) => Ok(Quantity::from_int(i)),
            Raw::F(f) => Quantity::from_f64(f, Format::DecimalSi)
                .ok_or_else(|| serde::de::Error::custom("quantity out of range")),
        }
    }
}

const MAX_ABS: i128 = 170_000_000_000_000_000_000_000_000_000_000_000_000; // 1.7e38 nanos

fn in_range(n: i128) -> bool {
    n.unsigned_abs() < MAX_ABS as u128
}

fn div_ceil(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d > 0 { q + 1 } else { q }
}

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

fn parse(input: &str) -> Result<Quantity, QuantityError> {
    let perr = |reason| QuantityError::Parse {
        input: input.to_owned(),
        reason,
    };
    let range = || QuantityError::OutOfRange {
        input: input.to_owned(),
    };
    if input.is_empty() {
        return Err(perr(ParseReason::Empty));
    }
    let b = input.as_bytes();
    let mut i = 0;
    let negative = match b[0] {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    // Significant digits (leading zeros dropped) and the count of fraction digits kept.
    let mut digits: Vec<u8> = Vec::new();
    let mut frac_len: i64 = 0;
    let mut seen_digit = false;
    let mut seen_point = false;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                seen_digit = true;
                if !(digits.is_empty() && c == b'0') {
                    digits.push(c - b'0');
                }
                if seen_point {
                    frac_len += 1;
                }
            }
            b'.' => {
                if seen_point {
                    return Err(perr(ParseReason::ExtraDecimalPoint));
                }
                seen_point = true;
            }
            _ => break,
        }
        i += 1;
    }
    if !seen_digit {
        return Err(perr(ParseReason::NoDigits));
    }
    let suffix = &input[i..];
    let (format, exp10, pow1024): (Format, i64, u32) = match suffix {
        "" => (Format::DecimalSi, 0, 0),
        "n" => (Format::DecimalSi, -9, 0),
        "u" => (Format::DecimalSi, -6, 0),
        "m" => (Format::DecimalSi, -3, 0),
        "k" => (Format::DecimalSi, 3, 0),
        "M" => (Format::DecimalSi, 6, 0),
        "G" => (Format::DecimalSi, 9, 0),
        "T" => (Format::DecimalSi, 12, 0),
        "P" => (Format::DecimalSi, 15, 0),
        "E" => (Format::DecimalSi, 18, 0),
        "Ki" => (Format::BinarySi, 0, 1),
        "Mi" => (Format::BinarySi, 0, 2),
        "Gi" => (Format::BinarySi, 0, 3),
        "Ti" => (Format::BinarySi, 0, 4),
        "Pi" => (Format::BinarySi, 0, 5),
        "Ei" => (Format::BinarySi, 0, 6),
        s if s.starts_with(['e', 'E']) => {
            let e = &s[1..];
            let (sign, body) = match e.as_bytes().first() {
                Some(b'-') => (-1i64, &e[1..]),
                Some(b'+') => (1, &e[1..]),
                _ => (1, e),
            };
            if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) {
                return Err(perr(ParseReason::BadExponent));
            }
            // Clamp absurd exponents: anything this large over- or underflows anyway.
            let mag: i64 = body.trim_start_matches('0').parse().unwrap_or(
                if body.trim_start_matches('0').is_empty() {
                    0
                } else {
                    10_000
                },
            );
            (Format::DecimalExponent, sign * mag.min(10_000), 0)
        }
        other => return Err(perr(ParseReason::UnknownSuffix(other.to_owned()))),
    };
    if digits.is_empty() {
        return Ok(Quantity { nanos: 0, format });
    }
    // value = D × 10^(exp10 - frac_len) × 1024^pow1024, in nanos: × 10^9.
    let mut e = exp10 - frac_len + 9;
    // Keep at most 38 significant digits; remember whether anything non-zero was dropped.
    let mut sticky = false;
    if digits.len() > 38 {
        let drop = digits.len() - 38;
        sticky = digits[38..].iter().any(|d| *d != 0);
        digits.truncate(38);
        e += drop as i64;
    }
    let mut d: i128 = 0;
    for x in &digits {
        d = d * 10 + *x as i128;
    }
    let bin = 1024i128.pow(pow1024);
    let nanos: i128 = if e >= 0 {
        if sticky {
            // Dropped digits sit at or above the nano position: the value is out of range
            // unless they were all zero, which sticky rules out.
            return Err(range());
        }
        let scale = u32::try_from(e).ok().and_then(pow10).ok_or_else(range)?;
        d.checked_mul(scale)
            .and_then(|v| v.checked_mul(bin))
            .ok_or_else(range)?
    } else {
        let num = d.checked_mul(bin).ok_or_else(range)?;
        let neg_e = u32::try_from(-e).unwrap_or(u32::MAX);
        match pow10(neg_e) {
            Some(div) => {
                let q = num / div;
                if num % div != 0 || sticky { q + 1 } else { q }
            }
            None => 1, // far below a nano: rounds up to 1n
        }
    };
    if !in_range(nanos) {
        return Err(range());
    }
    Ok(Quantity {
        nanos: if negative { -nanos } else { nanos },
        format,
    })
}

fn decimal_suffix(exp: i32) -> Option<&'static str> {
    Some(match exp {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

impl fmt::Display for Quantity {
    /// The canonical form, as the Kubernetes API server would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.nanos;
        if n == 0 {
            return f.write_str("0");
        }
        let mut format = self.format;
        if format == Format::BinarySi && (n.unsigned_abs() < 1024 * NANO as u128 || n % NANO != 0) {
            format = Format::DecimalSi;
        }
        if format == Format::BinarySi {
            let mut v = n / NANO;
            let mut k = 0;
            while k < 6 && v % 1024 == 0 {
                v /= 1024;
                k += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][k];
            return write!(f, "{v}{suffix}");
        }
        // Remove factors of ten, then lower the exponent to a multiple of three.
        let mut m = n;
        let mut exp: i32 = -9;
        while m % 10 == 0 {
            m /= 10;
            exp += 1;
        }
        match exp.rem_euclid(3) {
            1 => {
                m *= 10;
                exp -= 1;
            }
            2 => {
                m *= 100;
                exp -= 2;
            }
            _ => {}
        }
        match (format, decimal_suffix(exp)) {
            (Format::DecimalSi, Some(s)) => write!(f, "{m}{s}"),
            (_, _) if exp == 0 => write!(f, "{m}"),
            _ => write!(f, "{m}e{exp}"),
        }
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quantity({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_canonicalises_like_kubernetes() {
        // (input, canonical, nanos)
        let cases: &[(&str, &str, i128)] = &[
            ("0", "0", 0),
            ("500m", "500m", 500_000_000),
            ("1.5Gi", "1536Mi", 1_610_612_736 * NANO),
            ("2e3", "2e3", 2000 * NANO),
            ("1Ki", "1Ki", 1024 * NANO),
            ("0.1", "100m", 100_000_000),
            ("1", "1", NANO),
            ("1000", "1k", 1000 * NANO),
            ("1500", "1500", 1500 * NANO),
            ("1.5", "1500m", 1_500_000_000),
            ("100Mi", "100Mi", 100 * 1024 * 1024 * NANO),
            ("1024", "1024", 1024 * NANO),
            ("512Ki", "512Ki", 512 * 1024 * NANO),
            ("0.5Ki", "512", 512 * NANO),
            ("1n", "1n", 1),
            ("0.1n", "1n", 1),
            ("1u", "1u", 1000),
            ("12e-3", "12e-3", 12_000_000),
            ("1E3", "1e3", 1000 * NANO),
            ("1E", "1E", 1_000_000_000_000_000_000 * NANO),
            ("+5", "5", 5 * NANO),
            ("-5m", "-5m", -5_000_000),
            (".5", "500m", 500_000_000),
            ("5.", "5", 5 * NANO),
            ("1e-400", "1e-9", 1),
            ("1Gi", "1Gi", (1 << 30) * NANO),
            ("1.000001Gi", "1073742897741824u", 1_073_742_897_741_824_000),
        ];
        for (input, canonical, nanos) in cases {
            let v = q(input);
            assert_eq!(v.nanos(), *nanos, "{input} nanos");
            assert_eq!(v.to_string(), *canonical, "{input} canonical");
        }
    }

    #[test]
    fn rejects_bad_input_with_the_reason() {
        use ParseReason::*;
        let bad: &[(&str, ParseReason)] = &[
            ("", Empty),
            ("Gi", NoDigits),
            ("-", NoDigits),
            (".", NoDigits),
            ("1.5.5Gi", ExtraDecimalPoint),
            ("1Gb", UnknownSuffix("Gb".into())),
            ("1 Gi", UnknownSuffix(" Gi".into())),
            ("1ki", UnknownSuffix("ki".into())),
            ("1e", BadExponent),
            ("1e1.5", BadExponent),
            ("١", NoDigits),
        ];
        for (input, reason) in bad {
            match Quantity::parse(input) {
                Err(QuantityError::Parse { reason: r, .. }) => assert_eq!(&r, reason, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
        for big in [
            "1e400",
            "1e30",
            "999999999999999999999999999999999999999999",
            "200000000000Ei",
        ] {
            assert!(
                matches!(Quantity::parse(big), Err(QuantityError::OutOfRange { .. })),
                "{big}"
            );
        }
        assert!(matches!(
            Quantity::parse_non_negative("-1"),
            Err(QuantityError::Negative { .. })
        ));
        assert!(Quantity::parse_non_negative("0").is_ok());
    }

    #[test]
    fn arithmetic_is_exact_and_checked() {
        assert_eq!(q("100m").checked_add(&q("200m")).unwrap(), q("300m"));
        assert_eq!(
            q("1Gi").checked_sub(&q("512Mi")).unwrap().to_string(),
            "512Mi"
        );
        assert_eq!(q("250m").checked_mul(4).unwrap(), q("1"));
        assert_eq!(q("1").checked_mul_ratio(115, 100).unwrap(), q("1150m"));
        assert_eq!(q("1n").checked_mul_ratio(1, 3).unwrap(), q("1n")); // rounds up
        assert_eq!(q("1").to_milli_ceil(), 1000);
        assert_eq!(q("1n").to_milli_ceil(), 1);
        assert_eq!(q("1n").to_int_ceil(), 1);
        let huge = q("100E").checked_mul(1_000_000_000).unwrap(); // 1e29, near the top
        assert!(huge.checked_mul(10).is_err());
        assert!(huge.checked_add(&huge).is_err());
        assert!(huge.checked_sub(&huge).unwrap().is_zero());
        assert!(huge.checked_mul(-1).unwrap().checked_sub(&huge).is_err());
        assert!(q("1").checked_mul_ratio(1, 0).is_err());
    }

    #[test]
    fn serde_round_trip_uses_canonical_strings() {
        let v = q("1.5Gi");
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"1536Mi\"");
        assert_eq!(serde_json::from_str::<Quantity>("\"1536Mi\"").unwrap(), v);
        assert_eq!(serde_json::from_str::<Quantity>("3").unwrap(), q("3"));
        assert!(serde_json::from_str::<Quantity>("\"1.5.5Gi\"").is_err());
        assert_eq!(Quantity::try_from(&v.to_k8s()).unwrap(), v);
    }

    proptest! {
        #[test]
        fn canonical_form_round_trips(nanos in -(10i128.pow(30))..10i128.pow(30), fmt in 0u8..3) {
            let format = [Format::DecimalSi, Format::BinarySi, Format::DecimalExponent][fmt as usize];
            let v = Quantity::from_nanos(nanos, format);
            let back = Quantity::parse(&v.to_string()).unwrap();
            prop_assert_eq!(back.nanos(), nanos);
            // Canonical form is a fixed point.
            prop_assert_eq!(back.to_string(), v.to_string());
        }

        #[test]
        fn parse_never_panics(s in "[-+]?[0-9.]{0,45}([eE][-+]?[0-9]{0,5}|[numkMGTPE]i?)?") {
            let _ = Quantity::parse(&s);
        }

        #[test]
        fn decimal_inputs_parse_exactly(int in 0u64..1_000_000_000, frac in 0u32..1000) {
            let v = Quantity::parse(&format!("{int}.{frac:03}")).unwrap();
            prop_assert_eq!(v.nanos(), int as i128 * NANO + frac as i128 * 1_000_000);
        }

        #[test]
        fn add_then_sub_is_identity(a in -(10i128.pow(35))..10i128.pow(35), b in -(10i128.pow(35))..10i128.pow(35)) {
            let (x, y) = (Quantity::from_nanos(a, Format::DecimalSi), Quantity::from_nanos(b, Format::DecimalSi));
            prop_assert_eq!(x.checked_add(&y).unwrap().checked_sub(&y).unwrap(), x);
        }
    }
}
