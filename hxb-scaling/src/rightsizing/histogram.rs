//! Exponential-bucket histograms with exponential decay, ported from the VPA recommender
//! (`vertical-pod-autoscaler/pkg/recommender/util/{histogram,histogram_options,decaying_histogram}.go`).
//!
//! A histogram holds a fixed number of buckets chosen at construction (176 for the VPA cpu
//! and memory options), so memory use is constant however many samples are added.

use std::time::Duration;

use hxb_core::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};

/// When the decay factor would exceed `2^MAX_DECAY_EXPONENT`, weights are renormalized.
pub const MAX_DECAY_EXPONENT: i64 = 100;

/// VPA `minSampleWeight`: the least weight a cpu sample gets.
pub const MIN_SAMPLE_WEIGHT: f64 = 0.1;
/// VPA `epsilon`: buckets lighter than this count as empty.
pub const EPSILON: f64 = 0.001 * MIN_SAMPLE_WEIGHT;

/// Exponential bucketing: bucket `n ≥ 1` starts at `first × (ratio^n − 1) / (ratio − 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistogramOptions {
    num_buckets: usize,
    first_bucket_size: f64,
    ratio: f64,
    epsilon: f64,
}

impl HistogramOptions {
    /// Buckets covering `[0, max_value]`; requires `max_value > 0`, `first_bucket_size > 0`,
    /// `ratio > 1`, `epsilon > 0` (`NewExponentialHistogramOptions`).
    pub fn exponential(
        max_value: f64,
        first_bucket_size: f64,
        ratio: f64,
        epsilon: f64,
    ) -> Result<Self> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if !ok(max_value)
            || !ok(first_bucket_size)
            || !ok(epsilon)
            || !ratio.is_finite()
            || ratio <= 1.0
        {
            return Err(Error::invalid(
                "histogram options",
                "maxValue, firstBucketSize and epsilon must be > 0, ratio must be > 1",
            ));
        }
        let n =
            ((max_value * (ratio - 1.0) / first_bucket_size + 1.0).ln() / ratio.ln()).ceil() + 1.0;
        if n > 100_000.0 {
            return Err(Error::invalid(
                "histogram options",
                format!("{n} buckets is too many"),
            ));
        }
        Ok(HistogramOptions {
            num_buckets: n as usize,
            first_bucket_size,
            ratio,
            epsilon,
        })
    }

    /// The VPA cpu options: up to 1000 cores, first bucket 0.01 core, 5 % growth.
    pub fn vpa_cpu() -> Self {
        Self::exponential(1000.0, 0.01, 1.05, EPSILON).expect("valid constants")
    }

    /// The VPA memory options: up to 1 TB, first bucket 10 MB (1e7 bytes), 5 % growth.
    pub fn vpa_memory() -> Self {
        Self::exponential(1e12, 1e7, 1.05, EPSILON).expect("valid constants")
    }

    /// Number of buckets.
    pub fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    /// The bucket a value falls into (the first or last one when outside the range).
    pub fn find_bucket(&self, value: f64) -> usize {
        if value < self.first_bucket_size {
            return 0;
        }
        let b = ((value * (self.ratio - 1.0) / self.first_bucket_size + 1.0).ln() / self.ratio.ln())
            as usize;
        b.min(self.num_buckets - 1)
    }

    /// Where bucket `b` starts.
    pub fn bucket_start(&self, b: usize) -> f64 {
        if b == 0 {
            return 0.0;
        }
        self.first_bucket_size * (self.ratio.powi(b as i32) - 1.0) / (self.ratio - 1.0)
    }
}

/// A weighted histogram (`histogram`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    options: HistogramOptions,
    weights: Vec<f64>,
    total: f64,
    min_bucket: usize,
    max_bucket: usize,
}

impl Histogram {
    /// An empty histogram.
    pub fn new(options: HistogramOptions) -> Self {
        Histogram {
            options,
            weights: vec![0.0; options.num_buckets],
            total: 0.0,
            min_bucket: options.num_buckets - 1,
            max_bucket: 0,
        }
    }

    fn add(&mut self, value: f64, weight: f64) {
        let b = self.options.find_bucket(value);
        self.weights[b] += weight;
        self.total += weight;
        if b < self.min_bucket && self.weights[b] >= self.options.epsilon {
            self.min_bucket = b;
        }
        if b > self.max_bucket && self.weights[b] >= self.options.epsilon {
            self.max_bucket = b;
        }
    }

    fn subtract(&mut self, value: f64, weight: f64) {
        let b = self.options.find_bucket(value);
        let w = if weight > self.weights[b] - self.options.epsilon {
            self.weights[b]
        } else {
            weight
        };
        self.total -= w;
        self.weights[b] -= w;
        self.update_min_max();
    }

