//! hxb-tenancy integration tests (one binary).

mod access;
mod apps;
#[cfg(feature = "backup")]
mod backup;
mod concurrency;
mod crd;
mod engine;
mod faults;
#[cfg(feature = "fleet")]
mod fleet;
mod functions;
mod golden;
mod invitations;
mod kubeconfig;
mod ledger_concurrency;
#[cfg(feature = "policy")]
mod policy;
mod pools;
mod rbac_matrix;
mod support;
mod usage;
