//! VPA-style right-sizing: per-container usage histories and request recommendations,
//! ported from the Vertical Pod Autoscaler recommender
//! (`vertical-pod-autoscaler/pkg/recommender/{model,logic}`).
//!
//! * cpu samples go into a decaying histogram (half-life 24 h) weighted by the container's
//!   cpu request (at least 0.1 core);
//! * memory keeps one peak per 24 h interval in a second decaying histogram; an OOM kill
//!   adds a peak of `max(1.2 × used, used + 100 MiB)`;
//! * the target is the 90th percentile plus a 15 % margin; the lower and upper bounds are the
//!   50th and 95th percentiles with the same margin, widened for short histories by the
//!   confidence multipliers `(1 + 0.001/c)^-2` and `(1 + 1/c)`, `c` being the history length
//!   in days (or in sample-days at one sample a minute, whichever is smaller);
//! * every value is at least the pod minimum (25 millicores, 250 MiB) split evenly across the
//!   pod's containers.
//!
//! ```
//! use hxb_core::Timestamp;
//! use hxb_scaling::rightsizing::{ContainerHistory, RecommenderConfig, recommend_pod};
//! # fn main() -> hxb_core::Result<()> {
//! let mut app = ContainerHistory::new(&RecommenderConfig::default())?;
//! for minute in 0..(3 * 24 * 60) {
//!     let at = Timestamp::from_second(minute * 60).unwrap();
//!     app.add_cpu_sample(0.2, 0.5, at)?; // 200 millicores used of a 500 m request
//!     app.add_memory_sample(300.0 * 1024.0 * 1024.0, at)?;
//! }
//! let rec = recommend_pod(&[("app", &app)], &RecommenderConfig::default())?;
//! assert!(rec[0].target.cpu_millicores >= 230); // p90 bucket end + 15 %
//! # Ok(()) }
//! ```

mod histogram;

use std::time::Duration;

use hxb_core::{Error, Quantity, ResourceList, Result, Timestamp};
use serde::{Deserialize, Serialize};

pub use histogram::{
    DecayingHistogram, EPSILON, Histogram, HistogramOptions, MAX_DECAY_EXPONENT, MIN_SAMPLE_WEIGHT,
};

/// `MaxResourceAmount` of the VPA model: amounts are capped here (1e14).
pub const MAX_RESOURCE_AMOUNT: i64 = 100_000_000_000_000;

/// Recommender settings, defaulting to the VPA recommender's flags.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecommenderConfig {
    /// `--recommendation-margin-fraction` (0.15).
    pub safety_margin_fraction: f64,
    /// `--target-cpu-percentile` / `--target-memory-percentile` (0.9).
    pub target_percentile: f64,
    /// `--recommendation-lower-bound-*-percentile` (0.5).
    pub lower_bound_percentile: f64,
    /// `--recommendation-upper-bound-*-percentile` (0.95).
    pub upper_bound_percentile: f64,
    /// `--pod-recommendation-min-cpu-millicores` (25).
    pub pod_min_cpu_millicores: f64,
    /// `--pod-recommendation-min-memory-mb` (250, in MiB).
    pub pod_min_memory_mb: f64,
    /// Half-life of both histograms (24 h).
    pub half_life: Duration,
    /// `--memory-aggregation-interval`: one memory peak per interval (24 h).
    pub memory_aggregation_interval: Duration,
    /// `--oom-bump-up-ratio` (1.2).
    pub oom_bump_up_ratio: f64,
    /// `--oom-min-bump-up-bytes` (100 MiB).
    pub oom_min_bump_up_bytes: f64,
    /// Histogram layout for cpu, in cores.
    pub cpu_histogram: HistogramOptions,
    /// Histogram layout for memory, in bytes.
    pub memory_histogram: HistogramOptions,
}

impl Default for RecommenderConfig {
    fn default() -> Self {
        RecommenderConfig {
            safety_margin_fraction: 0.15,
            target_percentile: 0.9,
            lower_bound_percentile: 0.5,
            upper_bound_percentile: 0.95,
            pod_min_cpu_millicores: 25.0,
            pod_min_memory_mb: 250.0,
            half_life: Duration::from_secs(24 * 3600),
            memory_aggregation_interval: Duration::from_secs(24 * 3600),
            oom_bump_up_ratio: 1.2,
            oom_min_bump_up_bytes: 100.0 * 1024.0 * 1024.0,
            cpu_histogram: HistogramOptions::vpa_cpu(),
            memory_histogram: HistogramOptions::vpa_memory(),
        }
    }
}

