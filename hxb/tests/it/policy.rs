//! The `policy` feature through the facade: manifests into tenant namespaces are admitted by
//! the workspace plan before anything is written.

use hxb::prelude::*;
use serde_json::json;

#[tokio::test]
async fn manifests_into_tenant_namespaces_follow_the_plan() {
    let engine = Engine::embedded().unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("acme")
        .plan("starter")
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "dev").execute().await.unwrap();
    let web = t
        .create_project("acme", "dev", "web")
        .execute()
        .await
        .unwrap();
    let ns = engine.get("Namespace", &web.namespace, None).await.unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "baseline"
    );
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/warn"],
        "baseline"
    );

    let pod = |ns: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root", "namespace": ns},
            "spec": {"hostPID": true, "containers": [{"name": "c", "image": "busybox",
                "securityContext": {"privileged": true}}]}})
    };
    let before = engine
        .list("Pod", Some(&web.namespace), None)
        .await
        .unwrap();
    for op in ["create", "apply"] {
        let res = match op {
            "create" => engine.create(pod(&web.namespace)).await,
            _ => engine.apply(pod(&web.namespace)).await,
        };
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{op}");
        let msg = err.to_string();
        assert!(msg.contains("policy of plan starter"), "{msg}");
        assert!(
            msg.contains("spec.hostPID: true (host PID namespace), forbidden by baseline"),
            "{msg}"
        );
        assert!(
            msg.contains("spec.containers[0].securityContext.privileged: true (privileged container), forbidden by baseline"),
            "{msg}"
        );
    }
    assert_eq!(
        engine
            .list("Pod", Some(&web.namespace), None)
            .await
            .unwrap(),
        before
    );

    // outside tenant namespaces the engine does not judge, and the namespace carries no level
    engine
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}))
        .await
        .unwrap();
    engine.create(pod("ops")).await.unwrap();
}

#[tokio::test]
async fn engine_builder_takes_plan_policies() {
    use hxb::policy::{PlanPolicy, PodSecurityLevel};
    let mut plans = hxb::tenancy::PlanCatalog::defaults();
    let mut strict = PlanPolicy::new(PodSecurityLevel::Restricted);
    strict.allowed_registries = vec!["ghcr.io/acme".into()];
    plans.set_policy("starter", strict).unwrap();
    let engine = Engine::builder().plans(plans).build().await.unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("acme")
        .plan("starter")
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "dev").execute().await.unwrap();
    let web = t
        .create_project("acme", "dev", "web")
        .execute()
        .await
        .unwrap();
    let ns = engine.get("Namespace", &web.namespace, None).await.unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let err = t
        .create_app("acme", "dev", "web", "shop")
        .stateless("nginx")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(
        err.to_string()
            .contains("is not from an allowed registry (ghcr.io/acme)"),
        "{err}"
    );
    t.create_app("acme", "dev", "web", "shop")
        .stateless("ghcr.io/acme/shop:1")
        .execute()
        .await
        .unwrap();
    // the hardened pod passed the embedded cluster's restricted PodSecurity admission
    assert_eq!(
        engine
            .list("Pod", Some(&web.namespace), None)
            .await
            .unwrap()
            .len(),
        1
    );
}
