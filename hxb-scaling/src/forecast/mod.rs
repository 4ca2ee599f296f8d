//! Forecasting of metric series.
//!
//! Every forecaster implements [`Forecaster`]: it validates a history (finite, non-negative,
//! non-empty, at least one season long unless a non-seasonal fallback is allowed), fits a model
//! and returns a [`FittedModel`] that produces point forecasts (and, where cheap, prediction
//! intervals) for any horizon.
//!
//! | forecaster | what it does |
//! |---|---|
//! | [`Naive`] | repeats the last value |
//! | [`SeasonalNaive`] | repeats the last season |
//! | [`Naive2`] | M4's benchmark: naive on the series seasonally adjusted by a classical multiplicative decomposition when a 90 % autocorrelation test finds seasonality |
//! | [`SeasonalEnsemble`] | the production forecaster: a combination of robust seasonal methods (daily and weekly profiles, exponential smoothing, seasonal naive) chosen per series by validation on the end of its own history |
//!
//! [`metrics`] holds the M4 accuracy measures (sMAPE, MASE, OWA) and [`eval`] a small evaluator
//! that runs forecasters over a set of series and scores them.
//!
//! ```
//! use hxb_scaling::forecast::{Forecaster, SeasonalEnsemble, SeasonalNaive};
//! # fn main() -> hxb_core::Result<()> {
//! // Four weeks of an hourly load with a daily cycle.
//! let load: Vec<f64> = (0..24 * 28)
//!     .map(|t| 100.0 + 40.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin())
//!     .collect();
//! let next_day = SeasonalEnsemble::hourly().forecast(&load, 24)?;
//! assert_eq!(next_day.point.len(), 24);
//! let snaive = SeasonalNaive::new(24).forecast(&load, 24)?;
//! assert!((snaive.point[6] - load[load.len() - 18]).abs() < 1e-9);
//! # Ok(()) }
//! ```

mod ar;
mod baseline;
mod decompose;
mod ensemble;
mod ets;
pub mod eval;
pub mod metrics;
mod profile;
mod validate;

#[cfg(test)]
mod tests;

pub use baseline::{Naive, Naive2, SeasonalNaive};
pub use decompose::{classical_multiplicative_indices, seasonality_test};
pub use ensemble::{Combine, Component, SeasonalEnsemble, SeasonalEnsembleBuilder};
pub use validate::{Fallback, validate_history};

use hxb_core::Result;

/// A forecast for the steps after the end of a history.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Point forecasts, one per future step (step 1 first).
    pub point: Vec<f64>,
    /// Lower and upper bounds of a prediction interval per step, when the model offers them.
    pub interval: Option<Interval>,
}

/// A prediction interval per step.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Nominal coverage, e.g. `0.8` for an 80 % interval.
    pub level: f64,
    /// Lower bound per step.
    pub lower: Vec<f64>,
    /// Upper bound per step.
    pub upper: Vec<f64>,
}

impl Forecast {
    /// A point forecast without interval.
    pub fn point(point: Vec<f64>) -> Self {
        Forecast {
            point,
            interval: None,
        }
    }
}

/// A model fitted to one history.
pub trait FittedModel: Send + Sync {
    /// Forecasts `horizon` steps after the end of the history the model was fitted on.
    fn forecast(&self, horizon: usize) -> Forecast;
}

/// A forecasting method.
///
/// Implementations validate the history with [`validate_history`] and return
/// [`hxb_core::Error::InvalidInput`] for NaN, infinite or negative values, empty histories and
/// histories shorter than the method's season (unless the method was configured with
/// [`Fallback::NonSeasonal`]).
pub trait Forecaster: Send + Sync {
    /// A short, stable name for tables and logs (e.g. `"snaive"`).
    fn name(&self) -> &str;

    /// Fits the method to `history` (oldest value first).
    fn fit(&self, history: &[f64]) -> Result<Box<dyn FittedModel>>;

    /// Fits and forecasts `horizon` steps in one call.
    fn forecast(&self, history: &[f64], horizon: usize) -> Result<Forecast> {
        Ok(self.fit(history)?.forecast(horizon))
    }
}
