//! The engine against the embedded cluster and the memory store: lifecycle, statuses, quotas,
//! plan changes, bad input (typed error, nothing changed), idempotence, drift, finalization.

use std::sync::Arc;

use hxb_core::cluster::{ApplyOptions, ListOptions, ResourceType};
use hxb_core::store::MemoryStore;
use hxb_core::{
    ClusterBackend, EmbeddedCluster, EntityStatus, ErrorKind, ManualClock, ResourceList, Selector,
    StateStore,
};
use hxb_tenancy::Tenancy;
use hxb_tenancy::naming::{MANAGED_BY, MANAGER};
use hxb_tenancy::plans::quota;
use hxb_tenancy::reconcile::managed_types;
use hxb_tenancy::testing::CountingBackend;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};

pub struct Env {
    pub tenancy: Tenancy,
    pub cluster: Arc<dyn ClusterBackend>,
    pub counting: Arc<CountingBackend>,
    pub store: Arc<dyn StateStore>,
}

pub fn env() -> Env {
    let cluster = EmbeddedCluster::builder()
        .nodes(3)
        .seed(1)
        .build()
        .into_backend();
    let counting = Arc::new(CountingBackend::new(cluster.clone()));
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let tenancy = Tenancy::builder(counting.clone(), store.clone())
        .clock(Arc::new(ManualClock::at_epoch()))
        .build();
    Env {
        tenancy,
        cluster,
        counting,
        store,
    }
}

fn q(cpu: &str, mem: &str) -> ResourceList {
    quota(cpu, mem, "10Gi", "10", "5", "2").unwrap()
}

/// Every managed object in the cluster, as `kind ns/name`.
pub async fn managed(cluster: &dyn ClusterBackend) -> Vec<String> {
    let opts = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
    let mut out = Vec::new();
    for ty in managed_types() {
        for o in cluster.list(&ty, None, &opts).await.unwrap().items {
            out.push(format!(
                "{} {}/{}",
                ty.kind,
                o.metadata.namespace.unwrap_or_default(),
                o.metadata.name.unwrap_or_default()
            ));
        }
    }
    out.sort();
    out
}

/// Snapshot of every store collection (not the audit log).
pub async fn store_dump(store: &dyn StateStore) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for c in [
        "organizations",
        "workspaces",
        "projects",
        "namespaces",
        "members",
    ] {
        for r in store.list(c, "").await.unwrap() {
            out.push((c.to_owned(), r.key, r.value));
        }
    }
    out
}

pub async fn seed(t: &Tenancy) {
    t.create_organization("acme")
        .plan("professional")
        .display_name("Acme")
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "dev")
        .quota(q("4", "8Gi"))
        .execute()
        .await
        .unwrap();
    t.create_project("acme", "dev", "web")
        .quota(q("2", "4Gi"))
        .execute()
        .await
        .unwrap();
    t.create_project("acme", "dev", "api")
        .parent("web")
        .quota(q("1", "1Gi"))
        .execute()
        .await
        .unwrap();
    t.add_member("acme", "alice")
        .workspace("dev")
        .role("developer")
        .execute()
        .await
        .unwrap();
}

#[tokio::test]
async fn lifecycle_statuses_and_objects() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    let org = t.organization("acme").await.unwrap();
    assert_eq!(org.status, EntityStatus::Active);
    assert_eq!(org.display_name, "Acme");
    assert_eq!(
        t.workspace("acme", "dev").await.unwrap().status,
        EntityStatus::Active
    );
    let api = t.project("acme", "dev", "api").await.unwrap();
    assert_eq!(
        (api.status, api.namespace.as_str()),
        (EntityStatus::Active, "acme-dev-api")
    );
    assert_eq!(t.projects("acme", "dev").await.unwrap().len(), 2);
    assert_eq!(t.organizations().await.unwrap().len(), 1);
    // the parent's namespace keeps its quota minus the sub-project's
    let rq = e
        .cluster
        .get(
            &ResourceType::of::<ResourceQuota>(),
            Some("acme-dev-web"),
            "hxb-quota",
        )
        .await
        .unwrap();
    assert_eq!(rq.data["spec"]["hard"]["requests.cpu"], "1");
    assert_eq!(rq.data["spec"]["hard"]["requests.memory"], "3Gi");
    // what the cluster holds is exactly what the engine renders
    let desired: Vec<String> = {
        let mut v: Vec<_> = t
            .desired_objects("acme")
            .await
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} {}/{}",
                    d.ty.kind,
                    d.object.metadata.namespace.clone().unwrap_or_default(),
                    d.object.metadata.name.clone().unwrap_or_default()
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(managed(e.cluster.as_ref()).await, desired);
    // alice is a workspace developer: bound in both namespaces
    let rb = e
        .cluster
        .get(
            &ResourceType::of::<k8s_openapi::api::rbac::v1::RoleBinding>(),
            Some("acme-dev-api"),
            "hxb-developer",
        )
        .await
        .unwrap();
    assert_eq!(rb.data["subjects"][0]["name"], "alice");
    // audit: one ok entry per change
    let log = t.audit_log(0, 100).await.unwrap();
    let actions: Vec<_> = log
        .iter()
        .filter(|a| a.result == "ok")
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "create_organization",
            "create_workspace",
            "create_project",
            "create_project",
            "add_member"
        ]
    );
}

