//! Scaling, placement and AI operations through the engine.

use hxb::prelude::*;
use hxb::scaling::ReplicaRequest;
use serde_json::{Value, json};

fn pod(name: &str, extra: Value) -> Value {
    let mut spec = json!({"containers": [{"name": "app", "image": "nginx",
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

async fn node_of(engine: &Engine, name: &str) -> Option<String> {
    let p = engine.get("Pod", name, Some("default")).await.unwrap();
    p["spec"]["nodeName"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn pods_are_placed_with_kube_scheduler_semantics() {
    let engine = Engine::embedded().unwrap();
    engine
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}))
        .await
        .ok();
    let nodes = engine.list("Node", None, None).await.unwrap();
    assert_eq!(nodes.len(), 3);
    let tainted = nodes[0]["metadata"]["name"].as_str().unwrap().to_owned();
    engine
        .apply(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": tainted},
            "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}}),
        )
        .await
        .unwrap();

    // Without a toleration no pod lands on the tainted node.
    for i in 0..6 {
        let name = format!("web-{i}");
        engine.create(pod(&name, json!({}))).await.unwrap();
        let node = node_of(&engine, &name).await.expect("bound");
        assert_ne!(node, tainted, "{name} ignored the NoSchedule taint");
    }
    // Pinned to the tainted node without a toleration: not bound.
    let pin = json!({"nodeSelector": {"kubernetes.io/hostname": tainted}});
    let refused = engine.create(pod("pinned", pin.clone())).await;
    match refused {
        Ok(_) => assert_eq!(node_of(&engine, "pinned").await, None),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unschedulable),
    }
    // With the toleration it lands there.
    let mut tolerating = pin;
    tolerating["tolerations"] =
        json!([{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]);
    engine.create(pod("db-0", tolerating)).await.unwrap();
    assert_eq!(node_of(&engine, "db-0").await.as_deref(), Some(&*tainted));
}

#[tokio::test]
async fn recommend_replicas_is_hpa_exact_and_observed() {
    let engine = Engine::embedded().unwrap();
    let rec = engine
        .recommend_replicas(&ReplicaRequest {
            current_replicas: 4,
            min_replicas: 2,
            max_replicas: 6,
            target_cpu_utilization: 50,
            cpu_usage: vec![0.9, 0.9, 0.9, 0.9],
            cpu_request: "1".parse().unwrap(),
        })
        .unwrap();
    // 90 % against 50 %: ceil(4 × 1.8) = 8, clamped to the maximum 6.
    assert_eq!(rec.desired_replicas, 6);
    assert!(
        rec.conditions
            .iter()
            .any(|c| c.starts_with("ScalingLimited=True"))
    );
    assert_eq!(engine.telemetry().operations("recommend_replicas"), 1);
    engine.close();
    let err = engine
        .recommend_replicas(&ReplicaRequest {
            current_replicas: 1,
            min_replicas: 1,
            max_replicas: 2,
            target_cpu_utilization: 50,
            cpu_usage: vec![0.1],
            cpu_request: "1".parse().unwrap(),
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}

#[test]
fn forecast_follows_a_daily_cycle() {
    let engine = Engine::embedded().unwrap();
    let day = |t: usize| 100.0 + 40.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin();
    let history: Vec<f64> = (0..24 * 14).map(day).collect();
    let f = engine.forecast(&history, 24, 24).unwrap();
    assert_eq!(f.len(), 24);
    for (h, v) in f.iter().enumerate() {
        assert!((v - day(24 * 14 + h)).abs() < 5.0, "step {h}: {v}");
    }
    let short = engine.forecast(&history[..10], 24, 24).unwrap_err();
    assert_eq!(short.kind(), ErrorKind::InvalidInput);
    let nan = engine.forecast(&[1.0, f64::NAN], 1, 1).unwrap_err();
    assert_eq!(nan.kind(), ErrorKind::InvalidInput);
}

#[test]
fn detect_anomalies_flags_a_spike_and_refuses_bad_series() {
    let engine = Engine::embedded().unwrap();
    let points: Vec<(i64, f64)> = (0..2000_i64)
        .map(|i| {
            let v = if i == 1500 {
                50.0
            } else {
                (i as f64 / 20.0).sin()
            };
            (i * 300_000, v)
        })
        .collect();
    let scores = engine.detect_anomalies(&points).unwrap();
    assert_eq!(scores.len(), points.len());
    // The shape stage scores whole blocks: the spike alerts within a few points.
    assert!(scores[1500..1506].iter().any(|s| *s > 0.5));
    assert!(scores[1000..1500].iter().all(|s| *s < 0.5));
    // Each call starts a fresh detector: same series, same scores.
    assert_eq!(engine.detect_anomalies(&points).unwrap(), scores);

    let nan = engine
        .detect_anomalies(&[(0, 1.0), (1, f64::NAN)])
        .unwrap_err();
    assert_eq!(nan.kind(), ErrorKind::InvalidInput);
    let unsorted = engine.detect_anomalies(&[(5, 1.0), (3, 1.0)]).unwrap_err();
    assert_eq!(unsorted.kind(), ErrorKind::InvalidInput);
    assert_eq!(engine.telemetry().operations("detect_anomalies"), 4);
    assert!(engine.metrics_text().contains("detect_anomalies"));
}

#[test]
fn detect_anomalies_in_range_uses_the_hint_and_checks_it() {
    let engine = Engine::embedded().unwrap();
    let points: Vec<(i64, f64)> = (0..2000_i64)
        .map(|i| {
            let v = if i == 1500 {
                95.0
            } else {
                50.0 + 10.0 * (i as f64 / 20.0).sin()
            };
            (i * 300_000, v)
        })
        .collect();
    let plain = engine.detect_anomalies(&points).unwrap();
    let hinted = engine
        .detect_anomalies_in_range(&points, 0.0, 100.0)
        .unwrap();
    assert_eq!(hinted.len(), points.len());
    for scores in [&plain, &hinted] {
        assert!(scores[1500..1506].iter().any(|s| *s > 0.5));
        assert!(scores[1000..1500].iter().all(|s| *s < 0.5));
    }

    for (lo, hi) in [
        (1.0, 1.0),
        (5.0, 0.0),
        (f64::NAN, 1.0),
        (0.0, f64::INFINITY),
    ] {
        let e = engine
            .detect_anomalies_in_range(&points, lo, hi)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    let nan = engine
        .detect_anomalies_in_range(&[(0, 1.0), (1, f64::NAN)], 0.0, 1.0)
        .unwrap_err();
    assert_eq!(nan.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        engine.telemetry().operations("detect_anomalies_in_range"),
        6
    );
}

#[tokio::test]
async fn analyze_finds_a_pending_pod() {
    let engine = Engine::builder().nodes(1).build().await.unwrap();
    engine
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}))
        .await
        .ok();
    assert!(engine.analyze(Some("default")).await.unwrap().is_empty());
    let huge = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "huge", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx",
            "resources": {"requests": {"cpu": "500"}}}]}});
    let _ = engine.create(huge).await;
    let findings = engine.analyze(Some("default")).await.unwrap();
    assert!(
        findings.iter().any(|f| f.analyzer == "pending_pod"),
        "{findings:?}"
    );
}

