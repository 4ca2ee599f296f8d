//! Monitoring, scaling and AI routes over loopback HTTP, with roles.

use std::sync::Arc;

use hxb::ai::incidents::{Signal, SignalKind};
use hxb::core::metrics::alerts::AlertRule;
use hxb::core::metrics::{EmbeddedMetrics, labels};
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::support::Server;

const W: &str = "/api/v1/organizations/acme/workspaces";

async fn post(s: &Server, user: &str, path: &str, body: Value) {
    let (st, b) = s.call(Some(user), Method::POST, path, Some(body)).await;
    assert_eq!(st, 201, "{path}: {b}");
}

async fn setup(s: &Server) {
    post(
        s,
        "owner@x",
        "/api/v1/organizations",
        json!({"name": "acme", "plan": "professional"}),
    )
    .await;
    let q = json!({"requests.cpu": "2", "requests.memory": "4Gi", "pods": "20"});
    post(s, "owner@x", W, json!({"name": "dev", "quota": q})).await;
    post(s, "owner@x", W, json!({"name": "prod", "quota": q})).await;
    post(
        s,
        "owner@x",
        &format!("{W}/dev/projects"),
        json!({"name": "web"}),
    )
    .await;
    for (who, role) in [("dev@x", "developer"), ("view@x", "viewer")] {
        post(
            s,
            "owner@x",
            "/api/v1/organizations/acme/members",
            json!({"subject": who, "role": role, "workspace": "dev"}),
        )
        .await;
    }
    let m = Arc::new(EmbeddedMetrics::default());
    s.engine.use_metrics_source(m.clone()).unwrap();
    let now = hxb::core::Timestamp::now().as_millisecond();
    for ws in ["dev", "prod"] {
        let rule = AlertRule::new("HighCpu", &format!("cpu{{ws=\"{ws}\"}}"))
            .unwrap()
            .above(0.9);
        s.engine
            .add_alert_rule(&format!("acme/{ws}"), rule)
            .await
            .unwrap();
        m.write(&labels("cpu", &[("ws", ws)]), now - 1000, 0.95)
            .unwrap();
        s.engine
            .record_signal(Signal {
                at: hxb::core::Timestamp::now(),
                scope: format!("acme/{ws}"),
                object: "Deployment x/web".into(),
                kind: SignalKind::Event {
                    reason: "OOMKilled".into(),
                },
                message: String::new(),
            })
            .unwrap();
    }
    s.engine.evaluate_alerts().await.unwrap();
}

#[tokio::test]
async fn monitoring_routes_follow_the_role_model() {
    let s = Server::start().await;
    setup(&s).await;
    let dev = Some("dev@x");

    let (st, alerts) = s
        .call(dev, Method::GET, &format!("{W}/dev/alerts"), None)
        .await;
    assert_eq!(st, 200, "{alerts}");
    let alerts = alerts.as_array().unwrap().clone();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["scope"], "acme/dev");
    let (st, _) = s
        .call(dev, Method::GET, &format!("{W}/prod/alerts"), None)
        .await;
    assert_eq!(st, 403);

    let (st, h) = s
        .call(dev, Method::GET, &format!("{W}/dev/health"), None)
        .await;
    assert_eq!((st, h["health"].as_str()), (200, Some("degraded")), "{h}");
    let (st, inc) = s
        .call(dev, Method::GET, &format!("{W}/dev/incidents"), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(inc.as_array().unwrap().len(), 1);
    assert_eq!(inc[0]["scope"], "acme/dev");

    // Acknowledging is an operation: a viewer may not, a developer may; another workspace's
    // alert is not found from here.
    let id = alerts[0]["id"].clone();
    let ack = format!("{W}/dev/alerts/acknowledge");
    let (st, e) = s
        .call(Some("view@x"), Method::POST, &ack, Some(json!({"id": id})))
        .await;
    assert_eq!(st, 403, "{e}");
    let (st, a) = s
        .call(dev, Method::POST, &ack, Some(json!({"id": id})))
        .await;
    assert_eq!(
        (st, a["acknowledged_by"].as_str()),
        (200, Some("dev@x")),
        "{a}"
    );
    let prod_id = s
        .engine
        .alerts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.scope == "acme/prod")
        .unwrap()
        .id();
    let (st, _) = s
        .call(
            Some("owner@x"),
            Method::POST,
            &ack,
            Some(json!({"id": prod_id})),
        )
        .await;
    assert_eq!(st, 404);

    // Scaling and AI maths.
    let body = json!({"current_replicas": 3, "min_replicas": 1, "max_replicas": 10,
        "target_cpu_utilization": 50, "cpu_usage": [0.45, 0.4, 0.35], "cpu_request": "500m"});
    let rec = format!("{W}/dev/scaling/recommend");
    let (st, r) = s.call(dev, Method::POST, &rec, Some(body.clone())).await;
    assert_eq!((st, r["desired_replicas"].as_i64()), (200, Some(5)), "{r}");
    let (st, _) = s.call(Some("eve@x"), Method::POST, &rec, Some(body)).await;
    assert_eq!(st, 403);
    let history: Vec<f64> = (0..96).map(|i| 10.0 + (i % 24) as f64).collect();
    let (st, f) = s
        .call(
            dev,
            Method::POST,
            &format!("{W}/dev/forecast"),
            Some(json!({"history": history, "horizon": 24, "season": 24})),
        )
        .await;
    assert_eq!(st, 200, "{f}");
    assert_eq!(f["forecast"].as_array().unwrap().len(), 24);
    for bad in [
        json!({"history": [1.0], "horizon": 1, "season": 24}),
        json!({"history": history, "horizon": 1_000_000, "season": 24}),
    ] {
        let (st, e) = s
            .call(dev, Method::POST, &format!("{W}/dev/forecast"), Some(bad))
            .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (400, Some("invalid_input")),
            "{e}"
        );
    }
    let (st, a) = s.call(dev, Method::POST, &format!("{W}/dev/anomalies"),
        Some(json!({"points": [{"t": 1, "value": 1.0}, {"t": 2, "value": 1.0}, {"t": 3, "value": 1.0}]}))).await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["scores"].as_array().unwrap().len(), 3);
    let (st, e) = s
        .call(
            dev,
            Method::POST,
            &format!("{W}/dev/anomalies"),
            Some(json!({"points": [{"t": 2, "value": 1.0}, {"t": 1, "value": 1.0}]})),
        )
        .await;
    assert_eq!((st, e["code"].as_str()), (400, Some("invalid_input")));
    let (st, f) = s
        .call(
            dev,
            Method::GET,
            &format!("{W}/dev/projects/web/analysis"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{f}");
    assert!(f.is_array());
    let (st, _) = s
        .call(
            Some("eve@x"),
            Method::GET,
            &format!("{W}/dev/projects/web/analysis"),
            None,
        )
        .await;
    assert_eq!(st, 403);
}
