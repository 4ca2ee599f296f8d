use super::*;
use crate::forecast::SeasonalNaive;
use hxb_core::ErrorKind;
use proptest::prelude::*;

fn scaler(lead_steps: u64) -> PredictiveScaler {
    PredictiveScaler::builder(10.0)
        .lead_time(Duration::from_secs(60 * lead_steps))
        .step(Duration::from_secs(60))
        .margin(0.0)
        .replicas(1, 100)
        .build()
        .unwrap()
}

#[test]
fn window_rounds_the_lead_time_up() {
    assert_eq!(scaler(0).window(), 1);
    assert_eq!(scaler(3).window(), 4);
    let s = PredictiveScaler::builder(1.0)
        .lead_time(Duration::from_secs(61))
        .step(Duration::from_secs(60))
        .build()
        .unwrap();
    assert_eq!(s.window(), 3);
}

#[test]
fn a_ramp_is_anticipated_by_the_lead_time() {
    // Load steps from 10 to 100 at t = 20; pods take 3 steps to start.
    let load: Vec<f64> = (0..40).map(|t| if t < 20 { 10.0 } else { 100.0 }).collect();
    let s = scaler(3);
    let first_up = (0..30)
        .find(|&now| s.recommend(&load[now + 1..], 1).unwrap().replicas == 10)
        .unwrap();
    // At `now` the forecast covers now+1 ..= now+4; the jump at 20 is seen first at now = 16,
    // so new pods requested then are ready at 19, before the load arrives at 20.
    assert_eq!(first_up, 16);
    assert!(first_up + 3 < 20);
    // Without a lead time the same jump is only seen one step before.
    let first_up0 = (0..30)
        .find(|&now| scaler(0).recommend(&load[now + 1..], 1).unwrap().replicas == 10)
        .unwrap();
    assert_eq!(first_up0, 19);
}

#[test]
fn hpa_wins_when_it_asks_for_more_and_bounds_apply_to_the_forecast_only() {
    let s = scaler(0);
    let r = s.recommend(&[5.0], 7).unwrap();
    assert_eq!((r.replicas, r.predictive, r.driver), (7, 1, Driver::Hpa));
    let r = s.recommend(&[1e9], 2).unwrap();
    assert_eq!((r.replicas, r.driver), (100, Driver::Forecast));
    let r = s.recommend(&[1e9], 500).unwrap();
    assert_eq!(
        r.replicas, 500,
        "never below the HPA, even above the predictive maximum"
    );
}

#[test]
fn margin_adds_headroom() {
    let s = PredictiveScaler::builder(10.0)
        .margin(0.25)
        .build()
        .unwrap();
    assert_eq!(s.recommend(&[40.0], 0).unwrap().predictive, 5);
}

#[test]
fn bad_input_is_rejected() {
    let s = scaler(2);
    for bad in [
        vec![1.0, 2.0],
        vec![1.0, f64::NAN, 1.0],
        vec![1.0, -1.0, 1.0],
        vec![f64::INFINITY; 3],
    ] {
        assert_eq!(
            s.recommend(&bad, 1).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad:?}"
        );
    }
    for b in [
        PredictiveScaler::builder(0.0),
        PredictiveScaler::builder(f64::NAN),
        PredictiveScaler::builder(1.0).step(Duration::ZERO),
        PredictiveScaler::builder(1.0).margin(-0.1),
        PredictiveScaler::builder(1.0).replicas(5, 2),
    ] {
        assert_eq!(b.build().unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

#[test]
fn recommends_from_a_history_with_a_forecaster() {
    // Daily cycle of 24 steps peaking at 200; now is just before the peak hour.
    let history: Vec<f64> = (0..24 * 3)
        .map(|t| if t % 24 == 2 { 200.0 } else { 20.0 })
        .collect();
    let s = scaler(2);
    let r = s
        .recommend_from_history(&SeasonalNaive::new(24), &history, false, 2)
        .unwrap();
    assert_eq!(r.replicas, 20);
    assert!(
        s.recommend_from_history(&SeasonalNaive::new(24), &[1.0], false, 2)
            .is_err()
    );
}

proptest! {
    #[test]
    fn never_below_hpa(
        forecast in proptest::collection::vec(0.0f64..1e6, 5..20),
        hpa in 0u32..1000,
        lead in 0u64..4,
        min in 0u32..5,
        span in 0u32..50,
        current in 0u32..2000,
    ) {
        let s = PredictiveScaler::builder(7.0)
            .lead_time(Duration::from_secs(lead * 30))
            .step(Duration::from_secs(30))
            .replicas(min, min + span)
            .build()
            .unwrap();
        let r = s.recommend(&forecast, hpa).unwrap();
        prop_assert!(r.replicas >= hpa);
        prop_assert!(r.replicas >= r.predictive);
        prop_assert!(r.predictive >= min && r.predictive <= min + span);
        // Scale-down below `current` only when both sides agree.
        if r.replicas < current {
            prop_assert!(hpa < current && r.predictive < current);
        }
    }

    #[test]
    fn more_load_never_means_fewer_replicas(
        forecast in proptest::collection::vec(0.0f64..1e5, 4..10),
        extra in 0.0f64..1e5,
        i in 0usize..4,
    ) {
        let s = scaler(3);
        let base = s.recommend(&forecast, 0).unwrap().replicas;
        let mut more = forecast.clone();
        more[i] += extra;
        prop_assert!(s.recommend(&more, 0).unwrap().replicas >= base);
    }
}
