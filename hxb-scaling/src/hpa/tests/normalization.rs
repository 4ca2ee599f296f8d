//! Normalization: stabilization windows, behavior policies, clamping (upstream `horizontal.go`).
use super::*;

fn rec(replicas: i32, ago: i64) -> TimestampedRecommendation {
    TimestampedRecommendation {
        replicas,
        at: t(-ago),
    }
}

#[test]
fn convert_with_rules_table() {
    // convertDesiredReplicasWithRules: (current, desired, min, max) → (replicas, reason).
    let cases = [
        (5, 7, 3, 10, 7, Reason::DesiredWithinRange),
        (5, 2, 3, 10, 3, Reason::TooFewReplicas),
        (5, 15, 3, 10, 10, Reason::TooManyReplicas),
        (3, 20, 1, 100, 6, Reason::ScaleUpLimit), // max(2 × 3, 4)
        (1, 20, 1, 100, 4, Reason::ScaleUpLimit), // scaleUpLimitMinimum
        (3, 20, 1, 5, 5, Reason::TooManyReplicas),
    ];
    for (cur, des, min, max, want, reason) in cases {
        let (got, r, _) = convert_with_rules(cur, des, min, max);
        assert_eq!((got, r), (want, reason), "{cur} {des} {min} {max}");
    }
}

#[test]
fn scale_down_stabilization_without_behavior() {
    // stabilizeRecommendation: the highest recommendation in the last 5 minutes wins.
    let spec = HpaSpec::builder(10).build().unwrap();
    let state = HpaState {
        recommendations: vec![rec(8, 120), rec(9, 360)],
        ..Default::default()
    };
    let out = recommend(
        &spec,
        &ControllerConfig::default(),
        &obs_cpu(8, &[0.1; 8]),
        &state,
        t(0),
    )
    .unwrap();
    // 10 % against the default 80 % → ceil(8 × 0.125) = 1.
    assert_eq!(out.metric_desired_replicas, Some(1));
    assert_eq!(out.desired_replicas, 8);
    assert_eq!(
        out.condition(ConditionType::AbleToScale).unwrap().reason,
        Reason::ScaleDownStabilized
    );
    // The expired recommendation is dropped, the new one recorded.
    assert_eq!(out.next_state.recommendations, vec![rec(8, 120), rec(1, 0)]);
}

fn behavior(
    up: Vec<ScalingPolicy>,
    down: Vec<ScalingPolicy>,
    up_window: i32,
    down_window: i32,
) -> Behavior {
    Behavior {
        scale_up: ScalingRules {
            stabilization_window_seconds: up_window,
            policies: up,
            ..ScalingRules::default_scale_up()
        },
        scale_down: ScalingRules {
            stabilization_window_seconds: down_window,
            policies: down,
            ..ScalingRules::default_scale_down()
        },
    }
}

fn normalize(
    state: &HpaState,
    b: &Behavior,
    current: i32,
    pre: i32,
    min: i32,
    max: i32,
) -> (i32, Reason, Reason) {
    let mut s = state.clone();
    let n = normalize::normalize_with_behavior(&mut s, b, current, pre, min, max, t(0));
    (n.desired, n.able_to_scale.reason, n.scaling_limited.reason)
}

#[test]
fn behavior_table() {
    let empty = HpaState::default();
    let pct = |v| ScalingPolicy::percent(v, 60);
    // Upstream TestNormalizeDesiredReplicasWithBehaviors "Scale up with behavior":
    // 200 % of 5 allows 15, maxReplicas 10 wins.
    let b = behavior(vec![pct(200)], vec![pct(100)], 300, 300);
    assert_eq!(
        normalize(&empty, &b, 5, 15, 1, 10),
        (10, Reason::ReadyForNewScale, Reason::TooManyReplicas)
    );
    // "Scale down with behavior": 50 % of 8 → at most 4 pods removed.
    let b = behavior(vec![pct(200)], vec![pct(50)], 300, 300);
    assert_eq!(
        normalize(&empty, &b, 8, 2, 1, 10),
        (4, Reason::ReadyForNewScale, Reason::ScaleDownLimit)
    );
    // Percent scale-down truncates: 5 × (1 - 0.5) = 2.5 → 2.
    let b = behavior(vec![pct(100)], vec![pct(50)], 0, 0);
    assert_eq!(normalize(&empty, &b, 5, 1, 1, 10).0, 2);
    // Percent scale-up rounds up: 3 × 1.1 = 3.3 → 4.
    let b = behavior(vec![pct(10)], vec![pct(100)], 0, 0);
    assert_eq!(
        normalize(&empty, &b, 3, 10, 1, 10),
        (4, Reason::ReadyForNewScale, Reason::ScaleUpLimit)
    );
    // minReplicas binds before a looser rate limit.
    let b = behavior(vec![pct(100)], vec![pct(100)], 0, 0);
    assert_eq!(
        normalize(&empty, &b, 5, 1, 3, 10),
        (3, Reason::ReadyForNewScale, Reason::TooFewReplicas)
    );
}

