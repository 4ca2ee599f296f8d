//! Table-driven tests. Each case names the upstream test or function whose documented
//! behaviour it checks (kubernetes `pkg/controller/podautoscaler/replica_calculator_test.go`
//! and `horizontal.go`); expected values are derived by hand from the upstream formulas.

use std::time::Duration;

use hxb_core::{ErrorKind, Quantity, ResourceList, Timestamp};

use super::*;

const NOW: i64 = 1_000_000;

fn t(offset_s: i64) -> Timestamp {
    Timestamp::from_second(NOW + offset_s).unwrap()
}

/// A pod started ten minutes ago (outside the cpu initialization period).
fn pod(i: usize, cpu: &str) -> PodInfo {
    PodInfo::running(
        format!("p{i}"),
        t(-600),
        ResourceList::parse([("cpu", cpu)]).unwrap(),
    )
}

fn sample(i: usize, v: f64) -> PodMetricSample {
    PodMetricSample {
        pod: format!("p{i}"),
        value: v,
        timestamp: t(0),
        window: Duration::from_secs(60),
    }
}

fn samples(vals: &[f64]) -> Vec<PodMetricSample> {
    vals.iter()
        .enumerate()
        .map(|(i, v)| sample(i, *v))
        .collect()
}

/// Unready and never ready: the condition turned false when the pod started.
fn unready(mut p: PodInfo) -> PodInfo {
    p.ready = Some(ReadyCondition {
        ready: false,
        last_transition: p.start_time.unwrap(),
    });
    p
}

fn run(spec: &HpaSpec, obs: &Observation) -> Outcome {
    recommend(
        spec,
        &ControllerConfig::default(),
        obs,
        &HpaState::default(),
        t(0),
    )
    .unwrap()
}

fn proposal(out: &Outcome, i: usize) -> Proposal {
    out.proposals[i].result.clone().unwrap()
}

struct ResourceCase {
    name: &'static str,
    current: i32,
    requests: Vec<&'static str>,
    pods: Vec<PodInfo>,
    levels: Vec<f64>,
    target: i32,
    expected: i32,
    utilization: i32,
}

fn cpu_case(
    name: &'static str,
    current: i32,
    levels: &[f64],
    target: i32,
    expected: i32,
    utilization: i32,
) -> ResourceCase {
    let n = levels.len();
    ResourceCase {
        name,
        current,
        requests: vec!["1"; n],
        pods: (0..n).map(|i| pod(i, "1")).collect(),
        levels: levels.to_vec(),
        target,
        expected,
        utilization,
    }
}

