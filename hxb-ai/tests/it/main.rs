//! hxb-ai integration tests (one binary).

mod analyze;
mod nab_synthetic;
mod remediate;
