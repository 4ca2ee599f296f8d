//! Property tests of the HPA maths: no panics on arbitrary finite input, clamping,
//! monotonicity, errors on non-finite input.

use proptest::prelude::*;

use super::*;

fn arb_pod(i: usize) -> impl Strategy<Value = PodInfo> {
    (
        prop_oneof![
            Just(PodPhase::Running),
            Just(PodPhase::Pending),
            Just(PodPhase::Failed)
        ],
        any::<bool>(),
        any::<bool>(),
        -900i64..0,
        1u32..4000,
    )
        .prop_map(move |(phase, ready, deleting, started, milli)| {
            let mut p = PodInfo::running(
                format!("p{i}"),
                t(started),
                ResourceList::from_quantities([("cpu", Quantity::from_milli(i64::from(milli)))])
                    .unwrap(),
            );
            p.phase = phase;
            p.deleting = deleting;
            p.ready = Some(ReadyCondition {
                ready,
                last_transition: t(started / 2),
            });
            p
        })
}

fn arb_case() -> impl Strategy<Value = (Vec<PodInfo>, Vec<Option<f64>>, i32, i32, i32, bool)> {
    (1usize..12).prop_flat_map(|n| {
        (
            (0..n).map(arb_pod).collect::<Vec<_>>(),
            proptest::collection::vec(proptest::option::weighted(0.9, 0.0f64..8.0), n),
            1i32..300,
            0i32..5,
            1i32..40,
            any::<bool>(),
        )
    })
}

fn spec_for(target: i32, min: i32, span: i32, with_behavior: bool) -> HpaSpec {
    let mut b = HpaSpec::builder(min.max(1) + span)
        .min_replicas(min)
        .metric(MetricSource::cpu_utilization(target));
    if with_behavior {
        b = b.behavior(Behavior::default());
    }
    b.build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any finite observation yields an outcome; a rescale always lands within the bounds.
    #[test]
    fn never_panics_and_clamps((pods, vals, target, min, span, beh) in arb_case(), current in 0i32..60) {
        let spec = spec_for(target, min, span, beh);
        let samples = vals.iter().enumerate().filter_map(|(i, v)| v.map(|v| sample(i, v))).collect();
        let obs = Observation {
            spec_replicas: current,
            status_replicas: current,
            pods,
            metrics: vec![MetricValues::PerPod(samples)],
        };
        let out = recommend(&spec, &ControllerConfig::default(), &obs, &HpaState::default(), t(0)).unwrap();
        if out.rescale {
            prop_assert!(out.desired_replicas >= spec.min_replicas());
            prop_assert!(out.desired_replicas <= spec.max_replicas());
            prop_assert_ne!(out.desired_replicas, current);
        } else {
            prop_assert_eq!(out.desired_replicas, current);
        }
        prop_assert!(out.condition(ConditionType::AbleToScale).is_some());
    }

    /// With every pod ready and reporting, more usage never proposes fewer replicas.
    #[test]
    fn proposal_is_monotone_in_usage(n in 1usize..10, base in 0.0f64..3.0, extra in 0.0f64..3.0, target in 1i32..200) {
        let spec = HpaSpec::builder(1000).metric(MetricSource::cpu_utilization(target)).build().unwrap();
        let propose = |u: f64| {
            let out = run(&spec, &obs_cpu(n as i32, &vec![u; n]));
            out.metric_desired_replicas.unwrap()
        };
        prop_assert!(propose(base) <= propose(base + extra));
    }

    /// Scale limits bracket the current count: up ≥ current, down ≤ current (Max policy).
    #[test]
    fn limits_bracket_current(current in 0i32..10_000, v in 1i32..500, period in 1i32..1800) {
        for p in [ScalingPolicy::pods(v, period), ScalingPolicy::percent(v, period)] {
            let rules = ScalingRules { stabilization_window_seconds: 0, select_policy: SelectPolicy::Max, policies: vec![p], tolerance: None };
            prop_assert!(scale_up_limit(current, &[], &[], &rules, t(0)) >= current);
            prop_assert!(scale_down_limit(current, &[], &[], &rules, t(0)) <= current);
        }
    }

    /// Non-finite or negative values are refused with InvalidInput.
    #[test]
    fn non_finite_values_are_refused(
        bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), -1e12f64..-1e-9],
        at in 0usize..3,
    ) {
        let mut vals = vec![0.5; 3];
        vals[at] = bad;
        let spec = HpaSpec::builder(10).build().unwrap();
        let e = recommend(&spec, &ControllerConfig::default(), &obs_cpu(3, &vals), &HpaState::default(), t(0)).unwrap_err();
        prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}
