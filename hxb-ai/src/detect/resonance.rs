//! Novelty of downsampled window shapes against a fuzzy adaptive-resonance memory.
//!
//! The idea, after adaptive resonance theory (Carpenter, Grossberg & Rosen, "Fuzzy ART",
//! 1991, and the dual vigilance of da Silva, Elnabarawy & Wunsch, 2019) as applied to
//! streaming anomaly detection by ARTime (M. Hampton, 2021): remember every *shape* the
//! series has shown, and alert when the current shape resembles none of them. This is an
//! independent design on that idea, not a port.
//!
//! 1. **Range.** Values are placed on `levels` levels of a range: the [`RangeHint`] if one is
//!    given, otherwise the range of the learning period widened by a margin on each side
//!    (the learning period's values are held until it ends, then replayed). Values outside
//!    the range are clamped to its ends.
//! 2. **Time scales.** Each scale groups points into blocks of `step` points (by default
//!    about 100 and 200 blocks per learning period, i.e. 6 and 3 points for 600). A block is
//!    represented by its extreme farther from the running block average (a spike survives
//!    the downsampling) unless that extreme is within a level of the block's mean.
//! 3. **Features.** The last `window` block levels (where the series is), the same window
//!    stretched to the full scale (its shape, whatever the level), and `emphasis` more
//!    copies of the newest level (where it is *now* weighs more than where it was), all
//!    complement-coded as bytes.
//! 4. **Memory.** A fuzzy ART memory of categories (hyper-boxes in feature space) per scale.
//!    The match of a category is `1 − size(box ∪ x) / features`: one minus the mean feature
//!    distance to the box. The best match of at least `resonate` learns (its box grows to
//!    take `x` in); otherwise `x` becomes a new category. At most `max_categories` are kept;
//!    when full, a category that has not matched best lately is replaced (second chance).
//! 5. **Familiarity.** During the learning period (no scores) each scale records the best
//!    match of the blocks in the period's second half; the lowest is its familiarity bound
//!    `ρ`, which then follows the lowest match of each half learning period (up by a fifth
//!    of the gap, down by half). A block whose best match `m` is below `ρ` (and below 0.97)
//!    is *novel*; its score is `1 − (1 − ρ)/(1 − m)` plus 1.5 × how far the newest level lies
//!    outside the matched category, capped at 1: 0 at the bound, ½ at twice its distance.
//! 6. **One event, one alert.** A novel block scores only if its scale saw `mask` familiar
//!    blocks in a row before (or it is clearly more novel than the last alert, match below
//!    0.7 × its match), and, within `mask` blocks after an alert on any scale, only if it
//!    scores higher than that alert.
//!
//! Scores are reported on the last point of a block; the other points score 0, so an alert
//! comes at most `step − 1` points late. Blocks count points, not time: a gap in the
//! timestamps (missed samples) does not break the window, so an irregularly sampled series is
//! watched throughout. The learning period lasts `learning` points (600)
//! and at least `learning_time` (a day, so a daily cycle is seen at any sampling rate), at
//! most [`MAX_LEARNING`] points; its values are held (8 bytes each), then replayed through
//! the scales, whose blocks are sized for the points actually learnt. From then on the state
//! is per scale the block, the window and the stored categories (45 bytes each), grown as
//! categories are stored and bounded by `max_categories` (at most about 23 KB per scale with
//! the defaults; a regular series needs a few dozen categories).

use super::{Detector, RangeHint};

/// The largest supported window (blocks).
pub const MAX_WINDOW: usize = 8;

/// The longest learning period (points); its values are held until it ends.
pub const MAX_LEARNING: u32 = 10_000;

/// Settings of the [`Resonance`] detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResonanceConfig {
    window: usize,
    levels: u32,
    learning: u32,
    learning_ms: i64,
    samples_per_learning: u32,
    max_categories: usize,
    resonate: f64,
    mask: u32,
    scales: u32,
    emphasis: usize,
    margin: f64,
}

impl Default for ResonanceConfig {
    fn default() -> Self {
        ResonanceConfig {
            window: 8,
            levels: 64,
            learning: 600,
            learning_ms: 86_400_000,
            samples_per_learning: 100,
            max_categories: 512,
            resonate: 0.95,
            mask: 12,
            scales: 2,
            emphasis: 4,
            margin: 0.25,
        }
    }
}

