//! Placement, routing through the fleet, watches, kubeconfig contexts.

use std::sync::Arc;

use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::store::MemoryStore;
use hxb_core::{ErrorKind, ResourceList, Selector, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::fleet::{ANNOTATION_CLUSTER, Fleet};
use hxb_tenancy::naming::{MANAGED_BY, MANAGER};
use hxb_tenancy::plans::quota;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node};

use super::{q, tenant, tenant_on, world};

#[tokio::test]
async fn placement_follows_region_labels_and_capacity() {
    let w = world().await;
    let t = &w.tenancy;
    for (ws, cpu) in [("a", "6"), ("b", "4"), ("c", "9")] {
        tenant(&w, "beta", ws, cpu, 0, 0).await;
    }
    // us-1 has 8 cpu: a (6) fits there
    let got = w
        .fleet
        .place_workspace("beta", "a")
        .region("us")
        .execute()
        .await
        .unwrap();
    assert_eq!(got, "us-1");
    // b (4) no longer fits in us (2 cpu left): typed refusal, nothing placed
    let err = w
        .fleet
        .place_workspace("beta", "b")
        .region("us")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unschedulable, "{err}");
    assert!(err.to_string().contains("insufficient cpu"), "{err}");
    assert!(w.fleet.assignment("beta", "b").is_none());
    // an explicit full target: QuotaExceeded naming the cluster
    let err = w
        .fleet
        .place_workspace("beta", "b")
        .cluster("us-1")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert!(err.to_string().contains("cluster us-1"), "{err}");
    // not beta's: the dedicated cluster
    let err = w
        .fleet
        .place_workspace("beta", "b")
        .cluster("ded")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert!(w.fleet.assignment("beta", "b").is_none());
    // unconstrained placement (on first write): eu-1, the only shared cluster with room
    t.create_project("beta", "b", "web")
        .quota(quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap())
        .execute()
        .await
        .unwrap();
    assert_eq!(w.fleet.assignment("beta", "b").unwrap().cluster, "eu-1");
    // c (9) fits nowhere beta may go (eu-1 has 12 − 4 = 8 left)
    let err = w
        .fleet
        .place_workspace("beta", "c")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unschedulable, "{err}");
    // capacity as the fleet reports it
    let infos = w.fleet.clusters().await.unwrap();
    let eu = infos.iter().find(|c| c.name == "eu-1").unwrap();
    assert_eq!(eu.allocatable.get("cpu").unwrap().to_string(), "12");
    assert_eq!(eu.used.get("cpu").unwrap().to_string(), "4");
    assert_eq!(eu.workspaces, vec!["beta/b".to_owned()]);
    let us = infos.iter().find(|c| c.name == "us-1").unwrap();
    assert_eq!(us.free().get("cpu").unwrap().to_string(), "2");
    // the registry and assignments live in the store: a second fleet over it agrees
    let again = Fleet::open(w.store.clone()).await.unwrap();
    assert_eq!(again.assignments(), w.fleet.assignments());
    assert_eq!(
        again
            .members()
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        vec!["eu-1", "us-1", "ded"]
    );
}

#[tokio::test]
async fn a_dedicated_plan_gets_the_organizations_dedicated_cluster() {
    let w = world().await;
    let t = &w.tenancy;
    t.create_organization("acme")
        .plan("enterprise")
        .execute()
        .await
        .unwrap();
    let ws = t
        .create_workspace("acme", "secure")
        .plan("professional-dedicated")
        .quota(q("2"))
        .execute()
        .await
        .unwrap();
    assert_eq!(ws.status, hxb_core::EntityStatus::Active, "{:?}", ws.status);
    assert_eq!(w.fleet.assignment("acme", "secure").unwrap().cluster, "ded");
    // its node pool was claimed in the dedicated cluster, and nowhere else
    let pool = ListOptions::labels(Selector::from_labels([("hxb.io/pool", "acme.secure")]));
    let node_ty = ResourceType::of::<Node>();
    for (name, c, _) in &w.members {
        let n = c
            .clone()
            .into_backend()
            .list(&node_ty, None, &pool)
            .await
            .unwrap()
            .items
            .len();
        assert_eq!(n, if *name == "ded" { 2 } else { 0 }, "{name}");
    }
    // another organization's dedicated plan has no cluster to go to
    tenant(&w, "beta", "x", "1", 0, 0).await;
    let err = w
        .fleet
        .place_workspace("beta", "x")
        .cluster("ded")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    let strict = hxb_tenancy::fleet::PlacementRequest::new(
        hxb_core::Name::new("beta").unwrap(),
        ResourceList::new(),
    )
    .hard_isolation(true);
    let infos = w.fleet.clusters().await.unwrap();
    let err = hxb_tenancy::fleet::placement::choose(&infos, &strict).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unschedulable);
}

