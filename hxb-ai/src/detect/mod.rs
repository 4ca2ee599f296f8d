//! Streaming anomaly detection for metric series.
//!
//! Every detector implements [`Detector`]: feed points one at a time with
//! [`Detector::update`] and get an anomaly score in `[0, 1]` back. State is a fixed set of
//! numbers and fixed-size buffers: memory per series is bounded (the resonance stage holds
//! its learning period's values, then allocates its memory once; the optional contextOSE
//! parts grow up to a fixed cap).
//!
//! * [`Composite`]: the default detector. While it learns (600 points and at least a day
//!   by default) the statistical components below score, merged by a [`Combination`] (by
//!   default the mean of the two strongest) and followed by a refractory period; then the
//!   [`Resonance`] stage takes over. Configured by [`CompositeConfig`].
//! * [`Resonance`]: novelty of downsampled window shapes against a fuzzy adaptive-resonance
//!   memory, on two time scales, in a range given in advance ([`RangeHint`]) or learnt.
//! * [`RobustZ`]: robust level/scale tracking (Huber-clipped EWMA location, EWMA absolute
//!   deviation) on the values or on their differences.
//! * [`Cusum`]: two-sided CUSUM change detection on the standardised series.
//! * [`Neighbour`]: contextual nearest-neighbour novelty of the last few points against a
//!   bounded, subsampled history of past windows.
//! * [`Seasonal`]: deviation from a time-of-day baseline (96 quarter-hour slots by default).
//! * [`ContextOse`]: contextual anomaly detection after NAB's contextOSE, with a bounded
//!   context memory (optional; far slower than the others).
//! * [`RangeHint`]: the range a series is expected to stay in, known in advance.
//! * [`RankCalibration`]: optional second calibration stage of the statistical components
//!   mapping each one's score to its own running percentile (off by default).
//! * [`Combine`]: composes any two detectors (maximum or weighted mean), nestable.
//! * [`Refractory`]: post-processing that lets a score spike once and stay quiet for a while.
//!
//! Each statistical component turns its raw surprise into a score with a [`Calibrator`]: by
//! default the Gaussian tail probability `p` of a short average of the raw values against
//! their long-run mean and spread, reported as `min(1, −log10(p)/10)` (0.5 = a one-in-10⁵
//! event). Scores of different series and components are therefore comparable and one
//! threshold fits all; a mean of calibrated scores is a mean of the components' `−log10 p`
//! (a Fisher-style combination of evidence). The [`Composite`] maps the resonance stage's
//! scores to the same reading: 0.5 is an alert ([`SHAPE_ALERT`]).
//!
//! Input handling: a NaN or infinite value is skipped (score 0, state unchanged); a point
//! whose timestamp is not after the previous one is skipped the same way; a gap (time step
//! larger than [`GAP_FACTOR`] times the usual step) restarts the statistical components'
//! difference, context and window tracking but keeps what was learnt (the time-of-day
//! baseline follows the clock, so it is unaffected); the [`Resonance`] stage counts points,
//! not time, so its windows carry on across a gap; a constant series scores 0 throughout.
//! The batch API [`score_series`] instead rejects NaN, duplicate or unsorted timestamps with
//! a typed `InvalidInput` error before touching the detector.
//!
//! ```
//! use hxb_ai::detect::{Composite, Detector};
//!
//! let mut det = Composite::default();
//! let scores: Vec<f64> = (0..2000_i64)
//!     .map(|i| {
//!         let v = if i == 1500 { 50.0 } else { (i as f64 / 20.0).sin() };
//!         det.update(i * 300_000, v)
//!     })
//!     .collect();
//! // Once learnt, the spike alerts once, within a few points (the shape stage scores blocks).
//! let alerts: Vec<usize> = (600..2000).filter(|&i| scores[i] >= 0.5).collect();
//! assert_eq!(alerts.len(), 1);
//! assert!((1500..1506).contains(&alerts[0]));
//! ```

mod calibrate;
mod combine;
mod composite;
mod context;
mod cusum;
mod neighbour;
mod range;
mod rank;
mod resonance;
mod robust;
mod seasonal;

