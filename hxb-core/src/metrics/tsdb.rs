//! The embedded time-series store: bounded per-series buffers with downsampling, queried with
//! the [PromQL subset](super::promql).
//!
//! Each series keeps its newest `raw_capacity` samples as written; older samples are folded into
//! fixed-width buckets (`downsample_step`, mean/min/max/count) of which `downsampled_capacity`
//! are kept. Memory per series is therefore bounded, whatever the write rate.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
//! use hxb_core::metrics::{EmbeddedMetrics, MetricsSource, labels};
//! let m = EmbeddedMetrics::default();
//! for i in 0..10 {
//!     m.write(&labels("cpu_usage", &[("pod", "web-1")]), i * 15_000, 0.25 * i as f64)?;
//! }
//! let at = jiff::Timestamp::from_millisecond(135_000).unwrap();
//! let v = m.instant("max_over_time(cpu_usage[1m])", at).await?;
//! assert_eq!(v[0].1, 2.25);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::RwLock;

use super::promql::{self, AggOp, BinOp, Expr, Matcher, RangeFn};
use super::{Labels, MetricsSource, Sample, Series};
use crate::error::{Error, Result};
use crate::model::Timestamp;

/// Limits of the embedded store.
#[derive(Debug, Clone)]
pub struct TsdbConfig {
    /// Raw samples kept per series (default 2,880: one day at 30 s).
    pub raw_capacity: usize,
    /// Width of a downsampled bucket (default 5 min).
    pub downsample_step: Duration,
    /// Downsampled buckets kept per series (default 2,016: one week of 5 min buckets).
    pub downsampled_capacity: usize,
    /// How far back an instant selector looks for the latest sample (default 5 min, as
    /// Prometheus).
    pub lookback: Duration,
    /// Maximum number of series (default 100,000); writes of new series beyond it fail.
    pub max_series: usize,
}

impl Default for TsdbConfig {
    fn default() -> Self {
        TsdbConfig {
            raw_capacity: 2_880,
            downsample_step: Duration::from_secs(300),
            downsampled_capacity: 2_016,
            lookback: Duration::from_secs(300),
            max_series: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    t_ms: i64,
    sum: f64,
    count: u32,
    min: f64,
    max: f64,
}

#[derive(Debug)]
struct SeriesData {
    labels: Labels,
    raw: VecDeque<Sample>,
    down: VecDeque<Bucket>,
}

#[derive(Debug, Default)]
struct Inner {
    series: Vec<SeriesData>,
    index: HashMap<Labels, usize>,
}

/// The embedded metrics store. Cheap to clone; clones share data.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedMetrics {
    inner: Arc<RwLock<Inner>>,
    cfg: Arc<TsdbConfig>,
}

/// Build a label set: `labels("cpu", &[("pod", "a")])` sets `__name__` too.
pub fn labels(metric: &str, pairs: &[(&str, &str)]) -> Labels {
    let mut l: Labels = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.insert("__name__".into(), metric.into());
    l
}

fn valid_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_' || ch == ':')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':')
}

impl EmbeddedMetrics {
    /// A store with custom limits.
    pub fn with_config(cfg: TsdbConfig) -> Result<Self> {
        if cfg.raw_capacity == 0 || cfg.downsample_step.is_zero() {
            return Err(Error::invalid(
                "tsdb config",
                "capacities and steps must be positive",
            ));
        }
        Ok(EmbeddedMetrics {
            inner: Arc::default(),
            cfg: Arc::new(cfg),
        })
    }

