//! The plain-data forms against real engines: what the bindings' tests cannot reach (metrics
//! samples, in-process function handlers, a manual clock) is exercised here.

use std::sync::Arc;
use std::time::Duration;

use hxb::core::cluster::ProxyResponse;
use hxb::core::metrics::{EmbeddedMetrics, labels};
use hxb::{Clock, EmbeddedCluster, Engine, ErrorKind, ManualClock};
use serde_json::json;

use super::*;

async fn engine_with(cluster: Option<EmbeddedCluster>) -> (Engine, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        hxb::core::Timestamp::from_second(1_000_000).unwrap(),
    ));
    let mut b = Engine::builder().clock(clock.clone());
    if let Some(c) = cluster {
        b = b.backend(c.into_backend());
    }
    (b.build().await.unwrap(), clock)
}

fn kind<T: std::fmt::Debug>(r: Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

fn signal(scope: &str, reason: &str) -> Value {
    json!({"scope": scope, "object": "Deployment acme-dev-web/web",
        "kind": {"type": "event", "reason": reason}})
}

#[tokio::test]
async fn a_subscription_yields_events_reports_lag_and_ends_on_close() {
    let (engine, _) = engine_with(None).await;
    let sub = Subscription::new(&engine);
    record_signal(&engine, signal("acme/dev", "OOMKilled")).unwrap();
    let ev = sub.next().await.unwrap().unwrap();
    assert_eq!(
        (ev["type"].as_str(), ev["id"].as_u64()),
        (Some("incident_opened"), Some(1))
    );

    // More events than the bus holds (one incident per workspace): the subscription is told
    // how many it missed, then goes on with the oldest event still held.
    let n = hxb::events::DEFAULT_CAPACITY + 10;
    for i in 0..n {
        record_signal(&engine, signal(&format!("acme/w{i}"), "BackOff")).unwrap();
    }
    assert_eq!(
        sub.next().await.unwrap().unwrap(),
        json!({"type": "lagged", "missed": 10})
    );
    assert_eq!(sub.next().await.unwrap().unwrap()["scope"], "acme/w10");

    // close() wakes a waiting next().
    let sub = Arc::new(Subscription::new(&engine));
    let waiting = tokio::spawn({
        let sub = sub.clone();
        async move { sub.next().await }
    });
    tokio::task::yield_now().await;
    sub.close();
    assert_eq!(waiting.await.unwrap().unwrap(), None);
    assert_eq!(sub.next().await.unwrap(), None, "stays closed");

    // Closing the engine ends every subscription.
    let sub = Subscription::new(&engine);
    engine.close();
    assert_eq!(sub.next().await.unwrap(), None);
}

#[tokio::test]
async fn alert_rules_fire_resolve_and_refuse_bad_input_unchanged() {
    let (engine, clock) = engine_with(None).await;
    let m = Arc::new(EmbeddedMetrics::default());
    engine.use_metrics_source(m.clone()).unwrap();
    let stored = add_alert_rule(
        &engine,
        "acme/dev",
        json!({"name": "HighCpu", "query": "cpu_usage", "comparison": ">=", "threshold": 0.9,
            "severity": "critical"}),
    )
    .await
    .unwrap();
    assert_eq!(
        stored,
        json!({"name": "HighCpu", "query": "cpu_usage", "comparison": "at_least",
            "threshold": 0.9, "for": "0s", "severity": "critical"})
    );
    let series = labels("cpu_usage", &[("pod", "web")]);
    m.write(&series, clock.now().as_millisecond(), 0.95)
        .unwrap();
    let ev = evaluate_alerts(&engine).await.unwrap();
    assert_eq!(ev["fired"].as_array().unwrap().len(), 1);
    let id = ev["fired"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, r#"acme/dev/HighCpu{__name__="cpu_usage",pod="web"}"#);
    let health_now = health(&engine, "acme").await.unwrap();
    assert_eq!(health_now["health"], "critical");
    let acked = acknowledge_alert(&engine, &id, "alice@example.com")
        .await
        .unwrap();
    assert_eq!(acked["acknowledged_by"], "alice@example.com");
    clock.advance(Duration::from_secs(30));
    m.write(&series, clock.now().as_millisecond(), 0.1).unwrap();
    let ev = evaluate_alerts(&engine).await.unwrap();
    assert_eq!(ev["resolved"][0]["state"], "resolved");

    let before = alert_rules(&engine, "acme/dev").await.unwrap();
    for (scope, bad, field) in [
        ("acme/dev", json!({"name": "x", "query": "rate(("}), "query"),
        (
            "acme/dev",
            json!({"name": "bad name!", "query": "up"}),
            "alert rule name",
        ),
        (
            "acme/dev",
            json!({"name": "x", "query": "up", "comparison": "~"}),
            "comparison",
        ),
        (
            "acme/dev",
            json!({"name": "x", "query": "up", "for": "soon"}),
            "duration",
        ),
        (
            "acme/dev",
            json!({"name": "x", "query": "up", "colour": "red"}),
            "alert rule",
        ),
        (
            "acme/dev",
            json!({"name": "x", "query": "up", "severity": "dire"}),
            "alert rule",
        ),
        ("acme/dev", json!("HighCpu > 1"), "alert rule"),
        ("Acme/dev", json!({"name": "x", "query": "up"}), "scope"),
    ] {
        let err = add_alert_rule(&engine, scope, bad.clone())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        let info = ErrorInfo::from_error(&err);
        assert!(
            info.message.contains(field) || info.details.to_string().contains(field),
            "{bad}: {info:?}"
        );
    }
    assert_eq!(alert_rules(&engine, "acme/dev").await.unwrap(), before);
    assert_eq!(
        kind(acknowledge_alert(&engine, "acme/dev/nope{}", "alice@example.com").await),
        ErrorKind::NotFound
    );
    remove_alert_rule(&engine, "acme/dev", "HighCpu")
        .await
        .unwrap();
    assert_eq!(
        kind(remove_alert_rule(&engine, "acme/dev", "HighCpu").await),
        ErrorKind::NotFound
    );
    assert!(alerts(&engine).await.unwrap().is_empty());
}

#[tokio::test]
async fn signals_group_into_incidents_and_bad_signals_change_nothing() {
    let (engine, clock) = engine_with(None).await;
    let a = record_signal(&engine, signal("acme/dev", "OOMKilled")).unwrap();
    let mut with_at = signal("acme/dev", "BackOff");
    with_at["at"] = json!(clock.now().to_string());
    with_at["message"] = json!("back-off restarting");
    let b = record_signal(&engine, with_at).unwrap();
    assert_eq!(
        (a["id"].as_u64(), b["signals"].as_array().unwrap().len()),
        (Some(1), 2)
    );
    for bad in [
        signal("", "x"),
        signal("acme/dev/web/extra", "x"),
        json!({"scope": "acme/dev", "object": "x", "kind": {"type": "rumour"}}),
        json!({"scope": "acme/dev", "object": "x", "kind": {"type": "event", "reason": "x"},
            "at": "yesterday"}),
        json!({"scope": "acme/dev"}),
    ] {
        assert_eq!(
            kind(record_signal(&engine, bad.clone())),
            ErrorKind::InvalidInput,
            "{bad}"
        );
    }
    assert_eq!(incidents(&engine).unwrap().len(), 1);
    assert_eq!(
        incidents(&engine).unwrap()[0]["signals"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(close_idle_incidents(&engine).unwrap().is_empty());
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        close_idle_incidents(&engine).unwrap()[0]["status"],
        "closed"
    );
}

#[tokio::test]
async fn functions_answer_and_logs_read_back() {
    let cluster = EmbeddedCluster::builder().nodes(1).build();
    cluster.serve_image("echo:1", |req| async move {
        ProxyResponse::ok(req.body).header("x-path", &req.path)
    });
    let (engine, _) = engine_with(Some(cluster.clone())).await;
    let t = engine.tenancy().unwrap();
    t.create_organization("acme").execute().await.unwrap();
    t.create_workspace("acme", "dev").execute().await.unwrap();
    t.create_project("acme", "dev", "api")
        .execute()
        .await
        .unwrap();
    t.create_app("acme", "dev", "api", "echo")
        .function("echo:1")
        .execute()
        .await
        .unwrap();
    let at = ["acme", "dev", "api", "echo"];
    let inv = Invocation {
        path: Some("/hello?x=1".into()),
        ..Invocation::default()
    };
    let r = invoke_function(&engine, at, b"ping".to_vec(), inv)
        .await
        .unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"ping"[..]));
    assert_eq!(r.headers["x-path"], "/hello?x=1");
    let bad = Invocation {
        method: Some("FETCH".into()),
        ..Invocation::default()
    };
    let err = invoke_function(&engine, at, vec![], bad).await;
    assert_eq!(kind(err), ErrorKind::InvalidInput);
    let ghost = ["acme", "dev", "api", "ghost"];
    let err = invoke_function(&engine, ghost, vec![], Invocation::default()).await;
    assert_eq!(kind(err), ErrorKind::NotFound);

    let pods = engine
        .list("Pod", Some("acme-dev-api"), None)
        .await
        .unwrap();
    let pod = pods[0]["metadata"]["name"].as_str().unwrap().to_owned();
    cluster
        .append_log("acme-dev-api", &pod, None, "started\nready")
        .unwrap();
    let text = logs(&engine, "acme-dev-api", &pod, None, Some(1), None)
        .await
        .unwrap();
    assert_eq!(text, "ready\n");
    let err = logs(&engine, "acme-dev-api", &pod, None, Some(-1), None).await;
    assert_eq!(kind(err), ErrorKind::InvalidInput);
    let err = logs(&engine, "acme-dev-api", "ghost", None, None, None).await;
    assert_eq!(kind(err), ErrorKind::NotFound);
}
