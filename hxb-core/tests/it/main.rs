//! hxb-core integration tests (one binary).

mod conformance;
mod prometheus;
mod store;