/// Three pods that refuse to share a node (required pod anti-affinity on the hostname).
async fn spread_pods(engine: &Engine) -> Vec<Option<String>> {
    engine
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}))
        .await
        .ok();
    let anti = json!({"affinity": {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"app": "db"}},
            "topologyKey": "kubernetes.io/hostname"}]}}});
    let mut nodes = Vec::new();
    for i in 0..3 {
        let name = format!("db-{i}");
        let mut p = pod(&name, anti.clone());
        p["metadata"]["labels"] = json!({"app": "db"});
        let _ = engine.create(p).await;
        nodes.push(node_of(engine, &name).await);
    }
    nodes
}

#[tokio::test]
async fn the_default_scheduler_honours_pod_anti_affinity() {
    let engine = Engine::builder().nodes(2).build().await.unwrap();
    let nodes = spread_pods(&engine).await;
    assert!(nodes[0].is_some() && nodes[1].is_some());
    assert_ne!(nodes[0], nodes[1]);
    assert_eq!(nodes[2], None, "a third replica has no node left");

    // The core's simple scheduler ignores affinity: the engine really plugged in the
    // placement engine, and the builder can swap it.
    let simple = Engine::builder()
        .nodes(2)
        .scheduler(std::sync::Arc::new(hxb::core::embedded::LeastAllocated))
        .build()
        .await
        .unwrap();
    assert!(spread_pods(&simple).await.iter().all(Option::is_some));
}
