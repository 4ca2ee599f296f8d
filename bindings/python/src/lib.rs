//! The private native module `hxb._native` behind the `hxb` Python package.
//!
//! Thin and mechanical: every function maps Python arguments onto a facade call
//! ([`hxb::Engine`], [`hxb_bindings_common::ops`]) and the result or error back. Errors are
//! turned into the `hxb.HxbError` hierarchy in one place ([`errors`]); async methods run on this
//! module's own tokio runtime ([`runtime`]) and are awaited by asyncio.

mod convert;
mod engine;
mod errors;
mod observe;
mod platform_ext;
mod runtime;
mod series;
mod values;

use pyo3::prelude::*;

/// `hxb._native`: what the `hxb` package re-exports.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VERSION", hxb::VERSION)?;
    m.add(
        "ERROR_KINDS",
        hxb::ErrorKind::ALL.map(hxb::ErrorKind::as_str).to_vec(),
    )?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<values::Quantity>()?;
    m.add_class::<observe::EventStream>()?;
    m.add_class::<platform_ext::Backups>()?;
    m.add_function(wrap_pyfunction!(values::validate_name, m)?)?;
    m.add_function(wrap_pyfunction!(values::sum_quantities, m)?)?;
    m.add_function(wrap_pyfunction!(values::admit, m)?)?;
    m.add_function(wrap_pyfunction!(values::add_resources, m)?)?;
    m.add_function(wrap_pyfunction!(errors::raise_sample_error, m)?)?;
    Ok(())
}
