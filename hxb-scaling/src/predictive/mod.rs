//! Predictive scaling: replicas ahead of demand from a load forecast, combined safely with the
//! reactive HPA.
//!
//! A pod asked for now serves traffic only after its start-up time (the *lead time*). The
//! [`PredictiveScaler`] therefore sizes for the highest forecast load between now and the first
//! step after the lead time, with a safety margin, clamps that to its replica bounds, and
//! returns `max(hpa, predictive)`:
//!
//! - it is **never below the HPA** recommendation, whatever the forecast says (a wrong forecast
//!   can only add capacity, never remove what the reactive controller asks for);
//! - it **scales down only when both agree**: the result is below the current replica count
//!   only when the HPA and the forecast both ask for fewer, and because the forecast side takes
//!   the maximum over the whole lead window, capacity is not removed shortly before a forecast
//!   peak;
//! - a ramp in the forecast is anticipated by the lead time: replicas for a load expected at
//!   step `s` are requested at step `s - lead`.
//!
//! ```
//! use hxb_scaling::predictive::PredictiveScaler;
//! use std::time::Duration;
//! # fn main() -> hxb_core::Result<()> {
//! let scaler = PredictiveScaler::builder(100.0) // each replica serves 100 requests/s
//!     .lead_time(Duration::from_secs(180))     // pods take 3 minutes to become ready
//!     .step(Duration::from_secs(60))           // one forecast value per minute
//!     .margin(0.1)
//!     .replicas(1, 50)
//!     .build()?;
//! // Load forecast for the next minutes: a burst arrives in 4 minutes.
//! let forecast = [200.0, 210.0, 220.0, 900.0, 950.0];
//! let rec = scaler.recommend(&forecast, 3)?;
//! assert_eq!(rec.predictive, 10); // ceil(900 * 1.1 / 100)
//! assert_eq!(rec.replicas, 10);   // max(hpa = 3, predictive = 10)
//! # Ok(()) }
//! ```

use crate::forecast::Forecaster;
use hxb_core::{Error, Result};
use std::time::Duration;

/// Turns a load forecast into a replica count ahead of demand.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictiveScaler {
    target_per_replica: f64,
    lead_time: Duration,
    step: Duration,
    margin: f64,
    min_replicas: u32,
    max_replicas: u32,
}

/// Builder for a [`PredictiveScaler`].
#[derive(Debug, Clone)]
pub struct PredictiveScalerBuilder {
    inner: PredictiveScaler,
}

impl PredictiveScalerBuilder {
    /// Pod start-up time: how long after a scale-up the new replicas serve load (default 0).
    pub fn lead_time(mut self, lead: Duration) -> Self {
        self.inner.lead_time = lead;
        self
    }

    /// Time between two forecast values (default 60 s).
    pub fn step(mut self, step: Duration) -> Self {
        self.inner.step = step;
        self
    }

    /// Relative head-room added to the forecast load (default 0.1 = 10 %).
    pub fn margin(mut self, margin: f64) -> Self {
        self.inner.margin = margin;
        self
    }

    /// Bounds of the predictive recommendation (default 1 to `u32::MAX`). They do not bound the
    /// HPA's own recommendation, which always wins when it is higher.
    pub fn replicas(mut self, min: u32, max: u32) -> Self {
        self.inner.min_replicas = min;
        self.inner.max_replicas = max;
        self
    }

    /// Checks the configuration: a positive finite per-replica target, a non-zero step, a finite
    /// non-negative margin and `min <= max`.
    pub fn build(self) -> Result<PredictiveScaler> {
        let s = self.inner;
        if !(s.target_per_replica.is_finite() && s.target_per_replica > 0.0) {
            return Err(Error::invalid(
                "target_per_replica",
                "must be positive and finite",
            ));
        }
        if s.step.is_zero() {
            return Err(Error::invalid("step", "must be positive"));
        }
        if !(s.margin.is_finite() && s.margin >= 0.0) {
            return Err(Error::invalid("margin", "must be finite and non-negative"));
        }
        if s.min_replicas > s.max_replicas {
            return Err(Error::invalid("replicas", "min is above max"));
        }
        Ok(s)
    }
}

