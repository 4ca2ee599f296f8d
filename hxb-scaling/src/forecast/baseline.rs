//! Benchmark forecasters: Naive, seasonal naive and M4's Naive2.

use super::decompose::{classical_multiplicative_indices, seasonality_test};
use super::validate::{Fallback, validate_history, validate_period};
use super::{FittedModel, Forecast, Forecaster};
use hxb_core::Result;

/// Repeats the last observed value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Naive;

impl Forecaster for Naive {
    fn name(&self) -> &str {
        "naive"
    }

    fn fit(&self, history: &[f64]) -> Result<Box<dyn FittedModel>> {
        validate_history(history, 1, Fallback::Reject)?;
        Ok(Box::new(Repeat {
            cycle: vec![history[history.len() - 1]],
            scale: vec![1.0],
        }))
    }
}

/// Repeats the last full season (`period` values).
///
/// A history shorter than one season is rejected, or with [`Fallback::NonSeasonal`] forecast by
/// [`Naive`].
#[derive(Debug, Clone, Copy)]
pub struct SeasonalNaive {
    period: usize,
    fallback: Fallback,
}

impl SeasonalNaive {
    /// Seasonal naive with the given season length (values per cycle, e.g. 24 for a daily cycle
    /// in hourly data, 168 for a weekly one). A period of 0 is rejected at fit time.
    pub fn new(period: usize) -> Self {
        SeasonalNaive {
            period,
            fallback: Fallback::Reject,
        }
    }

    /// Sets what happens with a history shorter than one season.
    pub fn fallback(mut self, fallback: Fallback) -> Self {
        self.fallback = fallback;
        self
    }
}

impl Forecaster for SeasonalNaive {
    fn name(&self) -> &str {
        "snaive"
    }

    fn fit(&self, history: &[f64]) -> Result<Box<dyn FittedModel>> {
        validate_period(self.period)?;
        let seasonal = validate_history(history, self.period, self.fallback)?;
        let p = if seasonal { self.period } else { 1 };
        let cycle = history[history.len() - p..].to_vec();
        Ok(Box::new(Repeat {
            cycle,
            scale: vec![1.0],
        }))
    }
}

/// M4's Naive2: naive on the seasonally adjusted series.
///
/// When [`seasonality_test`] passes at lag `period`, the series is divided by the indices of a
/// [`classical_multiplicative_indices`] decomposition, the last adjusted value is repeated, and
/// the indices are put back; otherwise it is [`Naive`]. A history shorter than one season is
/// rejected, or with [`Fallback::NonSeasonal`] forecast without seasonal adjustment (what M4
/// does for any series shorter than three seasons).
#[derive(Debug, Clone, Copy)]
pub struct Naive2 {
    period: usize,
    fallback: Fallback,
}

impl Naive2 {
    /// Naive2 with the given season length.
    pub fn new(period: usize) -> Self {
        Naive2 {
            period,
            fallback: Fallback::Reject,
        }
    }

    /// Sets what happens with a history shorter than one season.
    pub fn fallback(mut self, fallback: Fallback) -> Self {
        self.fallback = fallback;
        self
    }
}

impl Forecaster for Naive2 {
    fn name(&self) -> &str {
        "naive2"
    }

    fn fit(&self, history: &[f64]) -> Result<Box<dyn FittedModel>> {
        validate_period(self.period)?;
        validate_history(history, self.period, self.fallback)?;
        let n = history.len();
        let last = history[n - 1];
        let indices = if seasonality_test(history, self.period) {
            classical_multiplicative_indices(history, self.period)
        } else {
            None
        };
        let model = match indices {
            Some(idx) => {
                let p = self.period;
                let adjusted = last / idx[(n - 1) % p];
                // Index for future step h (0-based) is idx[(n + h) % p].
                let scale: Vec<f64> = (0..p).map(|h| idx[(n + h) % p]).collect();
                Repeat {
                    cycle: vec![adjusted],
                    scale,
                }
            }
            None => Repeat {
                cycle: vec![last],
                scale: vec![1.0],
            },
        };
        Ok(Box::new(model))
    }
}

/// `cycle[h % cycle.len()] * scale[h % scale.len()]`.
struct Repeat {
    cycle: Vec<f64>,
    scale: Vec<f64>,
}

impl FittedModel for Repeat {
    fn forecast(&self, horizon: usize) -> Forecast {
        let point = (0..horizon)
            .map(|h| self.cycle[h % self.cycle.len()] * self.scale[h % self.scale.len()])
            .collect();
        Forecast::point(point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;

    #[test]
    fn naive_and_snaive_repeat() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(Naive.forecast(&x, 3).unwrap().point, vec![5.0; 3]);
        assert_eq!(
            SeasonalNaive::new(2).forecast(&x, 5).unwrap().point,
            vec![4.0, 5.0, 4.0, 5.0, 4.0]
        );
        assert_eq!(
            SeasonalNaive::new(9).forecast(&x, 1).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            SeasonalNaive::new(9)
                .fallback(Fallback::NonSeasonal)
                .forecast(&x, 2)
                .unwrap()
                .point,
            vec![5.0, 5.0]
        );
        assert!(SeasonalNaive::new(0).forecast(&x, 2).is_err());
    }

    #[test]
    fn naive2_reseasonalises_the_last_adjusted_value() {
        let pattern = [0.5, 1.0, 1.5, 1.0];
        let x: Vec<f64> = (0..42).map(|t| 20.0 * pattern[t % 4]).collect();
        let f = Naive2::new(4).forecast(&x, 6).unwrap().point;
        let expect: Vec<f64> = (42..48).map(|t| 20.0 * pattern[t % 4]).collect();
        for (a, b) in f.iter().zip(&expect) {
            assert!((a - b).abs() < 1e-9, "{f:?} vs {expect:?}");
        }
        // Without seasonality it is the naive forecast.
        let flat = [
            3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0, 7.0,
        ];
        assert_eq!(
            Naive2::new(4).forecast(&flat, 2).unwrap().point,
            vec![7.0, 7.0]
        );
    }
}
