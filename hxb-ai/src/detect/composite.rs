//! The default detector: a statistical stage (robust statistics, change detection,
//! contextual novelty and a time-of-day baseline, merged and followed by a refractory period)
//! while the window-shape stage ([`Resonance`]) learns, then the window-shape stage.

use super::rank::{RankCalibration, RankMap};
use super::{
    Calibrator, ContextOse, Cusum, Detector, Neighbour, RangeHint, Refractory, Resonance,
    ResonanceConfig, RobustZ, Seasonal, Target,
};

/// How [`Composite`] merges the calibrated scores of its enabled components.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combination {
    /// Mean of all enabled components (every component must agree for a high score).
    Mean,
    /// Largest component score (any one component suffices).
    Max,
    /// Mean of the two largest component scores (the default): an alert needs two components
    /// to agree, or one to be certain (a score of 1 alone gives 0.5).
    TopTwo,
}

/// Settings of the [`Composite`] detector; every setter returns the config, `build()` ends it.
///
/// Defaults are chosen from the problem, not fitted to any data set: rates of 1–2 % per point
/// (a memory of 50–100 points for level and scale), a neighbour window of 8 points against a
/// history of 384 points, a time-of-day baseline of 96 quarter-hour slots, likelihood
/// calibration against the last ~1000 points with a 16-point short average, 150 points of
/// warm-up, the mean of the two strongest components, and a refractory period of 100 points
/// after a score of 0.5 (a one-in-10⁵ event).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompositeConfig {
    value_z: bool,
    diff_z: bool,
    cusum: bool,
    neighbour: bool,
    seasonal: bool,
    context: Option<ContextMode>,
    range: Option<RangeHint>,
    shapes: Option<ResonanceConfig>,
    rank: Option<RankCalibration>,
    combination: Combination,
    level_rate: f64,
    scale_rate: f64,
    cusum_slack: f64,
    cusum_rate: f64,
    window: usize,
    capacity: usize,
    stride: u32,
    slots: usize,
    slot_rate: f64,
    long: f64,
    short: f64,
    warmup: u32,
    ceiling: f64,
    refractory: u32,
    alert_level: f64,
}

impl Default for CompositeConfig {
    fn default() -> Self {
        CompositeConfig {
            value_z: true,
            diff_z: false,
            cusum: true,
            neighbour: true,
            seasonal: true,
            context: None,
            range: None,
            shapes: Some(ResonanceConfig::default()),
            rank: None,
            combination: Combination::TopTwo,
            level_rate: 0.02,
            scale_rate: 0.01,
            cusum_slack: 1.0,
            cusum_rate: 0.005,
            window: 8,
            capacity: 96,
            stride: 4,
            slots: 96,
            slot_rate: 0.2,
            long: 1000.0,
            short: 16.0,
            warmup: 150,
            ceiling: 1.0,
            refractory: 100,
            alert_level: 0.5,
        }
    }
}

