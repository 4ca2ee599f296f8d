//! Preemption, messages, bad input, what-if and the adapter.

use std::collections::BTreeMap;

use hxb_core::ErrorKind;
use hxb_core::scheduling::{ClusterSnapshot, PodScheduler};
use k8s_openapi::api::core::v1::Node;

use super::*;
use crate::placement::testing::{bind, label_pod, node, pod, prioritize, taint_node};

// ---- Preemption (default_preemption_test.go) ----

#[test]
fn preemption_picks_lowest_priority_then_fewest_victims() {
    let nodes = [node("a", "4", "16Gi"), node("b", "4", "16Gi")];
    let bound = vec![
        // a: one priority-10 pod using everything.
        bind(prioritize(pod("a-big", "4", "1Gi"), 10), "a"),
        // b: two priority-5 pods, 2 cpu each.
        bind(prioritize(pod("b-1", "2", "1Gi"), 5), "b"),
        bind(prioritize(pod("b-2", "2", "1Gi"), 5), "b"),
    ];
    let mut s = sched(&nodes, &bound);
    // Needs 2 cpu: on b one priority-5 victim is enough (lowest highest-victim priority).
    let p = s
        .schedule(&prioritize(pod("urgent", "2", "1Gi"), 100))
        .unwrap();
    assert_eq!(p.node, "b");
    assert_eq!(p.victims.len(), 1);
    assert_eq!(s.pod_count(), 3);
    assert!(s.node_of("default", &p.victims[0].name).is_none());
}

#[test]
fn preemption_reprieves_higher_priority_pods_first() {
    let nodes = [node("a", "4", "16Gi")];
    let bound = vec![
        bind(prioritize(pod("low", "2", "1Gi"), 1), "a"),
        bind(prioritize(pod("mid", "2", "1Gi"), 2), "a"),
    ];
    let mut s = sched(&nodes, &bound);
    let p = s
        .schedule(&prioritize(pod("urgent", "2", "1Gi"), 10))
        .unwrap();
    assert_eq!(
        p.victims
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        vec!["low"]
    );
}

#[test]
fn no_preemption_without_lower_priority_pods_or_with_policy_never() {
    let nodes = [node("a", "2", "4Gi")];
    let mut s = sched(&nodes, &[bind(prioritize(pod("x", "2", "1Gi"), 10), "a")]);
    assert!(
        s.schedule(&prioritize(pod("same", "1", "1Gi"), 10))
            .is_err()
    );
    let mut never = prioritize(pod("never", "1", "1Gi"), 100);
    never.spec.as_mut().unwrap().preemption_policy = Some("Never".into());
    assert!(s.schedule(&never).is_err());
    assert_eq!(s.pod_count(), 1);
    // Nodes failing node-only filters are no candidates.
    let mut s = sched(
        &[taint_node(node("t", "2", "4Gi"), "k", "v", "NoSchedule")],
        &[],
    );
    assert!(s.schedule(&prioritize(pod("p", "1", "1Gi"), 100)).is_err());
}

// ---- Messages, bad input, what-if, adapter ----

#[test]
fn unschedulable_message_is_sorted_by_count() {
    let mut nodes: Vec<Node> = (0..3)
        .map(|i| node(&format!("small-{i}"), "1", "8Gi"))
        .collect();
    nodes.extend((0..2).map(|i| {
        taint_node(
            node(&format!("gpu-{i}"), "16", "64Gi"),
            "gpu",
            "true",
            "NoSchedule",
        )
    }));
    let mut s = sched(&nodes, &[]);
    let u = unschedulable(&mut s, &pod("p", "4", "1Gi"));
    assert_eq!(
        u.to_string(),
        "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {gpu: true}."
    );
}

