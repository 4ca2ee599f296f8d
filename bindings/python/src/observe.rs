//! `hxb._native.EventStream` (the async iterator of `Engine.events()`) and the conversions of
//! the engine's function calls (payloads in, answers out).

use std::sync::Arc;

use hxb::core::cluster::ProxyResponse;
use hxb_bindings_common::observe::Subscription;
use pyo3::exceptions::{PyStopAsyncIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString};

use crate::convert::{Json, text};
use crate::runtime::run;

/// The engine's events as an async iterator (`async for ev in engine.events()`): each event
/// is a dict with a `type`, or `{"type": "lagged", "missed": n}` when the stream fell behind
/// and `n` events were dropped for it. Iteration ends on `close()` or when the engine closes.
#[pyclass(module = "hxb._native", frozen)]
pub struct EventStream {
    sub: Arc<Subscription>,
}

impl EventStream {
    /// A stream of `engine`'s events from now on.
    pub fn new(engine: &hxb::Engine) -> Self {
        EventStream {
            sub: Arc::new(Subscription::new(engine)),
        }
    }
}

#[pymethods]
impl EventStream {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The coroutine of the next event (pyo3 methods named `__anext__` cannot be `async`).
    fn __anext__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.call_method0("_next")
    }

    /// The next event; raises `StopAsyncIteration` once the stream ended.
    async fn _next(&self) -> PyResult<Json> {
        let sub = self.sub.clone();
        match run(async move { sub.next().await }).await? {
            Some(v) => Ok(Json(v)),
            None => Err(PyStopAsyncIteration::new_err(())),
        }
    }

    /// End the stream (idempotent): a waiting iteration stops.
    fn close(&self) {
        self.sub.close();
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.sub.is_closed()
    }

    fn __repr__(&self) -> String {
        format!(
            "EventStream(closed={})",
            if self.sub.is_closed() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// A function payload: `bytes`, `bytearray` or `str` (sent as UTF-8).
pub struct Payload(pub Vec<u8>);

impl<'a, 'py> FromPyObject<'a, 'py> for Payload {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Payload(b.as_bytes().to_vec()));
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            return Ok(Payload(b.to_vec()));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Payload(text(&s, "payload")?.into_bytes()));
        }
        Err(PyTypeError::new_err(format!(
            "payload must be bytes, bytearray or str, not {}",
            obj.get_type().name()?
        )))
    }
}

/// A function's answer as `{"status": int, "headers": dict, "body": bytes}`.
pub struct Answer(pub ProxyResponse);

impl<'py> IntoPyObject<'py> for Answer {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("status", self.0.status)?;
        d.set_item("headers", self.0.headers)?;
        d.set_item("body", PyBytes::new(py, &self.0.body))?;
        Ok(d)
    }
}
