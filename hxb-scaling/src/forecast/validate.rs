//! Input validation shared by every forecaster.

use hxb_core::{Error, Result};

/// What a seasonal forecaster does with a history shorter than it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Fallback {
    /// Reject it with [`hxb_core::ErrorKind::InvalidInput`] (the default: a silent change of
    /// method would hide a data problem).
    #[default]
    Reject,
    /// Forecast it with a non-seasonal method instead (documented per forecaster).
    NonSeasonal,
}

/// Checks a history and says whether it is long enough for the seasonal model.
///
/// Errors ([`hxb_core::ErrorKind::InvalidInput`], field `history`): an empty history, any NaN or
/// infinite value, any negative value (metrics such as load, CPU or request rates are
/// non-negative), or a history shorter than `season_len` when `fallback` is
/// [`Fallback::Reject`]. Returns `Ok(true)` when the history holds at least `season_len` values,
/// `Ok(false)` when it is shorter and the caller allowed [`Fallback::NonSeasonal`].
pub fn validate_history(history: &[f64], season_len: usize, fallback: Fallback) -> Result<bool> {
    if history.is_empty() {
        return Err(Error::invalid("history", "empty history"));
    }
    if let Some(i) = history.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            "history",
            format!("value {} at index {i} is not finite", history[i]),
        ));
    }
    if let Some(i) = history.iter().position(|v| *v < 0.0) {
        return Err(Error::invalid(
            "history",
            format!("value {} at index {i} is negative", history[i]),
        ));
    }
    if history.len() < season_len {
        return match fallback {
            Fallback::Reject => Err(Error::invalid(
                "history",
                format!(
                    "{} values is shorter than one season of {season_len}",
                    history.len()
                ),
            )),
            Fallback::NonSeasonal => Ok(false),
        };
    }
    Ok(true)
}

/// Checks a season length (at least 1).
pub(crate) fn validate_period(period: usize) -> Result<()> {
    if period == 0 {
        return Err(Error::invalid("period", "season length must be at least 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;

    #[test]
    fn rejects_bad_values_with_typed_errors() {
        for bad in [
            vec![],
            vec![1.0, f64::NAN],
            vec![f64::INFINITY, 1.0],
            vec![1.0, -0.5],
        ] {
            let err = validate_history(&bad, 1, Fallback::Reject).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn short_history_is_rejected_or_flagged() {
        let short = [1.0, 2.0, 3.0];
        assert_eq!(
            validate_history(&short, 24, Fallback::Reject)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        assert!(!validate_history(&short, 24, Fallback::NonSeasonal).unwrap());
        assert!(validate_history(&short, 3, Fallback::Reject).unwrap());
        assert!(validate_period(0).is_err());
    }
}
