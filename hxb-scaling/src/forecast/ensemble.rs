//! The production forecaster: a validated combination of robust seasonal methods.

use super::ar;
use super::ets::{LevelFit, damped, ses};
use super::profile::{deseasonalise, robust_profile};
use super::validate::{Fallback, validate_history, validate_period};
use super::{FittedModel, Forecast, Forecaster, Interval};
use hxb_core::{Error, Result};

/// One member method of a [`SeasonalEnsemble`], working on the log-transformed series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Component {
    /// Repeat the last cycle of `period` values.
    SeasonalNaive {
        /// Cycle length.
        period: usize,
    },
    /// Robust profile of `period` (median over the last `cycles` cycles) plus the mean of the
    /// last cycle of the deseasonalised series.
    ProfileMean {
        /// Cycle length.
        period: usize,
        /// Cycles the profile's median runs over.
        cycles: usize,
    },
    /// Robust profile plus simple exponential smoothing of the deseasonalised series.
    ProfileSes {
        /// Cycle length.
        period: usize,
        /// Cycles the profile's median runs over.
        cycles: usize,
    },
    /// Robust profile plus damped-trend exponential smoothing of the deseasonalised series.
    ProfileDamped {
        /// Cycle length.
        period: usize,
        /// Cycles the profile's median runs over.
        cycles: usize,
    },
    /// Autoregression on the log series with lags 1-3 and the neighbours of one and two
    /// `period`s (and of one `long` period when set), fitted by least squares.
    Autoregressive {
        /// Short cycle length (e.g. 24).
        period: usize,
        /// Optional long cycle length (e.g. 168).
        long: Option<usize>,
    },
    /// Simple exponential smoothing without seasonality.
    Ses,
    /// Damped-trend exponential smoothing without seasonality.
    Damped,
}

impl Component {
    /// Values of history the component needs.
    fn min_len(self) -> usize {
        match self {
            Component::SeasonalNaive { period }
            | Component::ProfileMean { period, .. }
            | Component::ProfileSes { period, .. }
            | Component::ProfileDamped { period, .. } => period,
            Component::Autoregressive { .. } => {
                let lags = self.lags();
                lags.iter().max().copied().unwrap_or(0) + 4 * (lags.len() + 1)
            }
            Component::Ses | Component::Damped => 1,
        }
    }

    fn lags(self) -> Vec<usize> {
        let Component::Autoregressive { period: p, long } = self else {
            return Vec::new();
        };
        let mut lags = vec![1, 2, 3];
        for c in [p, 2 * p].into_iter().chain(long) {
            lags.extend([c.saturating_sub(1), c, c + 1]);
        }
        lags.sort_unstable();
        lags.dedup();
        lags.retain(|l| *l > 0);
        lags
    }

    fn fit(self, z: &[f64]) -> Fitted {
        let n = z.len();
        let with_profile = |period: usize, cycles: usize, level: &dyn Fn(&[f64]) -> LevelFit| {
            let profile = robust_profile(z, period, cycles);
            let d = deseasonalise(z, &profile);
            Fitted::Profile {
                profile,
                level: level(&d),
            }
        };
        match self {
            Component::SeasonalNaive { period } => Fitted::Cycle(z[n - period..].to_vec()),
            Component::ProfileMean { period, cycles } => with_profile(period, cycles, &|d| {
                let tail = &d[d.len() - period.min(d.len())..];
                let level = tail.iter().sum::<f64>() / tail.len() as f64;
                LevelFit {
                    level,
                    trend: 0.0,
                    phi: 0.0,
                }
            }),
            Component::ProfileSes { period, cycles } => with_profile(period, cycles, &ses),
            Component::ProfileDamped { period, cycles } => with_profile(period, cycles, &damped),
            Component::Autoregressive { period, .. } => match ar::fit(z, &self.lags()) {
                Some(fit) => Fitted::Ar(fit),
                None => Fitted::Cycle(z[n - period.min(n)..].to_vec()),
            },
            Component::Ses => Fitted::Profile {
                profile: vec![0.0],
                level: ses(z),
            },
            Component::Damped => Fitted::Profile {
                profile: vec![0.0],
                level: damped(z),
            },
        }
    }
}

/// A fitted component in the transformed scale.
#[derive(Debug, Clone)]
enum Fitted {
    Cycle(Vec<f64>),
    Ar(ar::ArFit),
    Profile { profile: Vec<f64>, level: LevelFit },
}

impl Fitted {
    fn forecast(&self, horizon: usize) -> Vec<f64> {
        match self {
            Fitted::Cycle(c) => (0..horizon).map(|h| c[h % c.len()]).collect(),
            Fitted::Ar(fit) => fit.forecast(horizon),
            Fitted::Profile { profile, level } => level
                .forecast(horizon)
                .into_iter()
                .enumerate()
                .map(|(h, l)| l + profile[h % profile.len()])
                .collect(),
        }
    }
}

/// How the validated components are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Combine {
    /// Median of all components (no validation).
    Median,
    /// Mean of the `k` components with the lowest validation error (the default is 2).
    TopMean(usize),
}

