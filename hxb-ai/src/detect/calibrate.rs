//! Turning a raw, unbounded surprise into a comparable score in `[0, 1]`.

/// Maps raw surprise `r ≥ 0` to `r / (r + ref)`, where `ref` is the largest raw value seen
/// before, decaying with a half-life of `half_life` points.
///
/// A raw value equal to the previous record scores 0.5, a new record scores more, anything
/// ordinary scores less: scores are relative to the series' own history, so one threshold
/// serves series of any scale. Repeats of an anomaly score below 0.5 (the reference has
/// already risen), which keeps alerts short. The first `warmup` points score 0 while the
/// reference is learnt; the first `settle` are ignored entirely (estimators still converging).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibrator {
    decay: f64,
    warmup: u32,
    settle: u32,
    seen: u32,
    reference: f64,
}

impl Calibrator {
    /// A calibrator with the given half-life (points) and warm-up length (points).
    pub fn new(half_life: f64, warmup: u32) -> Self {
        let decay = if half_life > 0.0 { 0.5f64.powf(1.0 / half_life) } else { 0.0 };
        Calibrator { decay, warmup, settle: warmup.min(16), seen: 0, reference: 0.0 }
    }

    /// Scores one raw value (negative and NaN raw values count as 0).
    #[inline]
    pub fn score(&mut self, raw: f64) -> f64 {
        let r = if raw > 0.0 { raw.min(1e12) } else { 0.0 };
        self.seen = self.seen.saturating_add(1);
        if self.seen <= self.settle {
            return 0.0;
        }
        let s = if r == 0.0 { 0.0 } else { r / (r + self.reference) };
        self.reference = (self.reference * self.decay).max(r);
        if self.seen <= self.warmup { 0.0 } else { s }
    }

    /// The current reference (decayed record of raw values).
    pub fn reference(&self) -> f64 {
        self.reference
    }

    /// Forgets the history.
    pub fn reset(&mut self) {
        self.seen = 0;
        self.reference = 0.0;
    }
}