impl CompositeConfig {
    /// Enables or disables the robust z-score on values (on by default).
    pub fn value_z(mut self, on: bool) -> Self {
        self.value_z = on;
        self
    }
    /// Enables or disables the robust z-score on differences (off by default).
    pub fn diff_z(mut self, on: bool) -> Self {
        self.diff_z = on;
        self
    }
    /// Enables or disables CUSUM change detection (on by default).
    pub fn cusum(mut self, on: bool) -> Self {
        self.cusum = on;
        self
    }
    /// Enables or disables nearest-neighbour context novelty (on by default).
    pub fn neighbour(mut self, on: bool) -> Self {
        self.neighbour = on;
        self
    }
    /// Enables or disables the time-of-day baseline (on by default).
    pub fn seasonal(mut self, on: bool) -> Self {
        self.seasonal = on;
        self
    }
    /// Adds the contextOSE-style component ([`ContextOse`]; off by default: it is two orders of
    /// magnitude slower than the rest and needs up to `max_contexts` contexts of memory).
    pub fn context(mut self, mode: Option<ContextMode>) -> Self {
        self.context = mode;
        self
    }
    /// A value range hint (none by default): the [`Resonance`] stage places values in it
    /// instead of learning a range over its learning period, and an optional contextOSE
    /// component ([`CompositeConfig::context`]) quantises against it too. It matters most when
    /// the hint is close to the values' real range (see `docs/bench/nab5.md`).
    pub fn range_hint(mut self, hint: Option<RangeHint>) -> Self {
        self.range = hint;
        self
    }
    /// The window-shape stage ([`Resonance`], on by default with its default settings): once
    /// it has learnt (its learning period: 600 points and at least a day by default) it
    /// takes over from the
    /// statistical components, whose scores are used only until then. `None` keeps the
    /// statistical components throughout.
    pub fn shapes(mut self, config: Option<ResonanceConfig>) -> Self {
        self.shapes = config;
        self
    }
    /// Maps each component's score to its own running percentile before merging (see
    /// [`RankCalibration`]; off by default: on the NAB subset pure percentiles scored far
    /// lower and the best blend did not transfer between categories or halves, see
    /// `docs/bench/nab4.md`). Adds 1,824 bytes of state and costs about 20 % throughput.
    pub fn rank(mut self, rank: Option<RankCalibration>) -> Self {
        self.rank = rank;
        self
    }
    /// How component scores are merged (default [`Combination::TopTwo`]).
    pub fn combination(mut self, how: Combination) -> Self {
        self.combination = how;
        self
    }
    /// Level and scale smoothing rates of the z-score components.
    pub fn rates(mut self, level: f64, scale: f64) -> Self {
        self.level_rate = level;
        self.scale_rate = scale;
        self
    }
    /// CUSUM slack (in scales) and level rate.
    pub fn cusum_params(mut self, slack: f64, rate: f64) -> Self {
        self.cusum_slack = slack;
        self.cusum_rate = rate;
        self
    }
    /// Neighbour window length, number of stored windows and storage stride.
    pub fn neighbour_params(mut self, window: usize, capacity: usize, stride: u32) -> Self {
        self.window = window;
        self.capacity = capacity;
        self.stride = stride;
        self
    }
    /// Time-of-day slots per day and the slot means' rate (see [`Seasonal`]).
    pub fn seasonal_params(mut self, slots: usize, rate: f64) -> Self {
        self.slots = slots;
        self.slot_rate = rate;
        self
    }
    /// Calibration horizons (points): long-run statistics and short average (see [`Calibrator`]).
    pub fn calibration(mut self, long: f64, short: f64) -> Self {
        self.long = long;
        self.short = short;
        self
    }
    /// Points that score 0 while the detector learns.
    pub fn warmup(mut self, points: u32) -> Self {
        self.warmup = points;
        self
    }
    /// Ceiling of the component scores before they are merged (see [`Calibrator::ceiling`]);
    /// the merged score is clamped to `[0, 1]`.
    pub fn ceiling(mut self, ceiling: f64) -> Self {
        self.ceiling = ceiling;
        self
    }
    /// Points damped after a score of at least `level` (0 disables).
    pub fn refractory(mut self, points: u32, level: f64) -> Self {
        self.refractory = points;
        self.alert_level = level;
        self
    }
    /// Builds the detector.
    pub fn build(self) -> Composite {
        let cal = Calibrator::likelihood(self.long, self.short, self.warmup).ceiling(self.ceiling);
        let (lr, sr) = (self.level_rate, self.scale_rate);
        let parts = Parts {
            value_z: self
                .value_z
                .then(|| RobustZ::new(Target::Value, lr, sr, cal)),
            diff_z: self.diff_z.then(|| RobustZ::new(Target::Diff, lr, sr, cal)),
            cusum: self
                .cusum
                .then(|| Cusum::new(self.cusum_slack, self.cusum_rate, cal)),
            neighbour: self
                .neighbour
                .then(|| Neighbour::new(self.window, self.capacity, self.stride, cal)),
            seasonal: self
                .seasonal
                .then(|| Seasonal::new(self.slots, self.slot_rate, cal)),
            context: self.context.map(|m| {
                let mut d = ContextOse::new(3, 15, 7, m.max_contexts, 0, 0.75);
                if let Some(h) = self.range {
                    d = d.with_range(h.min(), h.max());
                }
                Box::new((d, m.calibrated.then_some(cal)))
            }),
            rank: self
                .rank
                .map(|r| Box::new([(); 6].map(|()| RankMap::new(r)))),
            combination: self.combination,
        };
        Composite {
            inner: Refractory::new(parts, self.alert_level, self.refractory),
            shapes: self.shapes.map(|c| Box::new(c.build(self.range))),
            last_t: None,
            config: self,
        }
    }
}

