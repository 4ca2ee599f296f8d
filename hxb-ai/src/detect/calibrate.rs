//! Turning a raw, unbounded surprise into a comparable score in `[0, 1]`.

/// How raw surprise becomes a score.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// `r / (r + ref)`, `ref` the decaying record of raw values.
    Record { decay: f64 },
    /// Gaussian tail of a short average of raw values against their long-run mean and spread.
    Likelihood { long: f64, short: f64 },
}

/// Calibrates raw surprise `r ≥ 0` into a score in `[0, 1]` relative to the series' own history,
/// so one threshold serves series of any scale and components can be combined.
///
/// Two modes:
/// * [`Calibrator::likelihood`] (the default): a short exponential average `r̄` of the raw values
///   is compared with their long-run mean `μ` and standard deviation `σ` (as in Numenta's
///   anomaly likelihood): `q = (r̄ − μ)/σ`, tail `p = P(N(0,1) > q)`, score
///   `min(1, −log10(p)/10)` (0.5 at a one-in-10⁵ event, 1 at one in 10¹⁰).
/// * [`Calibrator::record`]: `r / (r + ref)`, where `ref` is the largest raw value seen before,
///   decaying with a half-life: a new record scores above 0.5.
///
/// The first `warmup` points score 0 while the history is learnt; the first
/// `min(warmup, 16)` are ignored entirely (the raw estimators are still converging).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibrator {
    mode: Mode,
    warmup: u32,
    settle: u32,
    seen: u32,
    ceiling: f64,
    a: f64,
    b: f64,
    c: f64,
}

impl Calibrator {
    /// Record mode with the given half-life (points) and warm-up length (points).
    pub fn record(half_life: f64, warmup: u32) -> Self {
        let decay = if half_life > 0.0 {
            0.5f64.powf(1.0 / half_life)
        } else {
            0.0
        };
        Self::with_mode(Mode::Record { decay }, warmup)
    }

    /// Likelihood mode: long-run statistics over about `long` points, short average over about
    /// `short` points, `warmup` points of warm-up.
    pub fn likelihood(long: f64, short: f64, warmup: u32) -> Self {
        Self::with_mode(
            Mode::Likelihood {
                long: 1.0 / long.max(1.0),
                short: 1.0 / short.max(1.0),
            },
            warmup,
        )
    }

    fn with_mode(mode: Mode, warmup: u32) -> Self {
        Calibrator {
            mode,
            warmup,
            settle: warmup.min(16),
            seen: 0,
            ceiling: 1.0,
            a: 0.0,
            b: 0.0,
            c: 0.0,
        }
    }

    /// Likelihood scores are capped at `ceiling` (clamped to `[1, 10]`) instead of 1, so a
    /// one-in-10^(10·ceiling) event still outranks a one-in-10¹⁰ one. Scores above 1 are
    /// evidence for a combination that clamps its result to `[0, 1]` (as [`Composite`] does);
    /// a calibrator used on its own keeps the default ceiling 1.
    ///
    /// [`Composite`]: super::Composite
    pub fn ceiling(mut self, ceiling: f64) -> Self {
        self.ceiling = if ceiling.is_nan() {
            1.0
        } else {
            ceiling.clamp(1.0, 10.0)
        };
        self
    }

    /// Scores one raw value (negative and NaN raw values count as 0).
    #[inline]
    pub fn score(&mut self, raw: f64) -> f64 {
        let r = if raw > 0.0 { raw.min(1e12) } else { 0.0 };
        self.seen = self.seen.saturating_add(1);
        if self.seen <= self.settle {
            return 0.0;
        }
        let s = match self.mode {
            Mode::Record { decay } => {
                // a: reference
                let s = if r == 0.0 { 0.0 } else { r / (r + self.a) };
                self.a = (self.a * decay).max(r);
                s
            }
            Mode::Likelihood { long, short } => {
                // a: mean, b: variance, c: short average
                let n = f64::from(self.seen - self.settle);
                self.c += short.max(1.0 / n) * (r - self.c);
                let sd = self.b.sqrt();
                let s = if self.c <= self.a || n < 2.0 {
                    0.0
                } else if sd <= 1e-12 * (1.0 + self.a.abs()) {
                    self.ceiling
                } else {
                    let q = (self.c - self.a) / sd;
                    (log10_normal_tail(q) / 10.0).min(self.ceiling)
                };
                let k = long.max(1.0 / n);
                let d = self.c - self.a;
                self.a += k * d;
                self.b = (1.0 - k) * (self.b + k * d * d);
                s
            }
        };
        if self.seen <= self.warmup { 0.0 } else { s }
    }

