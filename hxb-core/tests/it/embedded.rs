//! Embedded-cluster integration tests: the shared conformance suite, then behaviour only the
//! embedded cluster promises (synchronous controllers, seeded determinism).

use std::sync::Arc;

use futures::StreamExt;
use hxb_core::cluster::{
    Api, ChangeKind, ClusterBackend, DynamicObject, ListOptions, ResourceType, WatchOptions,
};
use hxb_core::embedded::NodePool;
use hxb_core::error::{Error, Unschedulable};
use hxb_core::scheduling::{ClusterSnapshot, Placement, PodScheduler, Victim};
use hxb_core::{EmbeddedCluster, ErrorKind, ManualClock, Selector};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, LimitRange, Namespace, Node, Pod, ResourceQuota, Service,
};
use serde_json::json;

#[tokio::test]
async fn embedded_conformance() {
    let cluster = EmbeddedCluster::builder().nodes(3).seed(1).build();
    super::conformance::run_all(cluster.clone().into_backend(), "hxb-it").await;
    // everything the suite created was cleaned up; only the nodes remain
    assert_eq!(cluster.object_count(), 3);
}

fn cluster(nodes: usize) -> EmbeddedCluster {
    EmbeddedCluster::builder()
        .nodes(nodes)
        .seed(7)
        .clock(Arc::new(ManualClock::at_epoch()))
        .build()
}

async fn new_namespace(backend: &Arc<dyn ClusterBackend>, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(backend.clone())
        .create(&ns)
        .await
        .unwrap();
}

fn pod(name: &str, requests: serde_json::Value, limits: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": requests, "limits": limits}}]}
    }))
    .unwrap()
}

fn quota(name: &str, hard: serde_json::Value) -> ResourceQuota {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"hard": hard}})).unwrap()
}

fn used(q: &ResourceQuota, key: &str) -> Option<String> {
    q.status
        .as_ref()?
        .used
        .as_ref()?
        .get(key)
        .map(|q| q.0.clone())
}

/// The full state: every object and the cluster's resourceVersion.
fn state(c: &EmbeddedCluster) -> (String, u64) {
    (
        serde_json::to_string(&c.objects()).unwrap(),
        c.resource_version(),
    )
}

