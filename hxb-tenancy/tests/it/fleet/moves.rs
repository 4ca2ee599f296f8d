//! Moving workspaces: apps travel, refusals change nothing, faults converge.

use hxb_core::ErrorKind;
use hxb_core::cluster::{ListOptions, ResourceType};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;

use super::{World, tenant, tenant_on, world, world_with};

#[tokio::test]
async fn moving_a_workspace_takes_its_apps_and_leaves_nothing_behind() {
    let w = world().await;
    tenant(&w, "beta", "dev", "2", 2, 2).await;
    assert_eq!(w.fleet.assignment("beta", "dev").unwrap().cluster, "eu-1");
    let before = w.managed("eu-1").await;
    let report = w
        .fleet
        .move_workspace("beta", "dev", "us-1")
        .tenancy(&w.tenancy)
        .execute()
        .await
        .unwrap();
    assert_eq!(
        report.reconciled, 0,
        "the copy was already what tenancy wants"
    );
    assert_eq!((report.from.as_str(), report.to.as_str()), ("eu-1", "us-1"));
    assert_eq!(report.namespaces, vec!["beta-dev-p0", "beta-dev-p1"]);
    assert_eq!(report.deleted_namespaces, 2);
    let a = w.fleet.assignment("beta", "dev").unwrap();
    assert_eq!(
        (a.cluster.as_str(), a.moving_to, a.leaving),
        ("us-1", None, None)
    );
    // every managed object is on the target now, exactly as it was; none left at the source
    assert_eq!(w.managed("us-1").await, before);
    assert!(w.managed("eu-1").await.is_empty());
    // the target's controllers run the apps
    let pods = w
        .embedded("us-1")
        .clone()
        .into_backend()
        .list(
            &ResourceType::of::<k8s_openapi::api::core::v1::Pod>(),
            Some("beta-dev-p0"),
            &ListOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 2);
    // tenancy sees a converged world and keeps working on the target
    let r = w.tenancy.reconcile().await.unwrap();
    assert_eq!(r.writes(), 0, "{r:?}");
    w.tenancy
        .scale_app("beta", "dev", "p0", "app0", 2)
        .await
        .unwrap();
    let d = w
        .embedded("us-1")
        .clone()
        .into_backend()
        .get(
            &ResourceType::of::<Deployment>(),
            Some("beta-dev-p0"),
            "app0",
        )
        .await
        .unwrap();
    assert_eq!(d.data["spec"]["replicas"], 2);
    assert!(w.managed("eu-1").await.is_empty());
    // moving again to where it is changes nothing
    let again = w
        .fleet
        .move_workspace("beta", "dev", "us-1")
        .execute()
        .await
        .unwrap();
    assert_eq!(again.copied, 0);
}