    fn scale(&mut self, factor: f64) {
        for w in &mut self.weights[self.min_bucket.min(self.max_bucket)..=self.max_bucket] {
            *w *= factor;
        }
        self.total *= factor;
        self.update_min_max();
    }

    fn update_min_max(&mut self) {
        let last = self.options.num_buckets - 1;
        while self.weights[self.min_bucket] < self.options.epsilon && self.min_bucket < last {
            self.min_bucket += 1;
        }
        while self.weights[self.max_bucket] < self.options.epsilon && self.max_bucket > 0 {
            self.max_bucket -= 1;
        }
    }

    /// Whether no bucket holds at least epsilon weight.
    pub fn is_empty(&self) -> bool {
        self.weights[self.min_bucket] < self.options.epsilon
    }

    /// Total weight.
    pub fn total_weight(&self) -> f64 {
        self.total
    }

    /// The end of the bucket holding percentile `p` (0..=1); 0 when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let threshold = p * self.total;
        let mut partial = 0.0;
        let mut b = self.min_bucket;
        while b < self.max_bucket {
            partial += self.weights[b];
            if partial >= threshold {
                break;
            }
            b += 1;
        }
        if b < self.options.num_buckets - 1 {
            self.options.bucket_start(b + 1)
        } else {
            self.options.bucket_start(b)
        }
    }
}

/// A histogram whose samples lose half their weight every `half_life` (`decayingHistogram`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecayingHistogram {
    histogram: Histogram,
    half_life_ms: i64,
    /// Reference time in Unix milliseconds, always a multiple of the half-life;
    /// `None` until the first sample.
    reference_ms: Option<i64>,
}

impl DecayingHistogram {
    /// An empty decaying histogram. The half-life must be at least one millisecond.
    pub fn new(options: HistogramOptions, half_life: Duration) -> Result<Self> {
        let half_life_ms = i64::try_from(half_life.as_millis()).unwrap_or(i64::MAX);
        if half_life_ms < 1 {
            return Err(Error::invalid("half_life", "must be at least 1 ms"));
        }
        Ok(DecayingHistogram {
            histogram: Histogram::new(options),
            half_life_ms,
            reference_ms: None,
        })
    }

    /// Add `value` with `weight` observed at `at`.
    pub fn add_sample(&mut self, value: f64, weight: f64, at: Timestamp) -> Result<()> {
        check(value, weight)?;
        let f = self.decay_factor(at.as_millisecond());
        self.histogram.add(value, weight * f);
        Ok(())
    }

    /// Remove a sample previously added (weights never go below zero).
    pub fn subtract_sample(&mut self, value: f64, weight: f64, at: Timestamp) -> Result<()> {
        check(value, weight)?;
        let f = self.decay_factor(at.as_millisecond());
        self.histogram.subtract(value, weight * f);
        Ok(())
    }

    /// See [`Histogram::percentile`].
    pub fn percentile(&self, p: f64) -> f64 {
        self.histogram.percentile(p)
    }

    /// Whether the histogram holds no weight.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// The underlying histogram.
    pub fn histogram(&self) -> &Histogram {
        &self.histogram
    }

    fn shift_reference(&mut self, t: i64) {
        let h = self.half_life_ms;
        // Round to a multiple of the half-life (Go `Time.Round`, halves away from zero).
        let new_ref = (t + h / 2).div_euclid(h) * h;
        if let Some(old) = self.reference_ms {
            let exponent = ((old - new_ref) as f64 / h as f64 + 0.5).floor();
            self.histogram.scale(2f64.powf(exponent));
        }
        self.reference_ms = Some(new_ref);
    }

    fn decay_factor(&mut self, t: i64) -> f64 {
        match self.reference_ms {
            None => self.shift_reference(t),
            Some(r)
                if t > r.saturating_add(self.half_life_ms.saturating_mul(MAX_DECAY_EXPONENT)) =>
            {
                self.shift_reference(t)
            }
            Some(_) => {}
        }
        let r = self.reference_ms.unwrap_or(t);
        2f64.powf((t - r) as f64 / self.half_life_ms as f64)
    }
}

