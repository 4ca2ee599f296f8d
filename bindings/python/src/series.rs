//! Numeric series between Python and Rust.
//!
//! A series argument is read in one of two ways:
//!
//! - any object with the buffer protocol whose items have the right type — `array.array('d')`
//!   / `('q')`, a `memoryview`, a numpy array of `float64` / `int64` (numpy is not needed) — is
//!   copied out of its memory in one `memcpy` (no Python object per item), so the series can
//!   then be scored with the GIL released;
//! - an exact `list` item by item in one pass over its storage (no iterator object, no
//!   reference count per item): each `float` (`int` for timestamps) is read in place, and any
//!   other item goes through the same per-item conversion as a general sequence, so bad items
//!   fail exactly as they do there;
//! - any other sequence (a `tuple`, an `array.array('i')`…) item by item through the iterator
//!   protocol.
//!
//! A result series goes back in the form its input came in: an `array.array('d')` (built from
//! one `bytes` copy) for a buffer, a `list[float]` for anything else.

use pyo3::buffer::PyBuffer;
use pyo3::conversion::FromPyObjectOwned;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyFloat, PyInt, PyList};

use crate::errors::invalid;

/// Largest integer a `float64` holds exactly (2^53).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A series of floats (values, history).
#[derive(Debug)]
pub struct Floats {
    /// The items.
    pub values: Vec<f64>,
    /// Whether they came from a buffer (then the result goes back as `array.array('d')`).
    pub buffer: bool,
}

impl<'a, 'py> FromPyObject<'a, 'py> for Floats {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Some(values) = buffer_items::<f64>(&obj)? {
            return Ok(Floats {
                values,
                buffer: true,
            });
        }
        let values = match obj.cast_exact::<PyList>() {
            Ok(list) => list_items(list, |item| {
                item.is_exact_instance_of::<PyFloat>() || item.is_exact_instance_of::<PyInt>()
            })?,
            Err(_) => obj.extract()?,
        };
        Ok(Floats {
            values,
            buffer: false,
        })
    }
}

/// A series of integer timestamps (milliseconds).
#[derive(Debug)]
pub struct Stamps(pub Vec<i64>);

impl<'a, 'py> FromPyObject<'a, 'py> for Stamps {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Some(ts) = buffer_items::<i64>(&obj)? {
            return Ok(Stamps(ts));
        }
        // Timestamps kept as doubles (numpy `float64`, `array('d')`): each must be an integer.
        if let Some(ts) = buffer_items::<f64>(&obj)? {
            return ts
                .into_iter()
                .map(|t| {
                    if t.fract() == 0.0 && t.abs() <= MAX_EXACT {
                        Ok(t as i64)
                    } else {
                        Err(invalid("timestamps", format!("{t} is not an integer")))
                    }
                })
                .collect::<PyResult<_>>()
                .map(Stamps);
        }
        match obj.cast_exact::<PyList>() {
            Ok(list) => list_items(list, |item| item.is_exact_instance_of::<PyInt>()).map(Stamps),
            Err(_) => Ok(Stamps(obj.extract()?)),
        }
    }
}

/// The items of an exact `list`, read by index. An item for which `plain` holds (an exact
/// `float` or `int`) is converted without running Python code, so it is read through a
/// borrowed reference; any other item is converted holding its own reference, because its
/// conversion (`__float__`, `__index__`) may run Python code that changes the list. The result
/// and the errors are those of pyo3's `Vec<T>` extraction (the same per-item conversion, in
/// the same order); only the iterator object and the reference count per item are saved.
fn list_items<'py, T>(
    list: Borrowed<'_, 'py, PyList>,
    plain: impl Fn(&Bound<'py, PyAny>) -> bool,
) -> PyResult<Vec<T>>
where
    T: FromPyObjectOwned<'py>,
{
    let py = list.py();
    let mut len = list.len();
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while i < len {
        // SAFETY: the GIL is held and `i` is below the list's current length (re-read after
        // anything that may have run Python code), so `PyList_GetItem` returns a valid
        // borrowed reference, which stays valid until Python code runs.
        let item = unsafe {
            Borrowed::from_ptr(py, ffi::PyList_GetItem(list.as_ptr(), i as ffi::Py_ssize_t))
        };
        if plain(&item) {
            out.push(item.extract::<T>().map_err(Into::into)?);
        } else {
            let owned = item.to_owned();
            let value = owned.extract::<T>().map_err(Into::into);
            // Dropping the last reference may run Python code (`__del__`) too.
            drop(owned);
            out.push(value?);
            len = list.len();
        }
        i += 1;
    }
    Ok(out)
}

/// The items of `obj` if it exposes a one-dimensional buffer of `T`; `None` if it has no
/// buffer or one of another item type (then it is read as a sequence).
fn buffer_items<T: pyo3::buffer::Element>(obj: &Bound<'_, PyAny>) -> PyResult<Option<Vec<T>>> {
    let Ok(buf) = PyBuffer::<T>::get(obj) else {
        return Ok(None);
    };
    if buf.dimensions() != 1 {
        return Err(invalid(
            "series",
            format!(
                "a 1-dimensional buffer is required, not {}",
                buf.dimensions()
            ),
        ));
    }
    buf.to_vec(obj.py()).map(Some)
}

/// `values` as an `array.array('d')` when `buffer`, else as a `list[float]`.
pub fn floats_out(py: Python<'_>, values: Vec<f64>, buffer: bool) -> PyResult<Bound<'_, PyAny>> {
    if !buffer {
        return Ok(values.into_pyobject(py)?.into_any());
    }
    static ARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let array = ARRAY.import(py, "array", "array")?;
    let bytes = PyBytes::new_with(py, values.len() * 8, |out| {
        for (chunk, v) in out.chunks_exact_mut(8).zip(&values) {
            chunk.copy_from_slice(&v.to_ne_bytes());
        }
        Ok(())
    })?;
    array.call1(("d", bytes))
}
