//! hxb-ai integration tests (one binary).

mod agent;
mod agent_injection;
mod analyze;
mod llm;
// The NAB report's page renderer lives beside its example program; its tests run here.
mod nab_synthetic;
#[path = "../../examples/nab_view/mod.rs"]
mod nab_view;
mod remediate;
