//! # hxb-bindings-common
//!
//! The Rust half that the Python (pyo3), Node.js (napi-rs) and Swift (uniffi) bindings share,
//! so that each binding is only a mapping of arguments and results:
//!
//! - [`ErrorInfo`]: one record per [`hxb::Error`] (stable kind code, message, the `source()`
//!   chain, structured details) that every binding turns into its own typed error in exactly
//!   one place;
//! - [`guard`] / [`join_error`]: a panic in native code becomes an `internal` error, never a
//!   crash of the host process;
//! - [`ops`]: calls over plain data (strings, maps) that forward to the facade;
//! - [`platform`]: the creating tenancy calls, scaling and AI operations over plain data;
//! - [`ai`]: guarded remediation (actions, approvals, audit, the policy) and the operations
//!   agent over plain data;
//! - [`tenancy`]: members, invitations, scoped kubeconfigs, reading and deleting tenants, the
//!   application lifecycle, usage and cost, reconcile;
//! - [`observe`]: the event stream, alert rules and alerts, health, signals and incidents,
//!   function invocation, pod logs;
//! - [`platform_ext`]: the facade's optional parts — backup and restore, plan policy, the
//!   multi-cluster fleet.
//!
//! ```
//! let err = hxb::Quantity::parse("1.5.5Gi").map_err(hxb::Error::from).unwrap_err();
//! let info = hxb_bindings_common::ErrorInfo::from_error(&err);
//! assert_eq!(info.kind, "invalid_input");
//! assert_eq!(info.details["reason"], "more than one decimal point");
//! ```

pub mod ai;
mod error;
pub mod observe;
pub mod ops;
mod panic;
pub mod platform;
pub mod platform_ext;
pub mod tenancy;

pub use error::{ErrorInfo, sample_error};
pub use panic::{guard, join_error, panic_error};
