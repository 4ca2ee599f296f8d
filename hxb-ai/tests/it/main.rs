//! hxb-ai integration tests (one binary).

mod analyze;
mod llm;
mod nab_synthetic;
mod remediate;