#[tokio::test]
async fn tenancy_on_the_fleet_lands_objects_in_the_assigned_cluster_only() {
    let w = world().await;
    tenant(&w, "beta", "dev", "2", 2, 2).await;
    tenant(&w, "beta", "ops", "2", 1, 1).await;
    let dev = w.fleet.assignment("beta", "dev").unwrap().cluster;
    let ops = w.fleet.assignment("beta", "ops").unwrap().cluster;
    // least allocated after placing: dev on eu-1 (10 of 12 cpu free beats 6 of 8), then
    // ops on us-1 (6 of 8 beats 8 of 12)
    assert_eq!((dev.as_str(), ops.as_str()), ("eu-1", "us-1"));
    let eu = w.managed("eu-1").await;
    let us = w.managed("us-1").await;
    assert!(
        eu.contains(&"Deployment beta-dev-p1/app1".to_owned()),
        "{eu:?}"
    );
    assert!(
        us.contains(&"Deployment beta-ops-p0/app0".to_owned()),
        "{us:?}"
    );
    assert!(eu.iter().all(|o| o.contains("beta-dev-")), "{eu:?}");
    assert!(us.iter().all(|o| o.contains("beta-ops-")), "{us:?}");
    assert!(w.managed("ded").await.is_empty());
    // the router's merged view: every deployment once, ordered, tagged with its member
    let deps = w
        .fleet
        .backend()
        .list(
            &ResourceType::of::<Deployment>(),
            None,
            &ListOptions::default(),
        )
        .await
        .unwrap();
    let names: Vec<String> = deps
        .items
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d.metadata.namespace.clone().unwrap(),
                d.metadata.name.clone().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "beta-dev-p0/app0",
            "beta-dev-p0/app1",
            "beta-dev-p1/app0",
            "beta-dev-p1/app1",
            "beta-ops-p0/app0"
        ]
    );
    let members: Vec<&str> = deps
        .items
        .iter()
        .map(|d| d.metadata.annotations.as_ref().unwrap()[ANNOTATION_CLUSTER].as_str())
        .collect();
    assert_eq!(members, vec!["eu-1", "eu-1", "eu-1", "eu-1", "us-1"]);
    // converged through the router: a reconcile writes nothing
    let r = w.tenancy.reconcile().await.unwrap();
    assert!(r.is_clean(), "{:?}", r.errors);
    assert_eq!(r.writes(), 0, "{r:?}");
    // access checks and deletes go through the router too
    w.tenancy
        .delete_workspace("beta", "ops")
        .cascade(true)
        .execute()
        .await
        .unwrap();
    w.tenancy.reconcile().await.unwrap();
    assert!(w.namespaces("us-1").await.is_empty());
    assert_eq!(w.namespaces("eu-1").await.len(), 2);
    // the deleted workspace reserves nothing and its assignment can be pruned
    let us = w.fleet.clusters().await.unwrap();
    let us = us.iter().find(|c| c.name == "us-1").unwrap();
    assert!(
        us.workspaces.is_empty() && us.used.get_or_zero("cpu").is_zero(),
        "{us:?}"
    );
    assert_eq!(w.fleet.prune_assignments().await.unwrap(), 1);
    assert!(w.fleet.assignment("beta", "ops").is_none());
    assert!(w.fleet.assignment("beta", "dev").is_some());
    w.fleet.remove_cluster("us-1").await.unwrap();
}

