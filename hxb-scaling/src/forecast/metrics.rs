//! Accuracy measures of the M4 competition.
//!
//! - sMAPE: `mean(200 * |y - f| / (|y| + |f|))` over the horizon (a step where both are zero
//!   counts as 0).
//! - MASE: `mean(|y - f|)` over the horizon divided by the in-sample mean of `|x_t - x_(t-m)|`
//!   (the seasonal naive one-step error on the history).
//! - OWA: `0.5 * (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)`, each averaged over the same set
//!   of series.

use hxb_core::{Error, Result};

fn check_pair(actual: &[f64], forecast: &[f64]) -> Result<()> {
    if actual.is_empty() {
        return Err(Error::invalid("actual", "empty"));
    }
    if actual.len() != forecast.len() {
        return Err(Error::invalid(
            "forecast",
            format!(
                "{} values for {} actual values",
                forecast.len(),
                actual.len()
            ),
        ));
    }
    if actual.iter().chain(forecast).any(|v| !v.is_finite()) {
        return Err(Error::invalid("forecast", "values must be finite"));
    }
    Ok(())
}

/// Symmetric mean absolute percentage error, in percent (0 to 200).
pub fn smape(actual: &[f64], forecast: &[f64]) -> Result<f64> {
    check_pair(actual, forecast)?;
    let total: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| {
            let d = y.abs() + f.abs();
            if d == 0.0 {
                0.0
            } else {
                200.0 * (y - f).abs() / d
            }
        })
        .sum();
    Ok(total / actual.len() as f64)
}

/// The MASE scale of a history: the mean of `|x_t - x_(t-m)|`.
///
/// Errors when the history holds `m` values or fewer, `m` is 0, or the scale is 0 (a history
/// that repeats exactly every `m` steps has no scale).
pub fn mase_scale(history: &[f64], m: usize) -> Result<f64> {
    if m == 0 || history.len() <= m {
        return Err(Error::invalid(
            "history",
            format!("MASE needs more than {m} values, got {}", history.len()),
        ));
    }
    let scale = history
        .windows(m + 1)
        .map(|w| (w[m] - w[0]).abs())
        .sum::<f64>()
        / (history.len() - m) as f64;
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(Error::invalid(
            "history",
            "seasonal naive in-sample error is zero",
        ));
    }
    Ok(scale)
}

/// Mean absolute scaled error with the seasonal naive in-sample scale of period `m`.
pub fn mase(history: &[f64], actual: &[f64], forecast: &[f64], m: usize) -> Result<f64> {
    check_pair(actual, forecast)?;
    let scale = mase_scale(history, m)?;
    let mae = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| (y - f).abs())
        .sum::<f64>()
        / actual.len() as f64;
    Ok(mae / scale)
}

/// Overall weighted average relative to Naive2 over the same series.
pub fn owa(smape: f64, mase: f64, naive2_smape: f64, naive2_mase: f64) -> Result<f64> {
    if !(naive2_smape > 0.0 && naive2_mase > 0.0) {
        return Err(Error::invalid(
            "naive2",
            "reference errors must be positive",
        ));
    }
    Ok(0.5 * (smape / naive2_smape + mase / naive2_mase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smape_by_hand() {
        // |100-110|/(210) * 200 = 9.5238..., |50-50| = 0, |0-0| = 0.
        let s = smape(&[100.0, 50.0, 0.0], &[110.0, 50.0, 0.0]).unwrap();
        assert!((s - 200.0 / 21.0 / 3.0).abs() < 1e-12, "{s}");
        assert_eq!(smape(&[1.0], &[0.0]).unwrap(), 200.0);
        assert!(smape(&[1.0], &[1.0, 2.0]).is_err());
        assert!(smape(&[], &[]).is_err());
        assert!(smape(&[1.0], &[f64::NAN]).is_err());
    }

    #[test]
    fn mase_by_hand() {
        // History 1,2,3,5 with m = 2: |3-1| = 2, |5-2| = 3, scale 2.5.
        let h = [1.0, 2.0, 3.0, 5.0];
        assert_eq!(mase_scale(&h, 2).unwrap(), 2.5);
        let m = mase(&h, &[6.0, 8.0], &[5.0, 5.0], 2).unwrap();
        assert!((m - 2.0 / 2.5).abs() < 1e-12);
        assert!(mase_scale(&[1.0, 2.0], 2).is_err());
        assert!(mase_scale(&[1.0, 2.0, 1.0, 2.0], 2).is_err(), "zero scale");
    }

    #[test]
    fn owa_of_naive2_is_one() {
        assert_eq!(owa(18.0, 2.4, 18.0, 2.4).unwrap(), 1.0);
        assert!((owa(9.0, 2.4, 18.0, 2.4).unwrap() - 0.75).abs() < 1e-12);
        assert!(owa(1.0, 1.0, 0.0, 1.0).is_err());
    }
}
