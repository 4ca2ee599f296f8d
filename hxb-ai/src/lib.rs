//! # hxb-ai
//!
//! AI operations for hxb: analyzers that explain what is wrong with a cluster, incidents that
//! group related signals with ranked root-cause hints, streaming anomaly detection, guarded
//! remediation and an LLM agent whose tools are the engine's own operations.

pub mod analyze;
pub mod incidents;
