//! Robust seasonal profiles (additive in the transformed scale, i.e. multiplicative on the
//! original scale when the forecaster works on logarithms).
//!
//! Profiles are phase-aligned to the end of the history: `profile[j]` applies to every time `t`
//! with `(t - n) mod p == j`, so future step `h` (0-based) uses `profile[h % p]`.

/// Median of a small slice (sorted in place).
pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The median over the last `cycles` full cycles of each cycle's deviations from its own mean,
/// re-centred to mean zero. Needs at least one full cycle (`z.len() >= p`).
pub(crate) fn robust_profile(z: &[f64], p: usize, cycles: usize) -> Vec<f64> {
    let n = z.len();
    let k = (n / p).min(cycles).max(1);
    let mut devs = vec![0.0; k * p]; // devs[j * k + c]
    for c in 0..k {
        let block = &z[n - (c + 1) * p..n - c * p];
        let mean = block.iter().sum::<f64>() / p as f64;
        for (j, v) in block.iter().enumerate() {
            devs[j * k + c] = v - mean;
        }
    }
    let mut profile: Vec<f64> = devs.chunks_mut(k).map(median).collect();
    let centre = profile.iter().sum::<f64>() / p as f64;
    profile.iter_mut().for_each(|v| *v -= centre);
    profile
}

/// `z_t - profile[(t - n) mod p]`.
pub(crate) fn deseasonalise(z: &[f64], profile: &[f64]) -> Vec<f64> {
    let p = profile.len();
    let n = z.len();
    let shift = p - n % p;
    z.iter()
        .enumerate()
        .map(|(t, v)| v - profile[(t + shift) % p])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn profile_recovers_pattern_despite_an_outlier_cycle() {
        let pattern = [-1.0, 0.0, 1.0, 0.0];
        let mut z: Vec<f64> = (0..22).map(|t| 5.0 + pattern[(t + 2) % 4]).collect();
        // One broken cycle among the last three.
        z[12] += 50.0;
        let prof = robust_profile(&z, 4, 3);
        // Time n (=22) has phase (22+2)%4 = 0 in the pattern.
        for (j, v) in prof.iter().enumerate() {
            assert!((v - pattern[j]).abs() < 1e-12, "{prof:?}");
        }
        let d = deseasonalise(&z, &prof);
        assert!(d[20..].iter().all(|v| (v - 5.0).abs() < 1e-12), "{d:?}");
    }
}
