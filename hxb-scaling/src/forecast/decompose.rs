//! The M4 seasonality test and classical multiplicative decomposition (as in the M4 benchmarks).

/// Sample autocorrelation at `lag` (the usual estimator: lagged products of deviations from the
/// mean over the total sum of squares). Zero for a constant series.
pub(crate) fn acf(x: &[f64], lag: usize) -> f64 {
    let n = x.len();
    if lag >= n {
        return 0.0;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let denom: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    if denom <= 0.0 {
        return 0.0;
    }
    let num: f64 = (lag..n).map(|t| (x[t] - mean) * (x[t - lag] - mean)).sum();
    num / denom
}

/// The M4 90 % seasonality test at lag `period`.
///
/// Seasonal when the series holds at least three seasons and
/// `|acf(period)| > 1.645 * sqrt((1 + 2 * sum_{k<period} acf(k)^2) / n)` (the M4 benchmark code).
/// A period of 1 or less is never seasonal.
pub fn seasonality_test(x: &[f64], period: usize) -> bool {
    if period <= 1 || x.len() < 3 * period {
        return false;
    }
    let sum_sq: f64 = (1..period).map(|k| acf(x, k).powi(2)).sum();
    let limit = 1.645 * ((1.0 + 2.0 * sum_sq) / x.len() as f64).sqrt();
    acf(x, period).abs() > limit
}

/// Seasonal indices of a classical multiplicative decomposition (R's `decompose`).
///
/// The trend is the centred moving average of order `period` (a 2×`period` average when the
/// period is even); index `i` is the mean of `x_t / trend_t` over the `t` with `t % period == i`,
/// and the indices are normalised to a mean of 1. `None` when the series is shorter than two
/// periods, the period is below 2, or a trend value is not positive.
pub fn classical_multiplicative_indices(x: &[f64], period: usize) -> Option<Vec<f64>> {
    let n = x.len();
    if period < 2 || n < 2 * period {
        return None;
    }
    let half = period / 2;
    let even = period.is_multiple_of(2);
    let mut sums = vec![0.0; period];
    let mut counts = vec![0usize; period];
    // Rolling window sum of x[t-half ..= t+half] (odd period) or x[t-half+1 ..= t+half-1] plus
    // half weights on the ends (even period).
    for t in half..n - half {
        let trend = if even {
            let inner: f64 = x[t + 1 - half..t + half].iter().sum();
            (inner + 0.5 * (x[t - half] + x[t + half])) / period as f64
        } else {
            x[t - half..=t + half].iter().sum::<f64>() / period as f64
        };
        if trend <= 0.0 {
            return None;
        }
        sums[t % period] += x[t] / trend;
        counts[t % period] += 1;
    }
    let mut idx: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| if *c > 0 { s / *c as f64 } else { 1.0 })
        .collect();
    let mean = idx.iter().sum::<f64>() / period as f64;
    if !(mean > 0.0 && mean.is_finite()) {
        return None;
    }
    idx.iter_mut().for_each(|v| *v /= mean);
    Some(idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acf_of_alternating_series() {
        let x: Vec<f64> = (0..100)
            .map(|t| if t % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!((acf(&x, 1) + 0.99).abs() < 1e-12);
        assert!((acf(&x, 2) - 0.98).abs() < 1e-12);
        assert_eq!(acf(&[3.0; 10], 1), 0.0);
    }

    #[test]
    fn seasonal_series_passes_the_test_and_noise_free_trend_does_not_need_it() {
        let x: Vec<f64> = (0..240)
            .map(|t| 10.0 + ((t % 24) as f64 - 12.0).abs())
            .collect();
        assert!(seasonality_test(&x, 24));
        assert!(!seasonality_test(&x[..48], 24), "fewer than three seasons");
        assert!(!seasonality_test(&x, 1));
    }

    #[test]
    fn multiplicative_indices_recover_a_pure_pattern() {
        let pattern = [0.5, 1.0, 1.5, 1.0];
        let x: Vec<f64> = (0..40).map(|t| 20.0 * pattern[t % 4]).collect();
        let idx = classical_multiplicative_indices(&x, 4).unwrap();
        for (a, b) in idx.iter().zip(pattern) {
            assert!((a - b).abs() < 1e-12, "{idx:?}");
        }
        assert!(classical_multiplicative_indices(&x[..7], 4).is_none());
    }
}