impl ResonanceConfig {
    /// Blocks per feature window (default 8, at most [`MAX_WINDOW`]).
    pub fn window(mut self, blocks: usize) -> Self {
        self.window = blocks.clamp(2, MAX_WINDOW);
        self
    }
    /// Quantisation levels of the range (default 64, at most 255).
    pub fn levels(mut self, levels: u32) -> Self {
        self.levels = levels.clamp(2, 255);
        self
    }
    /// Points of the learning period, which score 0 (default 600, at most 10,000; NAB's
    /// probationary period is 15 % of a file, at most 750 points).
    pub fn learning(mut self, points: u32) -> Self {
        self.learning = points.clamp(1, MAX_LEARNING);
        self
    }
    /// The shortest learning period in time (default one day, so a daily cycle is seen
    /// whatever the sampling rate; zero: points only). Learning ends once both `learning`
    /// points and this much time have passed, or at [`MAX_LEARNING`] points.
    pub fn learning_time(mut self, time: std::time::Duration) -> Self {
        self.learning_ms = i64::try_from(time.as_millis()).unwrap_or(i64::MAX);
        self
    }
    /// Blocks the learning period should hold; sets the block length (default 100).
    pub fn samples_per_learning(mut self, blocks: u32) -> Self {
        self.samples_per_learning = blocks.max(1);
        self
    }
    /// Most categories kept per scale (default 512, at most 65,536; 45 bytes each, allocated
    /// as they are stored).
    pub fn max_categories(mut self, n: usize) -> Self {
        self.max_categories = n.clamp(1, 1 << 16);
        self
    }
    /// Match at which a category learns the input instead of a new one being made
    /// (default 0.95).
    pub fn resonate(mut self, rho: f64) -> Self {
        self.resonate = if rho.is_nan() {
            0.95
        } else {
            rho.clamp(0.0, 1.0)
        };
        self
    }
    /// Familiar blocks a scale needs in a row before a novel block alerts, and the span after
    /// an alert (in each scale's blocks) in which only a higher score alerts again (default 12).
    pub fn mask(mut self, blocks: u32) -> Self {
        self.mask = blocks;
        self
    }
    /// Time scales watched at once (default 2): scale `k` uses blocks of
    /// `learning / (samples_per_learning · 2^k)` points, each with its own memory and
    /// familiarity bound; the detector reports the largest score.
    pub fn scales(mut self, scales: u32) -> Self {
        self.scales = scales.clamp(1, 8);
        self
    }
    /// Extra weight of the newest level in the match, in copies of it (default 4; together
    /// with the window at most `2 × window + copies ≤ 20`: 4 for the default window).
    pub fn emphasis(mut self, copies: usize) -> Self {
        self.emphasis = copies;
        self
    }
    /// Without a hint, the learnt range is the learning period's widened by this share of its
    /// span on each side (default 0.25): room for values beyond those seen while learning.
    pub fn margin(mut self, share: f64) -> Self {
        self.margin = if share.is_finite() {
            share.clamp(0.0, 10.0)
        } else {
            0.25
        };
        self
    }
    /// Points per block of each scale for a learning period of `learning` points, finest
    /// first (duplicates removed). A longer learning period in time lengthens the blocks in
    /// proportion.
    pub fn steps(&self) -> Vec<u32> {
        let mut steps: Vec<u32> = (0..self.scales)
            .map(|k| {
                let blocks = f64::from(self.samples_per_learning) * f64::from(1u32 << k);
                ((f64::from(self.learning) / blocks).round() as u32).max(1)
            })
            .collect();
        steps.sort_unstable();
        steps.dedup();
        steps
    }
    /// The detector: values are placed in `hint` if given, else in the range of the learning
    /// period widened by the margin on each side.
    pub fn build(mut self, hint: Option<RangeHint>) -> Resonance {
        self.emphasis = self.emphasis.min(STRIDE / 2 - 2 * self.window);
        Resonance::new(self, hint)
    }
}

/// Bytes of one stored category: the complement-coded features (`2 × (2 × window +
/// emphasis)`, 40 with the defaults), unused ones 0.
const STRIDE: usize = 40;

/// A complement-coded feature vector, padded with zeros to [`STRIDE`] bytes.
type Features = [u8; STRIDE];

/// The fuzzy ART memory: complement-coded boxes of quantised features.
#[derive(Debug, Clone, PartialEq)]
struct Memory {
    /// Features per input (half the complement-coded length).
    features: usize,
    /// The largest feature value (a feature `f` is stored as `f`, its complement as `top − f`).
    top: u32,
    cap: usize,
    weights: Vec<Features>,
    /// `Σ w` of each category.
    sums: Vec<u32>,
    /// Whether each category matched best since the clock hand last passed it.
    referenced: Vec<bool>,
    /// The clock hand: the next category considered for replacement when full.
    hand: usize,
}