#[test]
fn resource_utilization_table() {
    let mut cases = vec![
        // TestReplicaCalcScaleUp: 50 % used against 30 % → ceil(3 × 50/30) = 5.
        cpu_case("TestReplicaCalcScaleUp", 3, &[0.3, 0.5, 0.7], 30, 5, 50),
        // TestReplicaCalcScaleDown: 1.4 of 5 cores = 28 % against 50 % → ceil(5 × 0.56) = 3.
        cpu_case(
            "TestReplicaCalcScaleDown",
            5,
            &[0.1, 0.3, 0.5, 0.25, 0.25],
            50,
            3,
            28,
        ),
    ];
    // TestReplicaCalcScaleUpUnreadyLessScale: the unready pod is ignored (60 %), then counted
    // as 0 % on the scale-up: 1.2/3 = 40 % → ceil(3 × 40/30) = 4.
    let mut c = cpu_case(
        "TestReplicaCalcScaleUpUnreadyLessScale",
        3,
        &[0.3, 0.5, 0.7],
        30,
        4,
        60,
    );
    c.pods[0] = unready(c.pods[0].clone());
    cases.push(c);
    // TestReplicaCalcScaleUpUnreadyNoScale: 40 % on the ready pod, but with the two unready
    // pods at 0 % the ratio flips below 1 → keep 3.
    let mut c = cpu_case(
        "TestReplicaCalcScaleUpUnreadyNoScale",
        3,
        &[0.4, 0.5, 0.7],
        30,
        3,
        40,
    );
    c.pods[1] = unready(c.pods[1].clone());
    c.pods[2] = unready(c.pods[2].clone());
    cases.push(c);
    // TestReplicaCalcScaleUpHotCpuLessScale: a pod in its cpu initialization period whose
    // sample does not yet cover a full window since it turned ready is treated as unready.
    let mut c = cpu_case(
        "TestReplicaCalcScaleUpHotCpuLessScale",
        3,
        &[0.3, 0.5, 0.7],
        30,
        4,
        60,
    );
    c.pods[0] = PodInfo::running("p0", t(-30), ResourceList::parse([("cpu", "1")]).unwrap());
    cases.push(c);
    // TestReplicaCalcScaleUpIgnoresFailedPods: failed pods are ignored, not missing → 4.
    let mut c = cpu_case(
        "TestReplicaCalcScaleUpIgnoresFailedPods",
        2,
        &[0.5, 0.7],
        30,
        4,
        60,
    );
    for i in 2..4 {
        let mut p = unready(pod(i, "1"));
        p.phase = PodPhase::Failed;
        c.pods.push(p);
    }
    cases.push(c);
    // TestReplicaCalcScaleUpIgnoresDeletionPods: same for pods being deleted.
    let mut c = cpu_case(
        "TestReplicaCalcScaleUpIgnoresDeletionPods",
        2,
        &[0.5, 0.7],
        30,
        4,
        60,
    );
    for i in 2..4 {
        let mut p = unready(pod(i, "1"));
        p.deleting = true;
        c.pods.push(p);
    }
    cases.push(c);
    // TestReplicaCalcScaleDownExcludeUnreadyPods: 0.9 of 3 ready cores = 30 % → ceil(3 × 0.6) = 2.
    let mut c = cpu_case(
        "TestReplicaCalcScaleDownExcludeUnreadyPods",
        5,
        &[0.1, 0.3, 0.5, 0.25, 0.25],
        50,
        2,
        30,
    );
    c.pods[3] = unready(c.pods[3].clone());
    c.pods[4] = unready(c.pods[4].clone());
    cases.push(c);
    // TestReplicaCalcScaleDownExcludeUnscheduledPods: pending pods are unready → ceil(1 × 0.2) = 1.
    let mut c = cpu_case(
        "TestReplicaCalcScaleDownExcludeUnscheduledPods",
        5,
        &[0.1],
        50,
        1,
        10,
    );
    for i in 1..5 {
        let mut p = unready(pod(i, "1"));
        p.phase = PodPhase::Pending;
        c.pods.push(p);
    }
    cases.push(c);
    // TestReplicaCalcTolerance: 3.11 of 3 cores = 103 % against 100 % is within 10 %.
    let mut c = cpu_case(
        "TestReplicaCalcTolerance",
        3,
        &[1.01, 1.09, 1.01],
        100,
        3,
        103,
    );
    c.requests = vec!["0.9", "1.0", "1.1"];
    cases.push(c);
    // Missing metrics on a scale-up count as 0 %: 4/3 = 133 % → with the fourth pod at 0 %,
    // 100 % against 50 % → ceil(4 × 2) = 8.
    let mut c = cpu_case(
        "missing pods use 0% on scale up",
        4,
        &[2.0, 1.0, 1.0],
        50,
        8,
        133,
    );
    c.pods.push(pod(3, "1"));
    cases.push(c);
    // Missing metrics on a scale-down count as 100 % of request: (0.3 + 1) / 4 = 32 % → 0.64 → 3.
    let mut c = cpu_case(
        "missing pods use 100% on scale down",
        4,
        &[0.1, 0.1, 0.1],
        50,
        3,
        10,
    );
    c.pods.push(pod(3, "1"));
    cases.push(c);
    // …or the target when it is above 100 %: (0.3 + 2) / 4 = 57 % against 200 % → ceil(1.14) = 2.
    let mut c = cpu_case(
        "missing pods use the target above 100%",
        4,
        &[0.1, 0.1, 0.1],
        200,
        2,
        10,
    );
    c.pods.push(pod(3, "1"));
    cases.push(c);
    // The rebalanced ratio flips direction (0.8 → 1.1): keep the current count.
    let mut c = cpu_case(
        "no scale when the rebalanced ratio flips",
        4,
        &[0.4, 0.4, 0.4],
        50,
        4,
        40,
    );
    c.pods.push(pod(3, "1"));
    cases.push(c);

    for mut c in cases {
        for (p, r) in c.pods.iter_mut().zip(&c.requests) {
            p.requests = ResourceList::parse([("cpu", *r)]).unwrap();
        }
        let spec = HpaSpec::builder(100)
            .metric(MetricSource::cpu_utilization(c.target))
            .build()
            .unwrap();
        let obs = Observation {
            spec_replicas: c.current,
            status_replicas: c.current,
            pods: c.pods.clone(),
            metrics: vec![MetricValues::PerPod(samples(&c.levels))],
        };
        let out = run(&spec, &obs);
        let p = proposal(&out, 0);
        assert_eq!(p.replicas, c.expected, "{}: replicas", c.name);
        assert_eq!(
            p.utilization,
            Some(c.utilization),
            "{}: utilization",
            c.name
        );
        assert_eq!(out.metric_desired_replicas, Some(c.expected), "{}", c.name);
    }
}

