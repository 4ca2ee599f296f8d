//! Scoped kubeconfigs: a ServiceAccount bound exactly like the member; a bound, expiring
//! token from the TokenRequest API in a kubeconfig, or — on a backend without TokenRequest —
//! the legacy token Secret.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hxb_core::cluster::{
    Api, ApplyOptions, BackendKind, DynamicObject, ListOptions, ObjectList, ResourceType,
    WatchOptions, WatchStream,
};
use hxb_core::store::MemoryStore;
use hxb_core::{
    Clock, ClusterBackend, EmbeddedCluster, ErrorKind, ManualClock, Result, StateStore,
};
use hxb_tenancy::Tenancy;
use hxb_tenancy::engine::credentials::service_account_name;
use hxb_tenancy::rbac::AccessRequest;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use crate::engine::{seed, store_dump};

/// Forwards everything but the optional calls, so `request_token` answers `Unsupported` as a
/// backend without TokenRequest does.
struct NoTokenRequest(Arc<dyn ClusterBackend>);

#[async_trait]
impl ClusterBackend for NoTokenRequest {
    fn kind(&self) -> BackendKind {
        self.0.kind()
    }
    async fn create(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.0.create(ty, obj).await
    }
    async fn apply(
        &self,
        ty: &ResourceType,
        obj: DynamicObject,
        o: &ApplyOptions,
    ) -> Result<DynamicObject> {
        self.0.apply(ty, obj, o).await
    }
    async fn replace(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.0.replace(ty, obj).await
    }
    async fn replace_status(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.0.replace_status(ty, obj).await
    }
    async fn get(&self, ty: &ResourceType, ns: Option<&str>, name: &str) -> Result<DynamicObject> {
        self.0.get(ty, ns, name).await
    }
    async fn list(
        &self,
        ty: &ResourceType,
        ns: Option<&str>,
        o: &ListOptions,
    ) -> Result<ObjectList> {
        self.0.list(ty, ns, o).await
    }
    async fn delete(&self, ty: &ResourceType, ns: Option<&str>, name: &str) -> Result<()> {
        self.0.delete(ty, ns, name).await
    }
    async fn watch(
        &self,
        ty: &ResourceType,
        ns: Option<&str>,
        o: &WatchOptions,
    ) -> Result<WatchStream> {
        self.0.watch(ty, ns, o).await
    }
}

struct World {
    t: Tenancy,
    cluster: EmbeddedCluster,
    store: Arc<dyn StateStore>,
    clock: ManualClock,
}

/// One clock for the engine and the cluster, so token expiry can be played.
fn world(token_request: bool) -> World {
    let clock = ManualClock::at_epoch();
    let cluster = EmbeddedCluster::builder()
        .nodes(3)
        .seed(3)
        .clock(Arc::new(clock.clone()))
        .build();
    let backend: Arc<dyn ClusterBackend> = if token_request {
        cluster.clone().into_backend()
    } else {
        Arc::new(NoTokenRequest(cluster.clone().into_backend()))
    };
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let t = Tenancy::builder(backend, store.clone())
        .clock(Arc::new(clock.clone()))
        .build();
    World {
        t,
        cluster,
        store,
        clock,
    }
}

async fn second_workspace(t: &Tenancy) {
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
}

/// What alice (workspace dev developer) may and may not do, as (verb, group, resource, ns).
const PROBES: [(&str, &str, &str, &str); 7] = [
    ("create", "apps", "deployments", "acme-dev-api"),
    ("get", "", "secrets", "acme-dev-web"),
    ("delete", "", "pods", "acme-dev-web"),
    (
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        "acme-dev-web",
    ),
    ("update", "", "resourcequotas", "acme-dev-web"),
    ("get", "", "pods", "acme-prod-svc"),
    ("list", "", "namespaces", "acme-dev-web"),
];

async fn rights(t: &Tenancy, user: &str, groups: &[String]) -> Vec<bool> {
    let mut out = Vec::new();
    for (verb, group, res, ns) in PROBES {
        let mut req = AccessRequest::new(user, verb, group, res, Some(ns));
        req.groups = groups.to_vec();
        out.push(t.check_access(&req).await.unwrap());
    }
    out
}

