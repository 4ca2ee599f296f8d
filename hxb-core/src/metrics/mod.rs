//! The metrics source: where measured usage and workload metrics come from.
//!
//! Queries are strings: PromQL for the Prometheus backend; the embedded time-series store
//! accepts the selector subset (`metric{label="v",other!="x"}`) and a few functions.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::Timestamp;

pub mod alerts;
pub mod load;
pub mod prometheus;
pub mod promql;
mod tsdb;

pub use prometheus::PrometheusSource;
pub use tsdb::{EmbeddedMetrics, TsdbConfig, labels};

/// Label set of a series.
pub type Labels = BTreeMap<String, String>;

/// One point of a series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix time in milliseconds.
    pub t_ms: i64,
    /// Value.
    pub v: f64,
}

/// A labelled series of samples in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Labels, `__name__` included.
    pub labels: Labels,
    /// Samples, oldest first.
    pub samples: Vec<Sample>,
}

/// Reads metrics.
#[async_trait]
pub trait MetricsSource: Send + Sync + 'static {
    /// The value of each matching series at `at`.
    async fn instant(&self, query: &str, at: Timestamp) -> Result<Vec<(Labels, f64)>>;

    /// Each matching series between `start` and `end`, one sample per `step`.
    async fn range(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<Series>>;
}