struct ValueCase {
    name: &'static str,
    current: i32,
    metric: MetricSource,
    values: MetricValues,
    unready: Vec<usize>,
    expected: i32,
    usage_milli: i64,
}

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}

fn pods_metric(target: &str) -> MetricSource {
    MetricSource::Pods {
        metric: "qps".into(),
        target: q(target),
    }
}

fn object(target: ValueTarget) -> MetricSource {
    MetricSource::Object {
        metric: "qps".into(),
        described_object: "Deployment/some-deployment".into(),
        target,
    }
}

fn external(target: ValueTarget) -> MetricSource {
    MetricSource::External {
        metric: "qps".into(),
        target,
    }
}

#[test]
fn pods_object_external_table() {
    let cases = vec![
        // TestReplicaCalcScaleUpCM: average 20 against 15 → ceil(3 × 1.33) = 4.
        ValueCase {
            name: "TestReplicaCalcScaleUpCM",
            current: 3,
            metric: pods_metric("15"),
            values: MetricValues::PerPod(samples(&[20.0, 10.0, 30.0])),
            unready: vec![],
            expected: 4,
            usage_milli: 20000,
        },
        // TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale: readiness does not matter for pods metrics.
        ValueCase {
            name: "TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale",
            current: 3,
            metric: pods_metric("15"),
            values: MetricValues::PerPod(samples(&[50.0, 10.0, 30.0])),
            unready: vec![2],
            expected: 6,
            usage_milli: 30000,
        },
        // TestReplicaCalcScaleDownCM: 12 against 20 → ceil(5 × 0.6) = 3.
        ValueCase {
            name: "TestReplicaCalcScaleDownCM",
            current: 5,
            metric: pods_metric("20"),
            values: MetricValues::PerPod(samples(&[12.0; 5])),
            unready: vec![],
            expected: 3,
            usage_milli: 12000,
        },
        // TestReplicaCalcScaleUpCMObject: 20 against 15 with 3 ready pods → 4.
        ValueCase {
            name: "TestReplicaCalcScaleUpCMObject",
            current: 3,
            metric: object(ValueTarget::Value(q("15"))),
            values: MetricValues::Object(20.0),
            unready: vec![],
            expected: 4,
            usage_milli: 20000,
        },
        // TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods: only 1 ready pod → ceil(5 × 1) = 5.
        ValueCase {
            name: "TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods",
            current: 3,
            metric: object(ValueTarget::Value(q("10"))),
            values: MetricValues::Object(50.0),
            unready: vec![0, 2],
            expected: 5,
            usage_milli: 50000,
        },
        // TestReplicaCalcScaleDownCMObject: 12 against 20 with 5 ready → 3.
        ValueCase {
            name: "TestReplicaCalcScaleDownCMObject",
            current: 5,
            metric: object(ValueTarget::Value(q("20"))),
            values: MetricValues::Object(12.0),
            unready: vec![],
            expected: 3,
            usage_milli: 12000,
        },
        // TestReplicaCalcScaleUpCMPerPodObject: ceil(20 / 5) = 4, reported per pod 20/3.
        ValueCase {
            name: "TestReplicaCalcScaleUpCMPerPodObject",
            current: 3,
            metric: object(ValueTarget::AverageValue(q("5"))),
            values: MetricValues::Object(20.0),
            unready: vec![],
            expected: 4,
            usage_milli: 6667,
        },
        // TestReplicaCalcScaleDownPerPodCMObject: ceil(6 / 2) = 3, per pod 1.2.
        ValueCase {
            name: "TestReplicaCalcScaleDownPerPodCMObject",
            current: 5,
            metric: object(ValueTarget::AverageValue(q("2"))),
            values: MetricValues::Object(6.0),
            unready: vec![],
            expected: 3,
            usage_milli: 1200,
        },
        // TestReplicaCalcScaleUpCMExternal: 8.6 / 4.4 with 1 ready pod → 2.
        ValueCase {
            name: "TestReplicaCalcScaleUpCMExternal",
            current: 1,
            metric: external(ValueTarget::Value(q("4400m"))),
            values: MetricValues::External(vec![8.6]),
            unready: vec![],
            expected: 2,
            usage_milli: 8600,
        },
        // TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods: 1 ready of 3 → 2, not 6.
        ValueCase {
            name: "TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods",
            current: 3,
            metric: external(ValueTarget::Value(q("4400m"))),
            values: MetricValues::External(vec![8.6]),
            unready: vec![0, 2],
            expected: 2,
            usage_milli: 8600,
        },
        // TestReplicaCalcScaleDownCMExternal: ceil(5 × 8600/14334) = 3.
        ValueCase {
            name: "TestReplicaCalcScaleDownCMExternal",
            current: 5,
            metric: external(ValueTarget::Value(q("14334m"))),
            values: MetricValues::External(vec![8.6]),
            unready: vec![],
            expected: 3,
            usage_milli: 8600,
        },
        // TestReplicaCalcScaleUpPerPodCMExternal: ceil(8600 / 2150) = 4, per pod 2867.
        ValueCase {
            name: "TestReplicaCalcScaleUpPerPodCMExternal",
            current: 3,
            metric: external(ValueTarget::AverageValue(q("2150m"))),
            values: MetricValues::External(vec![8.6]),
            unready: vec![],
            expected: 4,
            usage_milli: 2867,
        },
        // TestReplicaCalcScaleDownPerPodCMExternal: ceil(8600 / 2867) = 3, per pod 1720.
        ValueCase {
            name: "TestReplicaCalcScaleDownPerPodCMExternal",
            current: 5,
            metric: external(ValueTarget::AverageValue(q("2867m"))),
            values: MetricValues::External(vec![8.6]),
            unready: vec![],
            expected: 3,
            usage_milli: 1720,
        },
        // External series are summed before the ratio (GetExternalMetricReplicas).
        ValueCase {
            name: "external series are summed",
            current: 2,
            metric: external(ValueTarget::Value(q("10"))),
            values: MetricValues::External(vec![10.0, 15.0, 5.0]),
            unready: vec![],
            expected: 6,
            usage_milli: 30000,
        },
    ];
    for c in cases {
        let n = c.current.max(3) as usize;
        let pods: Vec<PodInfo> = (0..n)
            .map(|i| {
                if c.unready.contains(&i) {
                    unready(pod(i, "1"))
                } else {
                    pod(i, "1")
                }
            })
            .collect();
        let spec = HpaSpec::builder(100)
            .metric(c.metric.clone())
            .build()
            .unwrap();
        let pods = pods.into_iter().take(c.current as usize).collect();
        let obs = Observation {
            spec_replicas: c.current,
            status_replicas: c.current,
            pods,
            metrics: vec![c.values],
        };
        let out = run(&spec, &obs);
        let p = proposal(&out, 0);
        assert_eq!(p.replicas, c.expected, "{}: replicas", c.name);
        assert_eq!(p.usage_milli, c.usage_milli, "{}: usage", c.name);
    }
}