/// The enabled components and how their scores are merged.
#[derive(Debug, Clone, PartialEq)]
struct Parts {
    value_z: Option<RobustZ>,
    diff_z: Option<RobustZ>,
    cusum: Option<Cusum>,
    neighbour: Option<Neighbour>,
    seasonal: Option<Seasonal>,
    /// Boxed: the optional part should not enlarge every default detector.
    context: Option<Box<(ContextOse, Option<Calibrator>)>>,
    /// Per-component percentile maps (only with [`CompositeConfig::rank`]).
    rank: Option<Box<[RankMap; 6]>>,
    combination: Combination,
}

/// How the [`ContextOse`] component enters the [`Composite`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextMode {
    /// Stored contexts at most.
    pub max_contexts: usize,
    /// Whether its raw score goes through the likelihood calibration like the other
    /// components (otherwise it is used as it is).
    pub calibrated: bool,
}

/// Merges component scores (each in `[0, 1]`); no component scores 0.
pub(crate) fn merge(how: Combination, scores: &[f64]) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    match how {
        Combination::Mean => scores.iter().sum::<f64>() / scores.len() as f64,
        Combination::Max => scores.iter().copied().fold(0.0, f64::max),
        Combination::TopTwo => {
            let (mut first, mut second) = (0.0f64, 0.0f64);
            for &s in scores {
                if s > first {
                    second = first;
                    first = s;
                } else if s > second {
                    second = s;
                }
            }
            if scores.len() == 1 {
                first
            } else {
                0.5 * (first + second)
            }
        }
    }
}

impl Detector for Parts {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        let mut scores = [0.0; 6];
        let mut n = 0;
        let mut push = |s: Option<f64>| {
            if let Some(s) = s {
                scores[n] = s;
                n += 1;
            }
        };
        push(self.value_z.as_mut().map(|d| d.update(t_ms, value)));
        push(self.diff_z.as_mut().map(|d| d.update(t_ms, value)));
        push(self.cusum.as_mut().map(|d| d.update(t_ms, value)));
        push(self.neighbour.as_mut().map(|d| d.update(t_ms, value)));
        push(self.seasonal.as_mut().map(|d| d.update(t_ms, value)));
        push(self.context.as_mut().map(|b| {
            let (d, cal) = &mut **b;
            let raw = d.update(t_ms, value);
            match cal {
                Some(c) => c.score(raw),
                None => raw,
            }
        }));
        if let Some(maps) = &mut self.rank {
            for (s, m) in scores[..n].iter_mut().zip(maps.iter_mut()) {
                *s = m.map(*s);
            }
        }
        merge(self.combination, &scores[..n])
    }
    fn reset(&mut self) {
        self.value_z.reset();
        self.diff_z.reset();
        self.cusum.reset();
        self.neighbour.reset();
        self.seasonal.reset();
        if let Some(maps) = &mut self.rank {
            maps.iter_mut().for_each(RankMap::reset);
        }
        if let Some(b) = &mut self.context {
            let (d, c) = &mut **b;
            d.reset();
            if let Some(c) = c {
                c.reset();
            }
        }
    }
}

/// The default detector. Its statistical stage — robust z-score on values, CUSUM,
/// nearest-neighbour novelty and a time-of-day baseline (robust z-score on differences
/// optional), each calibrated to a likelihood score, merged by [`Combination`] (by default the
/// mean of the two strongest), followed by a refractory period — scores while the
/// window-shape stage ([`Resonance`]) learns; then the window-shape stage's score, mapped so
/// that 0.5 is an alert ([`SHAPE_ALERT`]). Without the window-shape stage
/// ([`CompositeConfig::shapes`]`(None)`) the statistical stage scores throughout.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite {
    inner: Refractory<Parts>,
    /// The window-shape stage, which takes over once it has learnt.
    shapes: Option<Box<Resonance>>,
    /// Timestamp of the last accepted point: skipped points must not advance the refractory
    /// period either.
    last_t: Option<i64>,
    config: CompositeConfig,
}

