//! hxb facade integration tests (one binary).

mod engine;
mod scaling_ai;
