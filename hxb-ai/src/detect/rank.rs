//! Rank (percentile) calibration of a component's score against its own running history.

/// Score bins over `(0, 1]`; scores of exactly 0 count only towards the total, larger
/// scores fall in the last bin.
const BINS: usize = 32;

/// Optional second calibration stage of the [`Composite`]'s components: each component's
/// score is mapped to its own running empirical distribution ("how unusual is this score for
/// this component on this series") before the components are merged.
///
/// The distribution is a fixed histogram (32 bins over `(0, 1]`, scores of 0 in its total) with
/// exponential forgetting over about `horizon` points: constant memory and time per point.
/// A score `s > 0` gets the tail share `p̂ = (w + mass ≥ s) / (w + total)` of the history
/// before it (`w` the current point's weight, linear interpolation inside a bin), the rank
/// score `r = min(1, −log10(p̂) / log10(horizon))` (1 for a new maximum over the horizon), and
/// reports `blend · s + (1 − blend) · r`, or with `gate` the smaller of `s` and `r` (a score
/// counts only as far as it is also rare for this component on this series). A score of 0
/// stays 0.
///
/// [`Composite`]: super::Composite
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankCalibration {
    /// Points of history the percentiles are taken over (at least 10).
    pub horizon: f64,
    /// Weight of the component's own score in the result (`0` = pure rank, clamped to `[0, 1]`).
    pub blend: f64,
    /// Report `min(score, rank score)` instead of the blend (`blend` is then unused).
    pub gate: bool,
}

/// The running histogram of one component's scores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RankMap {
    bins: [f64; BINS],
    total: f64,
    /// Weight of the next point (grows instead of decaying the history; renormalised).
    weight: f64,
    growth: f64,
    log_horizon: f64,
    blend: f64,
    gate: bool,
}

impl RankMap {
    pub(crate) fn new(cfg: RankCalibration) -> Self {
        let horizon = if cfg.horizon.is_nan() {
            1000.0
        } else {
            cfg.horizon.clamp(10.0, 1e9)
        };
        let blend = if cfg.blend.is_nan() {
            0.0
        } else {
            cfg.blend.clamp(0.0, 1.0)
        };
        RankMap {
            bins: [0.0; BINS],
            total: 0.0,
            weight: 1.0,
            growth: 1.0 / (1.0 - 1.0 / horizon),
            log_horizon: horizon.log10(),
            blend,
            gate: cfg.gate,
        }
    }

    /// Maps one score (in `[0, ∞)`) and adds it to the history.
    #[inline]
    pub(crate) fn map(&mut self, s: f64) -> f64 {
        let w = self.weight;
        let out = if s > 0.0 {
            let x = (s * BINS as f64).min(BINS as f64 - 1e-9);
            let k = x as usize;
            let frac_above = 1.0 - (x - k as f64);
            let tail: f64 = self.bins[k + 1..].iter().sum::<f64>() + frac_above * self.bins[k];
            let p = (w + tail) / (w + self.total);
            let r = (-p.log10() / self.log_horizon).clamp(0.0, 1.0);
            self.bins[k] += w;
            if self.gate {
                s.min(r)
            } else {
                self.blend * s + (1.0 - self.blend) * r
            }
        } else {
            0.0
        };
        self.total += w;
        self.weight *= self.growth;
        if self.weight > 1e150 {
            let f = 1.0 / self.weight;
            self.total *= f;
            self.bins.iter_mut().for_each(|b| *b *= f);
            self.weight = 1.0;
        }
        out
    }

    pub(crate) fn reset(&mut self) {
        self.bins = [0.0; BINS];
        self.total = 0.0;
        self.weight = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn map(blend: f64, gate: bool) -> RankMap {
        RankMap::new(RankCalibration {
            horizon: 500.0,
            blend,
            gate,
        })
    }

    #[test]
    fn common_scores_rank_low_and_new_maxima_high() {
        let mut m = map(0.0, false);
        let mut g = map(0.0, true);
        for i in 0..3000 {
            let s = 0.1 + 0.01 * f64::from(i % 10);
            m.map(s);
            g.map(s);
        }
        assert!(m.clone().map(0.12) < 0.2);
        assert!(m.clone().map(0.9) > 0.95);
        assert_eq!(m.map(0.0), 0.0);
        // The gate keeps a rare score as it is and lowers a habitual one.
        assert_eq!(g.clone().map(0.9), 0.9);
        assert!(g.map(0.12) < 0.06);
        // Bad parameters are clamped, not propagated.
        let mut m = RankMap::new(RankCalibration {
            horizon: f64::NAN,
            blend: f64::NAN,
            gate: false,
        });
        assert!((0.0..=1.0).contains(&m.map(0.7)));
    }

    /// The state sizes quoted in `CompositeConfig::rank`, `docs/anomaly-detection.md` and
    /// `docs/bench/nab4.md` (six maps per series).
    #[test]
    fn state_size_matches_the_documented_figure() {
        assert_eq!(std::mem::size_of::<RankMap>(), 304);
        assert_eq!(std::mem::size_of::<[RankMap; 6]>(), 1_824);
    }

    /// Scores of 0 count towards the total only: they lower the tail share of every later
    /// positive score, exactly as much as the same weight of mass below that score would.
    #[test]
    fn zero_scores_count_in_the_total() {
        let mut with_zeros = map(0.0, false);
        let mut with_low = map(0.0, false);
        for _ in 0..200 {
            with_zeros.map(0.0);
            with_low.map(1e-6);
        }
        let (a, b) = (with_zeros.map(0.5), with_low.map(0.5));
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        assert!(a > 0.8);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// From any history, mapped scores stay in [0, 1] and a larger score never maps lower.
        #[test]
        fn rank_is_monotone_and_bounded(
            history in proptest::collection::vec(0.0f64..1.0, 0..600),
            a in 0.0f64..1.0,
            b in 0.0f64..1.0,
            blend in 0.0f64..1.0,
            gate in any::<bool>(),
        ) {
            let mut m = map(blend, gate);
            for &s in &history {
                let r = m.map(s);
                prop_assert!((0.0..=1.0).contains(&r));
            }
            let (lo, hi) = (a.min(b), a.max(b));
            let (r_lo, r_hi) = (m.clone().map(lo), m.clone().map(hi));
            prop_assert!(r_lo <= r_hi + 1e-12, "{lo} -> {r_lo}, {hi} -> {r_hi}");
        }
    }
}
