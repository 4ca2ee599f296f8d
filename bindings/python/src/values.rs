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
///
/// The texts are read in place (no copy) and parsed with the GIL released.
#[pyfunction]
pub fn sum_quantities<'py>(items: &Bound<'py, PyAny>) -> PyResult<Quantity> {
    let py = items.py();
    let mut held: Vec<Bound<'py, PyString>> = Vec::new();
    let mut hold = |i: usize, item: Bound<'py, PyAny>| -> PyResult<()> {
        let s = item
            .cast_into::<PyString>()
            .map_err(|_| invalid(format!("items[{i}]"), "expected a str"))?;
        held.push(s);
        Ok(())
    };
    if let Ok(list) = items.cast::<PyList>() {
        for (i, item) in list.iter().enumerate() {
            hold(i, item)?;
        }
    } else {
        for (i, item) in items.try_iter()?.enumerate() {
            hold(i, item?)?;
        }
    }
    let texts = held
        .iter()
        .enumerate()
        .map(|(i, s)| utf8(s, || format!("items[{i}]")))
        .collect::<PyResult<Vec<&str>>>()?;
    let total = py.detach(|| ops::sum_quantities(texts.iter().copied()));
    Ok(Quantity(total.map_err(crate::errors::Error)?))
}

/// The UTF-8 text of a `str` without copying: CPython keeps a UTF-8 form (for ASCII, the
/// string's own buffer) alive as long as the string. A lone surrogate is `InvalidInputError`.
fn utf8<'a>(s: &'a Bound<'_, PyString>, field: impl FnOnce() -> String) -> PyResult<&'a str> {
    unsafe extern "C" {
        // Exported by every CPython 3 and in the stable ABI since 3.10; pyo3 declares it only
        // from abi3-py310 on, so it is declared here for the abi3-py39 wheel.
        fn PyUnicode_AsUTF8AndSize(
            unicode: *mut pyo3::ffi::PyObject,
            size: *mut pyo3::ffi::Py_ssize_t,
        ) -> *const std::os::raw::c_char;
    }
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` and the GIL is held (a `Bound` proves both).
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if data.is_null() {
        let _ = PyErr::take(s.py());
        return Err(invalid(field(), "not valid unicode (lone surrogate)"));
    }
    let len = usize::try_from(size).unwrap_or(0);
    // SAFETY: CPython returns `size` bytes of valid UTF-8 that live as long as the string,
    // which `'a` borrows.
    Ok(unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast(), len)) })
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
