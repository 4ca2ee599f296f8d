//! Properties every forecaster must have.

use super::*;
use hxb_core::ErrorKind;
use proptest::prelude::*;

fn all() -> Vec<Box<dyn Forecaster>> {
    vec![
        Box::new(Naive),
        Box::new(SeasonalNaive::new(24)),
        Box::new(Naive2::new(24)),
        Box::new(SeasonalEnsemble::hourly()),
    ]
}

#[test]
fn bad_histories_get_typed_errors() {
    let mut good: Vec<f64> = (0..200).map(|t| 10.0 + (t % 24) as f64).collect();
    for f in all() {
        for (i, bad) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0]
            .into_iter()
            .enumerate()
        {
            good[50 + i] = bad;
            let err = f.forecast(&good, 48).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{} {bad}", f.name());
            good[50 + i] = 10.0;
        }
        assert_eq!(
            f.forecast(&[], 4).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    // Shorter than a season: rejected by seasonal methods unless the fallback is allowed.
    let short = [5.0, 6.0, 7.0];
    assert_eq!(
        SeasonalEnsemble::hourly()
            .forecast(&short, 4)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        Naive2::new(24).forecast(&short, 4).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let lenient = SeasonalEnsemble::builder()
        .periods(&[24, 168])
        .fallback(Fallback::NonSeasonal)
        .build()
        .unwrap();
    let f = lenient.forecast(&short, 4).unwrap().point;
    // Exponential smoothing (level and damped trend) of a rising series: rising, finite, bounded
    // by the straight-line extrapolation.
    assert!(f.windows(2).all(|w| w[1] >= w[0]), "{f:?}");
    assert!(
        f.iter()
            .zip(1..)
            .all(|(v, h)| (5.0..=7.0 + h as f64).contains(v)),
        "{f:?}"
    );
    assert_eq!(
        Naive2::new(24)
            .fallback(Fallback::NonSeasonal)
            .forecast(&short, 2)
            .unwrap()
            .point,
        vec![7.0; 2]
    );
}

#[test]
fn builder_rejects_bad_configuration() {
    assert!(SeasonalEnsemble::builder().build().is_err());
    assert!(SeasonalEnsemble::builder().periods(&[0]).build().is_err());
    assert!(
        SeasonalEnsemble::builder()
            .periods(&[24])
            .combine(Combine::TopMean(0))
            .build()
            .is_err()
    );
}

#[test]
fn ensemble_follows_a_weekly_pattern_and_gives_an_interval() {
    // Weekdays high, weekends low, with a daily shape; five weeks.
    let y: Vec<f64> = (0..24 * 7 * 5)
        .map(|t| {
            let day = (t / 24) % 7;
            let hour = t % 24;
            let week = if day >= 5 { 0.4 } else { 1.0 };
            100.0 * week * (1.5 + (hour as f64 * std::f64::consts::TAU / 24.0).sin())
        })
        .collect();
    let (train, test) = y.split_at(y.len() - 48);
    let f = SeasonalEnsemble::hourly().forecast(train, 48).unwrap();
    let s = metrics::smape(test, &f.point).unwrap();
    assert!(s < 1.0, "sMAPE {s}");
    let i = f.interval.expect("interval from validation");
    assert!(
        i.lower
            .iter()
            .zip(&f.point)
            .zip(&i.upper)
            .all(|((l, p), u)| l <= p && p <= u)
    );
}

#[test]
fn zeros_are_allowed_and_forecasts_stay_non_negative() {
    let y: Vec<f64> = (0..24 * 10)
        .map(|t| if t % 24 < 8 { 0.0 } else { 3.0 })
        .collect();
    let f = SeasonalEnsemble::hourly().forecast(&y, 48).unwrap().point;
    assert!(f.iter().all(|v| *v >= 0.0));
    assert!(
        f[..8].iter().all(|v| *v < 0.5) && f[8..24].iter().all(|v| (*v - 3.0).abs() < 0.5),
        "{f:?}"
    );
    let zeros = vec![0.0; 100];
    assert!(
        SeasonalEnsemble::hourly()
            .forecast(&zeros, 5)
            .unwrap()
            .point
            .iter()
            .all(|v| v.abs() < 1e-9)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn forecasts_have_the_horizon_and_are_finite(
        y in proptest::collection::vec(0.0f64..1e6, 24..400),
        h in 0usize..100,
    ) {
        for f in all() {
            let fc = f.forecast(&y, h).unwrap();
            prop_assert_eq!(fc.point.len(), h);
            prop_assert!(fc.point.iter().all(|v| v.is_finite() && *v >= 0.0), "{}", f.name());
        }
    }

    #[test]
    fn snaive_forecasts_a_periodic_series_exactly(
        cycle in proptest::collection::vec(0.0f64..1e3, 1..30),
        reps in 1usize..5,
        extra in 0usize..30,
        h in 1usize..80,
    ) {
        let p = cycle.len();
        let n = p * reps + extra % p;
        let y: Vec<f64> = (0..n + h).map(|t| cycle[t % p]).collect();
        let f = SeasonalNaive::new(p).forecast(&y[..n], h).unwrap().point;
        prop_assert_eq!(&f[..], &y[n..]);
    }

}