pub use calibrate::Calibrator;
pub use combine::{Combine, Refractory};
pub use composite::{Combination, Composite, CompositeConfig, ContextMode, SHAPE_ALERT};
pub use context::ContextOse;
pub use cusum::Cusum;
pub use neighbour::Neighbour;
pub use range::RangeHint;
pub use rank::RankCalibration;
pub use resonance::{MAX_LEARNING, MAX_WINDOW, Resonance, ResonanceConfig};
pub use robust::{RobustZ, Target};
pub use seasonal::Seasonal;

use hxb_core::{Error, Result};

/// A time step larger than this multiple of the usual step is treated as a gap.
pub const GAP_FACTOR: f64 = 4.0;

/// A streaming anomaly detector for one series.
pub trait Detector {
    /// Consumes the point `(t_ms, value)` and returns its anomaly score in `[0, 1]`.
    fn update(&mut self, t_ms: i64, value: f64) -> f64;
    /// Forgets everything learnt, as if newly constructed.
    fn reset(&mut self);
}

impl<D: Detector + ?Sized> Detector for Box<D> {
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        (**self).update(t_ms, value)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

/// Checks a batch of points: finite values, strictly increasing timestamps.
pub fn validate_series(points: &[(i64, f64)]) -> Result<()> {
    for (i, &(t, v)) in points.iter().enumerate() {
        if !v.is_finite() {
            return Err(Error::invalid(
                format!("points[{i}].value"),
                "value is NaN or infinite",
            ));
        }
        if i > 0 {
            let prev = points[i - 1].0;
            if t == prev {
                return Err(Error::invalid(
                    format!("points[{i}].t_ms"),
                    "duplicate timestamp",
                ));
            }
            if t < prev {
                return Err(Error::invalid(
                    format!("points[{i}].t_ms"),
                    "timestamps are not sorted",
                ));
            }
        }
    }
    Ok(())
}

/// Scores a whole series with `detector` (which continues from its current state).
///
/// Errors with `InvalidInput` (and leaves the detector untouched) when a value is NaN or
/// infinite or timestamps are duplicated or out of order.
pub fn score_series<D: Detector + ?Sized>(
    detector: &mut D,
    points: &[(i64, f64)],
) -> Result<Vec<f64>> {
    validate_series(points)?;
    Ok(points.iter().map(|&(t, v)| detector.update(t, v)).collect())
}

/// Scores every point with the streaming rules: a NaN value or a timestamp that is not after
/// the previous one scores 0 and is otherwise ignored. Never fails; one score per point.
///
/// Real exports contain such rows (NAB's `ec2_disk_write_bytes_1ef3de.csv` repeats
/// `2014-03-09 03:00:00`, a daylight-saving artefact); use this when every row needs a score.
pub fn score_points<D: Detector + ?Sized>(detector: &mut D, points: &[(i64, f64)]) -> Vec<f64> {
    points.iter().map(|&(t, v)| detector.update(t, v)).collect()
}

/// Tracks time steps to spot gaps and out-of-order points (shared by the components).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Clock {
    last_t: Option<i64>,
    step: f64,
}

/// What the clock says about a new point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// First point, or the normal next point.
    Next,
    /// After a gap: context should restart.
    Gap,
    /// Not after the previous point: skip it.
    Stale,
}

impl Clock {
    pub(crate) fn tick(&mut self, t: i64) -> Tick {
        let Some(last) = self.last_t else {
            self.last_t = Some(t);
            return Tick::Next;
        };
        if t <= last {
            return Tick::Stale;
        }
        // `t > last`; the span may exceed i64 (from i64::MIN to 0), not u64.
        let dt = t.abs_diff(last) as f64;
        self.last_t = Some(t);
        if self.step == 0.0 {
            self.step = dt;
            return Tick::Next;
        }
        let gap = dt > GAP_FACTOR * self.step;
        // Follow the usual step slowly, robust to the gap itself.
        self.step += 0.05 * (dt.min(GAP_FACTOR * self.step) - self.step);
        if gap { Tick::Gap } else { Tick::Next }
    }
}

#[cfg(test)]
mod tests;
