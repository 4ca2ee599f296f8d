//! hxb facade integration tests (one binary).

mod engine;
