use proptest::prelude::*;

use super::*;

const STEP: i64 = 300_000;

fn sine(i: i64) -> f64 {
    10.0 + (i as f64 * std::f64::consts::TAU / 288.0).sin()
        + 0.05 * ((i * 7919 % 101) as f64 / 101.0)
}

fn hinted() -> Composite {
    Composite::builder()
        .range_hint(RangeHint::new(0.0, 100.0).ok())
        .build()
}

fn ranked() -> Composite {
    Composite::builder()
        .rank(Some(RankCalibration {
            horizon: 300.0,
            blend: 0.75,
            gate: false,
        }))
        .build()
}

fn all_detectors() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(Composite::default()),
        Box::new(hinted()),
        Box::new(ranked()),
        Box::new(
            Composite::builder()
                .rank(Some(RankCalibration {
                    horizon: 3000.0,
                    blend: 0.0,
                    gate: true,
                }))
                .build(),
        ),
        Box::new(ContextOse::default()),
        Box::new(Resonance::builder().build(None)),
        Box::new(Resonance::builder().build(RangeHint::new(0.0, 100.0).ok())),
        Box::new(Composite::builder().shapes(None).build()),
        Box::new(RobustZ::values()),
        Box::new(RobustZ::diffs()),
        Box::new(Cusum::default()),
        Box::new(Neighbour::default()),
        Box::new(Combine::max(RobustZ::values(), Cusum::default())),
        Box::new(Refractory::new(
            Neighbour::new(4, 8, 1, Calibrator::record(100.0, 10)),
            0.5,
            20,
        )),
    ]
}

#[test]
fn constant_series_never_alarms() {
    for mut d in all_detectors() {
        for i in 0..3000 {
            assert_eq!(d.update(i * STEP, 42.0), 0.0);
        }
    }
    let mut d = Composite::default();
    for i in 0..3000 {
        assert_eq!(d.update(i * STEP, 0.0), 0.0);
    }
}

#[test]
fn a_spike_scores_high_once_and_then_quietens() {
    let mut d = Composite::default();
    let mut scores = Vec::new();
    for i in 0..3000 {
        let v = if i == 2000 { sine(i) + 30.0 } else { sine(i) };
        scores.push(d.update(i * STEP, v));
    }
    let before = scores[300..2000].iter().cloned().fold(0.0, f64::max);
    assert!(scores[2000] > 0.5, "spike {}", scores[2000]);
    assert!(before < scores[2000], "background {before}");
    assert!(scores[2001..2100].iter().all(|&s| s < 0.5));
}

#[test]
fn a_level_shift_is_detected_near_its_start() {
    let mut d = Composite::default();
    let mut first = None;
    for i in 0..3000 {
        let v = sine(i) + if i >= 2000 { 8.0 } else { 0.0 };
        if d.update(i * STEP, v) >= 0.5 && i >= 300 && first.is_none() {
            first = Some(i);
        }
    }
    let first = first.expect("shift detected");
    assert!((2000..2020).contains(&first), "{first}");
}

#[test]
fn batch_api_rejects_bad_input_and_changes_nothing() {
    let mut d = Composite::default();
    let warm: Vec<(i64, f64)> = (0..500).map(|i| (i * STEP, sine(i))).collect();
    score_series(&mut d, &warm).unwrap();
    let before = d.clone();
    for bad in [
        vec![(500 * STEP, 1.0), (500 * STEP, 2.0)],
        vec![(502 * STEP, 1.0), (501 * STEP, 2.0)],
        vec![(501 * STEP, f64::NAN)],
        vec![(501 * STEP, f64::INFINITY)],
    ] {
        let e = score_series(&mut d, &bad).unwrap_err();
        assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput);
        assert_eq!(d, before);
    }
}

#[test]
fn streaming_skips_nan_and_stale_points_without_changing_state() {
    let mut d = Composite::default();
    for i in 0..500 {
        d.update(i * STEP, sine(i));
    }
    let before = d.clone();
    assert_eq!(d.update(500 * STEP, f64::NAN), 0.0);
    assert_eq!(d.update(499 * STEP, 1.0), 0.0);
    assert_eq!(d.update(10 * STEP, 1.0), 0.0);
    assert_eq!(d, before);
    let s = score_points(&mut d, &[(500 * STEP, 1.0), (500 * STEP, 2.0)]);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1], 0.0);
}

#[test]
fn timestamps_at_the_ends_of_i64_do_not_overflow() {
    // The span between i64::MIN and i64::MAX does not fit in an i64.
    let points = [(i64::MIN, 1.0), (0, 2.0), (1, 3.0), (i64::MAX, 4.0)];
    for mut d in all_detectors() {
        let scores = score_points(&mut *d, &points);
        assert_eq!(scores.len(), points.len());
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "{scores:?}");
    }
}

#[test]
fn a_gap_alerts_at_most_once_and_only_where_the_series_resumes() {
    let mut d = Composite::default();
    let mut t = 0;
    let mut alerts = Vec::new();
    for i in 0..3000 {
        t += if i == 2000 { 50 * STEP } else { STEP };
        // The daily cycle keeps its phase across the gap (it follows time, not row numbers), so
        // in row order the series jumps where it resumes. The shape stage counts rows: it may
        // flag that jump once, and sees everything after it (it is not blind while its
        // windows refill).
        if d.update(t, sine(t / STEP)) >= 0.5 {
            alerts.push(i);
        }
    }
    assert!(alerts.len() <= 1, "{alerts:?}");
    assert!(
        alerts.iter().all(|i| (2000..2050).contains(i)),
        "{alerts:?}"
    );
}