impl RecommenderConfig {
    fn validate(&self) -> Result<()> {
        let fields = [
            ("safety_margin_fraction", self.safety_margin_fraction),
            ("pod_min_cpu_millicores", self.pod_min_cpu_millicores),
            ("pod_min_memory_mb", self.pod_min_memory_mb),
            ("oom_min_bump_up_bytes", self.oom_min_bump_up_bytes),
        ];
        for (f, v) in fields {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::invalid(
                    f,
                    format!("must be finite and non-negative, got {v}"),
                ));
            }
        }
        for (f, p) in [
            ("target_percentile", self.target_percentile),
            ("lower_bound_percentile", self.lower_bound_percentile),
            ("upper_bound_percentile", self.upper_bound_percentile),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid(f, format!("must be within 0..=1, got {p}")));
            }
        }
        if !self.oom_bump_up_ratio.is_finite() || self.oom_bump_up_ratio < 1.0 {
            return Err(Error::invalid(
                "oom_bump_up_ratio",
                "must be finite and at least 1",
            ));
        }
        if self.memory_aggregation_interval.as_millis() == 0 {
            return Err(Error::invalid(
                "memory_aggregation_interval",
                "must be positive",
            ));
        }
        Ok(())
    }
}

/// The usage history of one container (VPA `AggregateContainerState` plus the per-container
/// memory peak window of `ContainerState`). Constant memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerHistory {
    cpu: DecayingHistogram,
    memory_peaks: DecayingHistogram,
    first_sample_ms: Option<i64>,
    last_sample_ms: Option<i64>,
    total_samples: u64,
    interval_ms: i64,
    window_end_ms: Option<i64>,
    last_memory_sample_ms: Option<i64>,
    memory_peak: f64,
    oom_peak: f64,
    oom_bump_up_ratio: f64,
    oom_min_bump_up_bytes: f64,
}

fn finite_non_negative(v: f64, field: &str) -> Result<()> {
    if !v.is_finite() || v < 0.0 {
        return Err(Error::invalid(
            field,
            format!("must be finite and non-negative, got {v}"),
        ));
    }
    Ok(())
}

impl ContainerHistory {
    /// An empty history using `config`'s histogram layouts, half-life and memory interval.
    pub fn new(config: &RecommenderConfig) -> Result<Self> {
        config.validate()?;
        Ok(ContainerHistory {
            cpu: DecayingHistogram::new(config.cpu_histogram, config.half_life)?,
            memory_peaks: DecayingHistogram::new(config.memory_histogram, config.half_life)?,
            first_sample_ms: None,
            last_sample_ms: None,
            total_samples: 0,
            interval_ms: i64::try_from(config.memory_aggregation_interval.as_millis())
                .unwrap_or(i64::MAX),
            window_end_ms: None,
            last_memory_sample_ms: None,
            memory_peak: 0.0,
            oom_peak: 0.0,
            oom_bump_up_ratio: config.oom_bump_up_ratio,
            oom_min_bump_up_bytes: config.oom_min_bump_up_bytes,
        })
    }

    /// Record cpu usage in cores, with the container's cpu request in cores at that time
    /// (`addCPUSample`: weight `max(request, 0.1)`).
    pub fn add_cpu_sample(
        &mut self,
        usage_cores: f64,
        request_cores: f64,
        at: Timestamp,
    ) -> Result<()> {
        finite_non_negative(usage_cores, "cpu usage")?;
        finite_non_negative(request_cores, "cpu request")?;
        self.cpu
            .add_sample(usage_cores, request_cores.max(MIN_SAMPLE_WEIGHT), at)?;
        let t = at.as_millisecond();
        self.last_sample_ms = Some(self.last_sample_ms.map_or(t, |l| l.max(t)));
        self.first_sample_ms = Some(self.first_sample_ms.map_or(t, |f| f.min(t)));
        self.total_samples += 1;
        Ok(())
    }

    /// Record memory usage (working set) in bytes. Returns `false` when the sample is older
    /// than the previous one and was ignored, as upstream does.
    pub fn add_memory_sample(&mut self, usage_bytes: f64, at: Timestamp) -> Result<bool> {
        finite_non_negative(usage_bytes, "memory usage")?;
        self.add_memory(usage_bytes, at.as_millisecond(), false)
    }

    /// Record an OOM kill of a container that requested `requested_bytes`
    /// (`RecordOOM`): adds a peak of `max(used + 100 MiB, 1.2 × used)` where `used` is the
    /// larger of the request and the current interval's peak. Errors when the event is older
    /// than the previous interval.
    pub fn record_oom(&mut self, requested_bytes: f64, at: Timestamp) -> Result<()> {
        finite_non_negative(requested_bytes, "memory request")?;
        let t = at.as_millisecond();
        if let Some(end) = self.window_end_ms
            && t < end.saturating_sub(self.interval_ms)
        {
            return Err(Error::invalid(
                "oom",
                "OOM event is too old and was discarded",
            ));
        }
        let used = requested_bytes.max(self.memory_peak);
        let needed = (used + self.oom_min_bump_up_bytes).max(used * self.oom_bump_up_ratio);
        self.add_memory(needed, t, true)?;
        Ok(())
    }

