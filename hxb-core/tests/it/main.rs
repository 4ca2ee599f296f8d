//! hxb-core integration tests (one binary).

mod conformance;
mod embedded;
mod embedded_serve;
mod embedded_workloads;
mod kube_fake;
mod kube_live;
mod kube_mock;
#[cfg(feature = "policy")]
mod pod_security;
mod prometheus;
mod store;