async fn events(backend: &Arc<dyn ClusterBackend>, ns: &str, reason: &str) -> Vec<Event> {
    Api::<Event>::namespaced(backend.clone(), ns)
        .list(&ListOptions::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .collect()
}

#[tokio::test]
async fn quota_admission_accounts_usage_and_lists_every_offender() {
    let c = cluster(3);
    let b = c.clone().into_backend();
    new_namespace(&b, "team").await;
    let quotas: Api<ResourceQuota> = Api::namespaced(b.clone(), "team");
    let pods: Api<Pod> = Api::namespaced(b.clone(), "team");
    quotas
        .create(&quota(
            "compute",
            json!({"requests.cpu": "2", "requests.memory": "2Gi", "limits.cpu": "4", "pods": "3"}),
        ))
        .await
        .unwrap();
    quotas
        .create(&quota("objects", json!({"count/services": "1"})))
        .await
        .unwrap();
    let q = quotas.get("compute").await.unwrap();
    assert_eq!(used(&q, "requests.cpu").as_deref(), Some("0"));

    // a pod missing a constrained request is refused like Kubernetes
    let err = pods
        .create(&pod("bare", json!({}), json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().contains("must specify"), "{err}");
    assert!(err.to_string().contains("requests.cpu"), "{err}");

    pods.create(&pod(
        "a",
        json!({"cpu": "1", "memory": "1Gi"}),
        json!({"cpu": "2"}),
    ))
    .await
    .unwrap();
    let q = quotas.get("compute").await.unwrap();
    assert_eq!(used(&q, "requests.cpu").as_deref(), Some("1"));
    assert_eq!(used(&q, "requests.memory").as_deref(), Some("1Gi"));
    assert_eq!(used(&q, "pods").as_deref(), Some("1"));

    let before = state(&c);
    let err = pods
        .create(&pod(
            "big",
            json!({"cpu": "1500m", "memory": "2Gi"}),
            json!({"cpu": "2"}),
        ))
        .await
        .unwrap_err();
    let Error::QuotaExceeded(qe) = &err else {
        panic!("expected QuotaExceeded, got {err}")
    };
    let names: Vec<_> = qe.exceeded.iter().map(|e| e.resource.as_str()).collect();
    assert_eq!(
        names,
        ["requests.cpu", "requests.memory"],
        "every offending resource is listed"
    );
    assert!(qe.quota.contains("team/compute"));
    assert_eq!(state(&c), before, "a refused pod changes nothing");

    // terminal pods stop counting
    let mut done = pods.get("a").await.unwrap();
    done.status.get_or_insert_default().phase = Some("Succeeded".into());
    pods.replace_status(&done).await.unwrap();
    let q = quotas.get("compute").await.unwrap();
    assert_eq!(used(&q, "requests.cpu").as_deref(), Some("0"));
    pods.create(&pod(
        "b",
        json!({"cpu": "2", "memory": "1Gi"}),
        json!({"cpu": "2"}),
    ))
    .await
    .unwrap();
    // deleting releases
    pods.delete("b").await.unwrap();
    assert_eq!(
        used(&quotas.get("compute").await.unwrap(), "requests.cpu").as_deref(),
        Some("0")
    );

    // the second quota applies too
    let svc: Api<Service> = Api::namespaced(b.clone(), "team");
    let s: Service = serde_json::from_value(
        json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .unwrap();
    svc.create(&s).await.unwrap();
    let mut s2 = s.clone();
    s2.metadata.name = Some("web2".into());
    assert_eq!(
        svc.create(&s2).await.unwrap_err().kind(),
        ErrorKind::QuotaExceeded
    );
    assert_eq!(
        used(&quotas.get("objects").await.unwrap(), "count/services").as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn limit_ranges_default_and_bound_containers() {
    let c = cluster(2);
    let b = c.clone().into_backend();
    new_namespace(&b, "lr").await;
    let lr: LimitRange = serde_json::from_value(
        json!({"metadata": {"name": "defaults"}, "spec": {"limits": [{
            "type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"},
            "max": {"cpu": "1"}
        }]}}),
    )
    .unwrap();
    Api::<LimitRange>::namespaced(b.clone(), "lr")
        .create(&lr)
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(b.clone(), "lr");
    let p = pods
        .create(&pod("defaulted", json!({}), json!({})))
        .await
        .unwrap();
    let r = p.spec.unwrap().containers[0].resources.clone().unwrap();
    assert_eq!(r.limits.unwrap()["cpu"].0, "500m");
    let req = r.requests.unwrap();
    assert_eq!(req["cpu"].0, "100m");
    assert_eq!(
        req["memory"].0, "256Mi",
        "request defaults to the default limit"
    );
    // a limit without a request: the request equals the limit
    let p = pods
        .create(&pod("limited", json!({}), json!({"cpu": "800m"})))
        .await
        .unwrap();
    assert_eq!(
        p.spec.unwrap().containers[0]
            .resources
            .clone()
            .unwrap()
            .requests
            .unwrap()["cpu"]
            .0,
        "800m"
    );

    let before = state(&c);
    let err = pods
        .create(&pod("greedy", json!({"cpu": "1"}), json!({"cpu": "2"})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(
        err.to_string()
            .contains("maximum cpu usage per Container is 1, but limit is 2"),
        "{err}"
    );
    let err = pods
        .create(&pod(
            "inverted",
            json!({"cpu": "900m"}),
            json!({"cpu": "800m"}),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(state(&c), before);
}

#[tokio::test]
async fn pods_bind_wait_and_retry_when_capacity_frees() {
    let c = cluster(2);
    let b = c.clone().into_backend();
    new_namespace(&b, "sched").await;
    let pods: Api<Pod> = Api::namespaced(b.clone(), "sched");
    let first = pods
        .create(&pod("p1", json!({"cpu": "3"}), json!({})))
        .await
        .unwrap();
    let second = pods
        .create(&pod("p2", json!({"cpu": "3"}), json!({})))
        .await
        .unwrap();
    let n1 = first.spec.unwrap().node_name.unwrap();
    let n2 = second.spec.unwrap().node_name.unwrap();
    assert_ne!(n1, n2, "least allocated spreads");
    assert_eq!(first.status.unwrap().phase.as_deref(), Some("Running"));

    let third = pods
        .create(&pod("p3", json!({"cpu": "3"}), json!({})))
        .await
        .unwrap();
    assert!(third.spec.as_ref().unwrap().node_name.is_none());
    let status = third.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let cond = &status.conditions.unwrap()[0];
    assert_eq!(
        (
            cond.type_.as_str(),
            cond.status.as_str(),
            cond.reason.as_deref()
        ),
        ("PodScheduled", "False", Some("Unschedulable"))
    );
    assert_eq!(
        cond.message.as_deref(),
        Some("0/2 nodes are available: 2 Insufficient cpu.")
    );
    let failed = events(&b, "sched", "FailedScheduling").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].involved_object.name.as_deref(), Some("p3"));

    pods.delete("p1").await.unwrap();
    let third = pods.get("p3").await.unwrap();
    assert_eq!(third.spec.unwrap().node_name, Some(n1));
    assert_eq!(events(&b, "sched", "Scheduled").await.len(), 3);

    // a new node through the API also retries pending pods
    let p4 = pods
        .create(&pod("p4", json!({"cpu": "3"}), json!({})))
        .await
        .unwrap();
    assert!(p4.spec.unwrap().node_name.is_none());
    let node: Node = serde_json::from_value(json!({"metadata": {"name": "extra"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}})).unwrap();
    Api::<Node>::all(b.clone()).create(&node).await.unwrap();
    assert_eq!(
        pods.get("p4")
            .await
            .unwrap()
            .spec
            .unwrap()
            .node_name
            .as_deref(),
        Some("extra")
    );
}

#[tokio::test]
async fn node_pools_taints_and_zones() {
    let c = EmbeddedCluster::builder()
        .nodes(3)
        .node_pool(
            NodePool::new("dedicated")
                .count(2)
                .cpu("16")
                .label("pool", "dedicated")
                .taint("hxb.io/dedicated", "acme", "NoSchedule"),
        )
        .seed(3)
        .build();
    let b = c.clone().into_backend();
    let nodes = Api::<Node>::all(b.clone())
        .list(&ListOptions::default())
        .await
        .unwrap();
    assert_eq!(nodes.len(), 5);
    let zones: std::collections::BTreeSet<_> = nodes
        .iter()
        .map(|n| n.metadata.labels.as_ref().unwrap()["topology.kubernetes.io/zone"].clone())
        .collect();
    assert_eq!(zones.len(), 3, "nodes spread over the zones");
    assert!(nodes.iter().all(|n| {
        n.metadata
            .labels
            .as_ref()
            .unwrap()
            .contains_key("node.kubernetes.io/instance-type")
    }));

    new_namespace(&b, "acme").await;
    let pods: Api<Pod> = Api::namespaced(b.clone(), "acme");
    // 8 cpu only fits the dedicated pool, whose taint is not tolerated
    let p = pods
        .create(&pod("big", json!({"cpu": "8"}), json!({})))
        .await
        .unwrap();
    let msg = p.status.unwrap().conditions.unwrap()[0]
        .message
        .clone()
        .unwrap();
    assert_eq!(
        msg,
        "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {hxb.io/dedicated: acme}."
    );
    let mut tolerant = pod("tolerant", json!({"cpu": "8"}), json!({}));
    let spec = tolerant.spec.as_mut().unwrap();
    spec.tolerations = Some(vec![
        serde_json::from_value(
            json!({"key": "hxb.io/dedicated", "value": "acme", "effect": "NoSchedule"}),
        )
        .unwrap(),
    ]);
    spec.node_selector = Some([("pool".to_owned(), "dedicated".to_owned())].into());
    let p = pods.create(&tolerant).await.unwrap();
    assert!(p.spec.unwrap().node_name.unwrap().starts_with("dedicated-"));
}

/// A scheduler that always picks `node-0` and evicts `victim`.
struct Preempting;
impl PodScheduler for Preempting {
    fn schedule(&self, pod: &Pod, _: &ClusterSnapshot) -> Result<Placement, Unschedulable> {
        let victims = if pod.metadata.name.as_deref() == Some("important") {
            vec![Victim {
                namespace: "pre".into(),
                name: "victim".into(),
            }]
        } else {
            Vec::new()
        };
        Ok(Placement {
            node: "node-0".into(),
            victims,
        })
    }
}

#[tokio::test]
async fn preemption_victims_are_evicted() {
    let c = EmbeddedCluster::builder()
        .nodes(1)
        .scheduler(Arc::new(Preempting))
        .build();
    let b = c.clone().into_backend();
    new_namespace(&b, "pre").await;
    let pods: Api<Pod> = Api::namespaced(b.clone(), "pre");
    pods.create(&pod("victim", json!({}), json!({})))
        .await
        .unwrap();
    let p = pods
        .create(&pod("important", json!({}), json!({})))
        .await
        .unwrap();
    assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("node-0"));
    assert!(pods.get_opt("victim").await.unwrap().is_none());
    assert_eq!(events(&b, "pre", "Preempted").await.len(), 1);
}

#[tokio::test]
async fn namespace_deletion_cascades_and_waits_for_finalizers() {
    let c = cluster(1);
    let b = c.clone().into_backend();
    new_namespace(&b, "gone").await;
    let cms: Api<ConfigMap> = Api::namespaced(b.clone(), "gone");
    let pods: Api<Pod> = Api::namespaced(b.clone(), "gone");
    let mut held: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "held", "finalizers": ["hxb.io/keep"]}}),
    )
    .unwrap();
    cms.create(&held).await.unwrap();
    cms.create(&serde_json::from_value(json!({"metadata": {"name": "free"}})).unwrap())
        .await
        .unwrap();
    pods.create(&pod("runner", json!({}), json!({})))
        .await
        .unwrap();

    let namespaces: Api<Namespace> = Api::all(b.clone());
    namespaces.delete("gone").await.unwrap();
    let ns = namespaces.get("gone").await.unwrap();
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    assert!(cms.get_opt("free").await.unwrap().is_none());
    assert!(pods.get_opt("runner").await.unwrap().is_none());
    held = cms.get("held").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());

    let before = state(&c);
    let err = cms
        .create(&serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(
        err.to_string(),
        "forbidden: unable to create new content in namespace gone because it is being terminated"
    );
    assert_eq!(state(&c), before);

    held.metadata.finalizers = None;
    cms.replace(&held).await.unwrap();
    assert!(
        namespaces.get_opt("gone").await.unwrap().is_none(),
        "an empty terminating namespace goes"
    );
    let err = cms
        .create(&serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "namespaces \"gone\" not found");
}

#[tokio::test]
async fn watch_replays_filters_and_reports_too_old() {
    let c = EmbeddedCluster::builder().watch_history(4).build();
    let b = c.clone().into_backend();
    new_namespace(&b, "w").await;
    let cms: Api<ConfigMap> = Api::namespaced(b.clone(), "w");
    let start = c.resource_version().to_string();
    for i in 0..3 {
        cms.create(
            &serde_json::from_value(
                json!({"metadata": {"name": format!("c{i}"), "labels": {"n": i.to_string()}}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    }
    // replay from history
    let opts = WatchOptions {
        resource_version: Some(start.clone()),
        ..Default::default()
    };
    let mut s = cms.watch(&opts).await.unwrap();
    for i in 0..3 {
        let (kind, cm) = s.next().await.unwrap().unwrap();
        assert_eq!(
            (kind, cm.metadata.name.unwrap()),
            (ChangeKind::Added, format!("c{i}"))
        );
    }
    // a label change out of the selector is a Deleted for that watch
    let sel = WatchOptions {
        label_selector: Some(Selector::parse("n=1").unwrap()),
        resource_version: None,
    };
    let mut only1 = cms.watch(&sel).await.unwrap();
    let mut c1 = cms.get("c1").await.unwrap();
    c1.metadata.labels = Some([("n".to_owned(), "9".to_owned())].into());
    cms.replace(&c1).await.unwrap();
    let (kind, _) = only1.next().await.unwrap().unwrap();
    assert_eq!(kind, ChangeKind::Deleted);
    // history of 4 events no longer reaches back to `start`
    for i in 3..6 {
        cms.create(
            &serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap(),
        )
        .await
        .unwrap();
    }
    let err = cms.watch(&opts).await.err().expect("too old");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains("too old resource version"),
        "{err}"
    );
    let bad = WatchOptions {
        resource_version: Some("abc".into()),
        ..Default::default()
    };
    assert_eq!(
        cms.watch(&bad).await.err().unwrap().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn bad_input_leaves_everything_unchanged() {
    let c = cluster(1);
    let b = c.clone().into_backend();
    new_namespace(&b, "bad").await;
    let cms: Api<ConfigMap> = Api::namespaced(b.clone(), "bad");
    let existing = cms
        .create(&serde_json::from_value(json!({"metadata": {"name": "ok"}})).unwrap())
        .await
        .unwrap();
    let ty = ResourceType::of::<ConfigMap>();
    let before = state(&c);

    let with_rv: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "x", "resourceVersion": "5"}})).unwrap();
    assert_eq!(
        cms.create(&with_rv).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let nameless: ConfigMap = ConfigMap::default();
    assert_eq!(
        cms.create(&nameless).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(matches!(
        cms.create(&serde_json::from_value(json!({"metadata": {"name": "A"}})).unwrap())
            .await,
        Err(Error::InvalidName(_))
    ));
    let mut stale = existing.clone();
    stale.metadata.resource_version = Some("1".into());
    assert_eq!(
        cms.replace(&stale).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    let mut wrong_uid = existing.clone();
    wrong_uid.metadata.uid = Some("nope".into());
    assert_eq!(
        cms.replace(&wrong_uid).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    let mut missing = existing.clone();
    missing.metadata.name = Some("missing".into());
    assert_eq!(
        cms.replace(&missing).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // a Pod body sent as a ConfigMap
    let mut wrong: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w", "namespace": "bad"}}),
    )
    .unwrap();
    assert_eq!(
        b.create(&ty, wrong.clone()).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    wrong.types = None;
    wrong.metadata.namespace = None;
    assert_eq!(
        b.create(&ty, wrong).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let pods: Api<Pod> = Api::namespaced(b.clone(), "bad");
    assert_eq!(
        pods.create(&pod("q", json!({"cpu": "lots"}), json!({})))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let empty: Pod =
        serde_json::from_value(json!({"metadata": {"name": "e"}, "spec": {"containers": []}}))
            .unwrap();
    assert_eq!(
        pods.create(&empty).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let svc: Service = serde_json::from_value(json!({"metadata": {"name": "1web"}})).unwrap();
    assert_eq!(
        Api::<Service>::namespaced(b.clone(), "bad")
            .create(&svc)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let q = quota("bad", json!({"pods": "many"}));
    assert_eq!(
        Api::<ResourceQuota>::namespaced(b.clone(), "bad")
            .create(&q)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        b.get(&ty, None, "ok").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    assert_eq!(
        state(&c),
        before,
        "no refused request changed the store or the resourceVersion"
    );
}

#[tokio::test]
async fn generation_status_and_noop_updates() {
    let c = cluster(1);
    let b = c.clone().into_backend();
    new_namespace(&b, "gen").await;
    let pods: Api<Pod> = Api::namespaced(b.clone(), "gen");
    let p = pods.create(&pod("p", json!({}), json!({}))).await.unwrap();
    assert_eq!(p.metadata.generation, Some(1));
    let mut labelled = p.clone();
    labelled.metadata.labels = Some([("a".to_owned(), "b".to_owned())].into());
    let labelled = pods.replace(&labelled).await.unwrap();
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "metadata changes keep the generation"
    );
    let mut respec = labelled.clone();
    respec.spec.as_mut().unwrap().active_deadline_seconds = Some(60);
    respec.status = None;
    let respec = pods.replace(&respec).await.unwrap();
    assert_eq!(respec.metadata.generation, Some(2));
    assert_eq!(
        respec.status.as_ref().unwrap().phase.as_deref(),
        Some("Running"),
        "replace keeps status"
    );
    let again = pods.replace(&respec).await.unwrap();
    assert_eq!(
        again.metadata.resource_version, respec.metadata.resource_version,
        "a no-op update writes nothing"
    );
    let mut st = again.clone();
    st.status.as_mut().unwrap().message = Some("hello".into());
    st.spec.as_mut().unwrap().active_deadline_seconds = Some(1);
    let st = pods.replace_status(&st).await.unwrap();
    assert_eq!(st.status.unwrap().message.as_deref(), Some("hello"));
    assert_eq!(
        st.spec.unwrap().active_deadline_seconds,
        Some(60),
        "replace_status only touches status"
    );
}

#[tokio::test]
async fn a_seed_reproduces_the_cluster_exactly() {
    async fn run(seed: u64) -> String {
        let c = EmbeddedCluster::builder()
            .nodes(4)
            .seed(seed)
            .clock(Arc::new(ManualClock::at_epoch()))
            .build();
        let b = c.clone().into_backend();
        new_namespace(&b, "d").await;
        let pods: Api<Pod> = Api::namespaced(b.clone(), "d");
        for i in 0..6 {
            let mut p = pod("", json!({"cpu": "1"}), json!({}));
            p.metadata.name = None;
            p.metadata.generate_name = Some(format!("w{i}-"));
            pods.create(&p).await.unwrap();
        }
        serde_json::to_string(&c.objects()).unwrap()
    }
    assert_eq!(run(11).await, run(11).await);
    assert_ne!(run(11).await, run(12).await);
}

#[tokio::test]
async fn a_noop_apply_emits_no_watch_event() {
    let c = cluster(0);
    let b = c.clone().into_backend();
    new_namespace(&b, "ap").await;
    let cms: Api<ConfigMap> = Api::namespaced(b.clone(), "ap");
    let desired: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "cfg", "labels": {"a": "1"}}, "data": {"k": "v"}}),
    )
    .unwrap();
    let first = cms.apply(&desired).await.unwrap();
    let mut stream = cms.watch(&WatchOptions::default()).await.unwrap();
    let again = cms.apply(&desired).await.unwrap();
    assert_eq!(
        again.metadata.resource_version,
        first.metadata.resource_version
    );
    let mut changed = desired.clone();
    changed.data = Some([("k".to_owned(), "w".to_owned())].into());
    let updated = cms.apply(&changed).await.unwrap();
    let (kind, cm) = stream.next().await.unwrap().unwrap();
    assert_eq!(kind, ChangeKind::Modified);
    assert_eq!(
        cm.metadata.resource_version, updated.metadata.resource_version,
        "the first event is the real change"
    );
    assert_eq!(cm.data.unwrap()["k"], "w");
    // a null in the applied body removes the field (JSON merge patch)
    let ty = ResourceType::of::<ConfigMap>();
    let patch: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ap"}, "data": {"k": null}}),
    )
    .unwrap();
    let out = b.apply(&ty, patch, &Default::default()).await.unwrap();
    assert!(out.data["data"].get("k").is_none());
}