    /// Append a sample. Labels need a valid `__name__`; values must be finite; timestamps
    /// must not go backwards within a series (an equal timestamp replaces the last value).
    pub fn write(&self, labels: &Labels, t_ms: i64, v: f64) -> Result<()> {
        let name = labels.get("__name__").map(String::as_str).unwrap_or("");
        if !valid_metric_name(name) {
            return Err(Error::invalid(
                "metric name",
                format!("{name:?} is not a valid metric name"),
            ));
        }
        if let Some(k) = labels
            .keys()
            .find(|k| !valid_metric_name(k) || k.contains(':'))
        {
            return Err(Error::invalid(
                "label name",
                format!("{k:?} is not a valid label name"),
            ));
        }
        if !v.is_finite() {
            return Err(Error::invalid(
                "sample",
                format!("{name}: value {v} is not finite"),
            ));
        }
        let mut inner = self.inner.write();
        let idx = match inner.index.get(labels) {
            Some(i) => *i,
            None => {
                if inner.series.len() >= self.cfg.max_series {
                    return Err(Error::unavailable(
                        format!("metrics store is full ({} series)", self.cfg.max_series),
                        None,
                    ));
                }
                let i = inner.series.len();
                inner.series.push(SeriesData {
                    labels: labels.clone(),
                    raw: VecDeque::new(),
                    down: VecDeque::new(),
                });
                inner.index.insert(labels.clone(), i);
                i
            }
        };
        let s = &mut inner.series[idx];
        match s.raw.back_mut() {
            Some(last) if last.t_ms > t_ms => {
                return Err(Error::invalid(
                    "sample",
                    format!(
                        "{name}: out-of-order sample at {t_ms} ms (last {})",
                        last.t_ms
                    ),
                ));
            }
            Some(last) if last.t_ms == t_ms => {
                last.v = v;
                return Ok(());
            }
            _ => s.raw.push_back(Sample { t_ms, v }),
        }
        if s.raw.len() > self.cfg.raw_capacity {
            let old = s.raw.pop_front().expect("non-empty");
            let step = self.cfg.downsample_step.as_millis() as i64;
            let b = old.t_ms.div_euclid(step) * step;
            match s.down.back_mut() {
                Some(last) if last.t_ms == b => {
                    last.sum += old.v;
                    last.count += 1;
                    last.min = last.min.min(old.v);
                    last.max = last.max.max(old.v);
                }
                _ => s.down.push_back(Bucket {
                    t_ms: b,
                    sum: old.v,
                    count: 1,
                    min: old.v,
                    max: old.v,
                }),
            }
            if s.down.len() > self.cfg.downsampled_capacity {
                s.down.pop_front();
            }
        }
        Ok(())
    }

    /// Number of series held.
    pub fn series_count(&self) -> usize {
        self.inner.read().series.len()
    }

    /// Samples of every series matching `matchers` in `(from, to]`: downsampled buckets (as
    /// their mean, at the bucket start) followed by raw samples.
    fn select(&self, matchers: &[Matcher], from: i64, to: i64) -> Vec<(Labels, Vec<Sample>)> {
        let inner = self.inner.read();
        inner
            .series
            .iter()
            .filter(|s| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.labels.get(&m.label).map(String::as_str)))
            })
            .filter_map(|s| {
                let first_raw = s.raw.front().map_or(i64::MAX, |x| x.t_ms);
                let mut out: Vec<Sample> = s
                    .down
                    .iter()
                    .filter(|b| b.t_ms > from && b.t_ms <= to && b.t_ms < first_raw)
                    .map(|b| Sample {
                        t_ms: b.t_ms,
                        v: b.sum / b.count as f64,
                    })
                    .collect();
                out.extend(
                    s.raw
                        .iter()
                        .filter(|x| x.t_ms > from && x.t_ms <= to)
                        .copied(),
                );
                (!out.is_empty()).then(|| (s.labels.clone(), out))
            })
            .collect()
    }

    fn eval(&self, e: &Expr, t: i64) -> Result<Value> {
        Ok(match e {
            Expr::Number(n) => Value::Scalar(*n),
            Expr::Selector(m) => {
                let lb = self.cfg.lookback.as_millis() as i64;
                Value::Vector(
                    self.select(m, t - lb, t)
                        .into_iter()
                        .filter_map(|(l, s)| s.last().map(|x| (l, x.v)))
                        .collect(),
                )
            }
            Expr::Range {
                func,
                matchers,
                range,
            } => {
                let r = range.as_millis() as i64;
                Value::Vector(
                    self.select(matchers, t - r, t)
                        .into_iter()
                        .filter_map(|(mut l, s)| {
                            l.remove("__name__");
                            range_fn(*func, &s, r).map(|v| (l, v))
                        })
                        .collect(),
                )
            }
            Expr::Aggregate {
                op,
                without,
                labels,
                expr,
            } => {
                let Value::Vector(v) = self.eval(expr, t)? else {
                    return Err(Error::invalid(
                        "query",
                        "aggregations need a vector operand",
                    ));
                };
                let mut groups: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
                for (l, x) in v {
                    let key: Labels = l
                        .into_iter()
                        .filter(|(k, _)| k != "__name__" && (labels.contains(k) != *without))
                        .collect();
                    groups.entry(key).or_default().push(x);
                }
                Value::Vector(
                    groups
                        .into_iter()
                        .map(|(l, xs)| (l, aggregate(*op, &xs)))
                        .collect(),
                )
            }
            Expr::Binary { op, lhs, rhs } => binary(*op, self.eval(lhs, t)?, self.eval(rhs, t)?),
        })
    }
}

