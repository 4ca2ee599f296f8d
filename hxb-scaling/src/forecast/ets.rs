//! Exponential smoothing of a (deseasonalised) level: simple and damped-trend, with smoothing
//! parameters chosen from a small grid by one-step-ahead squared error (closed-form updates, no
//! numerical optimiser).

/// A fitted level (and optional damped trend).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LevelFit {
    pub level: f64,
    pub trend: f64,
    pub phi: f64,
}

impl LevelFit {
    /// `level + (phi + phi^2 + ... + phi^h) * trend` for h = 1..=horizon.
    pub fn forecast(&self, horizon: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(horizon);
        let mut damp = 0.0;
        let mut pow = 1.0;
        for _ in 0..horizon {
            pow *= self.phi;
            damp += pow;
            out.push(self.level + damp * self.trend);
        }
        out
    }
}

const SES_ALPHAS: [f64; 10] = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0];

/// Simple exponential smoothing with the best alpha of a fixed grid.
pub(crate) fn ses(x: &[f64]) -> LevelFit {
    let mut best = (f64::INFINITY, x[x.len() - 1]);
    for &alpha in &SES_ALPHAS {
        let mut level = x[0];
        let mut sse = 0.0;
        for &v in &x[1..] {
            let e = v - level;
            sse += e * e;
            level += alpha * e;
        }
        if sse < best.0 {
            best = (sse, level);
        }
    }
    LevelFit {
        level: best.1,
        trend: 0.0,
        phi: 0.0,
    }
}

const HOLT_ALPHAS: [f64; 6] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8];
const HOLT_BETAS: [f64; 3] = [0.01, 0.05, 0.15];
const HOLT_PHI: f64 = 0.9;

/// Additive damped-trend exponential smoothing (damping 0.9) with alpha and beta from a grid.
/// Trend initialised from the mean first difference of the first tenth of the series.
pub(crate) fn damped(x: &[f64]) -> LevelFit {
    let n = x.len();
    if n < 3 {
        return LevelFit {
            level: x[n - 1],
            trend: 0.0,
            phi: HOLT_PHI,
        };
    }
    let k = (n / 10).clamp(2, n - 1);
    let b0 = (x[k] - x[0]) / k as f64;
    let mut best = (
        f64::INFINITY,
        LevelFit {
            level: x[n - 1],
            trend: 0.0,
            phi: HOLT_PHI,
        },
    );
    for &alpha in &HOLT_ALPHAS {
        for &beta in &HOLT_BETAS {
            let (mut l, mut b) = (x[0], b0);
            let mut sse = 0.0;
            for &v in &x[1..] {
                let pred = l + HOLT_PHI * b;
                let e = v - pred;
                sse += e * e;
                let l_new = pred + alpha * e;
                b = HOLT_PHI * b + alpha * beta * e;
                l = l_new;
            }
            if sse < best.0 {
                best = (
                    sse,
                    LevelFit {
                        level: l,
                        trend: b,
                        phi: HOLT_PHI,
                    },
                );
            }
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_on_constant_is_constant() {
        let f = ses(&[4.0; 50]).forecast(3);
        assert_eq!(f, vec![4.0; 3]);
    }

    #[test]
    fn damped_follows_a_line_then_flattens() {
        let x: Vec<f64> = (0..200).map(|t| 10.0 + 0.5 * t as f64).collect();
        let fit = damped(&x);
        let f = fit.forecast(100);
        // A damped trend lags a straight line but keeps rising.
        assert!(f[0] > x[199] && f[0] < x[199] + 0.5, "{}", f[0]);
        // Damped: the total increase is bounded by phi/(1-phi) * trend.
        assert!(f[99] - x[199] < 0.5 * 9.0 + 1e-6);
        assert!(f.windows(2).all(|w| w[1] >= w[0]));
    }
}