impl Memory {
    fn new(features: usize, top: u32, cap: usize) -> Self {
        // Grown as categories are stored (a regular series needs few), never beyond `cap`.
        Memory {
            features,
            top,
            cap,
            weights: Vec::new(),
            sums: Vec::new(),
            referenced: Vec::new(),
            hand: 0,
        }
    }

    fn len(&self) -> usize {
        self.weights.len()
    }

    /// The best category and its match, `1 − size(box ∪ x) / features`.
    ///
    /// `Σ min(x, w) = (Σ x + Σ w − Σ |x − w|) / 2`, with `Σ w` kept per category.
    fn best(&self, x: &Features) -> Option<(usize, f64)> {
        if self.weights.is_empty() {
            return None;
        }
        let sx = sum(x);
        // `|a − b| ≤ a + b`: the subtraction cannot underflow.
        let (mut best_j, mut best_s) = (0, 0);
        for (j, (w, &sw)) in self.weights.iter().zip(&self.sums).enumerate() {
            let s = sx + sw - distance(x, w);
            if s > best_s {
                (best_j, best_s) = (j, s);
            }
        }
        let scale = 2.0 * f64::from(self.top) * self.features as f64;
        Some((best_j, (f64::from(best_s) / scale).clamp(0.0, 1.0)))
    }

    fn learn(&mut self, j: usize, x: &Features) {
        for (w, a) in self.weights[j].iter_mut().zip(x) {
            *w = (*w).min(*a);
        }
        self.sums[j] = sum(&self.weights[j]);
        self.referenced[j] = true;
    }

    fn add(&mut self, x: &Features) {
        if self.len() < self.cap {
            if self.len() == self.weights.capacity() {
                // Double, but never past the cap.
                let more = self.len().max(8).min(self.cap - self.len());
                self.weights.reserve_exact(more);
                self.sums.reserve_exact(more);
                self.referenced.reserve_exact(more);
            }
            self.weights.push(*x);
            self.sums.push(sum(x));
            self.referenced.push(true);
            return;
        }
        // Second chance ("clock"): spare the categories that matched best since the hand
        // last passed them, replace the first that did not. Ends within two turns.
        loop {
            let j = self.hand;
            self.hand = (self.hand + 1) % self.len();
            if self.referenced[j] {
                self.referenced[j] = false;
            } else {
                self.weights[j] = *x;
                self.sums[j] = sum(x);
                self.referenced[j] = true;
                return;
            }
        }
    }
}

/// `Σ x_i`.
fn sum(x: &Features) -> u32 {
    x.iter().map(|&v| u32::from(v)).sum()
}

/// `Σ |x_i − w_i|`, the sum of absolute differences, with x86-64's instruction for it
/// (`psadbw`, SSE2, on every x86-64 processor) on three 16-byte lanes. The compiler turns the
/// byte loop of [`distance_bytes`] into ten 4-byte pieces; this is about 1.8 times as fast
/// end to end (`nab_eval` throughput).
#[cfg(target_arch = "x86_64")]
#[inline]
fn distance(x: &Features, w: &Features) -> u32 {
    use safe_arch::{add_i64_m128i, m128i, sum_of_u8_abs_diff_m128i as sad};
    let lane = |a: &Features, i: usize| {
        let mut b = [0u8; 16];
        let n = (STRIDE - i).min(16);
        b[..n].copy_from_slice(&a[i..i + n]);
        m128i::from(b)
    };
    let total = add_i64_m128i(
        add_i64_m128i(sad(lane(x, 0), lane(w, 0)), sad(lane(x, 16), lane(w, 16))),
        sad(lane(x, 32), lane(w, 32)),
    );
    let q: [u64; 2] = total.into();
    (q[0] + q[1]) as u32
}

/// `Σ |x_i − w_i|` byte by byte: the distance on other processors, and the reference the
/// x86-64 version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn distance_bytes(x: &Features, w: &Features) -> u32 {
    x.iter()
        .zip(w)
        .map(|(&a, &b)| u32::from(a.abs_diff(b)))
        .sum()
}

#[cfg(not(target_arch = "x86_64"))]
use distance_bytes as distance;