enum Value {
    Scalar(f64),
    Vector(Vec<(Labels, f64)>),
}

fn range_fn(f: RangeFn, s: &[Sample], range_ms: i64) -> Option<f64> {
    let first = s.first()?;
    let last = s.last()?;
    let increase = || {
        s.windows(2)
            .map(|w| {
                if w[1].v >= w[0].v {
                    w[1].v - w[0].v
                } else {
                    w[1].v
                }
            })
            .sum::<f64>()
    };
    Some(match f {
        RangeFn::Increase => {
            if s.len() < 2 {
                return None;
            }
            increase()
        }
        RangeFn::Rate => {
            if s.len() < 2 {
                return None;
            }
            let secs =
                ((last.t_ms - first.t_ms).max(1) as f64 / 1000.0).min(range_ms as f64 / 1000.0);
            increase() / secs
        }
        RangeFn::AvgOverTime => s.iter().map(|x| x.v).sum::<f64>() / s.len() as f64,
        RangeFn::MaxOverTime => s.iter().map(|x| x.v).fold(f64::MIN, f64::max),
        RangeFn::MinOverTime => s.iter().map(|x| x.v).fold(f64::MAX, f64::min),
        RangeFn::SumOverTime => s.iter().map(|x| x.v).sum(),
        RangeFn::CountOverTime => s.len() as f64,
        RangeFn::LastOverTime => last.v,
    })
}

fn aggregate(op: AggOp, xs: &[f64]) -> f64 {
    match op {
        AggOp::Sum => xs.iter().sum(),
        AggOp::Avg => xs.iter().sum::<f64>() / xs.len() as f64,
        AggOp::Max => xs.iter().copied().fold(f64::MIN, f64::max),
        AggOp::Min => xs.iter().copied().fold(f64::MAX, f64::min),
        AggOp::Count => xs.len() as f64,
    }
}

fn apply(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
    }
}

fn strip_name(mut l: Labels) -> Labels {
    l.remove("__name__");
    l
}

