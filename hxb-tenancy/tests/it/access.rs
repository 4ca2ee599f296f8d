//! Asking the cluster (embedded: the RBAC authorizer over live objects) after the engine
//! reconciled members, and live-usage workload admission.

use hxb_core::cluster::{Api, ResourceType};
use hxb_core::{ErrorKind, ResourceList};
use hxb_tenancy::rbac::AccessRequest;
use k8s_openapi::api::core::v1::Pod;

use crate::engine::{env, seed};

#[tokio::test]
async fn the_cluster_answers_per_role_and_tenant() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await; // alice: workspace dev developer
    t.create_organization("globex").plan("starter").execute().await.unwrap();
    t.create_workspace("globex", "w").quota(hxb_tenancy::plans::quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap()).execute().await.unwrap();
    t.create_project("globex", "w", "p").quota(hxb_tenancy::plans::quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap()).execute().await.unwrap();
    t.add_member("globex", "gina").role("owner").execute().await.unwrap();
    let ask = |user: &str, verb: &str, group: &str, res: &str, ns: &str| {
        AccessRequest::new(user, verb, group, res, Some(ns))
    };
    let cases = [
        (ask("alice", "create", "apps", "deployments", "acme-dev-api"), true),
        (ask("alice", "get", "", "secrets", "acme-dev-web"), true),
        (ask("alice", "create", "rbac.authorization.k8s.io", "rolebindings", "acme-dev-web"), false),
        (ask("alice", "update", "", "resourcequotas", "acme-dev-web"), false),
        (ask("alice", "get", "", "pods", "globex-w-p"), false),
        (ask("gina", "create", "rbac.authorization.k8s.io", "rolebindings", "globex-w-p"), true),
        (ask("gina", "get", "", "pods", "acme-dev-web"), false),
        (ask("gina", "delete", "networking.k8s.io", "networkpolicies", "globex-w-p"), false),
    ];
    for (req, want) in cases {
        assert_eq!(t.check_access(&req).await.unwrap(), want, "{req:?}");
    }
    // membership changes show up in the cluster's answer
    t.remove_member("acme", "alice").workspace("dev").execute().await.unwrap();
    assert!(!t.check_access(&ask("alice", "create", "apps", "deployments", "acme-dev-api")).await.unwrap());
    // and so do out-of-band RBAC edits (the answer comes from live objects)
    t.add_member("acme", "alice").workspace("dev").role("viewer").execute().await.unwrap();
    let role_ty = ResourceType::of::<k8s_openapi::api::rbac::v1::Role>();
    e.cluster.delete(&role_ty, Some("acme-dev-api"), "hxb-viewer").await.unwrap();
    assert!(!t.check_access(&ask("alice", "get", "", "pods", "acme-dev-api")).await.unwrap());
    t.reconcile().await.unwrap();
    assert!(t.check_access(&ask("alice", "get", "", "pods", "acme-dev-api")).await.unwrap());
}

#[tokio::test]
async fn can_this_workload_fit_is_answered_from_live_usage() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await; // acme-dev-api: 1 cpu, 1Gi
    let ask = |cpu: &str| ResourceList::parse([("requests.cpu", cpu), ("pods", "1")]).unwrap();
    t.workload_fits("acme", "dev", "api", &ask("900m")).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(e.cluster.clone(), "acme-dev-api");
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "w"},
        "spec": {"containers": [{"name": "c", "image": "x",
                 "resources": {"requests": {"cpu": "600m", "memory": "100Mi"}, "limits": {"cpu": "600m", "memory": "100Mi"}}}]}
    }))
    .unwrap();
    pods.create(&pod).await.unwrap();
    t.workload_fits("acme", "dev", "api", &ask("400m")).await.unwrap();
    let err = t.workload_fits("acme", "dev", "api", &ask("500m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
    assert!(err.to_string().contains("requests.cpu: requested 500m, used 600m, limited 1"), "{err}");
}