#[tokio::test]
async fn a_noop_reconcile_writes_nothing_and_drift_is_repaired() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    let before = e.counting.writes();
    let r = t.reconcile().await.unwrap();
    assert_eq!((r.writes(), e.counting.writes() - before), (0, 0), "{r:?}");
    assert!(r.unchanged > 20);
    // out-of-band: delete a NetworkPolicy, edit the quota, widen a Role
    let np = ResourceType::of::<k8s_openapi::api::networking::v1::NetworkPolicy>();
    e.cluster
        .delete(&np, Some("acme-dev-web"), "hxb-default-deny")
        .await
        .unwrap();
    let rq_ty = ResourceType::of::<ResourceQuota>();
    let mut rq = e
        .cluster
        .get(&rq_ty, Some("acme-dev-api"), "hxb-quota")
        .await
        .unwrap();
    rq.data["spec"]["hard"]["requests.cpu"] = "64".into();
    e.cluster.replace(&rq_ty, rq).await.unwrap();
    let role_ty = ResourceType::of::<k8s_openapi::api::rbac::v1::Role>();
    let mut role = e
        .cluster
        .get(&role_ty, Some("acme-dev-api"), "hxb-viewer")
        .await
        .unwrap();
    role.data["rules"][0]["verbs"] = serde_json::json!(["*"]);
    e.cluster.replace(&role_ty, role).await.unwrap();
    // and a stray managed object nobody wants
    let mut stray = e
        .cluster
        .get(&role_ty, Some("acme-dev-api"), "hxb-admin")
        .await
        .unwrap();
    stray.metadata.name = Some("hxb-stray".into());
    stray.metadata.resource_version = None;
    stray.metadata.uid = None;
    e.cluster.create(&role_ty, stray).await.unwrap();
    let r = t.reconcile().await.unwrap();
    assert_eq!((r.created, r.updated, r.deleted), (1, 2, 1), "{r:?}");
    let rq = e
        .cluster
        .get(&rq_ty, Some("acme-dev-api"), "hxb-quota")
        .await
        .unwrap();
    assert_eq!(rq.data["spec"]["hard"]["requests.cpu"], "1");
    let role = e
        .cluster
        .get(&role_ty, Some("acme-dev-api"), "hxb-viewer")
        .await
        .unwrap();
    assert_eq!(
        role.data["rules"][0]["verbs"],
        serde_json::json!(["get", "list", "watch"])
    );
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);
}