    /// Forgets the history.
    pub fn reset(&mut self) {
        *self = Self::with_mode(self.mode, self.warmup).ceiling(self.ceiling);
    }
}

impl Default for Calibrator {
    /// Likelihood mode: long run 1000 points, short average 8 points, warm-up 150 points.
    fn default() -> Self {
        Calibrator::likelihood(1000.0, 8.0, 150)
    }
}

/// `−log10 P(N(0,1) > q)` for `q ≥ 0`, accurate to a few percent (enough for a score).
fn log10_normal_tail(q: f64) -> f64 {
    if q < 5.0 {
        // Abramowitz & Stegun 7.1.26 for erfc(q/√2).
        let x = q / std::f64::consts::SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * x);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let p = 0.5 * poly * (-x * x).exp();
        -p.max(1e-300).log10()
    } else {
        // Mills ratio asymptotic: p ≈ φ(q)/q.
        let ln_p = -0.5 * q * q - (q * (2.0 * std::f64::consts::PI).sqrt()).ln();
        -ln_p / std::f64::consts::LN_10
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// From any history, a larger raw value never scores lower, and scores stay in [0, 1].
        #[test]
        fn likelihood_is_monotone_and_bounded(
            history in proptest::collection::vec(0.0f64..100.0, 0..400),
            a in -10.0f64..1e4,
            b in -10.0f64..1e4,
            record in any::<bool>(),
        ) {
            let mut c = if record {
                Calibrator::record(200.0, 20)
            } else {
                Calibrator::likelihood(300.0, 8.0, 20)
            };
            for &r in &history {
                let s = c.score(r);
                prop_assert!((0.0..=1.0).contains(&s));
            }
            let (lo, hi) = (a.min(b), a.max(b));
            let (s_lo, s_hi) = (c.clone().score(lo), c.clone().score(hi));
            prop_assert!((0.0..=1.0).contains(&s_lo) && (0.0..=1.0).contains(&s_hi));
            prop_assert!(s_lo <= s_hi, "{lo} -> {s_lo}, {hi} -> {s_hi}");
        }

        /// With a ceiling, likelihood scores stay in [0, ceiling] and remain monotone.
        #[test]
        fn ceiling_bounds_scores(
            history in proptest::collection::vec(0.0f64..100.0, 0..300),
            ceiling in 0.0f64..12.0,
            a in 0.0f64..1e4,
            b in 0.0f64..1e4,
        ) {
            let mut c = Calibrator::likelihood(300.0, 8.0, 20).ceiling(ceiling);
            let top = ceiling.clamp(1.0, 10.0);
            for &r in &history {
                let s = c.score(r);
                prop_assert!((0.0..=top).contains(&s));
            }
            let (lo, hi) = (a.min(b), a.max(b));
            let (s_lo, s_hi) = (c.clone().score(lo), c.clone().score(hi));
            prop_assert!(s_lo <= s_hi && s_hi <= top);
        }

        /// The Gaussian tail in −log10 form is monotone in q.
        #[test]
        fn normal_tail_is_monotone(q in 0.0f64..40.0, dq in 0.0f64..5.0) {
            prop_assert!(log10_normal_tail(q) <= log10_normal_tail(q + dq) + 1e-9);
        }
    }

    #[test]
    fn normal_tail_matches_known_values() {
        for (q, p) in [
            (0.0, 0.5),
            (1.0, 0.158_655),
            (3.0, 0.001_35),
            (5.0, 2.8665e-7),
            (8.0, 6.221e-16),
        ] {
            let got = log10_normal_tail(q);
            let want = -f64::log10(p);
            assert!(
                (got - want).abs() < 0.03 * want.max(0.3),
                "q={q}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn constant_raw_scores_zero_and_outlier_scores_high() {
        for mut c in [Calibrator::default(), Calibrator::record(1000.0, 150)] {
            let mut last = 1.0;
            for i in 0..500 {
                last = c.score(1.0 + 0.1 * f64::from(i % 3));
            }
            assert!(last < 0.5);
            let s = c.score(100.0);
            assert!(s > 0.5, "{c:?} {s}");
        }
        let mut c = Calibrator::default();
        assert!((0..1000).all(|_| c.score(0.0) == 0.0));
    }
}