/// How the familiarity bound follows the recent lowest match up and down (shares of the gap).
const RAISE: f64 = 0.2;
const LOWER: f64 = 0.5;
/// An unsettled scale's novel block alerts only below this share of the last alert's match.
const DEEPER: f64 = 0.7;
/// A match at least this high is always familiar, however regular the series was while
/// learning (a perfectly repeating series would otherwise alert on rounding noise).
const FAMILIAR_CAP: f64 = 0.97;
/// Weight of the newest level's distance from the matched category in the score.
const LEVEL_WEIGHT: f64 = 1.5;

/// The last alert of any scale: the point it came on, its best match and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Alert {
    point: u64,
    matched: f64,
    score: f64,
}

/// One time scale: its block, window, memory and familiarity bound.
#[derive(Debug, Clone, PartialEq)]
struct Scale {
    step: u32,
    /// Blocks of the learning period.
    learning: u64,
    // The current block.
    count: u32,
    sum: f64,
    min: f64,
    max: f64,
    /// Running average of block means (`None` before the first block).
    average: Option<f64>,
    /// The last `window` block levels, oldest first, and how many are filled.
    levels: [u8; MAX_WINDOW],
    filled: usize,
    /// Feature windows seen (blocks with a full window).
    blocks: u64,
    memory: Memory,
    /// Lowest best match since the bound last moved (in the learning period: in its second
    /// half), and the familiarity bound once learnt.
    lowest: f64,
    familiar: Option<f64>,
    /// Familiar blocks in a row, and blocks since the bound last moved.
    familiar_run: u64,
    since_adapt: u64,
    features: Features,
    /// Extra copies of the newest level among the features.
    emphasis: usize,
}

impl Scale {
    fn new(config: &ResonanceConfig, step: u32) -> Self {
        Scale {
            step,
            learning: u64::from(config.learning / step).saturating_sub(config.window as u64 - 1),
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            average: None,
            levels: [0; MAX_WINDOW],
            filled: 0,
            blocks: 0,
            memory: Memory::new(
                2 * config.window + config.emphasis,
                config.levels,
                config.max_categories,
            ),
            lowest: 1.0,
            familiar: None,
            familiar_run: 0,
            since_adapt: 0,
            features: [0; STRIDE],
            emphasis: config.emphasis,
        }
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + STRIDE * self.memory.weights.capacity()
            + self.memory.referenced.capacity()
            + 4 * self.memory.sums.capacity()
    }

    fn update(
        &mut self,
        config: &ResonanceConfig,
        range: RangeHint,
        value: f64,
        point: u64,
        alert: &mut Option<Alert>,
    ) -> f64 {
        if self.count == 0 {
            self.sum = 0.0;
            self.min = f64::INFINITY;
            self.max = f64::NEG_INFINITY;
        }
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if self.count < self.step {
            return 0.0;
        }
        let v = self.represent(config, range);
        self.count = 0;
        self.block(config, range, v, point, alert)
    }

    /// The block's representative value: its extreme farther from the running average of
    /// block means, unless that extreme is within a level of the block's mean.
    fn represent(&mut self, config: &ResonanceConfig, range: RangeHint) -> f64 {
        let mean = self.sum / f64::from(self.count);
        let avg = self.average.map_or(mean, |a| 0.5 * (a + mean));
        self.average = Some(avg);
        let extreme = if (self.max - avg).abs() >= (self.min - avg).abs() {
            self.max
        } else {
            self.min
        };
        let level = (range.max() - range.min()) / f64::from(config.levels);
        if (extreme - mean).abs() < level {
            mean
        } else {
            extreme
        }
    }