fn obs_cpu(current: i32, levels: &[f64]) -> Observation {
    Observation {
        spec_replicas: current,
        status_replicas: current,
        pods: (0..levels.len()).map(|i| pod(i, "1")).collect(),
        metrics: vec![MetricValues::PerPod(samples(levels))],
    }
}

#[test]
fn per_direction_tolerance_changes_the_decision() {
    // 105 % against 100 %: inside the default 10 %, outside a scale-up tolerance of 0 (KEP-4951).
    let obs = obs_cpu(4, &[1.05; 4]);
    let plain = HpaSpec::builder(10)
        .metric(MetricSource::cpu_utilization(100))
        .build()
        .unwrap();
    assert_eq!(run(&plain, &obs).desired_replicas, 4);
    let tight = HpaSpec::builder(10)
        .metric(MetricSource::cpu_utilization(100))
        .behavior(Behavior {
            scale_up: ScalingRules {
                tolerance: Some(0.0),
                ..ScalingRules::default_scale_up()
            },
            scale_down: ScalingRules::default_scale_down(),
        })
        .build()
        .unwrap();
    let out = run(&tight, &obs);
    assert_eq!(out.desired_replicas, 5);
    assert_eq!(
        out.condition(ConditionType::AbleToScale).unwrap().reason,
        Reason::SucceededRescale
    );
}

