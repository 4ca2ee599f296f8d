//! hxb facade integration tests (one binary).

#[cfg(feature = "api")]
mod api;
#[cfg(feature = "backup")]
mod backup;
mod engine;
mod events;
#[cfg(feature = "fleet")]
mod fleet;
#[cfg(feature = "policy")]
mod policy;
mod remediation;
mod scaling_ai;