    /// Scores one block value.
    fn block(
        &mut self,
        config: &ResonanceConfig,
        range: RangeHint,
        value: f64,
        point: u64,
        alert: &mut Option<Alert>,
    ) -> f64 {
        let (lo, hi) = (range.min(), range.max());
        let n = f64::from(config.levels);
        let q = (((value.clamp(lo, hi) - lo) / (hi - lo)) * n).round() as u8;
        let w = config.window;
        if self.filled < w {
            self.levels[self.filled] = q;
            self.filled += 1;
            if self.filled < w {
                return 0.0;
            }
        } else {
            self.levels.copy_within(1..w, 0);
            self.levels[w - 1] = q;
        }
        self.fill_features(w, config.levels);
        let now = self.blocks;
        self.blocks += 1;
        let best = self.memory.best(&self.features);
        let matched = best.map_or(0.0, |(_, m)| m);
        match best {
            Some((j, m)) if m >= config.resonate => self.memory.learn(j, &self.features),
            _ => {
                if let Some((j, _)) = best {
                    self.memory.referenced[j] = true;
                }
                self.memory.add(&self.features);
            }
        }
        let Some(rho) = self.familiar else {
            if now >= self.learning / 2 {
                self.lowest = self.lowest.min(matched);
            }
            if now + 1 >= self.learning {
                self.familiar = Some(self.lowest);
                self.lowest = 1.0;
            }
            return 0.0;
        };
        // The bound follows the lowest match of the last half learning period.
        self.since_adapt += 1;
        self.lowest = self.lowest.min(matched);
        if self.since_adapt >= (self.learning / 2).max(1) {
            let target = self.lowest;
            let next = if target > rho {
                rho + RAISE * (target - rho)
            } else {
                rho - LOWER * (rho - target)
            };
            self.familiar = Some(next.clamp(0.0, 1.0));
            self.lowest = 1.0;
            self.since_adapt = 0;
        }
        let settled = self.familiar_run >= u64::from(config.mask);
        let rho = rho.min(FAMILIAR_CAP);
        let novel = matched < rho;
        self.familiar_run = if novel { 0 } else { self.familiar_run + 1 };
        if !novel {
            return 0.0;
        }
        // An unsettled scale (novel blocks lately) alerts only when clearly more novel than
        // the last alert.
        let deeper = alert.is_some_and(|a| matched < DEEPER * a.matched);
        if !settled && !deeper {
            return 0.0;
        }
        let level = best.map_or(1.0, |(j, _)| self.level_distance(w, j));
        let score =
            (1.0 - (1.0 - rho) / (1.0 - matched).max(1e-9) + LEVEL_WEIGHT * level).clamp(0.0, 1.0);
        // One event, one alert: within this scale's mask span after an alert on any scale,
        // only a higher score alerts again.
        let span = u64::from(config.mask) * u64::from(self.step);
        if alert.is_some_and(|a| point - a.point <= span && score <= a.score) {
            return 0.0;
        }
        *alert = Some(Alert {
            point,
            matched,
            score,
        });
        score
    }

    /// Levels and stretched shape of the window (both on `0..=top`), complement-coded.
    fn fill_features(&mut self, w: usize, top: u32) {
        // Layout: levels, their complements, shape, its complements, the newest level
        // repeated; unused bytes stay 0 on both sides and add nothing to a distance.
        let win = &self.levels[..w];
        let lo = win.iter().copied().min().unwrap_or(0);
        let span = u32::from(win.iter().copied().max().unwrap_or(0) - lo);
        let top8 = top as u8;
        for (i, &v) in win.iter().enumerate() {
            // A flat window has no shape: all 0.
            let shape = (u32::from(v - lo) * top + span / 2)
                .checked_div(span)
                .map_or(0, |q| q as u8);
            self.features[i] = v;
            self.features[w + i] = top8 - v;
            self.features[2 * w + i] = shape;
            self.features[3 * w + i] = top8 - shape;
        }
        // The newest level, repeated: where the series is now weighs more than its past.
        let newest = win[w - 1];
        for k in 0..self.emphasis {
            self.features[4 * w + 2 * k] = newest;
            self.features[4 * w + 2 * k + 1] = top8 - newest;
        }
    }

    /// How far the newest level lies outside category `j`'s range of newest levels.
    fn level_distance(&self, w: usize, j: usize) -> f64 {
        let category = &self.memory.weights[j];
        let top = f64::from(self.memory.top);
        let lo = f64::from(category[w - 1]);
        let hi = top - f64::from(category[2 * w - 1]);
        let x = f64::from(self.features[w - 1]);
        (lo - x).max(x - hi).max(0.0) / top
    }
}

/// Novelty of downsampled window shapes (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Resonance {
    config: ResonanceConfig,
    /// The range given in advance, if any.
    hint: Option<RangeHint>,
    /// The range in use: the hint, or the one learnt over the learning period.
    range: Option<RangeHint>,
    /// Values of the learning period (freed when it ends).
    pending: Vec<f64>,
    /// Timestamp of the first point of the learning period.
    first_t: Option<i64>,
    /// Timestamp of the last accepted point.
    last_t: Option<i64>,
    /// The time scales, made when the learning period ends.
    scales: Vec<Scale>,
    /// Points given to the scales, and the last alert of any scale.
    points: u64,
    alert: Option<Alert>,
}

impl Resonance {
    /// The configuration builder.
    pub fn builder() -> ResonanceConfig {
        ResonanceConfig::default()
    }

