//! hxb facade integration tests (one binary).

#[cfg(feature = "api")]
mod api;
mod engine;
mod events;
mod scaling_ai;
