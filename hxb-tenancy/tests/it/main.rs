//! hxb-tenancy integration tests (one binary).

mod access;
mod apps;
mod concurrency;
mod crd;
mod engine;
mod faults;
#[cfg(feature = "fleet")]
mod fleet;
mod golden;
mod invitations;
mod kubeconfig;
mod ledger_concurrency;
mod pools;
mod rbac_matrix;
mod support;
mod usage;
