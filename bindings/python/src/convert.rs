//! JSON values (manifests, objects) between Python and Rust.
//!
//! Python → JSON accepts `dict` (string keys), `list`, `tuple`, `str`, `int` (64-bit),
//! finite `float`, `bool`, `None` and [`Quantity`](crate::values::Quantity); anything else —
//! including a lone surrogate in a `str`, a too-large `int`, NaN, or nesting deeper than
//! [`MAX_DEPTH`] (a list that contains itself) — is an `InvalidInputError` naming the path.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::errors::invalid;

/// Deepest nesting accepted from Python (Kubernetes objects are far shallower).
pub const MAX_DEPTH: usize = 64;

/// A JSON value extracted from / converted to Python.
#[derive(Debug)]
pub struct Json(pub Value);

impl<'a, 'py> FromPyObject<'a, 'py> for Json {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Json(from_py(&obj, "manifest", 0)?))
    }
}

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A Python `str` as Rust text; a lone surrogate is an `InvalidInputError` on `field`.
pub fn text(s: &Bound<'_, PyString>, field: &str) -> PyResult<String> {
    s.to_cow()
        .map(|c| c.into_owned())
        .map_err(|_| invalid(field, "not valid unicode (lone surrogate)"))
}

fn from_py(obj: &Bound<'_, PyAny>, path: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(invalid(
            path,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(text(s, path)?));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(invalid(path, "integer does not fit in 64 bits"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| invalid(path, "NaN and infinities are not JSON numbers"));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let Ok(ks) = k.cast::<PyString>() else {
                return Err(invalid(path, "dict keys must be str"));
            };
            let key = text(ks, path)?;
            let child = from_py(&v, &format!("{path}.{key}"), depth + 1)?;
            map.insert(key, child);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return seq(l.iter(), path, depth);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return seq(t.iter(), path, depth);
    }
    if let Ok(q) = obj.cast::<crate::values::Quantity>() {
        return Ok(Value::String(q.get().0.to_string()));
    }
    let ty = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(invalid(path, format!("a {ty} cannot be converted to JSON")))
}

fn seq<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    path: &str,
    depth: usize,
) -> PyResult<Value> {
    items
        .enumerate()
        .map(|(i, v)| from_py(&v, &format!("{path}[{i}]"), depth + 1))
        .collect::<PyResult<Vec<_>>>()
        .map(Value::Array)
}

/// A JSON value as Python objects (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for item in a {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(m) => {
            let dict = PyDict::new(py);
            for (k, item) in m {
                dict.set_item(k, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A point in time as RFC 3339 text: a `str`, or an aware `datetime.datetime` (its
/// `isoformat()`; a naive one has no offset and is refused as `InvalidInputError` downstream).
#[derive(Debug)]
pub struct Instant(pub String);

impl<'a, 'py> FromPyObject<'a, 'py> for Instant {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Instant(text(&s, "timestamp")?));
        }
        static DATETIME: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> =
            pyo3::sync::PyOnceLock::new();
        let datetime = DATETIME.import(obj.py(), "datetime", "datetime")?;
        if obj.is_instance(datetime)? {
            return Ok(Instant(obj.call_method0("isoformat")?.extract()?));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "expected a str or a datetime, not {}",
            obj.get_type().name()?
        )))
    }
}