/// Why the combined recommendation has its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Driver {
    /// The reactive HPA asked for at least as many replicas as the forecast.
    Hpa,
    /// The forecast asked for more than the HPA.
    Forecast,
}

/// The outcome of [`PredictiveScaler::recommend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// Replicas to run: `max(hpa, predictive)`.
    pub replicas: u32,
    /// The forecast's own recommendation, clamped to the scaler's bounds.
    pub predictive: u32,
    /// The HPA recommendation passed in.
    pub hpa: u32,
    /// Which side decided.
    pub driver: Driver,
    /// Forecast steps considered (steps 1 to `window` after now).
    pub window: usize,
}

impl PredictiveScaler {
    /// A builder for a scaler where one replica serves `target_per_replica` units of load
    /// (requests/s, CPU cores, ...).
    pub fn builder(target_per_replica: f64) -> PredictiveScalerBuilder {
        PredictiveScalerBuilder {
            inner: PredictiveScaler {
                target_per_replica,
                lead_time: Duration::ZERO,
                step: Duration::from_secs(60),
                margin: 0.1,
                min_replicas: 1,
                max_replicas: u32::MAX,
            },
        }
    }

    /// Forecast steps the scaler looks at: the steps up to the lead time plus the first step
    /// after it (`ceil(lead / step) + 1`).
    pub fn window(&self) -> usize {
        let lead = self.lead_time.as_nanos();
        let step = self.step.as_nanos();
        usize::try_from(lead.div_ceil(step))
            .unwrap_or(usize::MAX)
            .saturating_add(1)
    }

    /// Replicas needed for `load` with the margin: `ceil(load * (1 + margin) / target)`.
    pub fn replicas_for(&self, load: f64) -> u32 {
        let r = (load * (1.0 + self.margin) / self.target_per_replica).ceil();
        // Saturating float-to-int conversion; load is validated finite and non-negative.
        r as u32
    }

    /// Combines a load forecast (`forecast[i]` is the load expected `i + 1` steps from now) with
    /// the reactive HPA recommendation.
    ///
    /// Errors ([`hxb_core::ErrorKind::InvalidInput`], nothing computed): a NaN, infinite or
    /// negative forecast value, or a forecast shorter than [`window`](Self::window). Values
    /// beyond the window are ignored.
    pub fn recommend(&self, forecast: &[f64], hpa_replicas: u32) -> Result<Recommendation> {
        let window = self.window();
        if forecast.len() < window {
            return Err(Error::invalid(
                "forecast",
                format!(
                    "{} steps do not cover the lead window of {window} steps",
                    forecast.len()
                ),
            ));
        }
        let ahead = &forecast[..window];
        if let Some(v) = ahead.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(Error::invalid(
                "forecast",
                format!("load {v} is not a finite non-negative number"),
            ));
        }
        let peak = ahead.iter().copied().fold(0.0, f64::max);
        let predictive = self
            .replicas_for(peak)
            .clamp(self.min_replicas, self.max_replicas);
        let (replicas, driver) = if predictive > hpa_replicas {
            (predictive, Driver::Forecast)
        } else {
            (hpa_replicas, Driver::Hpa)
        };
        Ok(Recommendation {
            replicas,
            predictive,
            hpa: hpa_replicas,
            driver,
            window,
        })
    }

    /// Forecasts the next [`window`](Self::window) steps of `history` with `forecaster` and
    /// calls [`recommend`](Self::recommend). When `use_upper` is set and the forecaster offers a
    /// prediction interval, its upper bound is used instead of the point forecast.
    pub fn recommend_from_history(
        &self,
        forecaster: &dyn Forecaster,
        history: &[f64],
        use_upper: bool,
        hpa_replicas: u32,
    ) -> Result<Recommendation> {
        let fc = forecaster.forecast(history, self.window())?;
        let load = match (use_upper, fc.interval) {
            (true, Some(i)) => i.upper,
            _ => fc.point,
        };
        self.recommend(&load, hpa_replicas)
    }
}

#[cfg(test)]
mod tests;
