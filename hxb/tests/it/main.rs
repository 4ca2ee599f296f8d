//! hxb facade integration tests (one binary).

#[cfg(feature = "backup")]
mod backup;
mod engine;
mod scaling_ai;