/// Two contexts of a real kubeconfig as a fleet: `HXB_TEST_KUBECONFIG` plus
/// `HXB_TEST_CONTEXTS=ctx-a,ctx-b`. Creates organization `hxb-fleet-test`, moves its
/// workspace from the first context to the second, and deletes it again.
#[tokio::test]
#[ignore = "needs kubeconfig"]
async fn two_kubeconfig_contexts() {
    let path = std::env::var("HXB_TEST_KUBECONFIG").expect("HXB_TEST_KUBECONFIG");
    let contexts = std::env::var("HXB_TEST_CONTEXTS").expect("HXB_TEST_CONTEXTS=a,b");
    let ctx: Vec<&str> = contexts.split(',').collect();
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let fleet = Fleet::open(store.clone()).await.unwrap();
    fleet
        .add_kube_context("a", &path, Some(ctx[0]))
        .execute()
        .await
        .unwrap();
    fleet
        .add_kube_context("b", &path, Some(ctx[1]))
        .execute()
        .await
        .unwrap();
    let t = Tenancy::new(fleet.backend(), store);
    t.create_organization("hxb-fleet-test")
        .plan("starter")
        .execute()
        .await
        .unwrap();
    t.create_workspace("hxb-fleet-test", "dev")
        .quota(quota("100m", "128Mi", "1Gi", "2", "2", "1").unwrap())
        .execute()
        .await
        .unwrap();
    fleet
        .place_workspace("hxb-fleet-test", "dev")
        .cluster("a")
        .execute()
        .await
        .unwrap();
    t.create_project("hxb-fleet-test", "dev", "web")
        .execute()
        .await
        .unwrap();
    let ns_ty = ResourceType::of::<Namespace>();
    let ns = "hxb-fleet-test-dev-web";
    assert!(
        fleet
            .member("a")
            .unwrap()
            .get(&ns_ty, None, ns)
            .await
            .is_ok()
    );
    fleet
        .move_workspace("hxb-fleet-test", "dev", "b")
        .execute()
        .await
        .unwrap();
    assert!(
        fleet
            .member("b")
            .unwrap()
            .get(&ns_ty, None, ns)
            .await
            .is_ok()
    );
    t.delete_organization("hxb-fleet-test")
        .cascade(true)
        .execute()
        .await
        .unwrap();
    t.reconcile().await.unwrap();
}

#[tokio::test]
async fn concurrent_placements_never_overcommit_a_cluster() {
    let w = world().await;
    let t = &w.tenancy;
    t.create_organization("beta")
        .plan("enterprise")
        .execute()
        .await
        .unwrap();
    // 24 workspaces of 1 cpu each for 20 cpu of shared capacity (eu-1 12 + us-1 8)
    for i in 0..24 {
        t.create_workspace("beta", &format!("w{i}"))
            .quota(quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap())
            .execute()
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let fleet = w.fleet.clone();
            tokio::spawn(async move {
                fleet
                    .place_workspace("beta", &format!("w{i}"))
                    .execute()
                    .await
            })
        })
        .collect();
    let mut placed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => placed += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::Unschedulable, "{e}"),
        }
    }
    assert_eq!(placed, 20, "exactly the capacity");
    for c in w.fleet.clusters().await.unwrap() {
        assert!(c.used.fits_within(&c.allocatable), "{c:?}");
    }
    // a second fleet over the same store (another process) agrees and cannot re-place
    let other = Fleet::open(w.store.clone()).await.unwrap();
    let a = w.fleet.assignment("beta", "w0").unwrap().cluster;
    let elsewhere = if a == "eu-1" { "us-1" } else { "eu-1" };
    let err = other
        .place_workspace("beta", "w0")
        .cluster(elsewhere)
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
}

#[tokio::test]
async fn a_watch_over_the_fleet_merges_members() {
    use futures::StreamExt;
    let w = world().await;
    let watch = w
        .fleet
        .backend()
        .watch(
            &ResourceType::of::<Namespace>(),
            None,
            &hxb_core::cluster::WatchOptions {
                label_selector: Some(Selector::from_labels([(MANAGED_BY, MANAGER)])),
                resource_version: None,
            },
        )
        .await
        .unwrap();
    tenant_on(&w, "beta", "a", "1", 1, 0, Some("eu-1")).await;
    tenant_on(&w, "beta", "b", "1", 1, 0, Some("us-1")).await;
    let events: Vec<_> = watch.take(2).collect().await;
    let mut seen: Vec<(String, String)> = events
        .into_iter()
        .map(|e| {
            let o = e.unwrap().object().clone();
            (
                o.metadata.name.clone().unwrap(),
                o.metadata.annotations.unwrap()[ANNOTATION_CLUSTER].clone(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("beta-a-p0".to_owned(), "eu-1".to_owned()),
            ("beta-b-p0".to_owned(), "us-1".to_owned())
        ]
    );
}