#[test]
fn reset_behaves_like_new() {
    let pts: Vec<(i64, f64)> = (0..1000)
        .map(|i| (i * STEP, sine(i) + if i == 700 { 9.0 } else { 0.0 }))
        .collect();
    for fresh in [Composite::default(), ranked()] {
        let mut d = fresh.clone();
        let a = score_points(&mut d, &pts);
        d.reset();
        assert_eq!(d, fresh);
        assert_eq!(score_points(&mut d, &pts), a);
    }
}

#[test]
fn state_is_bounded() {
    let statistical = Composite::builder().shapes(None).build();
    assert!(
        statistical.state_bytes() < 8 * 1024,
        "{}",
        statistical.state_bytes()
    );
    for mut d in [Composite::default(), ranked(), hinted(), statistical] {
        let value = |i: i64| sine(i) * (1.0 + (i % 977) as f64);
        let mut most = 0;
        for i in 0..20_000 {
            d.update(i * STEP, value(i));
            most = most.max(d.state_bytes());
        }
        // Two scales of at most 512 categories of 45 bytes, and the statistical stage.
        assert!(most < 72 * 1024, "{most}");
        for i in 20_000..40_000 {
            d.update(i * STEP, value(i));
            assert!(d.state_bytes() <= most.max(72 * 1024));
        }
    }
}

#[test]
fn skipped_points_change_nothing_even_during_a_refractory_period() {
    for mut d in [Composite::default(), hinted()] {
        let fresh = d.clone();
        let mut alerted = false;
        for i in 0..3000 {
            let s = d.update(i * STEP, 5.0 * sine(i) + if i == 2507 { 40.0 } else { 0.0 });
            alerted |= i == 2507 && s >= 0.5;
        }
        assert!(
            alerted,
            "the spike alerts, so the quiet period after it is running"
        );
        let before = d.clone();
        assert_eq!(d.update(3000 * STEP, f64::NAN), 0.0);
        assert_eq!(d.update(2999 * STEP, 1.0), 0.0);
        assert_eq!(d.update(2999 * STEP, f64::INFINITY), 0.0);
        assert_eq!(d, before, "bad points change nothing");
        // The context memory is capped: state stays well under a few MB.
        assert!(d.state_bytes() < 4 << 20, "{}", d.state_bytes());
        d.reset();
        assert_eq!(d, fresh);
    }
}

#[test]
fn a_value_outside_the_hint_is_clamped_not_rejected() {
    let mut d = hinted();
    for i in 0..1000 {
        let s = d.update(i * STEP, if i == 800 { 1e9 } else { 50.0 + sine(i) });
        assert!((0.0..=1.0).contains(&s));
    }
}

struct Fixed(f64);
impl Detector for Fixed {
    fn update(&mut self, _: i64, _: f64) -> f64 {
        self.0
    }
    fn reset(&mut self) {}
}

#[test]
fn combine_and_refractory_semantics() {
    assert_eq!(Combine::max(Fixed(0.2), Fixed(0.7)).update(0, 0.0), 0.7);
    assert!((Combine::mean(Fixed(0.2), Fixed(0.6), 0.25).update(0, 0.0) - 0.5).abs() < 1e-12);
    assert_eq!(
        Combine::mean(Fixed(1.0), None::<Fixed>, 1.0).update(0, 0.0),
        1.0
    );
    let mut r = Refractory::new(Fixed(0.8), 0.5, 4);
    let out: Vec<f64> = (0..6).map(|i| r.update(i, 0.0)).collect();
    assert_eq!(out[0], 0.8);
    assert_eq!(out[1], 0.0);
    // Damping rises linearly, and re-arms as soon as a damped score reaches the level again.
    assert!(out[1..].iter().all(|&s| s < 0.8));
}

#[test]
fn composite_builder_switches_components() {
    let only_cusum = Composite::builder()
        .value_z(false)
        .diff_z(false)
        .neighbour(false)
        .build();
    assert!(!only_cusum.config().eq(&CompositeConfig::default()));
    let none = Composite::builder()
        .value_z(false)
        .diff_z(false)
        .cusum(false)
        .neighbour(false)
        .seasonal(false)
        .shapes(None)
        .build();
    let mut none = none;
    for i in 0..1000 {
        assert_eq!(
            none.update(i * STEP, sine(i) + if i == 600 { 50.0 } else { 0.0 }),
            0.0
        );
    }
}

fn arb_points() -> impl Strategy<Value = Vec<(i64, f64)>> {
    let value = prop_oneof![
        8 => -1e6f64..1e6,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.0),
        1 => any::<f64>(),
    ];
    let dt =
        prop_oneof![8 => Just(STEP), 1 => 0i64..3 * STEP, 1 => -STEP..0i64, 1 => Just(100 * STEP)];
    proptest::collection::vec((dt, value), 0..400).prop_map(|steps| {
        let mut t = 0i64;
        steps
            .into_iter()
            .map(|(dt, v)| {
                t = t.saturating_add(dt);
                (t, v)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scores_stay_in_unit_interval_and_nothing_panics(points in arb_points()) {
        for mut d in all_detectors() {
            for &(t, v) in &points {
                let s = d.update(t, v);
                prop_assert!((0.0..=1.0).contains(&s), "score {s}");
            }
        }
    }

    #[test]
    fn memory_does_not_grow(points in arb_points()) {
        let mut d = Composite::default();
        let bytes = d.state_bytes();
        for &(t, v) in &points {
            d.update(t, v);
        }
        prop_assert_eq!(d.state_bytes(), bytes);
    }

    #[test]
    fn batch_api_accepts_exactly_valid_series(points in arb_points()) {
        let mut d = Composite::default();
        let valid = points.windows(2).all(|w| w[0].0 < w[1].0) && points.iter().all(|p| p.1.is_finite());
        prop_assert_eq!(score_series(&mut d, &points).is_ok(), valid);
    }
}
