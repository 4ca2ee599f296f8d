//! Time-of-day baseline: the [`Seasonal`] detector.

use super::robust::Level;
use super::{Calibrator, Clock, Detector, Tick};

const DAY_MS: i64 = 86_400_000;
/// Residuals needed before the residual scale is trusted.
const SETTLE: u32 = 16;

/// Deviation of each value from what is usual at this time of day.
///
/// The day is cut into `slots` equal slots (96 = quarter hours by default). Each slot keeps an
/// exponentially weighted mean of the values seen in it (rate `max(rate, 1/n)`, so the first
/// days are plain averages and later days weigh `rate`). The residual `x − slot mean` is
/// standardised by a robust (Huber-EWMA) level and scale of all residuals, floored at 1 % of the
/// series' own spread so a perfectly periodic series does not divide by zero. Raw surprise:
/// the absolute standardised residual.
///
/// This explains daily cycles that a plain level detector takes for anomalies, and catches
/// what is unusual only for the hour (a missing daily peak, a flat spell in the middle of the
/// day, a peak higher than on other days). On a series without a daily cycle each slot mean is
/// a smoothed value of the same time on previous days, a slow reference that still flags
/// level shifts. Memory: `slots · 16` bytes, fixed at construction.
#[derive(Debug, Clone, PartialEq)]
pub struct Seasonal {
    slots: Vec<(f64, u32)>,
    rate: f64,
    residual: Level,
    spread: Level,
    clock: Clock,
    cal: Calibrator,
}

impl Seasonal {
    /// A detector with `slots` slots per day (clamped to 1..=1440) and slot-mean rate `rate`.
    pub fn new(slots: usize, rate: f64, cal: Calibrator) -> Self {
        let slots = slots.clamp(1, 1440);
        Seasonal {
            slots: vec![(0.0, 0); slots],
            rate: if rate.is_finite() {
                rate.clamp(0.0, 1.0)
            } else {
                0.2
            },
            residual: Level::new(0.01, 0.01, 3.0),
            spread: Level::new(0.01, 0.01, 3.0),
            clock: Clock::default(),
            cal,
        }
    }

    /// Bytes of heap state; fixed at construction.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(f64, u32)>()
    }

    #[inline]
    fn slot(&self, t_ms: i64) -> usize {
        let n = self.slots.len() as i64;
        // t mod day < 8.64e7 and n ≤ 1440: the product fits easily in i64.
        (t_ms.rem_euclid(DAY_MS) * n / DAY_MS) as usize
    }
}

impl Default for Seasonal {
    /// 96 slots (quarter hours), slot rate 0.2.
    fn default() -> Self {
        Seasonal::new(96, 0.2, Calibrator::default())
    }
}

impl Detector for Seasonal {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() || self.clock.tick(t_ms) == Tick::Stale {
            return 0.0;
        }
        let k = self.slot(t_ms);
        let (mean, n) = self.slots[k];
        let r = value - mean;
        if !r.is_finite() {
            // Values near the ends of the f64 range: the residual overflows; skip the point.
            return 0.0;
        }
        let mut raw = 0.0;
        if n > 0 {
            if self.residual_settled() {
                let mut scaled = self.residual;
                scaled.scale = scaled.scale.max(0.01 * self.spread.scale);
                raw = scaled.z(r).min(1e3);
            }
            self.residual.learn(r);
        }
        self.spread.learn(value);
        let a = self.rate.max(1.0 / (f64::from(n) + 1.0));
        self.slots[k] = (mean + a * (value - mean), n.saturating_add(1));
        self.cal.score(raw)
    }

    fn reset(&mut self) {
        self.slots.fill((0.0, 0));
        self.residual.reset();
        self.spread.reset();
        self.clock = Clock::default();
        self.cal.reset();
    }
}

impl Seasonal {
    #[inline]
    fn residual_settled(&self) -> bool {
        self.residual.count() >= SETTLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: i64 = 300_000;

    /// A square daily wave: high from 09:00 to 18:00, low otherwise, small deterministic noise.
    fn daily(i: i64) -> f64 {
        let minute = (i * 5) % 1440;
        let base = if (540..1080).contains(&minute) {
            80.0
        } else {
            20.0
        };
        base + ((i * 7919) % 13) as f64 / 13.0
    }

    #[test]
    fn daily_cycle_is_learnt_and_a_missing_peak_is_flagged() {
        let mut d = Seasonal::default();
        let mut normal_max: f64 = 0.0;
        let mut missing_max: f64 = 0.0;
        for i in 0..288 * 12 {
            let day = i / 288;
            // Day 10 lacks its daytime peak.
            let v = if day == 10 {
                20.0 + ((i * 7919) % 13) as f64 / 13.0
            } else {
                daily(i)
            };
            let s = d.update(i * STEP, v);
            if (3..10).contains(&day) {
                normal_max = normal_max.max(s);
            } else if day == 10 {
                missing_max = missing_max.max(s);
            }
        }
        assert!(normal_max < 0.5, "normal days {normal_max}");
        assert!(missing_max > 0.5, "missing peak {missing_max}");
    }

    #[test]
    fn slots_follow_time_of_day_and_memory_is_fixed() {
        let d = Seasonal::new(96, 0.2, Calibrator::default());
        assert_eq!(d.slot(0), 0);
        assert_eq!(d.slot(15 * 60_000 - 1), 0);
        assert_eq!(d.slot(15 * 60_000), 1);
        assert_eq!(d.slot(DAY_MS - 1), 95);
        assert_eq!(d.slot(-1), 95);
        assert_eq!(d.heap_bytes(), 96 * 16);
        let mut e = Seasonal::new(0, f64::NAN, Calibrator::default());
        for i in 0..500 {
            assert!((0.0..=1.0).contains(&e.update(i * STEP, daily(i))));
        }
        assert_eq!(e.heap_bytes(), 16);
    }

    #[test]
    fn reset_forgets() {
        let mut d = Seasonal::default();
        for i in 0..1000 {
            d.update(i * STEP, daily(i));
        }
        d.reset();
        assert_eq!(d, Seasonal::default());
    }
}
