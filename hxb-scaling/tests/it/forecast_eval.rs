//! The evaluator end to end on a small synthetic M4-like set (fast; the real M4 files are used
//! only by the `m4_eval` example).

use hxb_core::ErrorKind;
use hxb_scaling::forecast::eval::{Evaluation, holdout, pair_m4};
use hxb_scaling::forecast::{Forecaster, SeasonalEnsemble, SeasonalNaive};
use hxb_scaling::predictive::PredictiveScaler;
use std::fmt::Write;
use std::time::Duration;

/// Hourly series with daily and weekly cycles, a trend and deterministic pseudo-noise, written
/// as M4-style CSV text (quoted ids, padded rows).
fn synthetic_csv(count: usize, len: usize, h: usize) -> (String, String) {
    let mut train = String::from("\"V1\"");
    for i in 2..=len + 1 {
        write!(train, ",\"V{i}\"").unwrap();
    }
    train.push('\n');
    let mut test = String::from("\"V1\"");
    for i in 2..=h + 1 {
        write!(test, ",\"V{i}\"").unwrap();
    }
    test.push('\n');
    let mut state = 12345u64;
    for k in 0..count {
        let n = len - 24 * (k % 3); // shorter rows get padded
        let level = 50.0 + 30.0 * k as f64;
        let values: Vec<f64> = (0..n + h)
            .map(|t| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.1;
                let hour = (t % 24) as f64;
                let weekend = if (t / 24) % 7 >= 5 { 0.6 } else { 1.0 };
                let daily = 1.0 + 0.5 * (hour * std::f64::consts::TAU / 24.0).sin();
                level * (1.0 + 0.0005 * t as f64) * weekend * daily * (1.0 + noise)
            })
            .collect();
        write!(train, "\"S{k}\"").unwrap();
        for v in &values[..n] {
            write!(train, ",\"{v:.3}\"").unwrap();
        }
        for _ in n..len {
            train.push_str(",\"\"");
        }
        train.push('\n');
        write!(test, "\"S{k}\"").unwrap();
        for v in &values[n..] {
            write!(test, ",\"{v:.3}\"").unwrap();
        }
        test.push('\n');
    }
    (train, test)
}

#[test]
fn evaluator_scores_methods_on_a_synthetic_set() {
    let (train, test) = synthetic_csv(6, 24 * 7 * 4, 48);
    let series = pair_m4(&train, &test).unwrap();
    assert_eq!(series.len(), 6);
    assert_eq!(series[1].train.len(), 24 * 7 * 4 - 24, "padding dropped");
    let ensemble = SeasonalEnsemble::hourly();
    let snaive = SeasonalNaive::new(24);
    let methods: [&dyn Forecaster; 2] = [&snaive, &ensemble];
    let eval = Evaluation::run(&methods, &series, 24).unwrap();
    let names: Vec<&str> = eval.scores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["naive2", "snaive", "ensemble"]);
    assert_eq!(eval.scores[0].owa, 1.0);
    for s in &eval.scores {
        assert!(
            s.smape.is_finite() && s.mase.is_finite() && s.owa.is_finite(),
            "{s:?}"
        );
    }
    // The weekly effect defeats Naive2 and the daily seasonal naive; the ensemble sees it.
    let owa = |name: &str| eval.scores.iter().find(|s| s.name == name).unwrap().owa;
    assert!(owa("ensemble") < owa("snaive"), "{}", eval.table());
    assert!(owa("ensemble") < 0.6, "{}", eval.table());
    assert_eq!(eval.forecasts[2].len(), 6);
    assert!(eval.forecasts[2].iter().all(|f| f.len() == 48));

    // The holdout set is built from histories alone.
    let hold = holdout(&series, 48);
    assert_eq!(
        hold[0].test,
        series[0].train[series[0].train.len() - 48..].to_vec()
    );
    assert!(Evaluation::run(&methods, &hold, 24).is_ok());
}

#[test]
fn evaluator_rejects_bad_sets() {
    let methods: [&dyn Forecaster; 0] = [];
    assert_eq!(
        Evaluation::run(&methods, &[], 24).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let (train, test) = synthetic_csv(1, 24 * 7 * 2, 48);
    let mut series = pair_m4(&train, &test).unwrap();
    series[0].train[10] = f64::NAN;
    let ensemble = SeasonalEnsemble::hourly();
    let methods: [&dyn Forecaster; 1] = [&ensemble];
    assert_eq!(
        Evaluation::run(&methods, &series, 24).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn forecast_drives_the_predictive_scaler() {
    let (train, test) = synthetic_csv(1, 24 * 7 * 3, 48);
    let series = pair_m4(&train, &test).unwrap();
    let (history, future) = (&series[0].train, &series[0].test);
    let scaler = PredictiveScaler::builder(10.0)
        .lead_time(Duration::from_secs(2 * 3600))
        .step(Duration::from_secs(3600))
        .replicas(1, 1000)
        .build()
        .unwrap();
    let rec = scaler
        .recommend_from_history(&SeasonalEnsemble::hourly(), history, true, 1)
        .unwrap();
    assert_eq!(rec.window, 3);
    // Sized for the real peak of the next three hours (within the forecast's accuracy).
    let peak = future[..3].iter().copied().fold(0.0, f64::max);
    let needed = f64::from(scaler.replicas_for(peak));
    let got = f64::from(rec.predictive);
    assert!(
        got >= 0.9 * needed && got <= 1.6 * needed,
        "{rec:?} vs {needed}"
    );
    assert_eq!(rec.replicas, rec.predictive.max(1));
}
