//! hxb-core integration tests (one binary).

mod conformance;
mod embedded;
mod embedded_workloads;
