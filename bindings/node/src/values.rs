//! Pure values: quantities, names, resource maps and quota admission.

use std::collections::{BTreeMap, HashMap};

use hxb_bindings_common::ops;
use napi::bindgen_prelude::BigInt;
use napi_derive::napi;

use crate::errors::{IntoNapi, guard};

/// A JavaScript number that must be a safe integer (NaN, fractions and |n| > 2^53 refused).
pub fn int_arg(v: f64, field: &str) -> napi::Result<i64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if v.is_finite() && v.trunc() == v && v.abs() <= MAX_SAFE {
        Ok(v as i64)
    } else {
        Err(hxb::Error::invalid(
            field,
            format!("{v} is not a safe integer"),
        ))
        .napi()
    }
}

/// An optional safe integer argument that must fit `T` (`InvalidInput` otherwise; for an
/// unsigned `T`, a negative number too).
pub fn int_in<T: TryFrom<i64>>(v: Option<f64>, field: &str) -> napi::Result<Option<T>> {
    v.map(|v| {
        let n = int_arg(v, field)?;
        T::try_from(n)
            .map_err(|_| hxb::Error::invalid(field, format!("{n} is out of range")))
            .napi()
    })
    .transpose()
}

fn sorted(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

/// An exact Kubernetes resource quantity (nano precision, canonical `toString()`).
#[napi]
pub struct Quantity {
    q: hxb::Quantity,
}

#[napi]
impl Quantity {
    /// Parse the Kubernetes grammar (`"1.5Gi"`, `"250m"`, `"2e3"`).
    #[napi(constructor)]
    pub fn new(value: String) -> napi::Result<Self> {
        Ok(Quantity {
            q: guard(|| ops::parse_quantity(&value))?,
        })
    }

    /// The same as the constructor.
    #[napi(factory)]
    pub fn parse(value: String) -> napi::Result<Self> {
        Quantity::new(value)
    }

    /// The quantity nearest above `value` (NaN and infinities are invalid).
    #[napi(factory)]
    pub fn from_number(value: f64) -> napi::Result<Self> {
        hxb::Quantity::from_f64(value, Default::default())
            .map(|q| Quantity { q })
            .ok_or_else(|| {
                hxb::Error::invalid("value", format!("{value} is not a finite quantity"))
            })
            .napi()
    }

    /// The value in thousandths, rounded up (millicores for cpu).
    #[napi(getter)]
    pub fn milli_value(&self) -> BigInt {
        BigInt::from(self.q.to_milli_ceil())
    }

    /// The value as a whole number, rounded up (bytes for memory).
    #[napi(getter)]
    pub fn value(&self) -> BigInt {
        BigInt::from(self.q.to_int_ceil())
    }

    /// `this + other`.
    #[napi]
    pub fn add(&self, other: &Quantity) -> napi::Result<Quantity> {
        let q = self
            .q
            .checked_add(&other.q)
            .map_err(hxb::Error::from)
            .napi()?;
        Ok(Quantity { q })
    }

    /// `this - other`.
    #[napi]
    pub fn sub(&self, other: &Quantity) -> napi::Result<Quantity> {
        let q = self
            .q
            .checked_sub(&other.q)
            .map_err(hxb::Error::from)
            .napi()?;
        Ok(Quantity { q })
    }

    /// `this × n` (`n` a safe integer).
    #[napi]
    pub fn mul(&self, n: f64) -> napi::Result<Quantity> {
        let n = int_arg(n, "n")?;
        let q = self.q.checked_mul(n).map_err(hxb::Error::from).napi()?;
        Ok(Quantity { q })
    }

    /// -1, 0 or 1 as `this` is less than, equal to or greater than `other`.
    #[napi]
    pub fn compare(&self, other: &Quantity) -> i32 {
        self.q.cmp(&other.q) as i32
    }

    /// Whether both are the same amount (`1Gi` equals `1024Mi`).
    #[napi]
    pub fn equals(&self, other: &Quantity) -> bool {
        self.q == other.q
    }

    /// The value as a JavaScript number (for display and metrics, not for admission).
    #[napi]
    pub fn to_number(&self) -> f64 {
        self.q.as_f64()
    }

    /// The canonical Kubernetes form (`1536Mi`).
    #[napi(js_name = "toString")]
    pub fn to_text(&self) -> String {
        self.q.to_string()
    }

    /// JSON form: the canonical string.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> String {
        self.q.to_string()
    }
}

/// The name back if it is a valid RFC 1123 label.
#[napi]
pub fn validate_name(name: String) -> napi::Result<String> {
    guard(|| ops::validate_name(&name))
}

/// Parse every quantity of `items` and add them up exactly (one call for the whole batch).
#[napi]
pub fn sum_quantities(items: Vec<String>) -> napi::Result<Quantity> {
    let q = guard(|| ops::sum_quantities(items.iter().map(String::as_str)))?;
    Ok(Quantity { q })
}

/// Quota admission: returns if `requested` fits in `hard` on top of `used`, else throws a
/// `QuotaExceededError` listing each offending resource.
#[napi]
pub fn admit(
    quota: String,
    hard: HashMap<String, String>,
    used: HashMap<String, String>,
    requested: HashMap<String, String>,
) -> napi::Result<()> {
    guard(|| ops::admit(&quota, &sorted(hard), &sorted(used), &sorted(requested)))
}

/// `a + b` per resource, as canonical quantity strings.
#[napi]
pub fn add_resources(
    a: HashMap<String, String>,
    b: HashMap<String, String>,
) -> napi::Result<HashMap<String, String>> {
    guard(|| ops::add_resources(&sorted(a), &sorted(b))).map(|m| m.into_iter().collect())
}