#[test]
fn multiple_metrics_take_the_maximum() {
    // computeReplicasForMetrics: the largest proposal wins and names the metric.
    let spec = HpaSpec::builder(20)
        .metric(MetricSource::cpu_utilization(50))
        .metric(external(ValueTarget::AverageValue(q("1"))))
        .build()
        .unwrap();
    let mut obs = obs_cpu(4, &[0.5; 4]);
    obs.metrics.push(MetricValues::External(vec![7.0]));
    let out = run(&spec, &obs);
    assert_eq!(out.metric_desired_replicas, Some(7));
    assert_eq!(out.desired_replicas, 7);
    assert_eq!(out.reason, "external metric qps above target");
    assert!(
        out.condition(ConditionType::ScalingActive)
            .unwrap()
            .message
            .ends_with("external metric qps")
    );
}

#[test]
fn invalid_metrics_rule() {
    // computeReplicasForMetrics: with an invalid metric, scaling up on the valid ones goes
    // ahead; scaling down does not; all invalid fails with the first metric's reason.
    let spec = HpaSpec::builder(20)
        .metric(MetricSource::cpu_utilization(50))
        .metric(external(ValueTarget::Value(q("10"))))
        .build()
        .unwrap();
    let mut up = obs_cpu(4, &[1.0; 4]);
    up.metrics
        .push(MetricValues::Unavailable("no such series".into()));
    let out = run(&spec, &up);
    assert_eq!(out.desired_replicas, 8);
    assert_eq!(
        out.condition(ConditionType::ScalingActive).unwrap().reason,
        Reason::ValidMetricFound
    );

    let mut down = obs_cpu(4, &[0.1; 4]);
    down.metrics
        .push(MetricValues::Unavailable("no such series".into()));
    let out = run(&spec, &down);
    assert!(!out.rescale);
    assert_eq!(out.desired_replicas, 4);
    let c = out.condition(ConditionType::ScalingActive).unwrap();
    assert!(!c.status);
    assert_eq!(c.reason, Reason::FailedGetExternalMetric);
    assert!(c.message.contains("no such series"));

    let mut none = obs_cpu(4, &[0.1; 4]);
    none.metrics[0] = MetricValues::Unavailable("metrics server down".into());
    none.metrics.push(MetricValues::Unavailable("x".into()));
    let out = run(&spec, &none);
    assert_eq!(
        out.condition(ConditionType::ScalingActive).unwrap().reason,
        Reason::FailedGetResourceMetric
    );
    assert!(!out.rescale);
}

