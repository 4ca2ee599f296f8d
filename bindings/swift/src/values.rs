//! Pure values: quantities, names, resource maps and quota admission.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hxb_bindings_common::ops;

use crate::error::{Res, guard};

fn sorted(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

fn int(v: i128, what: &str) -> Res<i64> {
    i64::try_from(v)
        .map_err(|_| hxb::Error::invalid(what, format!("{v} does not fit in 64 bits")).into())
}

/// An exact Kubernetes resource quantity (nano precision, canonical `description`).
#[derive(Debug, PartialEq, Eq, Hash, uniffi::Object)]
#[uniffi::export(Display, Eq, Hash)]
pub struct Quantity {
    q: hxb::Quantity,
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.q.fmt(f)
    }
}

fn wrap(q: hxb::Quantity) -> Arc<Quantity> {
    Arc::new(Quantity { q })
}

#[uniffi::export]
impl Quantity {
    /// Parse the Kubernetes grammar (`"1.5Gi"`, `"250m"`, `"2e3"`).
    #[uniffi::constructor]
    pub fn new(value: String) -> Res<Arc<Self>> {
        guard(|| ops::parse_quantity(&value)).map(wrap)
    }

    /// The quantity nearest above `value` (NaN and infinities are invalid).
    #[uniffi::constructor]
    pub fn from_double(value: f64) -> Res<Arc<Self>> {
        hxb::Quantity::from_f64(value, Default::default())
            .map(wrap)
            .ok_or_else(|| {
                hxb::Error::invalid("value", format!("{value} is not a finite quantity")).into()
            })
    }

    /// The value in thousandths, rounded up (millicores for cpu).
    pub fn milli_value(&self) -> Res<i64> {
        int(self.q.to_milli_ceil(), "milli value")
    }

    /// The value as a whole number, rounded up (bytes for memory).
    pub fn value(&self) -> Res<i64> {
        int(self.q.to_int_ceil(), "value")
    }

    /// `self + other`.
    pub fn add(&self, other: Arc<Quantity>) -> Res<Arc<Quantity>> {
        guard(|| Ok(self.q.checked_add(&other.q)?)).map(wrap)
    }

    /// `self - other`.
    pub fn sub(&self, other: Arc<Quantity>) -> Res<Arc<Quantity>> {
        guard(|| Ok(self.q.checked_sub(&other.q)?)).map(wrap)
    }

    /// `self × n`.
    pub fn mul(&self, n: i64) -> Res<Arc<Quantity>> {
        guard(|| Ok(self.q.checked_mul(n)?)).map(wrap)
    }

    /// -1, 0 or 1 as `self` is less than, equal to or greater than `other`.
    pub fn compare(&self, other: Arc<Quantity>) -> i32 {
        self.q.cmp(&other.q) as i32
    }

    /// The value as a double (for display and metrics, not for admission).
    pub fn to_double(&self) -> f64 {
        self.q.as_f64()
    }
}

/// The name back if it is a valid RFC 1123 label.
#[uniffi::export]
pub fn validate_name(name: String) -> Res<String> {
    guard(|| ops::validate_name(&name))
}

/// Parse every quantity of `items` and add them up exactly (one call for the whole batch).
#[uniffi::export]
pub fn sum_quantities(items: Vec<String>) -> Res<Arc<Quantity>> {
    guard(|| ops::sum_quantities(items.iter().map(String::as_str))).map(wrap)
}

/// Quota admission: returns if `requested` fits in `hard` on top of `used`, else throws
/// `HxbError.QuotaExceeded` listing each offending resource in its details.
#[uniffi::export]
pub fn admit(
    quota: String,
    hard: HashMap<String, String>,
    used: HashMap<String, String>,
    requested: HashMap<String, String>,
) -> Res<()> {
    guard(|| ops::admit(&quota, &sorted(hard), &sorted(used), &sorted(requested)))
}

/// `a + b` per resource, as canonical quantity strings.
#[uniffi::export]
pub fn add_resources(
    a: HashMap<String, String>,
    b: HashMap<String, String>,
) -> Res<HashMap<String, String>> {
    guard(|| ops::add_resources(&sorted(a), &sorted(b))).map(|m| m.into_iter().collect())
}