#[tokio::test]
async fn bad_input_gets_its_typed_error_and_changes_nothing() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    let store_before = store_dump(e.store.as_ref()).await;
    let cluster_before = managed(e.cluster.as_ref()).await;
    let writes_before = e.counting.writes();
    let cases: Vec<(ErrorKind, hxb_core::Result<()>)> = vec![
        (
            ErrorKind::AlreadyExists,
            t.create_organization("acme").execute().await.map(drop),
        ),
        (
            ErrorKind::AlreadyExists,
            t.create_workspace("acme", "dev")
                .quota(q("1", "1Gi"))
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::AlreadyExists,
            t.create_project("acme", "dev", "web")
                .quota(q("1", "1Gi"))
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::InvalidInput,
            t.create_organization("Acme Corp").execute().await.map(drop),
        ),
        (
            ErrorKind::InvalidInput,
            t.create_project("acme", "dev", "-x")
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::NotFound,
            t.create_organization("x")
                .plan("platinum")
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::NotFound,
            t.create_workspace("nope", "dev").execute().await.map(drop),
        ),
        (
            ErrorKind::NotFound,
            t.create_project("acme", "dev", "p")
                .parent("ghost")
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::FailedPrecondition,
            t.delete_organization("acme").execute().await.map(drop),
        ),
        (
            ErrorKind::FailedPrecondition,
            t.delete_workspace("acme", "dev").execute().await.map(drop),
        ),
        (
            ErrorKind::FailedPrecondition,
            t.delete_project("acme", "dev", "web")
                .execute()
                .await
                .map(drop),
        ),
        // project quota above the workspace's remaining quota (4 - 2 = 2 cpu left)
        (
            ErrorKind::QuotaExceeded,
            t.create_project("acme", "dev", "big")
                .quota(q("3", "1Gi"))
                .execute()
                .await
                .map(drop),
        ),
        // sub-project above its parent's room
        (
            ErrorKind::QuotaExceeded,
            t.create_project("acme", "dev", "sub")
                .parent("web")
                .quota(q("2", "1Gi"))
                .execute()
                .await
                .map(drop),
        ),
        // workspace above the organization plan (professional: 8 cpu; 4 taken)
        (
            ErrorKind::QuotaExceeded,
            t.create_workspace("acme", "prod")
                .quota(q("5", "1Gi"))
                .execute()
                .await
                .map(drop),
        ),
        // shrinking a workspace below what its projects hold
        (
            ErrorKind::QuotaExceeded,
            t.update_workspace("acme", "dev")
                .quota(q("1", "8Gi"))
                .execute()
                .await
                .map(drop),
        ),
        // downgrading the organization below its workspaces
        (
            ErrorKind::QuotaExceeded,
            t.update_organization("acme")
                .plan("starter")
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::InvalidInput,
            t.add_member("acme", "bob")
                .workspace("dev")
                .role("owner")
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::InvalidInput,
            t.add_member("acme", "bob")
                .role("superuser")
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::InvalidInput,
            t.add_member("acme", "bob").execute().await.map(drop),
        ),
        (
            ErrorKind::NotFound,
            t.add_member("acme", "bob")
                .workspace("ghost")
                .role("viewer")
                .execute()
                .await
                .map(drop),
        ),
        (
            ErrorKind::NotFound,
            t.remove_member("acme", "carol").execute().await,
        ),
    ];
    for (i, (want, got)) in cases.into_iter().enumerate() {
        let err = got.expect_err(&format!("case {i} should fail"));
        assert_eq!(err.kind(), want, "case {i}: {err}");
    }
    assert_eq!(store_dump(e.store.as_ref()).await, store_before);
    assert_eq!(managed(e.cluster.as_ref()).await, cluster_before);
    assert_eq!(e.counting.writes(), writes_before);
    // each refusal is audited as such
    let refused = t
        .audit_log(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.result.starts_with("refused"))
        .count();
    assert_eq!(refused, 21);
}

#[tokio::test]
async fn downgrade_error_lists_the_offending_resources() {
    let e = env();
    let t = &e.tenancy;
    t.create_organization("acme")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "a")
        .quota(quota("3", "2Gi", "30Gi", "10", "5", "2").unwrap())
        .execute()
        .await
        .unwrap();
    let err = t
        .update_organization("acme")
        .plan("starter")
        .execute()
        .await
        .unwrap_err();
    let hxb_core::Error::QuotaExceeded(qe) = &err else {
        panic!("{err}")
    };
    let names: Vec<_> = qe.exceeded.iter().map(|x| x.resource.as_str()).collect();
    assert_eq!(names, ["requests.cpu", "requests.storage"], "{err}");
    // an upgrade is fine, and the plan moves
    assert_eq!(
        t.update_organization("acme")
            .plan("enterprise")
            .execute()
            .await
            .unwrap()
            .plan
            .as_str(),
        "enterprise"
    );
}

#[tokio::test]
async fn colliding_namespace_names_are_refused_with_an_explanation() {
    let e = env();
    let t = &e.tenancy;
    t.create_organization("a-b")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    t.create_organization("a")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    t.create_workspace("a-b", "c")
        .quota(q("1", "1Gi"))
        .execute()
        .await
        .unwrap();
    t.create_workspace("a", "b-c")
        .quota(q("1", "1Gi"))
        .execute()
        .await
        .unwrap();
    t.create_project("a-b", "c", "d")
        .quota(q("1", "1Gi"))
        .execute()
        .await
        .unwrap();
    let err = t
        .create_project("a", "b-c", "d")
        .quota(q("1", "1Gi"))
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(
        err.to_string().contains("a-b-c-d") && err.to_string().contains("owned by"),
        "{err}"
    );
    assert!(t.projects("a", "b-c").await.unwrap().is_empty());
}

