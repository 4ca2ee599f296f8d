//! Pure values: quantities, names, resource maps and quota admission.

use std::collections::BTreeMap;

use hxb_bindings_common::ops;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::convert::text;
use crate::errors::{Res, invalid};

/// An exact Kubernetes quantity (see `hxb.Quantity` in the stubs).
#[pyclass(module = "hxb._native", frozen, eq, ord, hash)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(pub hxb::Quantity);

#[pymethods]
impl Quantity {
    /// Parse the Kubernetes grammar (`"1.5Gi"`, `"250m"`, `"2e3"`).
    #[new]
    fn new(value: &Bound<'_, PyString>) -> PyResult<Self> {
        Ok(Quantity(
            ops::parse_quantity(&text(value, "quantity")?).map_err(crate::errors::Error)?,
        ))
    }

    /// The same as the constructor.
    #[staticmethod]
    fn parse(value: &Bound<'_, PyString>) -> PyResult<Self> {
        Quantity::new(value)
    }

    /// The quantity nearest above `value` (NaN and infinities are invalid).
    #[staticmethod]
    fn from_float(value: f64) -> PyResult<Self> {
        hxb::Quantity::from_f64(value, Default::default())
            .map(Quantity)
            .ok_or_else(|| invalid("value", format!("{value} is not a finite quantity")))
    }

    /// The value in thousandths, rounded up (millicores for cpu).
    #[getter]
    fn milli_value(&self) -> i128 {
        self.0.to_milli_ceil()
    }

    /// The value as a whole number, rounded up (bytes for memory).
    #[getter]
    fn value(&self) -> i128 {
        self.0.to_int_ceil()
    }

    fn __add__(&self, other: &Self) -> Res<Self> {
        Ok(Quantity(
            self.0.checked_add(&other.0).map_err(hxb::Error::from)?,
        ))
    }

    fn __sub__(&self, other: &Self) -> Res<Self> {
        Ok(Quantity(
            self.0.checked_sub(&other.0).map_err(hxb::Error::from)?,
        ))
    }

    fn __mul__(&self, n: i64) -> Res<Self> {
        Ok(Quantity(self.0.checked_mul(n).map_err(hxb::Error::from)?))
    }

    fn __float__(&self) -> f64 {
        self.0.as_f64()
    }

    fn __bool__(&self) -> bool {
        !self.0.is_zero()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Quantity('{}')", self.0)
    }
}

/// The name back if it is a valid RFC 1123 label.
#[pyfunction]
pub fn validate_name(name: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(ops::validate_name(&text(name, "name")?).map_err(crate::errors::Error)?)
}

/// Parse every quantity of `items` and add them up exactly (one call for the whole batch).
#[pyfunction]
pub fn sum_quantities(items: &Bound<'_, PyAny>) -> PyResult<Quantity> {
    let mut texts = Vec::new();
    let mut push = |i: usize, item: Bound<'_, PyAny>| -> PyResult<()> {
        let field = || format!("items[{i}]");
        let s = item
            .cast::<PyString>()
            .map_err(|_| invalid(field(), "expected a str"))?;
        texts.push(text(s, &field())?);
        Ok(())
    };
    if let Ok(list) = items.cast::<PyList>() {
        for (i, item) in list.iter().enumerate() {
            push(i, item)?;
        }
    } else {
        for (i, item) in items.try_iter()?.enumerate() {
            push(i, item?)?;
        }
    }
    let total = items
        .py()
        .detach(|| ops::sum_quantities(texts.iter().map(String::as_str)));
    Ok(Quantity(total.map_err(crate::errors::Error)?))
}

/// Quota admission: `None` if `requested` fits in `hard` on top of `used`, else
/// `QuotaExceededError` listing each offending resource.
#[pyfunction]
#[pyo3(signature = (quota, hard, used, requested))]
pub fn admit(
    quota: String,
    hard: BTreeMap<String, String>,
    used: BTreeMap<String, String>,
    requested: BTreeMap<String, String>,
) -> Res<()> {
    Ok(ops::admit(&quota, &hard, &used, &requested)?)
}

/// `a + b` per resource, as canonical quantity strings.
#[pyfunction]
pub fn add_resources(
    a: BTreeMap<String, String>,
    b: BTreeMap<String, String>,
) -> Res<BTreeMap<String, String>> {
    Ok(ops::add_resources(&a, &b)?)
}
