//! End to end: an `autoscaling/v2` object driven over simulated time, the state carried
//! from one decision to the next as the controller would.

use std::time::Duration;

use hxb_core::{ResourceList, Timestamp};
use hxb_scaling::hpa::{
    ConditionType, ControllerConfig, HpaSpec, HpaState, MetricValues, Observation, PodInfo,
    PodMetricSample, Reason, recommend,
};
use k8s_openapi::api::autoscaling::v2 as api;

fn hpa_object() -> api::HorizontalPodAutoscaler {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 20,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 50}}}],
            "behavior": {
                "scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
                "scaleDown": {"stabilizationWindowSeconds": 120,
                    "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]}
            }
        }
    }))
    .unwrap()
}

fn observe(replicas: i32, per_pod_cores: f64, now: Timestamp) -> Observation {
    let started = Timestamp::from_second(0).unwrap();
    let req = ResourceList::parse([("cpu", "1")]).unwrap();
    let n = replicas as usize;
    Observation {
        spec_replicas: replicas,
        status_replicas: replicas,
        pods: (0..n)
            .map(|i| PodInfo::running(format!("web-{i}"), started, req.clone()))
            .collect(),
        metrics: vec![MetricValues::PerPod(
            (0..n)
                .map(|i| PodMetricSample {
                    pod: format!("web-{i}"),
                    value: per_pod_cores,
                    timestamp: now,
                    window: Duration::from_secs(30),
                })
                .collect(),
        )],
    }
}

#[test]
fn load_ramp_is_rate_limited_then_stabilized() {
    let spec = HpaSpec::try_from(&hpa_object()).unwrap();
    let cfg = ControllerConfig::default();
    let mut state = HpaState::default();
    let mut replicas = 2;
    // Total demand of 8 cores for three minutes, then 1 core. A sync every 15 s.
    let mut history = Vec::new();
    for step in 0..40 {
        let now = Timestamp::from_second(10_000 + step * 15).unwrap();
        let total = if step < 12 { 8.0 } else { 1.0 };
        let out = recommend(
            &spec,
            &cfg,
            &observe(replicas, total / f64::from(replicas), now),
            &state,
            now,
        )
        .unwrap();
        if out.rescale {
            replicas = out.desired_replicas;
        }
        history.push((
            step,
            replicas,
            out.condition(ConditionType::ScalingLimited)
                .map(|c| c.reason),
        ));
        state = out.next_state;
    }
    // Scale-up: at most 2 pods per 60 s → 4 at the first sync, 6 a minute later, then the
    // 16 pods that 8 cores at 50 % need are never reached in three minutes.
    assert_eq!(history[0].1, 4);
    assert_eq!(history[0].2, Some(Reason::ScaleUpLimit));
    assert_eq!(history[3].1, 4, "still inside the first period");
    assert_eq!(history[4].1, 6);
    assert_eq!(history[11].1, 8);
    // Demand drops at step 12: the 120 s window holds the count for eight syncs…
    assert!(history[12..19].iter().all(|h| h.1 == 8), "{history:?}");
    // …then 50 % per minute, down to minReplicas.
    let tail: Vec<i32> = history[19..].iter().map(|h| h.1).collect();
    assert!(tail.windows(2).all(|w| w[1] <= w[0]));
    assert_eq!(*tail.last().unwrap(), 2);
    assert!(tail.contains(&4), "a 50 % step: {tail:?}");
}
