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

pub mod analyze;
pub mod detect;
pub mod incidents;
pub mod nab;
pub mod remediate;
