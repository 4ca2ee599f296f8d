//! The facade's engine: manifest-level operations, typed errors, closing, telemetry.

use hxb::prelude::*;
use serde_json::json;

#[tokio::test]
async fn manifest_operations_and_typed_errors() {
    let engine = Engine::embedded().unwrap();
    engine
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}))
        .await
        .unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "a", "labels": {"tier": "web"}}, "data": {"k": "v"}});
    engine.create(cm.clone()).await.unwrap();
    assert_eq!(
        engine.create(cm).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    let got = engine.get("configmap", "c", Some("a")).await.unwrap();
    assert_eq!(got["data"]["k"], "v");
    assert_eq!(
        engine
            .list("ConfigMap", Some("a"), Some("tier=web"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        engine
            .list("ConfigMap", Some("a"), Some("tier=db"))
            .await
            .unwrap()
            .len(),
        0
    );
    engine.delete("configmaps", "c", Some("a")).await.unwrap();
    assert_eq!(
        engine
            .get("ConfigMap", "c", Some("a"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    // Bad input: each is typed and changes nothing.
    let bad = [
        json!({"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "a"}}),
        json!({"apiVersion": "v1", "kind": "Gizmo", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "a"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "a"}}),
    ];
    for m in bad {
        assert_eq!(
            engine.create(m.clone()).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{m}"
        );
    }
    assert_eq!(
        engine
            .list("ConfigMap", Some("a"), Some("a in ("))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        engine.get("ConfigMap", "c", None).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(
        engine
            .list("ConfigMap", None, None)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn closed_engine_refuses_calls_and_telemetry_counts() {
    let engine = Engine::embedded().unwrap();
    let _ = engine.get("Namespace", "missing", None).await;
    assert_eq!(engine.telemetry().operations("get"), 1);
    let text = engine.metrics_text();
    assert!(
        text.contains("hxb_engine_operations_total{operation=\"get\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("hxb_engine_errors_total{operation=\"get\",kind=\"not_found\"} 1"),
        "{text}"
    );
    let clone = engine.clone();
    engine.close();
    assert!(clone.is_closed());
    let e = clone.get("Namespace", "x", None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
}

#[tokio::test]
async fn reconcile_reports_and_drains_the_queue_gauge() {
    let engine = Engine::embedded().unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("acme")
        .plan("starter")
        .execute()
        .await
        .unwrap();
    let report = engine.reconcile().await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // A second pass over an unchanged world writes nothing.
    let again = engine.reconcile().await.unwrap();
    assert_eq!((again.created, again.updated, again.deleted), (0, 0, 0));
    let text = engine.metrics_text();
    assert!(text.contains("hxb_reconcile_queue_depth 0"), "{text}");
    assert!(
        text.contains("hxb_engine_operations_total{operation=\"reconcile\"} 2"),
        "{text}"
    );
}

#[tokio::test]
async fn reconcile_queue_depth_counts_down() {
    let engine = Engine::embedded().unwrap();
    let t = engine.tenancy().unwrap();
    for org in ["a", "b", "c"] {
        t.create_organization(org)
            .plan("starter")
            .execute()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    t.reconcile_observed(|n| seen.push(n)).await.unwrap();
    assert_eq!(seen, [3, 2, 1, 0]);
}

#[tokio::test]
async fn logs_read_the_pod_log_through_the_backend() {
    use hxb::core::cluster::LogOptions;
    let cluster = hxb::EmbeddedCluster::builder().nodes(1).build();
    let engine = Engine::builder()
        .backend(cluster.clone().into_backend())
        .build()
        .await
        .unwrap();
    engine
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}))
        .await
        .unwrap();
    engine
        .apply(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "team-a"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}}))
        .await
        .unwrap();
    let all = LogOptions::default();
    assert_eq!(engine.logs("team-a", "web", &all).await.unwrap(), "");
    cluster
        .append_log("team-a", "web", None, "one\ntwo\nthree")
        .unwrap();
    assert_eq!(
        engine.logs("team-a", "web", &all).await.unwrap(),
        "one\ntwo\nthree\n"
    );
    let tail = LogOptions {
        tail_lines: Some(1),
        ..LogOptions::default()
    };
    assert_eq!(
        engine.logs("team-a", "web", &tail).await.unwrap(),
        "three\n"
    );
    let err = engine.logs("team-a", "ghost", &all).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let side = LogOptions {
        container: Some("sidecar".into()),
        ..LogOptions::default()
    };
    let err = engine.logs("team-a", "web", &side).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    engine.close();
    let err = engine.logs("team-a", "web", &all).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}
