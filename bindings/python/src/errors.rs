//! The one error-mapping point: [`hxb::Error`] → an instance of `hxb.HxbError`'s subclass for
//! its kind, built by `hxb._errors._from_native` (which also chains the `source()` messages as
//! `__cause__`).

use hxb_bindings_common::ErrorInfo;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::convert::to_py;

/// A facade error on its way to Python.
#[derive(Debug)]
pub struct Error(pub hxb::Error);

/// `Result` of every native call.
pub type Res<T> = Result<T, Error>;

impl From<hxb::Error> for Error {
    fn from(e: hxb::Error) -> Self {
        Error(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        Python::attach(|py| to_pyerr(py, &ErrorInfo::from_error(&e.0)))
    }
}

/// The Python exception of an error record (for calls whose refusal carries more details
/// than the facade error itself, e.g. a policy refusal with its violations).
pub fn from_info(info: &ErrorInfo) -> PyErr {
    Python::attach(|py| to_pyerr(py, info))
}

/// `invalid_input` as a Python exception (for argument conversion).
pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> PyErr {
    Error(hxb::Error::invalid(field, reason)).into()
}

fn to_pyerr(py: Python<'_>, info: &ErrorInfo) -> PyErr {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let build = || -> PyResult<Bound<'_, PyAny>> {
        let factory = FACTORY.get_or_try_init(py, || {
            PyResult::Ok(py.import("hxb._errors")?.getattr("_from_native")?.unbind())
        })?;
        factory.bind(py).call1((
            info.kind,
            &info.message,
            info.causes.clone(),
            to_py(py, &info.details)?,
            info.retryable,
        ))
    };
    match build() {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => {
            let err = PyRuntimeError::new_err(format!("{} ({})", info.message, info.kind));
            err.set_cause(py, Some(e));
            err
        }
    }
}

/// Raise a representative error of `kind` (tests of the mapping; not part of the API).
#[pyfunction]
#[pyo3(name = "_raise_sample_error")]
pub fn raise_sample_error(kind: String) -> PyResult<()> {
    match hxb_bindings_common::sample_error(&kind) {
        Some(e) => Err(Error(e).into()),
        None => Err(invalid("kind", format!("unknown error kind {kind:?}"))),
    }
}
