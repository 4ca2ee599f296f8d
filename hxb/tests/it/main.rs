//! hxb facade integration tests (one binary).

mod engine;
#[cfg(feature = "policy")]
mod policy;
mod scaling_ai;