impl Composite {
    /// The configuration builder.
    pub fn builder() -> CompositeConfig {
        CompositeConfig::default()
    }

    /// The configuration this detector was built with.
    pub fn config(&self) -> &CompositeConfig {
        &self.config
    }

    /// Bytes of state: the struct plus its heap buffers. It grows while the window-shape
    /// stage stores categories (at most [`ResonanceConfig::max_categories`] per scale) and
    /// while an optional contextOSE component fills its context memory, then stays bounded;
    /// without either it is constant.
    pub fn state_bytes(&self) -> usize {
        let parts = &self.inner.inner;
        std::mem::size_of::<Self>()
            + parts.neighbour.as_ref().map_or(0, Neighbour::heap_bytes)
            + parts.seasonal.as_ref().map_or(0, Seasonal::heap_bytes)
            + parts.context.as_ref().map_or(0, |c| c.0.state_bytes())
            + parts
                .rank
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<[RankMap; 6]>())
            + self.shapes.as_ref().map_or(0, |r| r.state_bytes())
    }
}

impl Default for Composite {
    fn default() -> Self {
        CompositeConfig::default().build()
    }
}

/// A [`Resonance`] score on the composite's scale, where 0.5 is the alert level: the
/// resonance score [`SHAPE_ALERT`] (a window 25 % farther from everything remembered than
/// the familiarity bound) maps to 0.5, linearly on both sides.
fn shape_score(s: f64) -> f64 {
    let s = s.clamp(0.0, 1.0);
    if s <= SHAPE_ALERT {
        0.5 * s / SHAPE_ALERT
    } else {
        0.5 + 0.5 * (s - SHAPE_ALERT) / (1.0 - SHAPE_ALERT)
    }
}

/// The [`Resonance`] score read as an alert (0.5 on the composite's scale). A round value
/// near the threshold the NAB scorer chooses for the resonance stage on the public subset
/// (0.17, see `docs/bench/nab5.md`).
pub const SHAPE_ALERT: f64 = 0.2;

impl Detector for Composite {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() || self.last_t.is_some_and(|t| t_ms <= t) {
            return 0.0;
        }
        self.last_t = Some(t_ms);
        if let Some(shapes) = &mut self.shapes {
            if shapes.learnt() {
                return shape_score(shapes.update(t_ms, value));
            }
            shapes.update(t_ms, value);
        }
        self.inner.update(t_ms, value).clamp(0.0, 1.0)
    }
    fn reset(&mut self) {
        self.inner.reset();
        self.last_t = None;
        if let Some(r) = &mut self.shapes {
            r.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ALL: [Combination; 3] = [Combination::Mean, Combination::Max, Combination::TopTwo];

    #[test]
    fn merge_rules() {
        assert_eq!(merge(Combination::TopTwo, &[]), 0.0);
        assert_eq!(merge(Combination::TopTwo, &[0.7]), 0.7);
        assert_eq!(merge(Combination::TopTwo, &[0.2, 1.0, 0.0, 0.6]), 0.8);
        // One certain component alone reaches the alert level 0.5.
        assert_eq!(merge(Combination::TopTwo, &[0.0, 1.0, 0.0, 0.0]), 0.5);
        assert_eq!(merge(Combination::Max, &[0.2, 0.9]), 0.9);
        assert!((merge(Combination::Mean, &[0.2, 0.6]) - 0.4).abs() < 1e-12);
    }

    proptest! {
        /// Merged scores stay in [0, 1], lie between the mean and the maximum, and never
        /// fall when one component's score rises.
        #[test]
        fn merge_is_bounded_and_monotone(
            scores in proptest::collection::vec(0.0f64..=1.0, 1..6),
            which in 0usize..6,
            bump in 0.0f64..=1.0,
        ) {
            let mean = merge(Combination::Mean, &scores);
            let max = merge(Combination::Max, &scores);
            let mut raised = scores.clone();
            let k = which % raised.len();
            raised[k] = (raised[k] + bump).min(1.0);
            for how in ALL {
                let m = merge(how, &scores);
                prop_assert!((0.0..=1.0).contains(&m));
                prop_assert!(mean - 1e-12 <= m && m <= max + 1e-12);
                prop_assert!(merge(how, &raised) + 1e-12 >= m);
            }
        }
    }
}