fn token_of(cfg: &str) -> String {
    let v: serde_yaml::Value = serde_yaml::from_str(cfg).unwrap();
    v["users"][0]["user"]["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_bound_token_authenticates_as_the_members_service_account_until_it_expires() {
    let w = world(true);
    let t = &w.t;
    seed(t).await; // alice: workspace dev developer; home namespace acme-dev-web
    second_workspace(t).await;

    // bad input first: typed errors, nothing recorded, nothing in the cluster
    let (store_before, objects_before) = (store_dump(w.store.as_ref()).await, w.cluster.objects());
    for d in [
        Duration::from_secs(599),
        Duration::from_millis(3_600_500),
        Duration::from_secs((1 << 32) + 1),
    ] {
        let err = t
            .scoped_kubeconfig("acme", "dev", "alice")
            .token_expiration(d)
            .execute()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{d:?}: {err}");
    }
    let err = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .audience(" ")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        t.scoped_kubeconfig("acme", "dev", "mallory")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(store_dump(w.store.as_ref()).await, store_before);
    assert!(w.store.list("credentials", "").await.unwrap().is_empty());
    assert_eq!(w.cluster.objects(), objects_before);

    let (cfg, expires) = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .server("https://k8s.example:6443")
        .certificate_authority("Q0E=")
        .token_expiration(Duration::from_secs(1800))
        .execute_with_expiry()
        .await
        .unwrap();
    let now = w.clock.now();
    assert_eq!(
        expires,
        Some(now.checked_add(Duration::from_secs(1800)).unwrap())
    );
    let v: serde_yaml::Value = serde_yaml::from_str(&cfg).unwrap();
    assert_eq!(v["contexts"][0]["context"]["namespace"], "acme-dev-web");
    assert_eq!(
        v["clusters"][0]["cluster"]["server"],
        "https://k8s.example:6443"
    );

    // TokenReview: the token is the member's ServiceAccount …
    let token = token_of(&cfg);
    let user = w.cluster.authenticate(&token).unwrap();
    let sa = service_account_name(&hxb_core::Subject::new("alice").unwrap());
    assert_eq!(
        user.username,
        format!("system:serviceaccount:acme-dev-web:{sa}")
    );
    // … whose RBAC is exactly alice's in this workspace, and nothing in the other one
    let alice = rights(t, "alice", &[]).await;
    assert_eq!(alice, [true, true, true, false, false, false, false]);
    assert_eq!(rights(t, &user.username, &user.groups).await, alice);
    // no long-lived token Secret is made when TokenRequest works
    let secrets: Api<Secret> = Api::namespaced(w.cluster.clone().into_backend(), "acme-dev-web");
    assert!(
        secrets
            .get_opt(&format!("{sa}-token"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);

    // the default lifetime is an hour; an expired token is refused
    let (cfg2, exp2) = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .execute_with_expiry()
        .await
        .unwrap();
    assert_eq!(
        exp2,
        Some(now.checked_add(Duration::from_secs(3600)).unwrap())
    );
    w.clock.advance(Duration::from_secs(1801));
    let err = w.cluster.authenticate(&token).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(w.cluster.authenticate(&token_of(&cfg2)).is_ok());
    w.clock.advance(Duration::from_secs(1800));
    assert!(w.cluster.authenticate(&token_of(&cfg2)).is_err());

    // the membership going takes the rights with it
    let fresh = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .execute()
        .await
        .unwrap();
    let user = w.cluster.authenticate(&token_of(&fresh)).unwrap();
    t.remove_member("acme", "alice")
        .workspace("dev")
        .execute()
        .await
        .unwrap();
    assert_eq!(rights(t, &user.username, &user.groups).await, [false; 7]);
}

#[tokio::test]
async fn without_token_request_the_legacy_token_secret_is_used() {
    let w = world(false);
    let t = &w.t;
    seed(t).await;
    second_workspace(t).await;
    // the embedded cluster has no token controller: the first call says so, retryably
    let err = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .server("https://k8s.example:6443")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let sa = service_account_name(&hxb_core::Subject::new("alice").unwrap());
    let user = format!("system:serviceaccount:acme-dev-web:{sa}");
    assert_eq!(
        rights(t, &user, &[]).await,
        [true, true, true, false, false, false, false]
    );
    // play the cluster's token controller, then get the kubeconfig
    let secrets: Api<Secret> = Api::namespaced(w.cluster.clone().into_backend(), "acme-dev-web");
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
    let (cfg, expires) = t
        .scoped_kubeconfig("acme", "dev", "alice")
        .server("https://k8s.example:6443")
        .certificate_authority("Q0E=")
        .execute_with_expiry()
        .await
        .unwrap();
    assert_eq!(expires, None);
    assert_eq!(token_of(&cfg), "tok-123");
    // no further writes once issued
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);
    t.remove_member("acme", "alice")
        .workspace("dev")
        .execute()
        .await
        .unwrap();
    assert_eq!(rights(t, &user, &[]).await, [false; 7]);
}

#[tokio::test]
async fn token_issuance_is_audited_with_its_actor_and_the_wrappers_forward_it() {
    use hxb_tenancy::testing::{CountingBackend, FaultyBackend};
    let w = world(true);
    seed(&w.t).await;
    let start = w.t.audit_log(0, 10_000).await.unwrap().len() as u64;
    w.t.scoped_kubeconfig("acme", "dev", "alice")
        .actor("admin@acme")
        .execute()
        .await
        .unwrap();
    let log = w.t.audit_log(start, 100).await.unwrap();
    let entries: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("admin@acme", "issue_credential"),
            ("admin@acme", "issue_token")
        ]
    );
    let until = w
        .clock
        .now()
        .checked_add(Duration::from_secs(3600))
        .unwrap();
    assert_eq!(log[1].target, format!("acme/dev/alice until {until}"));
    // the test wrappers forward the optional calls (not the Unsupported default)
    let sa = service_account_name(&hxb_core::Subject::new("alice").unwrap());
    let counting = CountingBackend::new(w.cluster.clone().into_backend());
    counting
        .request_token("acme-dev-web", &sa, &[], 600)
        .await
        .unwrap();
    assert_eq!(counting.writes(), 1);
    let faulty = FaultyBackend::new(w.cluster.clone().into_backend(), 1, 0.0);
    faulty
        .request_token("acme-dev-web", &sa, &[], 600)
        .await
        .unwrap();
    let err = faulty
        .proxy_service(
            "acme-dev-web",
            "none",
            "80",
            hxb_core::cluster::ProxyRequest::new("GET", "/"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}
