//! hxb facade integration tests (one binary).

#[cfg(feature = "backup")]
mod backup;
mod engine;
#[cfg(feature = "policy")]
mod policy;
mod scaling_ai;
