//! hxb-tenancy integration tests (one binary).

mod access;
mod concurrency;
mod engine;
mod faults;
mod golden;
mod ledger_concurrency;
mod rbac_matrix;
mod support;
