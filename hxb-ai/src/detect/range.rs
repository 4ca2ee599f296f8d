//! A value range hint: the range a series is expected to stay in.

use hxb_core::{Error, Result};

/// The range a series is expected to stay in, known before the first point: a metric's
/// natural bounds (0–100 for a utilisation in percent, 0–1 for a ratio) or an operator's
/// expected range.
///
/// Range-aware components quantise values against it instead of the running minimum and
/// maximum (a live stream knows only the range seen so far). Values outside the hint are
/// clamped to its ends. NAB's benchmark protocol hands every detector the data file's
/// minimum and maximum in advance (`inputMin`/`inputMax`); the NAB evaluator passes exactly
/// those as the hint when it reports the hinted score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeHint {
    min: f64,
    max: f64,
}

impl RangeHint {
    /// A hint from `min` to `max`.
    ///
    /// Errors with `InvalidInput` when a bound is NaN or infinite or `min >= max`.
    pub fn new(min: f64, max: f64) -> Result<RangeHint> {
        if !min.is_finite() {
            return Err(Error::invalid("range.min", "must be a finite number"));
        }
        if !max.is_finite() {
            return Err(Error::invalid("range.max", "must be a finite number"));
        }
        if min >= max {
            return Err(Error::invalid("range", "min must be below max"));
        }
        Ok(RangeHint { min, max })
    }

    /// The smallest and largest value of `values` (NaN and infinite values ignored), or
    /// `None` when fewer than two distinct finite values remain. This is NAB's
    /// `inputMin`/`inputMax`; over a whole series it is a look-ahead, fair only when the
    /// range is known in advance.
    pub fn of(values: &[f64]) -> Option<RangeHint> {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        RangeHint::new(lo, hi).ok()
    }

    /// The lower bound.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The upper bound.
    pub fn max(&self) -> f64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use hxb_core::ErrorKind;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rejects_bad_bounds() {
        for (lo, hi) in [
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
            (1.0, 1.0),
            (2.0, 1.0),
        ] {
            let e = RangeHint::new(lo, hi).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{lo} {hi}");
        }
        let h = RangeHint::new(0.0, 100.0).unwrap();
        assert_eq!((h.min(), h.max()), (0.0, 100.0));
    }

    #[test]
    fn of_skips_non_finite_values_and_needs_two_distinct() {
        assert_eq!(RangeHint::of(&[]), None);
        assert_eq!(RangeHint::of(&[3.0, 3.0, f64::NAN]), None);
        let h = RangeHint::of(&[2.0, f64::NAN, -1.0, f64::INFINITY, 5.0]).unwrap();
        assert_eq!((h.min(), h.max()), (-1.0, 5.0));
    }

    proptest! {
        /// `of` spans every finite value it was given.
        #[test]
        fn of_contains_every_value(values in proptest::collection::vec(-1e9f64..1e9, 2..50)) {
            if let Some(h) = RangeHint::of(&values) {
                prop_assert!(values.iter().all(|&v| h.min() <= v && v <= h.max()));
            } else {
                prop_assert!(values.iter().all(|&v| v == values[0]));
            }
        }
    }
}