#[test]
fn bad_input_is_rejected_and_changes_nothing() {
    let mut s = sched(&[node("a", "4", "8Gi")], &[bind(pod("x", "1", "1Gi"), "a")]);
    let before = s.pod_count();
    let bad_qty = pod("bad", "lots", "1Gi");
    assert_eq!(
        s.schedule(&bad_qty).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let mut bad_op = require_nodes(
        pod("bad-op", "1", "1Gi"),
        vec![vec![expr("k", "Near", &["v"])]],
    );
    assert_eq!(
        s.schedule(&bad_op).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    bad_op.metadata.name = None;
    assert_eq!(
        s.schedule(&bad_op).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        s.schedule(&pod("x", "1", "1Gi")).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(s.pod_count(), before);
    assert_eq!(s.node_of("default", "x"), Some("a"));
    assert!(
        Scheduler::new(
            &[node("a", "1", "1Gi"), node("a", "1", "1Gi")],
            &[],
            Profile::default()
        )
        .is_err()
    );
    assert_eq!(
        Scheduler::new(
            &[node("a", "1", "1Gi")],
            &[bind(pod("y", "1", "1Gi"), "zz")],
            Profile::default()
        )
        .unwrap_err()
        .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn what_if_and_capacity_leave_the_snapshot_alone() {
    let nodes = [node("a", "4", "8Gi"), node("b", "2", "8Gi")];
    let s = sched(&nodes, &[]);
    let cap = s.capacity_for(&pod("api", "1", "1Gi"), 100).unwrap();
    assert_eq!(cap.count, 6);
    assert_eq!(
        cap.per_node,
        BTreeMap::from([("a".to_owned(), 4), ("b".to_owned(), 2)])
    );
    assert_eq!(
        cap.limited_by.unwrap().reasons,
        vec![("Insufficient cpu".to_owned(), 2)]
    );
    let report = s
        .what_if(&[pod("x", "3", "1Gi"), pod("y", "3", "1Gi")])
        .unwrap();
    assert_eq!(report.placed(), 1);
    let (name, why) = report.unschedulable().next().unwrap();
    assert_eq!(name, "default/y");
    assert_eq!(
        why.to_string(),
        "0/2 nodes are available: 2 Insufficient cpu."
    );
    assert_eq!(s.pod_count(), 0);
    assert_eq!(
        s.capacity_for(&pod("api", "1", "1Gi"), 3)
            .unwrap()
            .limited_by,
        None
    );
}

#[test]
fn adapter_places_on_the_embedded_cluster_snapshot() {
    let snapshot = ClusterSnapshot {
        nodes: vec![node("a", "2", "4Gi"), node("b", "4", "8Gi")],
        pods: vec![bind(pod("x", "1", "1Gi"), "b")],
    };
    let hook = PlacementScheduler::default();
    // a: fit (75 + 87) / 2 = 81, balanced 93 → 174; b: (62 + 81) / 2 = 71, balanced 90 → 161.
    assert_eq!(
        hook.schedule(&pod("p", "500m", "512Mi"), &snapshot)
            .unwrap()
            .node,
        "a"
    );
    let err = hook
        .schedule(&pod("q", "64", "1Gi"), &snapshot)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "0/2 nodes are available: 2 Insufficient cpu."
    );
    let err = hook
        .schedule(&pod("r", "oops", "1Gi"), &snapshot)
        .unwrap_err();
    assert_eq!(err.nodes, 2);
}

#[test]
fn removing_pods_frees_capacity_and_topology_counts() {
    let mut s = sched(&[node("a", "2", "4Gi")], &[]);
    let r = |n: &str| {
        anti(
            label_pod(pod(n, "1", "1Gi"), "app", "web"),
            "web",
            LABEL_HOSTNAME,
        )
    };
    s.schedule(&r("w0")).unwrap();
    assert!(s.schedule(&r("w1")).is_err());
    s.remove("default", "w0").unwrap();
    assert_eq!(s.schedule(&r("w1")).unwrap().node, "a");
    assert_eq!(
        s.remove("default", "nope").unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn nodes_without_a_pod_limit_get_kubelets_default() {
    let mut n = node("n", "64", "256Gi");
    n.status
        .as_mut()
        .unwrap()
        .allocatable
        .as_mut()
        .unwrap()
        .remove("pods");
    let s = sched(&[n], &[]);
    let cap = s.capacity_for(&pod("tiny", "10m", "10Mi"), 1000).unwrap();
    assert_eq!(cap.count as i64, DEFAULT_MAX_PODS);
    assert_eq!(
        cap.limited_by.unwrap().reasons,
        vec![(REASON_TOO_MANY_PODS.to_owned(), 1)]
    );
}

#[test]
fn disabled_filters_and_zero_weights_are_honoured() {
    let nodes = [
        taint_node(node("t", "8", "16Gi"), "k", "v", "NoSchedule"),
        node("small", "1", "2Gi"),
    ];
    let off = Profile::default().with_filters(Filters {
        taint_toleration: false,
        ..Filters::default()
    });
    let mut s = Scheduler::new(&nodes, &[], off).unwrap();
    assert_eq!(s.schedule(&pod("p", "500m", "512Mi")).unwrap().node, "t");
    // With every score weight zero all feasible nodes tie: the first listed wins.
    let flat = Weights {
        fit: 0,
        balanced: 0,
        inter_pod_affinity: 0,
        node_affinity: 0,
        taint_toleration: 0,
        topology_spread: 0,
    };
    let mut s = Scheduler::new(
        &[node("a", "1", "2Gi"), node("b", "8", "16Gi")],
        &[],
        Profile::default().with_weights(flat),
    )
    .unwrap();
    assert_eq!(s.schedule(&pod("q", "500m", "512Mi")).unwrap().node, "a");
}