/// A combination of robust seasonal methods, selected per series by validation on the end of
/// its own history.
///
/// Works on `ln(y + c)` (`c = 0` when every value is positive, else 1 % of the mean, or 1 for an
/// all-zero history), so seasonal profiles are multiplicative and forecasts stay non-negative.
/// Fitting: every [`Component`] is fitted on the history minus its last `validation` values and
/// scored by the mean absolute error (in the log scale, i.e. a relative error) on those values,
/// repeated for several consecutive origins (by default covering the longest period); the best
/// `k` are refitted on the whole history and averaged. Nothing but the history is used. An 80 %
/// prediction interval is derived from the combination's error on the latest validation window
/// (normal approximation in the log scale, same width at every step: a rough guide, not a
/// calibrated interval).
///
/// A history shorter than the shortest period is rejected, or with [`Fallback::NonSeasonal`]
/// forecast by non-seasonal exponential smoothing.
#[derive(Debug, Clone)]
pub struct SeasonalEnsemble {
    periods: Vec<usize>,
    components: Vec<Component>,
    validation: usize,
    origins: usize,
    combine: Combine,
    fallback: Fallback,
}

/// Builder for a [`SeasonalEnsemble`].
#[derive(Debug, Clone)]
pub struct SeasonalEnsembleBuilder {
    inner: SeasonalEnsemble,
}

impl SeasonalEnsembleBuilder {
    /// Season lengths (e.g. `[24, 168]` for daily and weekly cycles in hourly data). They set
    /// the default components (see [`Component`]) and the minimum history (the shortest one).
    pub fn periods(mut self, periods: &[usize]) -> Self {
        self.inner.periods = periods.to_vec();
        self
    }

    /// Replaces the components (default: derived from the periods).
    pub fn components(mut self, components: &[Component]) -> Self {
        self.inner.components = components.to_vec();
        self
    }

    /// Values held out at the end of each history to score the components (default 48).
    pub fn validation(mut self, steps: usize) -> Self {
        self.inner.validation = steps;
        self
    }

    /// Validation origins: each component is scored on the last `validation` values, and with
    /// more origins also on the `validation` values before those, and so on. Default: enough
    /// origins to cover the longest period (`ceil(longest / validation)`, 4 for hourly data), so
    /// that a weekly effect is seen by the validation. `0` selects the default.
    pub fn origins(mut self, origins: usize) -> Self {
        self.inner.origins = origins;
        self
    }

    /// How components are combined (default: mean of the best two).
    pub fn combine(mut self, combine: Combine) -> Self {
        self.inner.combine = combine;
        self
    }

    /// What to do with histories shorter than the shortest period.
    pub fn fallback(mut self, fallback: Fallback) -> Self {
        self.inner.fallback = fallback;
        self
    }

    /// Checks the configuration and builds the forecaster.
    pub fn build(mut self) -> Result<SeasonalEnsemble> {
        let e = &mut self.inner;
        if e.periods.is_empty() {
            return Err(Error::invalid(
                "periods",
                "at least one season length is needed",
            ));
        }
        for p in &e.periods {
            validate_period(*p)?;
        }
        e.periods.sort_unstable();
        if e.components.is_empty() {
            e.components = default_components(&e.periods);
        }
        if e.origins == 0 {
            let longest = e.periods[e.periods.len() - 1];
            e.origins = longest.div_ceil(e.validation.max(1)).max(1);
        }
        if let Combine::TopMean(0) = e.combine {
            return Err(Error::invalid("combine", "top-k needs k >= 1"));
        }
        Ok(self.inner)
    }
}

/// The default members for sorted `periods` (shortest `s`, longest `l`): seasonal naive of `s`;
/// profile + mean and profile + SES of `l`; autoregressions on `s` alone and on `s` with `l`.
/// Profiles take the median over about four weeks of hourly data: `672 / l` cycles, clamped to
/// 3..=7.
fn default_components(periods: &[usize]) -> Vec<Component> {
    let (short, long) = (periods[0], periods[periods.len() - 1]);
    let cycles = (672 / long).clamp(3, 7);
    let mut out = vec![
        Component::SeasonalNaive { period: short },
        Component::ProfileMean {
            period: long,
            cycles,
        },
        Component::ProfileSes {
            period: long,
            cycles,
        },
        Component::Autoregressive {
            period: short,
            long: None,
        },
    ];
    if long != short {
        out.push(Component::Autoregressive {
            period: short,
            long: Some(long),
        });
    }
    out
}

impl SeasonalEnsemble {
    /// A builder with no periods set.
    pub fn builder() -> SeasonalEnsembleBuilder {
        SeasonalEnsembleBuilder {
            inner: SeasonalEnsemble {
                periods: Vec::new(),
                components: Vec::new(),
                validation: 48,
                origins: 0,
                combine: Combine::TopMean(2),
                fallback: Fallback::Reject,
            },
        }
    }

    /// The configuration for hourly metrics: daily (24) and weekly (168) cycles, validation on
    /// four consecutive windows of 48 values, mean of the best two components.
    pub fn hourly() -> Self {
        Self::builder()
            .periods(&[24, 168])
            .build()
            .expect("valid hourly configuration")
    }
}

