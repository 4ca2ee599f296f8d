//! hxb-ai integration tests (one binary).

mod agent;
mod agent_injection;
mod analyze;
mod llm;
mod nab_synthetic;
mod remediate;