fn check(value: f64, weight: f64) -> Result<()> {
    if !value.is_finite() || value < 0.0 {
        return Err(Error::invalid(
            "sample.value",
            format!("must be finite and non-negative, got {value}"),
        ));
    }
    if !weight.is_finite() || weight < 0.0 {
        return Err(Error::invalid(
            "sample.weight",
            format!("must be finite and non-negative, got {weight}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn bucket_layout_matches_vpa() {
        // histogram_options.go: numBuckets = ceil(log_ratio(max*(ratio-1)/first + 1)) + 1.
        let o = HistogramOptions::vpa_cpu();
        assert_eq!(o.num_buckets(), 176);
        assert_eq!(o.find_bucket(0.0), 0);
        assert_eq!(o.find_bucket(0.0099), 0);
        assert_eq!(o.find_bucket(0.01), 1);
        assert!((o.bucket_start(1) - 0.01).abs() < 1e-12);
        assert!((o.bucket_start(2) - 0.0205).abs() < 1e-12);
        assert_eq!(o.find_bucket(1e9), 175);
        for b in 1..o.num_buckets() {
            // Each bucket start maps back to its own bucket (allowing float error at the edge).
            let s = o.bucket_start(b) * (1.0 + 1e-9);
            assert_eq!(o.find_bucket(s), b);
        }
        assert_eq!(HistogramOptions::vpa_memory().num_buckets(), 176);
        assert!(HistogramOptions::exponential(1.0, 0.1, 1.0, 0.1).is_err());
    }

    #[test]
    fn percentile_returns_bucket_end() {
        // histogram_test.go TestPercentiles-style: equal weights on 1, 2, 3 → p50 lands in
        // the bucket of 2 and returns that bucket's end.
        let o = HistogramOptions::exponential(10.0, 1.0, 2.0, 1e-4).unwrap();
        let mut h = DecayingHistogram::new(o, Duration::from_secs(3600)).unwrap();
        for v in [1.0, 2.0, 3.0] {
            h.add_sample(v, 1.0, at(0)).unwrap();
        }
        // Buckets: [0,1) [1,3) [3,7) [7,15): p ≤ 2/3 → end of [1,3) = 3; p = 1 → 7.
        assert_eq!(h.percentile(0.5), 3.0);
        assert_eq!(h.percentile(1.0), 7.0);
        assert_eq!(h.percentile(0.0), 3.0);
    }

    #[test]
    fn older_samples_weigh_half_per_half_life() {
        // decaying_histogram_test.go: a sample one half-life newer weighs twice as much.
        let o = HistogramOptions::exponential(10.0, 1.0, 2.0, 1e-4).unwrap();
        let mut h = DecayingHistogram::new(o, Duration::from_secs(3600)).unwrap();
        h.add_sample(1.0, 1.0, at(0)).unwrap(); // bucket [1,3)
        h.add_sample(5.0, 1.0, at(3600)).unwrap(); // bucket [3,7), weight 2
        assert_eq!(h.percentile(0.33), 3.0);
        assert_eq!(h.percentile(0.34), 7.0);
        assert!((h.histogram().total_weight() - 3.0).abs() < 1e-9);
    }

    #[test]
    fn reference_shift_keeps_percentiles_and_bounds_weights() {
        let o = HistogramOptions::vpa_cpu();
        let mut h = DecayingHistogram::new(o, Duration::from_secs(3600)).unwrap();
        for i in 0..400 {
            h.add_sample(if i % 2 == 0 { 0.1 } else { 1.0 }, 1.0, at(i * 3600))
                .unwrap();
        }
        assert!(h.histogram().total_weight().is_finite());
        assert!(h.histogram().total_weight() < 2f64.powi(102));
        assert!(!h.is_empty());
        // The newest samples dominate equally: the median sits at one of the two values.
        let p = h.percentile(0.5);
        assert!(p > 0.1 && p < 1.1, "{p}");
    }

    #[test]
    fn bad_samples_are_refused_and_change_nothing() {
        let mut h =
            DecayingHistogram::new(HistogramOptions::vpa_cpu(), Duration::from_secs(60)).unwrap();
        let before = h.clone();
        for (v, w) in [
            (f64::NAN, 1.0),
            (-1.0, 1.0),
            (f64::INFINITY, 1.0),
            (1.0, -1.0),
            (1.0, f64::NAN),
        ] {
            assert!(h.add_sample(v, w, at(0)).is_err());
        }
        assert_eq!(h, before);
        assert!(h.is_empty());
        assert_eq!(h.percentile(0.9), 0.0);
        assert!(DecayingHistogram::new(HistogramOptions::vpa_cpu(), Duration::ZERO).is_err());
    }

    #[test]
    fn subtract_removes_weight() {
        let mut h =
            DecayingHistogram::new(HistogramOptions::vpa_cpu(), Duration::from_secs(60)).unwrap();
        h.add_sample(0.5, 1.0, at(0)).unwrap();
        h.subtract_sample(0.5, 1.0, at(0)).unwrap();
        assert!(h.is_empty());
    }
}
