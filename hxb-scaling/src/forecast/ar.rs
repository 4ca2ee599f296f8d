//! Autoregression on the transformed series with seasonal lags, fitted by least squares and
//! forecast by iteration.

/// A fitted linear autoregression `z_t = c + sum a_i z_(t - lag_i)`.
#[derive(Debug, Clone)]
pub(crate) struct ArFit {
    lags: Vec<usize>,
    coef: Vec<f64>, // intercept first
    tail: Vec<f64>, // the last max(lag) values of the history
    lo: f64,
    hi: f64,
}

/// Fits by ordinary least squares (with a tiny ridge for conditioning) on every `t` whose lags
/// are inside the history. `None` when there are fewer rows than `4 * (lags + 1)` or the normal
/// equations are singular.
pub(crate) fn fit(z: &[f64], lags: &[usize]) -> Option<ArFit> {
    let max_lag = *lags.iter().max()?;
    let n = z.len();
    let k = lags.len() + 1;
    if n <= max_lag || n - max_lag < 4 * k {
        return None;
    }
    // Centre for conditioning.
    let mean = z.iter().sum::<f64>() / n as f64;
    let mut xtx = vec![0.0; k * k];
    let mut xty = vec![0.0; k];
    let mut row = vec![0.0; k];
    for t in max_lag..n {
        row[0] = 1.0;
        for (j, l) in lags.iter().enumerate() {
            row[j + 1] = z[t - l] - mean;
        }
        let y = z[t] - mean;
        for a in 0..k {
            xty[a] += row[a] * y;
            for b in 0..=a {
                xtx[a * k + b] += row[a] * row[b];
            }
        }
    }
    let trace: f64 = (0..k).map(|i| xtx[i * k + i]).sum();
    for i in 1..k {
        xtx[i * k + i] += 1e-6 * trace / k as f64;
    }
    let mut coef = cholesky_solve(&mut xtx, &mut xty, k)?;
    // Back to the uncentred scale: c' = mean + c - mean * sum(a).
    let sum_a: f64 = coef[1..].iter().sum();
    coef[0] += mean - mean * sum_a;
    let (lo, hi) = z
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    Some(ArFit {
        lags: lags.to_vec(),
        coef,
        tail: z[n - max_lag..].to_vec(),
        lo,
        hi,
    })
}

/// Solves `A x = b` for symmetric positive definite `A` (lower triangle filled), in place.
fn cholesky_solve(a: &mut [f64], b: &mut [f64], k: usize) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut d = a[j * k + j];
        for p in 0..j {
            d -= a[j * k + p] * a[j * k + p];
        }
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for p in 0..j {
                s -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = s / d;
        }
    }
    for i in 0..k {
        let mut s = b[i];
        for p in 0..i {
            s -= a[i * k + p] * b[p];
        }
        b[i] = s / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut s = b[i];
        for p in i + 1..k {
            s -= a[p * k + i] * b[p];
        }
        b[i] = s / a[i * k + i];
    }
    Some(b.to_vec())
}

impl ArFit {
    /// Iterated forecast; values are kept within the history's range widened by its width on
    /// each side, so an unstable fit cannot run away.
    pub fn forecast(&self, horizon: usize) -> Vec<f64> {
        let width = (self.hi - self.lo).max(1e-9);
        let (lo, hi) = (self.lo - width, self.hi + width);
        let mut buf = self.tail.clone();
        let base = buf.len();
        for h in 0..horizon {
            let t = base + h;
            let mut v = self.coef[0];
            for (a, l) in self.coef[1..].iter().zip(&self.lags) {
                v += a * buf[t - l];
            }
            buf.push(v.clamp(lo, hi));
        }
        buf.split_off(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_autoregression() {
        // z_t = 1 + 0.5 z_(t-1) + 0.3 z_(t-4) + small deterministic noise.
        let mut z = vec![1.0, 2.0, 1.5, 0.5];
        for t in 4..400 {
            let noise = ((t * 7919) % 13) as f64 / 13.0 - 0.5;
            z.push(1.0 + 0.5 * z[t - 1] + 0.3 * z[t - 4] + 0.1 * noise);
        }
        let f = fit(&z, &[1, 4]).unwrap();
        assert!(
            (f.coef[1] - 0.5).abs() < 0.05 && (f.coef[2] - 0.3).abs() < 0.05,
            "{:?}",
            f.coef
        );
        assert!(fit(&z[..10], &[1, 4]).is_none());
        let fc = f.forecast(10);
        assert_eq!(fc.len(), 10);
        assert!(fc.iter().all(|v| v.is_finite()));
    }
}
