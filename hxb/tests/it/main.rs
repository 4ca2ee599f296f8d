//! hxb facade integration tests (one binary).

mod engine;
#[cfg(feature = "fleet")]
mod fleet;
mod scaling_ai;