fn binary(op: BinOp, l: Value, r: Value) -> Value {
    match (l, r) {
        (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(apply(op, a, b)),
        (Value::Vector(v), Value::Scalar(b)) => Value::Vector(
            v.into_iter()
                .map(|(l, a)| (strip_name(l), apply(op, a, b)))
                .collect(),
        ),
        (Value::Scalar(a), Value::Vector(v)) => Value::Vector(
            v.into_iter()
                .map(|(l, b)| (strip_name(l), apply(op, a, b)))
                .collect(),
        ),
        (Value::Vector(a), Value::Vector(b)) => {
            // One-to-one matching on all labels but the metric name, as PromQL does by default.
            let rhs: HashMap<Labels, f64> =
                b.into_iter().map(|(l, v)| (strip_name(l), v)).collect();
            Value::Vector(
                a.into_iter()
                    .filter_map(|(l, x)| {
                        let l = strip_name(l);
                        rhs.get(&l).map(|y| (l, apply(op, x, *y)))
                    })
                    .collect(),
            )
        }
    }
}

#[async_trait]
impl MetricsSource for EmbeddedMetrics {
    async fn instant(&self, query: &str, at: Timestamp) -> Result<Vec<(Labels, f64)>> {
        let e = promql::parse(query)?;
        Ok(match self.eval(&e, at.as_millisecond())? {
            Value::Scalar(v) => vec![(Labels::new(), v)],
            Value::Vector(v) => v,
        })
    }

    async fn range(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<Series>> {
        let e = promql::parse(query)?;
        let (s, t_end) = (start.as_millisecond(), end.as_millisecond());
        let step_ms = step.as_millis() as i64;
        if step_ms <= 0 {
            return Err(Error::invalid("step", "must be positive"));
        }
        if t_end < s {
            return Err(Error::invalid("range", "end is before start"));
        }
        if (t_end - s) / step_ms > 11_000 {
            return Err(Error::invalid(
                "range",
                "more than 11,000 points per series; raise the step",
            ));
        }
        let mut out: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        let mut t = s;
        while t <= t_end {
            let pts = match self.eval(&e, t)? {
                Value::Scalar(v) => vec![(Labels::new(), v)],
                Value::Vector(v) => v,
            };
            for (l, v) in pts {
                out.entry(l).or_default().push(Sample { t_ms: t, v });
            }
            t += step_ms;
        }
        Ok(out
            .into_iter()
            .map(|(labels, samples)| Series { labels, samples })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).unwrap()
    }

    #[tokio::test]
    async fn selectors_aggregations_and_arithmetic() {
        let m = EmbeddedMetrics::default();
        for (pod, ns, v) in [("a", "x", 1.0), ("b", "x", 3.0), ("c", "y", 5.0)] {
            m.write(&labels("cpu", &[("pod", pod), ("namespace", ns)]), 1_000, v)
                .unwrap();
            m.write(
                &labels("req", &[("pod", pod), ("namespace", ns)]),
                1_000,
                2.0,
            )
            .unwrap();
        }
        let v = m
            .instant("sum by (namespace) (cpu)", ts(2_000))
            .await
            .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].1, 4.0);
        assert_eq!(v[1].1, 5.0);
        let u = m.instant("cpu / req * 100", ts(2_000)).await.unwrap();
        assert_eq!(
            u.iter().map(|x| x.1).collect::<Vec<_>>(),
            [50.0, 150.0, 250.0]
        );
        let c = m
            .instant("count(cpu{namespace!=\"y\"})", ts(2_000))
            .await
            .unwrap();
        assert_eq!(c[0].1, 2.0);
        // Outside the 5 min lookback nothing is returned.
        assert!(
            m.instant("cpu", ts(1_000 + 301_000))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn counters_rate_and_resets() {
        let m = EmbeddedMetrics::default();
        let l = labels("requests_total", &[]);
        for (t, v) in [
            (0, 0.0),
            (10_000, 100.0),
            (20_000, 200.0),
            (30_000, 50.0),
            (40_000, 150.0),
        ] {
            m.write(&l, t, v).unwrap();
        }
        let inc = m
            .instant("increase(requests_total[1m])", ts(40_000))
            .await
            .unwrap();
        assert_eq!(inc[0].1, 350.0); // 100 + 100 + 50 (reset) + 100
        let rate = m
            .instant("rate(requests_total[1m])", ts(40_000))
            .await
            .unwrap();
        assert!((rate[0].1 - 350.0 / 40.0).abs() < 1e-9);
    }

    #[tokio::test]
    async fn memory_is_bounded_and_old_data_is_downsampled() {
        let cfg = TsdbConfig {
            raw_capacity: 10,
            downsample_step: Duration::from_secs(60),
            downsampled_capacity: 5,
            ..Default::default()
        };
        let m = EmbeddedMetrics::with_config(cfg).unwrap();
        let l = labels("x", &[]);
        for i in 0..1_000 {
            m.write(&l, i * 15_000, i as f64).unwrap();
        }
        {
            let inner = m.inner.read();
            assert_eq!(inner.series[0].raw.len(), 10);
            assert_eq!(inner.series[0].down.len(), 5);
        }
        // Downsampled buckets answer for older times (mean of the 4 samples of the minute).
        let series = m
            .range("x", ts(14_700_000), ts(14_760_000), Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(series.len(), 1);
    }

    #[tokio::test]
    async fn bad_writes_and_queries_change_nothing() {
        let m = EmbeddedMetrics::default();
        let l = labels("x", &[]);
        m.write(&l, 10, 1.0).unwrap();
        assert!(m.write(&l, 5, 1.0).is_err());
        assert!(m.write(&l, 20, f64::NAN).is_err());
        assert!(m.write(&labels("9bad", &[]), 20, 1.0).is_err());
        assert!(
            m.write(&labels("ok", &[("bad-label", "v")]), 20, 1.0)
                .is_err()
        );
        assert_eq!(m.series_count(), 1);
        assert_eq!(m.instant("x", ts(10)).await.unwrap()[0].1, 1.0);
        assert!(m.instant("rate(x)", ts(10)).await.is_err());
        assert!(
            m.range("x", ts(10), ts(0), Duration::from_secs(1))
                .await
                .is_err()
        );
        assert!(m.range("x", ts(0), ts(10), Duration::ZERO).await.is_err());
    }
}
