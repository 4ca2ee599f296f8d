//! hxb-core integration tests (one binary).

mod conformance;
mod embedded;
mod prometheus;
mod store;
