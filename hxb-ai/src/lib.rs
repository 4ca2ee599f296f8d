//! # hxb-ai
//!
//! AI operations for hxb:
//!
//! * [`detect`]: streaming anomaly detection for metric series (constant memory per series,
//!   composable detectors, scores in `[0, 1]`).
//! * [`nab`]: evaluation on the Numenta Anomaly Benchmark with NAB's own scoring rules, and an
//!   exporter to NAB's results layout.
//! * [`analyze`]: k8sgpt-style analyzers that explain what is wrong with a cluster.
//! * [`incidents`]: co-occurring anomalies and events grouped into incidents with ranked
//!   root-cause hints.
//! * [`llm`]: chat providers with tool calling (OpenAI-compatible, Ollama, offline).
//! * [`agent`]: an LLM agent whose tools are the engine's operations, behind RBAC and the
//!   remediation guard, with anonymisation, budgets and prompt-injection defences.

pub mod agent;
pub mod analyze;
pub mod detect;
pub mod incidents;
pub mod llm;
pub mod nab;
pub mod remediate;
