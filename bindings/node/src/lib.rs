//! The native addon behind the `hxb` npm package (loaded by `index.js` as `hxb.node`).
//!
//! Thin and mechanical: every function maps JavaScript arguments onto a facade call
//! ([`hxb::Engine`], [`hxb_bindings_common::ops`]) and the result back. Errors leave through
//! one point ([`errors::to_napi`]) as a JSON record that `index.js` turns into an `HxbError`
//! with a stable `code` and a `cause` chain. Async methods return Promises driven by napi's
//! tokio runtime.

#![cfg_attr(test, allow(dead_code))] // napi registers exports outside test builds only

mod ai;
mod engine;
mod errors;
mod observe;
mod platform_ext;
mod tenancy;
mod values;

use napi_derive::napi;

/// The engine's version.
#[napi]
pub fn version() -> String {
    hxb::VERSION.to_owned()
}

/// The stable error codes, in declaration order.
#[napi]
pub fn error_kinds() -> Vec<String> {
    hxb::ErrorKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect()
}