#[tokio::test]
async fn cascade_delete_finalizes_and_orphans_nothing() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    t.create_organization("globex")
        .plan("starter")
        .execute()
        .await
        .unwrap();
    t.create_workspace("globex", "w")
        .quota(q("1", "1Gi"))
        .execute()
        .await
        .unwrap();
    t.create_project("globex", "w", "p")
        .quota(q("1", "1Gi"))
        .execute()
        .await
        .unwrap();
    let globex_objects: Vec<_> = managed(e.cluster.as_ref())
        .await
        .into_iter()
        .filter(|s| s.contains("globex"))
        .collect();
    // a sub-project alone, then the organization with everything
    assert!(
        t.delete_project("acme", "dev", "web")
            .cascade(true)
            .execute()
            .await
            .unwrap()
    );
    assert!(t.projects("acme", "dev").await.unwrap().is_empty());
    assert!(
        t.delete_organization("acme")
            .cascade(true)
            .execute()
            .await
            .unwrap()
    );
    assert_eq!(
        t.organization("acme").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(e.store.list("members", "acme/").await.unwrap().is_empty());
    assert!(e.store.list("namespaces", "acme").await.unwrap().is_empty());
    // nothing of acme is left; globex is untouched
    assert_eq!(managed(e.cluster.as_ref()).await, globex_objects);
    let ns = e
        .cluster
        .get(&ResourceType::of::<Namespace>(), None, "acme-dev-web")
        .await
        .unwrap_err();
    assert_eq!(ns.kind(), ErrorKind::NotFound);
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);
    // the name is free again
    t.create_organization("acme").execute().await.unwrap();
}

async fn node_selector(cluster: &Arc<dyn ClusterBackend>, ns: &str) -> Option<String> {
    let ns = cluster
        .get(&ResourceType::of::<Namespace>(), None, ns)
        .await
        .unwrap();
    ns.metadata
        .annotations
        .unwrap_or_default()
        .get("scheduler.alpha.kubernetes.io/node-selector")
        .cloned()
}

#[tokio::test]
async fn shared_to_dedicated_and_back_moves_namespaces_between_pools() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    let cluster = e.cluster.clone();
    assert_eq!(node_selector(&cluster, "acme-dev-api").await, None);
    let ws = t
        .update_workspace("acme", "dev")
        .plan("professional-dedicated")
        .execute()
        .await
        .unwrap();
    assert_eq!(ws.status, EntityStatus::Active);
    assert_eq!(
        node_selector(&cluster, "acme-dev-api").await.as_deref(),
        Some("hxb.io/pool=acme.dev")
    );
    assert_eq!(
        node_selector(&cluster, "acme-dev-web").await.as_deref(),
        Some("hxb.io/pool=acme.dev")
    );
    t.update_workspace("acme", "dev")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    // the annotation is hxb's own field: going back to shared removes it
    let left = node_selector(&cluster, "acme-dev-api").await;
    assert_eq!(left, None, "dedicated placement left behind");
}

#[tokio::test]
async fn members_come_and_go_with_their_bindings() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    let rb = ResourceType::of::<k8s_openapi::api::rbac::v1::RoleBinding>();
    t.add_member("acme", "bob")
        .workspace("dev")
        .project("api")
        .role("admin")
        .execute()
        .await
        .unwrap();
    let b = e
        .cluster
        .get(&rb, Some("acme-dev-api"), "hxb-admin")
        .await
        .unwrap();
    assert_eq!(b.data["subjects"][0]["name"], "bob");
    assert_eq!(
        e.cluster
            .get(&rb, Some("acme-dev-web"), "hxb-admin")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    t.remove_member("acme", "bob")
        .workspace("dev")
        .project("api")
        .execute()
        .await
        .unwrap();
    assert_eq!(
        e.cluster
            .get(&rb, Some("acme-dev-api"), "hxb-admin")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(t.members("acme").await.unwrap().len(), 1);
    let _ = ApplyOptions::default();
}