    fn new(config: ResonanceConfig, hint: Option<RangeHint>) -> Self {
        Resonance {
            config,
            hint,
            range: hint,
            pending: Vec::with_capacity(config.learning as usize),
            first_t: None,
            last_t: None,
            scales: Vec::new(),
            points: 0,
            alert: None,
        }
    }

    /// The configuration this detector was built with.
    pub fn config(&self) -> &ResonanceConfig {
        &self.config
    }

    /// The range values are placed in: the hint, or the range learnt over the learning period
    /// (`None` until then).
    pub fn range(&self) -> Option<RangeHint> {
        self.range
    }

    /// Stored categories of each scale, finest first (each at most the configured maximum;
    /// empty while learning).
    pub fn categories(&self) -> Vec<usize> {
        self.scales.iter().map(|s| s.memory.len()).collect()
    }

    /// Whether the learning period is over on every scale.
    pub fn learnt(&self) -> bool {
        !self.scales.is_empty() && self.scales.iter().all(|s| s.familiar.is_some())
    }

    /// Points per block of each scale, finest first (empty while learning).
    pub fn steps(&self) -> Vec<u32> {
        self.scales.iter().map(|s| s.step).collect()
    }

    /// Bytes of state: the struct plus its heap. While learning, the learning period's values
    /// (at most [`MAX_LEARNING`]); afterwards the stored categories, bounded by the configured
    /// maximum per scale: once a scale's memory is full, nothing grows any more.
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + 8 * self.pending.capacity()
            + self.scales.iter().map(Scale::state_bytes).sum::<usize>()
    }

    /// The learnt range: the learning period's, widened by the margin on each side.
    fn learn_range(&self) -> RangeHint {
        let (lo, hi) = self
            .pending
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
        let pad = self.config.margin * span;
        RangeHint::new(lo - pad, hi + pad)
            .or_else(|_| RangeHint::new(lo - 1.0, lo + 1.0))
            .unwrap_or_else(|_| RangeHint::new(-1.0, 1.0).expect("a valid range"))
    }
}

impl Resonance {
    /// Ends the learning period: the range (unless hinted), the scales for the points
    /// actually learnt, and a replay of those points through them.
    fn end_learning(&mut self) {
        let learnt = self.pending.len() as u32;
        let config = self.config.learning(learnt);
        let range = self.range.unwrap_or_else(|| self.learn_range());
        self.scales = config
            .steps()
            .into_iter()
            .map(|s| Scale::new(&config, s))
            .collect();
        for &v in &self.pending {
            for s in &mut self.scales {
                s.update(&config, range, v, self.points, &mut self.alert);
            }
            self.points += 1;
        }
        self.range = Some(range);
        self.pending = Vec::new();
    }
}

