//! Fault injection: the backend fails with conflicts, server errors and timeouts (before or
//! after acting) at random points, over many seeded schedules. After retries and reconciles the
//! cluster equals the desired state exactly: nothing missing, nothing orphaned, no duplicates.

use std::collections::BTreeMap;
use std::sync::Arc;

use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, EntityStatus, ManualClock, Result, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::reconcile::RetryPolicy;
use hxb_tenancy::reconcile::diff::contains;
use hxb_tenancy::testing::{CountingBackend, FaultyBackend};
use k8s_openapi::api::core::v1::Namespace;

use crate::engine::managed;

async fn eventually<T, F, Fut>(mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    for _ in 0..50 {
        match op().await {
            Ok(v) => return v,
            Err(e) if e.is_retryable() => continue,
            Err(e) => panic!("non-retryable failure: {e}"),
        }
    }
    panic!("operation never succeeded");
}

/// A project-sized quota with `cpu`; workspaces get more of the rest.
fn q(cpu: &str) -> hxb_core::ResourceList {
    hxb_tenancy::plans::quota(cpu, "1Gi", "1Gi", "10", "5", "2").unwrap()
}

fn ws_q(cpu: &str) -> hxb_core::ResourceList {
    hxb_tenancy::plans::quota(cpu, "6Gi", "40Gi", "40", "20", "8").unwrap()
}

async fn scenario(seed: u64) -> (u64, usize) {
    let cluster = EmbeddedCluster::builder().nodes(2).seed(seed).build().into_backend();
    let faulty = Arc::new(FaultyBackend::new(cluster.clone(), seed, 0.2));
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let t = Tenancy::builder(faulty.clone(), store.clone())
        .clock(Arc::new(ManualClock::at_epoch()))
        .retry(RetryPolicy { attempts: 3, backoff: std::time::Duration::ZERO })
        .build();
    eventually(|| t.create_organization("acme").plan("professional").execute()).await;
    eventually(|| t.create_workspace("acme", "dev").quota(ws_q("4")).execute()).await;
    eventually(|| t.create_workspace("acme", "prod").plan("professional-dedicated").quota(ws_q("2")).execute()).await;
    eventually(|| t.create_project("acme", "dev", "web").quota(hxb_tenancy::plans::quota("2", "3Gi", "20Gi", "20", "10", "4").unwrap()).execute()).await;
    eventually(|| t.create_project("acme", "dev", "api").parent("web").quota(q("1")).execute()).await;
    eventually(|| t.create_project("acme", "dev", "db").quota(q("1")).execute()).await;
    eventually(|| t.create_project("acme", "prod", "svc").quota(q("1")).execute()).await;
    eventually(|| t.add_member("acme", "alice").workspace("dev").role("developer").execute()).await;
    eventually(|| t.add_member("acme", "bob").workspace("dev").project("api").role("admin").execute()).await;
    eventually(|| t.update_workspace("acme", "dev").plan("professional-dedicated").execute()).await;
    eventually(|| t.delete_project("acme", "dev", "db").execute()).await;
    eventually(|| t.remove_member("acme", "alice").workspace("dev").execute()).await;
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 30, "seed {seed}: no convergence");
        let Ok(r) = t.reconcile().await else { continue };
        let projects = t.projects("acme", "dev").await.unwrap();
        let settled = projects.iter().all(|p| p.status == EntityStatus::Active)
            && t.workspace("acme", "dev").await.unwrap().status == EntityStatus::Active
            && t.organization("acme").await.unwrap().status == EntityStatus::Active;
        if r.is_clean() && settled {
            break;
        }
    }
    // the cluster, read without faults, is exactly the desired state
    faulty.set_enabled(false);
    let desired = t.desired_objects("acme").await.unwrap();
    let mut want: Vec<String> = desired
        .iter()
        .map(|d| format!("{} {}/{}", d.ty.kind, d.object.metadata.namespace.clone().unwrap_or_default(), d.object.metadata.name.clone().unwrap_or_default()))
        .collect();
    want.sort();
    assert_eq!(managed(cluster.as_ref()).await, want, "seed {seed}");
    for d in &desired {
        let live = cluster
            .get(&d.ty, d.object.metadata.namespace.as_deref(), d.object.metadata.name.as_deref().unwrap())
            .await
            .unwrap();
        let (l, w) = (serde_json::to_value(&live).unwrap(), serde_json::to_value(&d.object).unwrap());
        assert!(contains(&l, &w), "seed {seed}: {} differs", d.ty.kind);
    }
    // one namespace per project, none for the deleted one, and no stale store records
    let ns_list = hxb_core::cluster::Api::<Namespace>::all(cluster.clone()).list(&Default::default()).await.unwrap();
    let mut per_project: BTreeMap<String, usize> = BTreeMap::new();
    for ns in ns_list {
        if let Some(p) = ns.metadata.labels.as_ref().and_then(|l| l.get("hxb.io/project")) {
            *per_project.entry(p.clone()).or_default() += 1;
        }
    }
    assert_eq!(per_project, BTreeMap::from([("api".into(), 1), ("svc".into(), 1), ("web".into(), 1)]), "seed {seed}");
    assert!(store.get("projects", "acme/dev/db").await.unwrap().is_none());
    assert!(store.get("namespaces", "acme-dev-db").await.unwrap().is_none());
    // and it stays put: a further reconcile writes nothing
    let counting = Arc::new(CountingBackend::new(cluster.clone()));
    let t2 = Tenancy::builder(counting.clone(), store.clone()).clock(Arc::new(ManualClock::at_epoch())).build();
    assert_eq!(t2.reconcile().await.unwrap().writes(), 0, "seed {seed}");
    assert_eq!(counting.writes(), 0);
    (faulty.injected(), rounds)
}

#[tokio::test]
async fn converges_under_random_faults_over_many_seeds() {
    let mut injected = 0;
    for seed in 0..60 {
        injected += scenario(seed).await.0;
    }
    assert!(injected > 500, "too few faults injected to mean anything: {injected}");
}
