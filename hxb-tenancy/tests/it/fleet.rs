//! Multi-cluster fleet on three embedded clusters: placement, routing, moves, faults.

use std::collections::BTreeSet;
use std::sync::Arc;

use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::embedded::NodePool;
use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, ErrorKind, ResourceList, Selector, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::engine::pools::LABEL_NODE_SIZE;
use hxb_tenancy::fleet::{ANNOTATION_CLUSTER, Fleet};
use hxb_tenancy::naming::{MANAGED_BY, MANAGER};
use hxb_tenancy::plans::quota;
use hxb_tenancy::reconcile::{RetryPolicy, managed_types};
use hxb_tenancy::testing::FaultyBackend;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node};

struct World {
    store: Arc<dyn StateStore>,
    fleet: Fleet,
    tenancy: Tenancy,
    /// `(name, the embedded cluster, the backend the fleet uses)`.
    members: Vec<(&'static str, EmbeddedCluster, Arc<FaultyBackend>)>,
}

fn cluster(prefix: &str, nodes: usize, cpu: &str, dedicated_m: usize) -> EmbeddedCluster {
    let mut b = EmbeddedCluster::builder()
        .node_pool(NodePool::new(prefix).count(nodes).cpu(cpu).memory("16Gi"));
    if dedicated_m > 0 {
        b = b.node_pool(
            NodePool::new(format!("{prefix}-m"))
                .count(dedicated_m)
                .cpu("8")
                .memory("32Gi")
                .label(LABEL_NODE_SIZE, "m"),
        );
    }
    b.seed(7).build()
}

/// eu-1: 3 × 4 cpu (region eu); us-1: 2 × 4 cpu (region us); ded: 1 × 4 cpu + 2 size-M
/// nodes, region eu, dedicated to `acme`. Every member sits behind a fault injector that
/// starts disabled.
async fn world() -> World {
    world_with(0, 0.0).await
}

/// The same world with injectors failing a fraction `rate` of calls once enabled.
async fn world_with(seed: u64, rate: f64) -> World {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let retry = RetryPolicy {
        attempts: 6,
        backoff: std::time::Duration::from_millis(1),
    };
    let fleet = Fleet::builder(store.clone())
        .retry(retry)
        .open()
        .await
        .unwrap();
    let mut members = Vec::new();
    for (i, (name, c)) in [
        ("eu-1", cluster("eu1", 3, "4", 0)),
        ("us-1", cluster("us1", 2, "4", 0)),
        ("ded", cluster("ded", 1, "4", 2)),
    ]
    .into_iter()
    .enumerate()
    {
        let faulty = Arc::new(FaultyBackend::new(
            c.clone().into_backend(),
            seed * 10 + i as u64,
            rate,
        ));
        faulty.set_enabled(false);
        let add = fleet.add_cluster(name, faulty.clone());
        let add = match name {
            "us-1" => add.region("us"),
            "ded" => add.region("eu").dedicated_to("acme"),
            _ => add.region("eu"),
        };
        add.execute().await.unwrap();
        members.push((name, c, faulty));
    }
    let tenancy = Tenancy::builder(fleet.backend(), store.clone())
        .retry(retry)
        .build();
    World {
        store,
        fleet,
        tenancy,
        members,
    }
}

impl World {
    fn embedded(&self, name: &str) -> &EmbeddedCluster {
        &self.members.iter().find(|m| m.0 == name).unwrap().1
    }

    /// hxb-managed objects in one member, as `Kind ns/name`.
    async fn managed(&self, name: &str) -> Vec<String> {
        let b = self.embedded(name).clone().into_backend();
        let opts = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
        let mut out = Vec::new();
        for ty in managed_types() {
            for o in b.list(&ty, None, &opts).await.unwrap().items {
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

    async fn namespaces(&self, name: &str) -> BTreeSet<String> {
        let b = self.embedded(name).clone().into_backend();
        let opts = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
        b.list(&ResourceType::of::<Namespace>(), None, &opts)
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect()
    }

    fn set_faults(&self, rate_on: bool) {
        for m in &self.members {
            m.2.set_enabled(rate_on);
        }
    }
}

fn q(cpu: &str) -> ResourceList {
    quota(cpu, "4Gi", "10Gi", "20", "10", "4").unwrap()
}

fn req(cpu: &str, mem: &str) -> ResourceList {
    ResourceList::parse([("cpu", cpu), ("memory", mem)]).unwrap()
}

/// `org` on the enterprise plan with workspace `ws` (quota `cpu`), `projects` projects and
/// `apps` stateless applications in each.
async fn tenant(w: &World, org: &str, ws: &str, cpu: &str, projects: usize, apps: usize) {
    tenant_on(w, org, ws, cpu, projects, apps, None).await;
}

/// [`tenant`], the workspace placed on `cluster` first when given.
async fn tenant_on(
    w: &World,
    org: &str,
    ws: &str,
    cpu: &str,
    projects: usize,
    apps: usize,
    cluster: Option<&str>,
) {
    let t = &w.tenancy;
    if t.organization(org).await.is_err() {
        t.create_organization(org)
            .plan("enterprise")
            .execute()
            .await
            .unwrap();
    }
    t.create_workspace(org, ws)
        .quota(q(cpu))
        .execute()
        .await
        .unwrap();
    if let Some(c) = cluster {
        w.fleet
            .place_workspace(org, ws)
            .cluster(c)
            .execute()
            .await
            .unwrap();
    }
    for p in 0..projects {
        let project = format!("p{p}");
        t.create_project(org, ws, &project)
            .quota(quota("500m", "1Gi", "2Gi", "3", "3", "1").unwrap())
            .execute()
            .await
            .unwrap();
        for a in 0..apps {
            t.create_app(org, ws, &project, &format!("app{a}"))
                .stateless("nginx:1.27")
                .port(80)
                .replicas(1)
                .requests(req("100m", "64Mi"))
                .execute()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn placement_follows_region_labels_and_capacity() {
    let w = world().await;
    let t = &w.tenancy;
    t.create_organization("beta")
        .plan("enterprise")
        .execute()
        .await
        .unwrap();
    t.create_workspace("beta", "a")
        .quota(q("6"))
        .execute()
        .await
        .unwrap();
    t.create_workspace("beta", "b")
        .quota(q("4"))
        .execute()
        .await
        .unwrap();
    t.create_workspace("beta", "c")
        .quota(q("9"))
        .execute()
        .await
        .unwrap();
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
    t.create_organization("beta")
        .plan("enterprise")
        .execute()
        .await
        .unwrap();
    t.create_workspace("beta", "x")
        .quota(q("1"))
        .execute()
        .await
        .unwrap();
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
    let err = w
        .fleet
        .move_workspace("beta", "big", "us-1")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    let hxb_core::Error::QuotaExceeded(qe) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(qe.quota, "cluster us-1");
    assert_eq!(qe.exceeded[0].resource.as_str(), "cpu");
    // another organization's dedicated cluster; an unknown member; an unknown workspace
    let err = w
        .fleet
        .move_workspace("beta", "small", "ded")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    let err = w
        .fleet
        .move_workspace("beta", "small", "mars")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = w
        .fleet
        .move_workspace("beta", "nope", "us-1")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = w
        .fleet
        .move_workspace("beta", "Bad_Name", "us-1")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
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
