//! Two-sided CUSUM change detection on the standardised series.

use super::robust::Level;
use super::{Calibrator, Clock, Detector, Tick};

/// Page's two-sided CUSUM on `u = (x − level)/scale` (clipped), with slack `k`:
/// `g⁺ = max(0, g⁺ + u − k)`, `g⁻ = max(0, g⁻ − u − k)`; raw surprise `max(g⁺, g⁻)`.
///
/// Catches small persistent shifts that no single point reveals. The level adapts slowly, so a
/// new regime is eventually accepted and the sums fall back to 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Cusum {
    level: Level,
    slack: f64,
    pos: f64,
    neg: f64,
    clock: Clock,
    cal: Calibrator,
}

impl Cusum {
    /// A CUSUM with slack `slack` (in scales) over a level tracked at rate `alpha`.
    pub fn new(slack: f64, alpha: f64, cal: Calibrator) -> Self {
        Cusum {
            level: Level::new(alpha, alpha, 3.0),
            slack,
            pos: 0.0,
            neg: 0.0,
            clock: Clock::default(),
            cal,
        }
    }
}

impl Default for Cusum {
    /// Slack 1 scale, level rate 0.005.
    fn default() -> Self {
        Cusum::new(1.0, 0.005, Calibrator::default())
    }
}

impl Detector for Cusum {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() || self.clock.tick(t_ms) == Tick::Stale {
            return 0.0;
        }
        let u = self.level.signed_z(value);
        self.level.learn(value);
        self.pos = (self.pos + u - self.slack).max(0.0);
        self.neg = (self.neg - u - self.slack).max(0.0);
        self.cal.score(self.pos.max(self.neg))
    }

    fn reset(&mut self) {
        self.level.reset();
        self.pos = 0.0;
        self.neg = 0.0;
        self.clock = Clock::default();
        self.cal.reset();
    }
}
