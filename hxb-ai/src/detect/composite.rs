//! The default detector: robust statistics + change detection + contextual novelty.

use super::{Calibrator, Combine, Cusum, Detector, Neighbour, Refractory, RobustZ, Target};

/// Settings of the [`Composite`] detector; every setter returns the config, `build()` ends it.
///
/// Defaults are chosen from the problem, not fitted to any data set: rates of 1–2 % per point
/// (a memory of 50–100 points for level and scale), a neighbour window of 8 points against a
/// history of 384 points, likelihood calibration against the last ~1000 points with an
/// 8-point short average, 150 points of warm-up, and a refractory period of 100 points after a
/// score of 0.5 (a one-in-10⁵ event).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompositeConfig {
    value_z: bool,
    diff_z: bool,
    cusum: bool,
    neighbour: bool,
    level_rate: f64,
    scale_rate: f64,
    cusum_slack: f64,
    cusum_rate: f64,
    window: usize,
    capacity: usize,
    stride: u32,
    long: f64,
    short: f64,
    warmup: u32,
    refractory: u32,
    alert_level: f64,
}

impl Default for CompositeConfig {
    fn default() -> Self {
        CompositeConfig {
            value_z: true,
            diff_z: true,
            cusum: true,
            neighbour: true,
            level_rate: 0.02,
            scale_rate: 0.01,
            cusum_slack: 1.0,
            cusum_rate: 0.005,
            window: 8,
            capacity: 96,
            stride: 4,
            long: 1000.0,
            short: 8.0,
            warmup: 150,
            refractory: 100,
            alert_level: 0.5,
        }
    }
}

impl CompositeConfig {
    /// Enables or disables the robust z-score on values.
    pub fn value_z(mut self, on: bool) -> Self {
        self.value_z = on;
        self
    }
    /// Enables or disables the robust z-score on differences.
    pub fn diff_z(mut self, on: bool) -> Self {
        self.diff_z = on;
        self
    }
    /// Enables or disables CUSUM change detection.
    pub fn cusum(mut self, on: bool) -> Self {
        self.cusum = on;
        self
    }
    /// Enables or disables nearest-neighbour context novelty.
    pub fn neighbour(mut self, on: bool) -> Self {
        self.neighbour = on;
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
    /// Points damped after a score of at least `level` (0 disables).
    pub fn refractory(mut self, points: u32, level: f64) -> Self {
        self.refractory = points;
        self.alert_level = level;
        self
    }
    /// Builds the detector.
    pub fn build(self) -> Composite {
        let cal = Calibrator::likelihood(self.long, self.short, self.warmup);
        let (lr, sr) = (self.level_rate, self.scale_rate);
        // Equal-weight mean of the enabled components; a disabled one gets weight 0.
        let w = |a: bool, b: bool| match (a, b) {
            (true, false) => 1.0,
            (false, true) => 0.0,
            _ => 0.5,
        };
        let (n_stats, n_ctx) = (
            u8::from(self.value_z) + u8::from(self.diff_z),
            u8::from(self.cusum) + u8::from(self.neighbour),
        );
        let stats = Combine::mean(
            self.value_z
                .then(|| RobustZ::new(Target::Value, lr, sr, cal)),
            self.diff_z.then(|| RobustZ::new(Target::Diff, lr, sr, cal)),
            w(self.value_z, self.diff_z),
        );
        let context = Combine::mean(
            self.cusum
                .then(|| Cusum::new(self.cusum_slack, self.cusum_rate, cal)),
            self.neighbour
                .then(|| Neighbour::new(self.window, self.capacity, self.stride, cal)),
            w(self.cusum, self.neighbour),
        );
        let share = if n_stats + n_ctx == 0 {
            0.5
        } else {
            f64::from(n_stats) / f64::from(n_stats + n_ctx)
        };
        let mixed = Combine::mean(stats, context, share);
        Composite {
            inner: Refractory::new(mixed, self.alert_level, self.refractory),
            config: self,
        }
    }
}

type Stats = Combine<Option<RobustZ>, Option<RobustZ>>;
type Context = Combine<Option<Cusum>, Option<Neighbour>>;

/// The default composite detector: equal-weight mean of four calibrated components (robust
/// z-scores on values and on differences, CUSUM, nearest-neighbour novelty), followed by a
/// refractory period.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite {
    inner: Refractory<Combine<Stats, Context>>,
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

    /// Bytes of state: the struct plus its fixed heap buffers (constant after construction).
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .inner
                .inner
                .b
                .b
                .as_ref()
                .map_or(0, Neighbour::heap_bytes)
    }
}

impl Default for Composite {
    fn default() -> Self {
        CompositeConfig::default().build()
    }
}

impl Detector for Composite {
    #[inline]
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        self.inner.update(t_ms, value).clamp(0.0, 1.0)
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
}
