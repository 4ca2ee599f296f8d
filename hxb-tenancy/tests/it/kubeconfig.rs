//! Scoped kubeconfigs: a ServiceAccount bound exactly like the member, its token in a
//! kubeconfig.

use std::collections::BTreeMap;

use hxb_core::ErrorKind;
use hxb_core::cluster::Api;
use hxb_tenancy::engine::credentials::service_account_name;
use hxb_tenancy::rbac::AccessRequest;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use crate::engine::{env, seed};

#[tokio::test]
async fn a_members_kubeconfig_can_do_what_the_member_can_in_that_workspace_only() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await; // alice: workspace dev developer; home namespace acme-dev-web
    t.create_workspace("acme", "prod")
        .quota(hxb_tenancy::plans::quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap())
        .execute()
        .await
        .unwrap();
    t.create_project("acme", "prod", "svc")
        .quota(hxb_tenancy::plans::quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap())
        .execute()
        .await
        .unwrap();
    // the embedded cluster issues no tokens: the first call says so, retryably
    let err = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .server("https://k8s.example:6443")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let sa = service_account_name(&hxb_core::Subject::new("alice").unwrap());
    let user = format!("system:serviceaccount:acme-dev-web:{sa}");
    let ask = |verb: &str, group: &str, res: &str, ns: &str| {
        AccessRequest::new(&user, verb, group, res, Some(ns))
    };
    assert!(
        t.check_access(&ask("create", "apps", "deployments", "acme-dev-api"))
            .await
            .unwrap()
    );
    assert!(
        t.check_access(&ask("get", "", "secrets", "acme-dev-web"))
            .await
            .unwrap()
    );
    assert!(
        !t.check_access(&ask(
            "create",
            "rbac.authorization.k8s.io",
            "rolebindings",
            "acme-dev-web"
        ))
        .await
        .unwrap()
    );
    assert!(
        !t.check_access(&ask("get", "", "pods", "acme-prod-svc"))
            .await
            .unwrap()
    );
    // play the cluster's token controller, then get the kubeconfig
    let secrets: Api<Secret> = Api::namespaced(e.cluster.clone(), "acme-dev-web");
    let mut s = secrets.get(&format!("{sa}-token")).await.unwrap();
    assert_eq!(
        s.type_.as_deref(),
        Some("kubernetes.io/service-account-token")
    );
    s.data = Some(BTreeMap::from([(
        "token".to_string(),
        ByteString(b"tok-123".to_vec()),
    )]));
    secrets.replace(&s).await.unwrap();
    let cfg = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .server("https://k8s.example:6443")
        .certificate_authority("Q0E=")
        .execute()
        .await
        .unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&cfg).unwrap();
    assert_eq!(v["users"][0]["user"]["token"], "tok-123");
    assert_eq!(v["contexts"][0]["context"]["namespace"], "acme-dev-web");
    assert_eq!(
        v["clusters"][0]["cluster"]["server"],
        "https://k8s.example:6443"
    );
    // no further writes once issued
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);
    // outsiders get none; and the token loses its rights with the membership
    assert_eq!(
        t.scoped_kubeconfig("acme", "dev", "mallory")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    t.remove_member("acme", "alice")
        .workspace("dev")
        .execute()
        .await
        .unwrap();
    assert!(
        !t.check_access(&ask("create", "apps", "deployments", "acme-dev-api"))
            .await
            .unwrap()
    );
    assert!(
        !t.check_access(&ask("get", "", "pods", "acme-dev-web"))
            .await
            .unwrap()
    );
}
