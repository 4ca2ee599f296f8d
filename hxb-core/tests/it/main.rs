//! hxb-core integration tests (one binary).

mod conformance;
mod prometheus;
mod store;
mod kube_mock;
mod kube_live;