impl SeasonalEnsemble {
    /// The components this forecaster combines.
    pub fn components_list(&self) -> &[Component] {
        &self.components
    }
}

/// `ln(y + c)` and its inverse.
#[derive(Debug, Clone, Copy)]
struct LogShift(f64);

impl LogShift {
    fn for_history(y: &[f64]) -> Self {
        let min = y.iter().copied().fold(f64::INFINITY, f64::min);
        if min > 0.0 {
            return LogShift(0.0);
        }
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        LogShift(if mean > 0.0 { 0.01 * mean } else { 1.0 })
    }
    fn apply(self, v: f64) -> f64 {
        (v + self.0).ln()
    }
    fn invert(self, z: f64) -> f64 {
        (z.exp() - self.0).max(0.0)
    }
}

fn combine_forecasts(fits: &[Vec<f64>], how: Combine) -> Vec<f64> {
    let h = fits.first().map_or(0, Vec::len);
    match how {
        Combine::Median => (0..h)
            .map(|i| {
                let mut col: Vec<f64> = fits.iter().map(|f| f[i]).collect();
                super::profile::median(&mut col)
            })
            .collect(),
        Combine::TopMean(_) => (0..h)
            .map(|i| fits.iter().map(|f| f[i]).sum::<f64>() / fits.len() as f64)
            .collect(),
    }
}

impl Forecaster for SeasonalEnsemble {
    fn name(&self) -> &str {
        "ensemble"
    }

    fn fit(&self, history: &[f64]) -> Result<Box<dyn FittedModel>> {
        let shortest = self.periods[0];
        let seasonal = validate_history(history, shortest, self.fallback)?;
        let shift = LogShift::for_history(history);
        let z: Vec<f64> = history.iter().map(|v| shift.apply(*v)).collect();
        let n = z.len();
        let usable: Vec<Component> = if seasonal {
            self.components
                .iter()
                .copied()
                .filter(|c| c.min_len() <= n)
                .collect()
        } else {
            vec![Component::Ses, Component::Damped]
        };
        let v = self.validation;
        // Rolling origins: the history minus its last o*v values, for o = 1..=origins, as long as
        // some component can still be fitted on the shortest of them.
        let origins = (1..=self.origins)
            .take_while(|o| n > o * v && usable.iter().any(|c| c.min_len() <= n - o * v))
            .count();
        // Score every component that fits at every origin by its mean absolute error.
        let mut scored: Vec<(f64, Component, Vec<f64>)> = Vec::new();
        if v > 0 && origins > 0 {
            for c in usable.iter().filter(|c| c.min_len() <= n - origins * v) {
                let mut total = 0.0;
                let mut latest = Vec::new();
                for o in 1..=origins {
                    let (train, rest) = z.split_at(n - o * v);
                    let f = c.fit(train).forecast(v);
                    total += f
                        .iter()
                        .zip(&rest[..v])
                        .map(|(a, b)| (a - b).abs())
                        .sum::<f64>();
                    if o == 1 {
                        latest = f;
                    }
                }
                scored.push((total / (origins * v) as f64, *c, latest));
            }
        }
        let (chosen, spread) = if scored.is_empty() {
            (usable.clone(), None)
        } else {
            scored.sort_by(|a, b| a.0.total_cmp(&b.0));
            let k = match self.combine {
                Combine::TopMean(k) => k.min(scored.len()),
                Combine::Median => scored.len(),
            };
            let val: Vec<Vec<f64>> = scored[..k].iter().map(|s| s.2.clone()).collect();
            let comb = combine_forecasts(&val, self.combine);
            let test = &z[n - v..];
            let mse = comb
                .iter()
                .zip(test)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                / v as f64;
            (scored[..k].iter().map(|s| s.1).collect(), Some(mse.sqrt()))
        };
        let fitted: Vec<Fitted> = chosen.iter().map(|c| c.fit(&z)).collect();
        Ok(Box::new(EnsembleModel {
            fitted,
            combine: self.combine,
            shift,
            spread,
        }))
    }
}

struct EnsembleModel {
    fitted: Vec<Fitted>,
    combine: Combine,
    shift: LogShift,
    /// Root mean squared validation error of the combination (log scale).
    spread: Option<f64>,
}

/// z-score of an 80 % two-sided normal interval.
const Z80: f64 = 1.281_551_565_545;

impl FittedModel for EnsembleModel {
    fn forecast(&self, horizon: usize) -> Forecast {
        let fits: Vec<Vec<f64>> = self.fitted.iter().map(|f| f.forecast(horizon)).collect();
        let z = combine_forecasts(&fits, self.combine);
        let point = z.iter().map(|v| self.shift.invert(*v)).collect();
        let interval = self.spread.map(|s| Interval {
            level: 0.8,
            lower: z.iter().map(|v| self.shift.invert(v - Z80 * s)).collect(),
            upper: z.iter().map(|v| self.shift.invert(v + Z80 * s)).collect(),
        });
        Forecast { point, interval }
    }
}
