//! Evaluation of forecasters over a set of series with the M4 protocol.
//!
//! ```
//! use hxb_scaling::forecast::eval::{Evaluation, Series};
//! use hxb_scaling::forecast::{Forecaster, SeasonalNaive};
//! # fn main() -> hxb_core::Result<()> {
//! let series: Vec<Series> = (0..3)
//!     .map(|k| {
//!         // A 12-step cycle on a slow upward trend.
//!         let y: Vec<f64> =
//!             (0..120).map(|t| 10.0 + k as f64 + 0.05 * t as f64 + ((t * 7) % 12) as f64).collect();
//!         Series { id: format!("S{k}"), train: y[..96].to_vec(), test: y[96..].to_vec() }
//!     })
//!     .collect();
//! let snaive = SeasonalNaive::new(12);
//! let methods: [&dyn Forecaster; 1] = [&snaive];
//! let eval = Evaluation::run(&methods, &series, 12)?;
//! assert_eq!(eval.scores[0].name, "naive2"); // the OWA reference comes first
//! assert_eq!(eval.scores[0].owa, 1.0);
//! // Seasonal naive misses the trend by 0.6 then 1.2 (mean 0.9); its in-sample scale is 0.6.
//! assert!((eval.scores[1].mase - 1.5).abs() < 1e-9);
//! println!("{}", eval.table());
//! # Ok(()) }
//! ```

use super::metrics::{mase, mase_scale, owa, smape};
use super::{Fallback, Forecaster, Naive2};
use hxb_core::{Error, Result};
use std::time::{Duration, Instant};

/// One series: its history and the values that followed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Identifier (e.g. `H1`).
    pub id: String,
    /// History, oldest first.
    pub train: Vec<f64>,
    /// The values that followed (the forecast horizon is its length).
    pub test: Vec<f64>,
}

/// Scores of one method over a set of series.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodScore {
    /// The method's [`Forecaster::name`].
    pub name: String,
    /// Mean sMAPE over series (percent).
    pub smape: f64,
    /// Mean MASE over series.
    pub mase: f64,
    /// OWA relative to Naive2 on the same series.
    pub owa: f64,
    /// Wall time of fit + forecast for all series, on the calling thread.
    pub elapsed: Duration,
}

/// The result of [`Evaluation::run`].
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Naive2 first (the OWA reference), then the methods in the order given.
    pub scores: Vec<MethodScore>,
    /// Forecasts per method (same order as `scores`), per series.
    pub forecasts: Vec<Vec<Vec<f64>>>,
}

impl Evaluation {
    /// Runs Naive2 (period `m`) and every method on every series, timing each method's fits and
    /// forecasts, and scores them with sMAPE, MASE (scale: seasonal naive of period `m` on the
    /// history) and OWA.
    ///
    /// Errors ([`hxb_core::ErrorKind::InvalidInput`]) on an empty set, a series whose test part is
    /// empty or whose MASE scale is zero, or a method that rejects a series.
    pub fn run(methods: &[&dyn Forecaster], series: &[Series], m: usize) -> Result<Evaluation> {
        if series.is_empty() {
            return Err(Error::invalid("series", "no series to evaluate"));
        }
        let scales: Vec<f64> = series
            .iter()
            .map(|s| {
                mase_scale(&s.train, m)
                    .map_err(|e| Error::invalid(format!("series {}", s.id), e.to_string()))
            })
            .collect::<Result<_>>()?;
        let naive2 = Naive2::new(m).fallback(Fallback::NonSeasonal);
        let mut all: Vec<&dyn Forecaster> = vec![&naive2];
        all.extend_from_slice(methods);
        let mut scores = Vec::with_capacity(all.len());
        let mut forecasts = Vec::with_capacity(all.len());
        for method in all {
            let started = Instant::now();
            let mut fc = Vec::with_capacity(series.len());
            for s in series {
                let f = method.forecast(&s.train, s.test.len()).map_err(|e| {
                    Error::invalid(
                        format!("series {}", s.id),
                        format!("{}: {e}", method.name()),
                    )
                })?;
                fc.push(f.point);
            }
            let elapsed = started.elapsed();
            let (mut s_sum, mut m_sum) = (0.0, 0.0);
            for ((s, f), scale) in series.iter().zip(&fc).zip(&scales) {
                s_sum += smape(&s.test, f)?;
                m_sum += mase(&s.train, &s.test, f, m)?;
                debug_assert!(*scale > 0.0);
            }
            let k = series.len() as f64;
            scores.push(MethodScore {
                name: method.name().to_string(),
                smape: s_sum / k,
                mase: m_sum / k,
                owa: f64::NAN,
                elapsed,
            });
            forecasts.push(fc);
        }
        let (ref_s, ref_m) = (scores[0].smape, scores[0].mase);
        for s in &mut scores {
            s.owa = if ref_s > 0.0 && ref_m > 0.0 {
                owa(s.smape, s.mase, ref_s, ref_m)?
            } else {
                f64::NAN
            };
        }
        Ok(Evaluation { scores, forecasts })
    }

