//! Composition: [`Combine`] merges two detectors, [`Refractory`] post-processes one.

use super::Detector;

/// How [`Combine`] merges two scores.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Max,
    Mean(f64),
}

/// Runs two detectors on the same stream and merges their scores.
///
/// Nest it to combine more (`Combine::max(a, Combine::max(b, c))`). A disabled component can
/// be an `Option<D>` set to `None`, which scores 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Combine<A, B> {
    /// The first detector.
    pub a: A,
    /// The second detector.
    pub b: B,
    mode: Mode,
}

impl<A: Detector, B: Detector> Combine<A, B> {
    /// Score = the larger of the two scores.
    pub fn max(a: A, b: B) -> Self {
        Combine {
            a,
            b,
            mode: Mode::Max,
        }
    }

    /// Score = `weight · a + (1 − weight) · b` (`weight` is clamped to `[0, 1]`).
    pub fn mean(a: A, b: B, weight: f64) -> Self {
        let w = if weight.is_nan() {
            0.5
        } else {
            weight.clamp(0.0, 1.0)
        };
        Combine {
            a,
            b,
            mode: Mode::Mean(w),
        }
    }
}

impl<A: Detector, B: Detector> Detector for Combine<A, B> {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        let (x, y) = (self.a.update(t_ms, value), self.b.update(t_ms, value));
        match self.mode {
            Mode::Max => x.max(y),
            Mode::Mean(w) => w * x + (1.0 - w) * y,
        }
    }
    fn reset(&mut self) {
        self.a.reset();
        self.b.reset();
    }
}

impl<D: Detector> Detector for Option<D> {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        self.as_mut().map_or(0.0, |d| d.update(t_ms, value))
    }
    fn reset(&mut self) {
        if let Some(d) = self {
            d.reset();
        }
    }
}

/// Lets a score spike once, then damps the following scores for a while.
///
/// After a score of at least `level`, the next `period` scores are multiplied by a factor
/// rising linearly from 0 back to 1. Alerting systems (and NAB) act on the first detection of
/// an event; repeats of the same event are noise.
#[derive(Debug, Clone, PartialEq)]
pub struct Refractory<D> {
    /// The wrapped detector.
    pub inner: D,
    level: f64,
    period: u32,
    since: u32,
}

impl<D: Detector> Refractory<D> {
    /// Wraps `inner`; `period` 0 disables the damping.
    pub fn new(inner: D, level: f64, period: u32) -> Self {
        Refractory {
            inner,
            level,
            period,
            since: u32::MAX,
        }
    }
}

impl<D: Detector> Detector for Refractory<D> {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        let s = self.inner.update(t_ms, value);
        let damp = if self.since < self.period {
            f64::from(self.since) / f64::from(self.period)
        } else {
            1.0
        };
        let out = s * damp;
        if out >= self.level {
            self.since = 0;
        } else {
            self.since = self.since.saturating_add(1);
        }
        out
    }
    fn reset(&mut self) {
        self.inner.reset();
        self.since = u32::MAX;
    }
}