#[test]
fn replica_bounds_before_metrics() {
    // reconcileAutoscaler: zero replicas with minReplicas > 0 disables scaling; above max or
    // below min goes straight to the bound.
    let spec = HpaSpec::builder(5).min_replicas(2).build().unwrap();
    let out = run(&spec, &obs_cpu(0, &[]));
    assert_eq!(
        out.condition(ConditionType::ScalingActive).unwrap().reason,
        Reason::ScalingDisabled
    );
    assert!(!out.rescale);
    let out = run(&spec, &obs_cpu(9, &[0.1; 9]));
    assert_eq!(
        (out.desired_replicas, out.reason.as_str()),
        (5, "Current number of replicas above Spec.MaxReplicas")
    );
    let out = run(&spec, &obs_cpu(1, &[5.0]));
    assert_eq!(
        (out.desired_replicas, out.reason.as_str()),
        (2, "Current number of replicas below Spec.MinReplicas")
    );
}

#[test]
fn scale_from_zero_with_external_metric() {
    // getUsageRatioReplicaCount with currentReplicas == 0: ceil(ratio), no tolerance.
    let spec = HpaSpec::builder(10)
        .min_replicas(0)
        .metric(external(ValueTarget::Value(q("10"))))
        .build()
        .unwrap();
    let obs = Observation {
        spec_replicas: 0,
        status_replicas: 0,
        pods: vec![],
        metrics: vec![MetricValues::External(vec![25.0])],
    };
    let out = run(&spec, &obs);
    assert_eq!(proposal(&out, 0).replicas, 3);
    // Without a behavior the scale-up limit is max(2 × 0, 4) = 4, so 3 passes.
    assert_eq!(out.desired_replicas, 3);
}

#[test]
fn bad_observations_are_refused() {
    let spec = HpaSpec::builder(10).build().unwrap();
    for v in [f64::NAN, f64::INFINITY, -1.0] {
        let e = recommend(
            &spec,
            &ControllerConfig::default(),
            &obs_cpu(3, &[0.5, v, 0.5]),
            &HpaState::default(),
            t(0),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{v}");
    }
    let mut wrong = obs_cpu(3, &[0.5; 3]);
    wrong.metrics.push(MetricValues::Object(1.0));
    assert_eq!(
        recommend(
            &spec,
            &ControllerConfig::default(),
            &wrong,
            &HpaState::default(),
            t(0)
        )
        .unwrap_err()
        .kind(),
        ErrorKind::InvalidInput
    );
    let mut kind = obs_cpu(3, &[0.5; 3]);
    kind.metrics[0] = MetricValues::Object(1.0);
    assert!(
        recommend(
            &spec,
            &ControllerConfig::default(),
            &kind,
            &HpaState::default(),
            t(0)
        )
        .is_err()
    );
    let cfg = ControllerConfig {
        tolerance: f64::NAN,
        ..ControllerConfig::default()
    };
    assert!(
        recommend(
            &spec,
            &cfg,
            &obs_cpu(3, &[0.5; 3]),
            &HpaState::default(),
            t(0)
        )
        .is_err()
    );
}

#[test]
fn missing_request_makes_the_metric_invalid() {
    // calculatePodRequestsFromContainers: a pod without a cpu request fails the metric.
    let spec = HpaSpec::builder(10).build().unwrap();
    let mut obs = obs_cpu(2, &[0.5, 0.5]);
    obs.pods[1].requests = ResourceList::new();
    let out = run(&spec, &obs);
    assert!(
        out.proposals[0]
            .result
            .as_ref()
            .unwrap_err()
            .contains("missing request for cpu")
    );
    assert_eq!(
        out.condition(ConditionType::ScalingActive).unwrap().reason,
        Reason::FailedGetResourceMetric
    );
}

mod normalization;
mod props;
