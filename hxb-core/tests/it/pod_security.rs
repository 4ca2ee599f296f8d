//! The embedded cluster's PodSecurity admission (feature `policy`).

use std::sync::Arc;

use hxb_core::cluster::{Api, ListOptions};
use hxb_core::{EmbeddedCluster, ErrorKind, ManualClock};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use serde_json::{Value, json};

async fn cluster_with(
    namespaces: &[(&str, Option<&str>)],
) -> (EmbeddedCluster, Arc<dyn hxb_core::ClusterBackend>) {
    let c = EmbeddedCluster::builder()
        .nodes(2)
        .seed(9)
        .clock(Arc::new(ManualClock::at_epoch()))
        .build();
    let b = c.clone().into_backend();
    for (name, level) in namespaces {
        let mut n = json!({"metadata": {"name": name}});
        if let Some(l) = level {
            n["metadata"]["labels"] = json!({"pod-security.kubernetes.io/enforce": l});
        }
        let n: Namespace = serde_json::from_value(n).unwrap();
        Api::<Namespace>::all(b.clone()).create(&n).await.unwrap();
    }
    (c, b)
}

fn pod(name: &str, security: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app:1",
            "securityContext": security}]}
    }))
    .unwrap()
}

fn hardened() -> Value {
    json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}})
}

#[tokio::test]
async fn restricted_namespace_refuses_a_violating_pod_and_changes_nothing() {
    let (c, b) = cluster_with(&[("strict", Some("restricted"))]).await;
    let pods: Api<Pod> = Api::namespaced(b.clone(), "strict");
    let before = (c.objects(), c.resource_version());
    let err = pods
        .create(&pod("bad", json!({"privileged": true})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "forbidden: pods \"bad\" is forbidden: violates PodSecurity \"restricted:latest\": "
        ),
        "{msg}"
    );
    for path in [
        "spec.containers[0].securityContext.privileged: true (privileged container), forbidden by restricted",
        "spec.containers[0].securityContext.allowPrivilegeEscalation",
        "spec.containers[0].securityContext.runAsNonRoot",
        "spec.containers[0].securityContext.seccompProfile.type",
        "spec.containers[0].securityContext.capabilities.drop",
    ] {
        assert!(msg.contains(path), "{path} missing from {msg}");
    }
    assert_eq!(
        (c.objects(), c.resource_version()),
        before,
        "nothing written"
    );
    let ok = pods.create(&pod("good", hardened())).await.unwrap();
    assert_eq!(
        ok.status.unwrap().phase.as_deref(),
        Some("Running"),
        "a compliant pod is admitted and bound"
    );
}

#[tokio::test]
async fn levels_and_unlabelled_namespaces() {
    let (_c, b) = cluster_with(&[
        ("base", Some("baseline")),
        ("open", None),
        ("priv", Some("privileged")),
        ("typo", Some("strict")),
    ])
    .await;
    let plain = pod("plain", json!({}));
    let privileged = pod("root", json!({"privileged": true}));
    // baseline: the default pod passes, privileged does not
    let base: Api<Pod> = Api::namespaced(b.clone(), "base");
    base.create(&plain).await.unwrap();
    let e = base.create(&privileged).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    assert!(e.to_string().contains("\"baseline:latest\""), "{e}");
    // no label and an explicit privileged label enforce nothing
    for ns in ["open", "priv"] {
        let api: Api<Pod> = Api::namespaced(b.clone(), ns);
        api.create(&privileged).await.unwrap();
    }
    // an unparsable level fails closed (restricted), as the admission plugin does
    let typo: Api<Pod> = Api::namespaced(b.clone(), "typo");
    let e = typo.create(&plain).await.unwrap_err();
    assert!(e.to_string().contains("\"restricted:latest\""), "{e}");
}

#[tokio::test]
async fn enforce_version_selects_the_checks() {
    let (_c, b) = cluster_with(&[]).await;
    let n: Namespace = serde_json::from_value(json!({"metadata": {"name": "old", "labels": {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/enforce-version": "v1.28"}}}))
    .unwrap();
    Api::<Namespace>::all(b.clone()).create(&n).await.unwrap();
    let mut p = pod("probe", json!({}));
    p.spec.as_mut().unwrap().containers[0].readiness_probe = Some(
        serde_json::from_value(json!({"tcpSocket": {"port": 80, "host": "10.0.0.1"}})).unwrap(),
    );
    // the probe-host check exists from 1.34 only
    Api::<Pod>::namespaced(b.clone(), "old")
        .create(&p)
        .await
        .unwrap();
}

#[tokio::test]
async fn workload_pods_are_refused_on_creation_by_the_controller() {
    let (_c, b) = cluster_with(&[("strict", Some("restricted"))]).await;
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"hostNetwork": true, "containers": [{"name": "app", "image": "web:1"}]}}}
    }))
    .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(b.clone(), "strict");
    let d = deployments.create(&d).await.unwrap(); // the workload itself is admitted
    assert_eq!(d.status.unwrap().replicas.unwrap_or(0), 0);
    let pods = Api::<Pod>::namespaced(b.clone(), "strict")
        .list(&ListOptions::default())
        .await
        .unwrap();
    assert!(pods.is_empty());
    let events = Api::<Event>::namespaced(b.clone(), "strict")
        .list(&ListOptions::default())
        .await
        .unwrap();
    let failed = events
        .iter()
        .find(|e| e.reason.as_deref() == Some("FailedCreate"))
        .expect("a FailedCreate event");
    let msg = failed.message.as_deref().unwrap_or("");
    assert!(msg.contains("violates PodSecurity"), "{msg}");
    assert!(msg.contains("spec.hostNetwork"), "{msg}");
}
