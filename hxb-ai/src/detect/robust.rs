//! Robust level and scale tracking, and the [`RobustZ`] detector built on it.

use super::{Calibrator, Clock, Detector, Tick};

/// Huber-clipped exponentially weighted level and absolute-deviation scale.
///
/// An observation further than `clip` scales from the level moves the estimates as if it were
/// only `clip` scales away, so isolated spikes barely move them while a lasting shift is
/// absorbed geometrically (the scale grows by a factor `1 + alpha_scale·(clip − 1)` per step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Level {
    alpha_level: f64,
    alpha_scale: f64,
    clip: f64,
    n: u32,
    pub(crate) mean: f64,
    pub(crate) scale: f64,
}

impl Level {
    pub(crate) fn new(alpha_level: f64, alpha_scale: f64, clip: f64) -> Self {
        Level {
            alpha_level,
            alpha_scale,
            clip,
            n: 0,
            mean: 0.0,
            scale: 0.0,
        }
    }

    /// Absolute standardised deviation of `x` from the current level (0 when `x` equals it).
    #[inline]
    pub(crate) fn z(&self, x: f64) -> f64 {
        let dev = (x - self.mean).abs();
        let tiny = 1e-9 * (1.0 + self.mean.abs());
        if dev <= tiny {
            0.0
        } else {
            (dev / self.scale.max(tiny)).min(1e6)
        }
    }

    /// Signed standardised deviation, clipped to `±clip`.
    #[inline]
    pub(crate) fn signed_z(&self, x: f64) -> f64 {
        let d = x - self.mean;
        let tiny = 1e-9 * (1.0 + self.mean.abs());
        if d.abs() <= tiny {
            0.0
        } else {
            (d / self.scale.max(tiny)).clamp(-self.clip, self.clip)
        }
    }

    /// Observations learnt so far (saturating).
    #[inline]
    pub(crate) fn count(&self) -> u32 {
        self.n
    }

    #[inline]
    pub(crate) fn learn(&mut self, x: f64) {
        self.n = self.n.saturating_add(1);
        if self.n == 1 {
            self.mean = x;
            return;
        }
        let d = x - self.mean;
        if !d.is_finite() {
            // Only values near the ends of the f64 range get here: ignore, keep the estimates.
            return;
        }
        // Warm start: plain averages for the first points, then the configured rates.
        let k = 1.0 / f64::from(self.n);
        let (al, as_) = (self.alpha_level.max(k), self.alpha_scale.max(k));
        let lim = if self.scale > 0.0 {
            self.clip * self.scale
        } else {
            d.abs()
        };
        let dc = d.clamp(-lim, lim);
        self.mean += al * dc;
        self.scale += as_ * (dc.abs() - self.scale);
    }

    pub(crate) fn reset(&mut self) {
        *self = Level::new(self.alpha_level, self.alpha_scale, self.clip);
    }
}

/// What [`RobustZ`] looks at.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The values themselves (level shifts, spikes).
    Value,
    /// First differences (sudden jumps, changes of slope or noise).
    Diff,
}

/// Robust z-score of each value (or difference) against a Huber-EWMA level and scale.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustZ {
    target: Target,
    level: Level,
    clock: Clock,
    prev: Option<f64>,
    cal: Calibrator,
}

impl RobustZ {
    /// A detector on `target` with level/scale smoothing rates `alpha_level`/`alpha_scale`.
    pub fn new(target: Target, alpha_level: f64, alpha_scale: f64, cal: Calibrator) -> Self {
        RobustZ {
            target,
            level: Level::new(alpha_level, alpha_scale, 3.0),
            clock: Clock::default(),
            prev: None,
            cal,
        }
    }

    /// Defaults: values, level rate 0.02, scale rate 0.01.
    pub fn values() -> Self {
        RobustZ::new(Target::Value, 0.02, 0.01, Calibrator::default())
    }

    /// Defaults: differences, level rate 0.02, scale rate 0.01.
    pub fn diffs() -> Self {
        RobustZ::new(Target::Diff, 0.02, 0.01, Calibrator::default())
    }
}

impl Detector for RobustZ {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        let tick = self.clock.tick(t_ms);
        if tick == Tick::Stale {
            return 0.0;
        }
        let x = match self.target {
            Target::Value => value,
            Target::Diff => {
                let prev = self.prev.replace(value);
                match prev {
                    Some(p) if tick == Tick::Next => value - p,
                    _ => return 0.0,
                }
            }
        };
        let z = self.level.z(x);
        self.level.learn(x);
        self.cal.score(z)
    }

    fn reset(&mut self) {
        self.level.reset();
        self.clock = Clock::default();
        self.prev = None;
        self.cal.reset();
    }
}
