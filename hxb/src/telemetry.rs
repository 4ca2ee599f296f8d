//! Engine telemetry: a tracing span around every engine operation, and the engine's own
//! metrics in the Prometheus exposition format (operations, durations, errors by kind,
//! reconcile queue depth).

use std::future::Future;
use std::time::Instant;

use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing::Instrument;

use crate::Result;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    operation: &'static str,
    kind: &'static str,
}

fn duration_histogram() -> Histogram {
    // 50 µs … ~1.6 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// The engine's own metrics.
pub struct Telemetry {
    registry: Mutex<Registry>,
    operations: Family<OpLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    durations: Family<OpLabels, Histogram, fn() -> Histogram>,
    queue_depth: Gauge,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hxb");
        let operations = Family::<OpLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let durations = Family::<OpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        let queue_depth = Gauge::default();
        registry.register(
            "engine_operations",
            "Engine operations started",
            operations.clone(),
        );
        registry.register(
            "engine_errors",
            "Engine operations that failed, by error kind",
            errors.clone(),
        );
        registry.register(
            "engine_operation_duration_seconds",
            "Duration of engine operations",
            durations.clone(),
        );
        registry.register(
            "reconcile_queue_depth",
            "Tenants waiting to be reconciled",
            queue_depth.clone(),
        );
        Telemetry {
            registry: Mutex::new(registry),
            operations,
            errors,
            durations,
            queue_depth,
        }
    }
}

impl Telemetry {
    /// Run `fut` as engine operation `operation`: inside a `hxb.operation` tracing span,
    /// counted, timed, and its error (if any) counted by kind.
    pub async fn observe<T, F>(&self, operation: &'static str, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let labels = OpLabels { operation };
        self.operations.get_or_create(&labels).inc();
        let span = tracing::debug_span!("hxb.operation", operation);
        let start = Instant::now();
        let out = fut.instrument(span.clone()).await;
        self.finish(operation, &span, start, &out);
        out
    }

    /// [`observe`](Self::observe) for an operation that computes without waiting (pure
    /// functions over plain data): same span, counters and duration histogram.
    pub fn observe_sync<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let labels = OpLabels { operation };
        self.operations.get_or_create(&labels).inc();
        let span = tracing::debug_span!("hxb.operation", operation);
        let start = Instant::now();
        let out = span.in_scope(f);
        self.finish(operation, &span, start, &out);
        out
    }

    fn finish<T>(
        &self,
        operation: &'static str,
        span: &tracing::Span,
        start: Instant,
        out: &Result<T>,
    ) {
        self.durations
            .get_or_create(&OpLabels { operation })
            .observe(start.elapsed().as_secs_f64());
        if let Err(e) = out {
            self.errors
                .get_or_create(&ErrorLabels {
                    operation,
                    kind: e.kind().as_str(),
                })
                .inc();
            span.in_scope(
                || tracing::debug!(error = %e, kind = e.kind().as_str(), "operation failed"),
            );
        }
    }

    /// Set the reconcile queue depth gauge.
    pub fn set_queue_depth(&self, n: i64) {
        self.queue_depth.set(n);
    }

    /// Count of started operations named `operation` (for tests and summaries).
    pub fn operations(&self, operation: &'static str) -> u64 {
        self.operations.get_or_create(&OpLabels { operation }).get()
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry.lock())
            .expect("writing to a String cannot fail");
        out
    }
}