impl Detector for Resonance {
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        // Blocks count points, not time: a gap (missed samples) carries the window on.
        // Restarting it would leave the stage blind for `window` blocks after every gap (on an
        // irregularly sampled series, much of the time), and costs more than it saves:
        // `nab_eval --timing` (docs/bench/nab6.md). Only a point not after the last is skipped.
        if self.last_t.is_some_and(|t| t_ms <= t) {
            return 0.0;
        }
        self.last_t = Some(t_ms);
        if self.scales.is_empty() {
            // Learning: hold the values, score nothing; the scales see them when it ends.
            self.pending.push(value);
            let first = *self.first_t.get_or_insert(t_ms);
            let enough_points = self.pending.len() >= self.config.learning as usize;
            let enough_time = t_ms.saturating_sub(first) >= self.config.learning_ms;
            if enough_points && enough_time || self.pending.len() >= MAX_LEARNING as usize {
                self.end_learning();
            }
            return 0.0;
        }
        let range = self.range.expect("a range once learnt");
        let (config, point, alert) = (&self.config, self.points, &mut self.alert);
        self.points += 1;
        self.scales
            .iter_mut()
            .map(|s| s.update(config, range, value, point, alert))
            .fold(0.0, f64::max)
    }

    fn reset(&mut self) {
        *self = Resonance::new(self.config, self.hint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: i64 = 300_000;

    /// A daily cycle of 288 points with a little deterministic noise.
    fn daily(i: i64) -> f64 {
        50.0 + 10.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin()
            + 0.3 * ((i * 7919 % 101) as f64 / 101.0)
    }

    fn run(d: &mut Resonance, values: impl IntoIterator<Item = f64>) -> Vec<f64> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| d.update(i as i64 * STEP, v))
            .collect()
    }

    #[test]
    fn the_distance_is_the_sum_of_byte_differences() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut byte = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 56) as u8
        };
        for _ in 0..1000 {
            let x: Features = std::array::from_fn(|_| byte());
            let w: Features = std::array::from_fn(|_| byte());
            assert_eq!(distance(&x, &w), distance_bytes(&x, &w));
        }
        assert_eq!(distance(&[255; STRIDE], &[0; STRIDE]), 255 * STRIDE as u32);
    }

    #[test]
    fn steps_follow_the_learning_period() {
        let c = Resonance::builder();
        assert_eq!(c.steps(), vec![3, 6]);
        assert_eq!(c.learning(1200).scales(3).steps(), vec![3, 6, 12]);
        // Short learning periods give one-point blocks once, not twice.
        assert_eq!(c.learning(50).steps(), vec![1]);
        assert_eq!(c.learning(0).steps(), vec![1]);
        assert_eq!(c.learning(u32::MAX).steps(), vec![50, 100]);
    }

    #[test]
    fn a_new_shape_alerts_once_and_a_repeat_of_it_is_familiar() {
        let mut d = Resonance::builder().build(None);
        // The second spike comes five days later, at the same time of day.
        let spike = |i: i64| daily(i) + if i == 2000 || i == 3440 { 40.0 } else { 0.0 };
        let scores = run(&mut d, (0..4000).map(spike));
        assert!(scores[..600].iter().all(|&s| s == 0.0), "learning is quiet");
        let alerts: Vec<usize> = (0..4000).filter(|&i| scores[i] >= SHAPE).collect();
        // The first spike alerts within a block of it, once; the second is a shape seen before.
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert!((2000..2006).contains(&alerts[0]), "{alerts:?}");
        assert!(scores[3300..].iter().all(|&s| s < SHAPE));
    }

    #[test]
    fn a_long_noisy_series_stays_watchful() {
        // 30,000 points (104 days of 5-minute samples) with noise that fills the memories:
        // old categories are replaced and the bound keeps adapting, yet spikes late in the
        // series still alert and the noise alone rarely does.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut noise = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let spikes = [12_000, 21_000, 29_000];
        let values: Vec<f64> = (0..30_000)
            .map(|i| {
                let spike = if spikes.contains(&i) { 30.0 } else { 0.0 };
                daily(i) + 4.0 * noise() + spike
            })
            .collect();
        let mut d = Resonance::builder().build(None);
        let scores = run(&mut d, values);
        assert!(
            d.categories().iter().all(|&n| n == 512),
            "{:?}",
            d.categories()
        );
        for at in spikes {
            let at = at as usize;
            assert!(
                scores[at..at + 6].iter().any(|&s| s >= SHAPE),
                "spike at {at}"
            );
        }
        let alerts = scores.iter().filter(|&&s| s >= SHAPE).count();
        assert!(alerts <= spikes.len() + 10, "{alerts} alerts");
    }

    /// The composite's alert level on the resonance's own scale.
    const SHAPE: f64 = crate::detect::SHAPE_ALERT;

    #[test]
    fn a_learnt_range_is_the_widened_learning_range() {
        let values: Vec<f64> = (0..3000)
            .map(|i| daily(i) + if i == 2400 { -30.0 } else { 0.0 })
            .collect();
        let mut learnt = Resonance::builder().build(None);
        let a = run(&mut learnt, values.iter().copied());
        let (lo, hi) = values[..600]
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let pad = 0.25 * (hi - lo);
        let range = RangeHint::new(lo - pad, hi + pad).unwrap();
        assert_eq!(learnt.range(), Some(range));
        let mut hinted = Resonance::builder().build(Some(range));
        let b = run(&mut hinted, values.iter().copied());
        assert_eq!(a, b, "replaying the learning period is the same as a hint");
        assert!(a[2400..2410].iter().any(|&s| s >= SHAPE), "the dip alerts");
    }

    #[test]
    fn constant_and_flat_series_never_alert() {
        for hint in [None, RangeHint::new(0.0, 100.0).ok()] {
            let mut d = Resonance::builder().build(hint);
            assert!(
                run(&mut d, (0..5000).map(|_| 7.0))
                    .iter()
                    .all(|&s| s == 0.0)
            );
            assert_eq!(d.categories(), vec![1, 1]);
        }
    }

    #[test]
    fn memory_is_bounded_and_stops_growing_when_full() {
        let mut d = Resonance::builder().max_categories(100).build(None);
        // White-ish noise makes a new shape nearly every block.
        let noise: Vec<f64> = (0..20_000_i64)
            .map(|i| ((i * 7919 + i * i * 31) % 1009) as f64)
            .collect();
        let learning = d.state_bytes();
        assert!(learning < 8 * 1024, "{learning}");
        run(&mut d, noise[..5000].iter().copied());
        assert_eq!(d.categories(), vec![100, 100]);
        let full = d.state_bytes();
        assert!(
            full < 16 * 1024,
            "room for 100 categories per scale, not more: {full}"
        );
        run(&mut d, noise[5000..].iter().copied());
        assert_eq!(d.state_bytes(), full, "nothing grows once full");
        // A regular series stores fewer categories than noise and stays smaller.
        let mut noisy = Resonance::builder().build(None);
        run(&mut noisy, noise.iter().copied());
        let mut calm = Resonance::builder().build(None);
        run(&mut calm, (0..20_000).map(daily));
        assert!(
            2 * calm.state_bytes() < noisy.state_bytes(),
            "{} against {}",
            calm.state_bytes(),
            noisy.state_bytes()
        );
        let mut big = Resonance::builder().max_categories(usize::MAX).build(None);
        run(&mut big, (0..700).map(|i| i as f64));
        assert!(big.state_bytes() < 8 << 20, "the cap bounds the allocation");
    }

    #[test]
    fn learning_lasts_a_day_at_least_and_at_most_max_learning_points() {
        // One point a minute: 600 points are ten hours, so learning runs for a day.
        let mut d = Resonance::builder().build(None);
        for i in 0..1440_i64 {
            assert_eq!(d.update(i * 60_000, daily(i / 5)), 0.0);
            assert!(!d.learnt(), "{i}");
        }
        d.update(1440 * 60_000, daily(288));
        assert!(d.learnt());
        assert_eq!(d.steps(), vec![7, 14], "blocks sized for 1,441 points");
        // One point a second: a day would be 86,400 points; learning stops at the cap.
        let mut d = Resonance::builder().build(None);
        for i in 0..i64::from(MAX_LEARNING) {
            d.update(i * 1000, daily(i));
        }
        assert!(d.learnt());
        // Points only, as under NAB's protocol.
        let mut d = Resonance::builder()
            .learning_time(std::time::Duration::ZERO)
            .build(None);
        run(&mut d, (0..600).map(daily));
        assert!(d.learnt());
    }

    #[test]
    fn skipped_points_change_nothing_and_reset_is_new() {
        let mut d = Resonance::builder().build(None);
        let fresh = d.clone();
        run(&mut d, (0..1500).map(daily));
        let before = d.clone();
        assert_eq!(d.update(1500 * STEP, f64::NAN), 0.0);
        assert_eq!(d.update(1499 * STEP, 1.0), 0.0);
        assert_eq!(d.update(-STEP, f64::INFINITY), 0.0);
        assert_eq!(d, before);
        d.reset();
        assert_eq!(d, fresh);
    }

    #[test]
    fn gaps_carry_the_window_on() {
        // Every fifth step misses two samples: no alert, and the blocks go on counting points.
        let mut d = Resonance::builder().build(None);
        let mut t = 0;
        let mut scores = Vec::new();
        for i in 0..4000_i64 {
            t += if i % 5 == 0 { 3 * STEP } else { STEP };
            scores.push(d.update(t, daily(i)));
        }
        assert!(scores.iter().all(|&s| s < SHAPE), "missed samples alert");
        // A spike a few points after a long outage is caught: no blind refill of the window.
        let mut d = Resonance::builder().build(None);
        let mut alerts = Vec::new();
        for i in 0..4000_i64 {
            let t = (i + if i >= 2500 { 200 } else { 0 }) * STEP;
            let v = daily(i) + if i == 2504 { 40.0 } else { 0.0 };
            if d.update(t, v) >= SHAPE {
                alerts.push(i);
            }
        }
        assert!(
            matches!(alerts.first(), Some(&i) if (2504..2510).contains(&i)),
            "{alerts:?}"
        );
    }

    #[test]
    fn out_of_range_values_clamp_and_odd_settings_are_tamed() {
        let c = Resonance::builder()
            .window(1)
            .levels(1_000)
            .resonate(f64::NAN)
            .margin(f64::NAN)
            .emphasis(99);
        let mut d = c.build(RangeHint::new(0.0, 1.0).ok());
        let s = run(
            &mut d,
            (0..3000).map(|i| if i % 2 == 0 { -1e300 } else { 1e300 }),
        );
        assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