#[tokio::test]
async fn a_move_to_a_cluster_without_room_is_refused_and_changes_nothing() {
    let w = world().await;
    tenant(&w, "beta", "big", "10", 1, 1).await;
    tenant(&w, "beta", "small", "1", 1, 1).await;
    assert_eq!(w.fleet.assignment("beta", "big").unwrap().cluster, "eu-1");
    let snapshot = |w: &World| -> Vec<Vec<hxb_core::cluster::DynamicObject>> {
        w.members.iter().map(|m| m.1.objects()).collect()
    };
    let before = snapshot(&w);
    let assignments = w.fleet.assignments();
    let records = w
        .store
        .list(hxb_tenancy::fleet::ASSIGNMENTS, "")
        .await
        .unwrap();
    // 10 cpu into us-1 (8)
    let err = refused(&w, "beta", "big", "us-1", ErrorKind::QuotaExceeded).await;
    let hxb_core::Error::QuotaExceeded(qe) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(qe.quota, "cluster us-1");
    assert_eq!(qe.exceeded[0].resource.as_str(), "cpu");
    // another organization's dedicated cluster; an unknown member; an unknown workspace
    refused(&w, "beta", "small", "ded", ErrorKind::FailedPrecondition).await;
    refused(&w, "beta", "small", "mars", ErrorKind::NotFound).await;
    refused(&w, "beta", "nope", "us-1", ErrorKind::NotFound).await;
    refused(&w, "beta", "Bad_Name", "us-1", ErrorKind::InvalidInput).await;
    // nothing changed: clusters object for object, assignments record for record
    assert_eq!(snapshot(&w), before);
    assert_eq!(w.fleet.assignments(), assignments);
    assert_eq!(
        w.store
            .list(hxb_tenancy::fleet::ASSIGNMENTS, "")
            .await
            .unwrap(),
        records
    );
    // removing a cluster that hosts workspaces is refused too
    let err = w.fleet.remove_cluster("eu-1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    w.fleet.remove_cluster("ded").await.unwrap();
    assert_eq!(w.fleet.members().len(), 2);
}

#[tokio::test]
async fn a_move_under_injected_faults_converges_on_retry() {
    for seed in 0..6u64 {
        let w = world_with(seed, 0.2).await;
        tenant(&w, "beta", "dev", "2", 2, 2).await;
        let before = w.managed("eu-1").await;
        // from now on 20 % of cluster calls fail (conflict, 5xx, timeout; before or after
        // the call acted)
        w.set_faults(true);
        let mut tries = 0;
        let report = loop {
            tries += 1;
            assert!(tries < 200, "seed {seed}: no convergence");
            // half the seeds move with the tenancy engine (lock + reconcile into the target)
            let mut mv = w.fleet.move_workspace("beta", "dev", "us-1");
            if seed % 2 == 0 {
                mv = mv.tenancy(&w.tenancy);
            }
            match mv.execute().await {
                Ok(r) => break r,
                Err(e) => assert!(
                    e.is_retryable() || e.kind() == ErrorKind::Timeout,
                    "seed {seed}: {e}"
                ),
            }
        };
        w.set_faults(false);
        assert!(w.members.iter().map(|m| m.2.injected()).sum::<u64>() > 0);
        assert_eq!(report.to, "us-1");
        let a = w.fleet.assignment("beta", "dev").unwrap();
        assert_eq!(
            (a.cluster.as_str(), a.moving_to, a.leaving),
            ("us-1", None, None),
            "seed {seed}"
        );
        assert_eq!(w.managed("us-1").await, before, "seed {seed}");
        assert!(w.managed("eu-1").await.is_empty(), "seed {seed}");
        assert!(w.managed("ded").await.is_empty(), "seed {seed}");
        let r = w.tenancy.reconcile().await.unwrap();
        assert_eq!(r.writes(), 0, "seed {seed}: {r:?}");
    }
}

#[tokio::test]
async fn a_move_with_tenancy_repairs_source_drift_and_cleans_an_abandoned_target() {
    let w = world().await;
    tenant_on(&w, "acme", "dev", "2", 1, 1, Some("eu-1")).await;
    assert_eq!(w.fleet.assignment("acme", "dev").unwrap().cluster, "eu-1");
    let desired = w.managed("eu-1").await;
    // drift on the source: the limit range deleted out of band
    let eu = w.embedded("eu-1").clone().into_backend();
    let lr = ResourceType::of::<k8s_openapi::api::core::v1::LimitRange>();
    eu.delete(&lr, Some("acme-dev-p0"), "hxb-limits")
        .await
        .unwrap();
    // an interrupted move to us-1 left a copied namespace there and its intent recorded
    let us = w.embedded("us-1").clone().into_backend();
    let ns = eu
        .get(&ResourceType::of::<Namespace>(), None, "acme-dev-p0")
        .await
        .unwrap();
    let mut debris = ns.clone();
    debris.metadata.resource_version = None;
    debris.metadata.uid = None;
    us.create(&ResourceType::of::<Namespace>(), debris)
        .await
        .unwrap();
    let mut a = w.fleet.assignment("acme", "dev").unwrap();
    a.moving_to = Some("us-1".into());
    w.store
        .commit(hxb_core::store::Batch::new().put(
            hxb_tenancy::fleet::ASSIGNMENTS,
            "acme/dev",
            serde_json::to_value(&a).unwrap(),
            hxb_core::store::Precondition::None,
        ))
        .await
        .unwrap();
    w.fleet.refresh().await.unwrap();
    // acme may use its dedicated cluster for a shared workspace too
    let r = w
        .fleet
        .move_workspace("acme", "dev", "ded")
        .tenancy(&w.tenancy)
        .execute()
        .await
        .unwrap();
    assert!(r.reconciled >= 1, "{r:?}");
    assert_eq!(r.deleted_namespaces, 2, "abandoned copy + source: {r:?}");
    assert_eq!(w.managed("ded").await, desired);
    assert!(w.namespaces("us-1").await.is_empty());
    assert!(w.managed("eu-1").await.is_empty());
    assert_eq!(w.tenancy.reconcile().await.unwrap().writes(), 0);
}

/// Moves `org/ws` to `to`, asserting the move is refused with `kind`.
async fn refused(w: &World, org: &str, ws: &str, to: &str, kind: ErrorKind) -> hxb_core::Error {
    let err = w
        .fleet
        .move_workspace(org, ws, to)
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), kind, "{org}/{ws} -> {to}: {err}");
    err
}