#[test]
fn stabilization_with_behaviors() {
    // TestStabilizeRecommendationWithBehaviors (up window 300 s, down window 600 s).
    let b = behavior(
        vec![ScalingPolicy::percent(1000, 60)],
        vec![ScalingPolicy::percent(100, 60)],
        300,
        600,
    );
    let s = HpaState {
        recommendations: vec![rec(8, 120), rec(7, 240)],
        ..Default::default()
    };
    assert_eq!(
        normalize(&s, &b, 5, 10, 1, 100),
        (7, Reason::ScaleUpStabilized, Reason::DesiredWithinRange)
    );
    let s = HpaState {
        recommendations: vec![rec(5, 300), rec(4, 480)],
        ..Default::default()
    };
    assert_eq!(
        normalize(&s, &b, 8, 3, 1, 100),
        (5, Reason::ScaleDownStabilized, Reason::DesiredWithinRange)
    );
}

#[test]
fn select_policy_and_period_accounting() {
    let now = t(0);
    let rules = |select| ScalingRules {
        stabilization_window_seconds: 0,
        select_policy: select,
        policies: vec![ScalingPolicy::pods(4, 60), ScalingPolicy::percent(100, 60)],
        tolerance: None,
    };
    // calculateScaleUpLimitWithScalingRules: Max → 20, Min → 14, Disabled → current.
    assert_eq!(
        scale_up_limit(10, &[], &[], &rules(SelectPolicy::Max), now),
        20
    );
    assert_eq!(
        scale_up_limit(10, &[], &[], &rules(SelectPolicy::Min), now),
        14
    );
    assert_eq!(
        scale_up_limit(10, &[], &[], &rules(SelectPolicy::Disabled), now),
        10
    );
    // calculateScaleDownLimitWithBehaviors: Max (largest change) → 0, Min → 6.
    assert_eq!(
        scale_down_limit(10, &[], &[], &rules(SelectPolicy::Max), now),
        0
    );
    assert_eq!(
        scale_down_limit(10, &[], &[], &rules(SelectPolicy::Min), now),
        6
    );
    // getReplicasChangePerPeriod: only events strictly inside the period count.
    let ev = |change: i32, ago: i64| ScaleEvent {
        change,
        at: t(-ago),
    };
    let events = [ev(3, 30), ev(2, 45), ev(1, 70), ev(9, 60)];
    assert_eq!(replicas_change_per_period(60, &events, now), 5);
    // Six pods were added 30 s ago: the period started at 4, so Pods 4 and Percent 100
    // both allow 8, below the current 10: no further scale-up (limit clamps to current).
    let up = [ev(6, 30)];
    assert_eq!(
        scale_up_limit(10, &up, &[], &rules(SelectPolicy::Max), now),
        8
    );
    let b = Behavior {
        scale_up: rules(SelectPolicy::Max),
        scale_down: ScalingRules::default_scale_down(),
    };
    let s = HpaState {
        scale_up_events: up.to_vec(),
        ..Default::default()
    };
    assert_eq!(
        normalize(&s, &b, 10, 30, 1, 100),
        (10, Reason::ReadyForNewScale, Reason::ScaleUpLimit)
    );
}

#[test]
fn default_behavior_rates() {
    // The API default behavior: scale up by max(4 pods, 100 %) per 15 s, no stabilization;
    // scale down 100 % per 15 s after a 300 s stabilization window.
    let b = Behavior::default();
    let empty = HpaState::default();
    assert_eq!(normalize(&empty, &b, 1, 100, 1, 100).0, 5);
    assert_eq!(normalize(&empty, &b, 10, 100, 1, 100).0, 20);
    let s = HpaState {
        recommendations: vec![rec(10, 100)],
        ..Default::default()
    };
    assert_eq!(
        normalize(&s, &b, 10, 2, 1, 100),
        (10, Reason::ScaleDownStabilized, Reason::DesiredWithinRange)
    );
    let s = HpaState {
        recommendations: vec![rec(10, 301)],
        ..Default::default()
    };
    assert_eq!(normalize(&s, &b, 10, 2, 1, 100).0, 2);
}

#[test]
fn scale_events_are_recorded_only_with_a_behavior() {
    // storeScaleEvent: nothing is kept without a behavior; with one, the event is kept and
    // events older than the longest policy period are forgotten.
    let spec = HpaSpec::builder(10).build().unwrap();
    let out = run(&spec, &obs_cpu(2, &[2.0; 2]));
    assert!(out.rescale && out.next_state.scale_up_events.is_empty());
    let spec = HpaSpec::builder(10)
        .behavior(Behavior::default())
        .build()
        .unwrap();
    let old = HpaState {
        scale_up_events: vec![ScaleEvent {
            change: 1,
            at: t(-16),
        }],
        ..Default::default()
    };
    let out = recommend(
        &spec,
        &ControllerConfig::default(),
        &obs_cpu(2, &[2.0; 2]),
        &old,
        t(0),
    )
    .unwrap();
    // 200 % against 80 % → ceil(2 × 2.5) = 5, within max(2 + 4, 2 × 2).
    assert_eq!(out.desired_replicas, 5);
    assert_eq!(
        out.next_state.scale_up_events,
        vec![ScaleEvent {
            change: 3,
            at: t(0)
        }]
    );
}