    fn add_memory(&mut self, usage: f64, t: i64, oom: bool) -> Result<bool> {
        if !oom && self.last_memory_sample_ms.is_some_and(|l| t < l) {
            return Ok(false);
        }
        self.last_memory_sample_ms = Some(t);
        let end = *self.window_end_ms.get_or_insert(t);
        let ts = |ms: i64| {
            Timestamp::from_millisecond(ms).map_err(|e| Error::invalid("timestamp", e.to_string()))
        };
        let mut add_peak = false;
        if t < end {
            // Same interval: replace the peak if this sample is higher.
            let old = self.memory_peak.max(self.oom_peak);
            if old != 0.0 && usage > old {
                self.memory_peaks.subtract_sample(old, 1.0, ts(end)?)?;
                add_peak = true;
            }
        } else {
            // Move to the interval that contains t.
            let shift = (t - end) / self.interval_ms * self.interval_ms + self.interval_ms;
            self.window_end_ms = Some(end.saturating_add(shift));
            self.memory_peak = 0.0;
            self.oom_peak = 0.0;
            add_peak = true;
        }
        if add_peak {
            let end = self.window_end_ms.unwrap_or(t);
            self.memory_peaks.add_sample(usage, 1.0, ts(end)?)?;
            if oom {
                self.oom_peak = usage;
            } else {
                self.memory_peak = usage;
            }
        }
        Ok(true)
    }

    /// Confidence in days (`getConfidence`): the smaller of the sampled time span and the
    /// sample count at one sample per minute.
    pub fn confidence(&self) -> f64 {
        let span = match (self.first_sample_ms, self.last_sample_ms) {
            (Some(f), Some(l)) => (l - f) as f64 / 86_400_000.0,
            _ => 0.0,
        };
        span.min(self.total_samples as f64 / (60.0 * 24.0))
    }

    /// Whether neither histogram holds any sample.
    pub fn is_empty(&self) -> bool {
        self.cpu.is_empty() && self.memory_peaks.is_empty()
    }

    /// The cpu histogram (cores).
    pub fn cpu_histogram(&self) -> &DecayingHistogram {
        &self.cpu
    }

    /// The memory peaks histogram (bytes).
    pub fn memory_histogram(&self) -> &DecayingHistogram {
        &self.memory_peaks
    }
}

/// Amounts of one recommendation: cpu in millicores, memory in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amounts {
    /// Cpu in millicores.
    pub cpu_millicores: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
}

impl Amounts {
    /// As a resource list (`cpu`, `memory`).
    pub fn to_resource_list(&self) -> ResourceList {
        ResourceList::from_quantities([
            ("cpu", Quantity::from_milli(self.cpu_millicores)),
            ("memory", Quantity::from_bytes(self.memory_bytes)),
        ])
        .expect("non-negative amounts")
    }
}

/// The recommendation for one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRecommendation {
    /// Container name.
    pub container: String,
    /// Recommended requests.
    pub target: Amounts,
    /// Below this the container is under-provisioned.
    pub lower_bound: Amounts,
    /// Above this the container is over-provisioned.
    pub upper_bound: Amounts,
}

/// `resourceAmountFromFloat`: truncate, clamp to `[0, MAX_RESOURCE_AMOUNT]`.
fn amount(v: f64) -> i64 {
    if v.is_nan() || v < 0.0 {
        0
    } else if v >= MAX_RESOURCE_AMOUNT as f64 {
        MAX_RESOURCE_AMOUNT
    } else {
        v as i64
    }
}

/// `ScaleResource`.
fn scale(a: i64, factor: f64) -> i64 {
    if a == 0 {
        return 0;
    }
    amount(a as f64 * factor)
}

/// Recommend requests for every container of a pod (`GetRecommendedPodResources`).
///
/// Errors with `InvalidInput` for an empty container list, duplicate names, an invalid
/// config, or a container whose history holds no sample.
pub fn recommend_pod(
    containers: &[(&str, &ContainerHistory)],
    config: &RecommenderConfig,
) -> Result<Vec<ContainerRecommendation>> {
    config.validate()?;
    if containers.is_empty() {
        return Err(Error::invalid(
            "containers",
            "at least one container is required",
        ));
    }
    let mut names: Vec<&str> = containers.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::invalid(
            "containers",
            "container names must be unique",
        ));
    }
    let fraction = 1.0 / containers.len() as f64;
    let min_cpu = scale(amount(config.pod_min_cpu_millicores), fraction);
    let min_mem = scale(amount(config.pod_min_memory_mb * 1024.0 * 1024.0), fraction);
    containers
        .iter()
        .map(|(name, h)| {
            if h.is_empty() {
                return Err(Error::invalid(
                    format!("containers[{name}]"),
                    "the usage history is empty",
                ));
            }
            let c = h.confidence();
            let estimate = |p: f64, confidence_factor: f64| {
                let cpu = amount(h.cpu.percentile(p) * 1000.0);
                let mem = amount(h.memory_peaks.percentile(p));
                let with_margin =
                    |a: i64| a.saturating_add(scale(a, config.safety_margin_fraction));
                Amounts {
                    cpu_millicores: scale(with_margin(cpu), confidence_factor).max(min_cpu),
                    memory_bytes: scale(with_margin(mem), confidence_factor).max(min_mem),
                }
            };
            Ok(ContainerRecommendation {
                container: (*name).to_owned(),
                target: estimate(config.target_percentile, 1.0),
                lower_bound: estimate(config.lower_bound_percentile, (1.0 + 0.001 / c).powf(-2.0)),
                upper_bound: estimate(config.upper_bound_percentile, 1.0 + 1.0 / c),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