    /// A plain-text table: method, sMAPE, MASE, OWA, time.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<18} {:>8} {:>8} {:>8} {:>12}\n",
            "method", "sMAPE", "MASE", "OWA", "time (ms)"
        );
        for s in &self.scores {
            out.push_str(&format!(
                "{:<18} {:>8.3} {:>8.3} {:>8.3} {:>12.2}\n",
                s.name,
                s.smape,
                s.mase,
                s.owa,
                s.elapsed.as_secs_f64() * 1e3
            ));
        }
        out
    }
}

/// Splits every series' history into a shorter history and its last `h` values, dropping
/// `test`: an evaluation set built from histories alone, for choosing a method without looking
/// at the real future. Series with `h` or fewer values are skipped.
pub fn holdout(series: &[Series], h: usize) -> Vec<Series> {
    series
        .iter()
        .filter(|s| s.train.len() > h)
        .map(|s| {
            let cut = s.train.len() - h;
            Series {
                id: s.id.clone(),
                train: s.train[..cut].to_vec(),
                test: s.train[cut..].to_vec(),
            }
        })
        .collect()
}

/// Parses an M4 CSV file: a header row, then one series per row with its quoted id in the first
/// column and the values after it; empty trailing fields (padding of shorter rows) are dropped.
pub fn parse_m4_csv(text: &str) -> Result<Vec<(String, Vec<f64>)>> {
    let mut rows = Vec::new();
    for (line_no, line) in text.lines().enumerate().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split(',').map(|f| f.trim().trim_matches('"'));
        let id = fields.next().unwrap_or_default().to_string();
        if id.is_empty() {
            return Err(Error::invalid(
                "csv",
                format!("line {}: empty id", line_no + 1),
            ));
        }
        let mut values = Vec::new();
        for f in fields.filter(|f| !f.is_empty()) {
            let v: f64 = f.parse().map_err(|_| {
                Error::invalid(
                    "csv",
                    format!("line {}: {f:?} is not a number", line_no + 1),
                )
            })?;
            values.push(v);
        }
        rows.push((id, values));
    }
    Ok(rows)
}

/// Pairs the rows of an M4 train file and test file by id, in train order.
pub fn pair_m4(train_csv: &str, test_csv: &str) -> Result<Vec<Series>> {
    let train = parse_m4_csv(train_csv)?;
    let test: std::collections::HashMap<String, Vec<f64>> =
        parse_m4_csv(test_csv)?.into_iter().collect();
    train
        .into_iter()
        .map(|(id, train)| {
            let test = test
                .get(&id)
                .cloned()
                .ok_or_else(|| Error::invalid("csv", format!("series {id} has no test row")))?;
            Ok(Series { id, train, test })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_padding_and_quotes() {
        let csv =
            "\"V1\",\"V2\",\"V3\",\"V4\"\n\"H1\",\"1\",\"2.5\",\"3\"\n\"H2\",\"4\",\"\",\"\"\n";
        let rows = parse_m4_csv(csv).unwrap();
        assert_eq!(
            rows,
            vec![("H1".into(), vec![1.0, 2.5, 3.0]), ("H2".into(), vec![4.0])]
        );
        assert!(parse_m4_csv("h\n\"H1\",\"x\"\n").is_err());
        let test = "\"V1\",\"V2\"\n\"H2\",\"5\"\n\"H1\",\"4\"\n";
        let s = pair_m4(csv, test).unwrap();
        assert_eq!(s[0].test, vec![4.0]);
        assert_eq!(s[1].test, vec![5.0]);
        assert!(pair_m4(csv, "\"V1\"\n").is_err());
    }

    #[test]
    fn holdout_uses_history_only() {
        let s = Series {
            id: "a".into(),
            train: (0..10).map(f64::from).collect(),
            test: vec![99.0],
        };
        let h = holdout(std::slice::from_ref(&s), 3);
        assert_eq!(h[0].train.len(), 7);
        assert_eq!(h[0].test, vec![7.0, 8.0, 9.0]);
    }
}
