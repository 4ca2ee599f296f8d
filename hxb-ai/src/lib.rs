//! hxb-ai: AI operations for the hxb engine.
//!
//! * [`detect`]: streaming anomaly detection for metric series (constant memory per series,
//!   composable detectors, scores in `[0, 1]`).
//! * [`nab`]: evaluation on the Numenta Anomaly Benchmark with NAB's own scoring rules, and
//!   an exporter to NAB's results layout.
//! * [`llm`]: chat providers with tool calling (OpenAI-compatible, Ollama, offline).

pub mod detect;
pub mod llm;
pub mod nab;
