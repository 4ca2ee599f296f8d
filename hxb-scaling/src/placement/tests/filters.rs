//! Node-only filters, NodeResourcesFit and resource scores.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelectorTerm, Pod, PreferredSchedulingTerm,
};

use super::*;
use crate::placement::testing::{bind, label_node, node, pod, taint_node};

// ---- NodeResourcesFit (fit_test.go) ----

#[test]
fn fit_reports_every_insufficient_resource_and_pod_count() {
    let mut n = node("n", "1", "1Gi");
    n.status
        .as_mut()
        .unwrap()
        .allocatable
        .as_mut()
        .unwrap()
        .insert(
            "pods".into(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("1".into()),
        );
    let mut s = sched(&[n], &[bind(pod("a", "", ""), "n")]);
    let u = unschedulable(&mut s, &pod("b", "2", "2Gi"));
    assert_eq!(
        u.to_string(),
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods."
    );
}

#[test]
fn fit_cases_from_upstream() {
    // (node free cpu m, free mem, pod cpu m, pod mem, fits) — "no resources requested always
    // fits", "too many resources fails", "equal edge case", "one resource fits".
    let cases = [
        (10, 20, 0, 0, true),
        (10, 20, 11, 0, false),
        (10, 20, 10, 20, true),
        (10, 20, 5, 21, false),
        (0, 0, 0, 0, true),
    ];
    for (cpu, mem, pc, pm, fits) in cases {
        let n = node("n", &format!("{cpu}m"), &format!("{mem}"));
        let mut s = sched(&[n], &[]);
        let p = pod("p", if pc == 0 { "" } else { "x" }, "");
        let mut p = p;
        let req = &mut p.spec.as_mut().unwrap().containers[0]
            .resources
            .as_mut()
            .unwrap()
            .requests;
        let r = req.get_or_insert_default();
        r.clear();
        if pc > 0 {
            r.insert(
                "cpu".into(),
                k8s_openapi::apimachinery::pkg::api::resource::Quantity(format!("{pc}m")),
            );
        }
        if pm > 0 {
            r.insert(
                "memory".into(),
                k8s_openapi::apimachinery::pkg::api::resource::Quantity(format!("{pm}")),
            );
        }
        assert_eq!(
            s.schedule(&p).is_ok(),
            fits,
            "cpu {cpu} mem {mem} pod {pc}/{pm}"
        );
    }
}

// ---- Scores (least_allocated_test.go, most_allocated_test.go, balanced_allocation_test.go) ----

#[test]
fn least_most_and_balanced_formulas_match_upstream_examples() {
    // least_allocated_test "differentially sized nodes": node1 cpu (4000-3000)*100/4000 = 25,
    // mem (10000-5000)*100/10000 = 50 → 37; node2 cpu 50, mem 50 → 50.
    assert_eq!(
        (least_requested(3000, 4000) + least_requested(5000, 10000)) / 2,
        37
    );
    assert_eq!(
        (least_requested(3000, 6000) + least_requested(5000, 10000)) / 2,
        50
    );
    assert_eq!(least_requested(5000, 4000), 0);
    assert_eq!(least_requested(1, 0), 0);
    // most_allocated_test: cpu 3000*100/4000 = 75, mem 5000*100/10000 = 50 → 62.
    assert_eq!(
        (most_requested(3000, 4000) + most_requested(5000, 10000)) / 2,
        62
    );
    assert_eq!(most_requested(5000, 4000), 100);
    // balanced_allocation_test: fractions 0.75 and 0.5 → std 0.125 → 87; equal → 100.
    assert_eq!(balanced([3000, 5000], [4000, 10000]), 87);
    assert_eq!(balanced([3000, 5000], [6000, 10000]), 100);
    assert_eq!(balanced([3000, 5000], [0, 10000]), 100);
}

#[test]
fn least_allocated_prefers_the_emptier_node_and_most_allocated_the_fuller() {
    let nodes = [node("small", "4", "10Gi"), node("big", "6", "10Gi")];
    let mut s = sched(&nodes, &[]);
    assert_eq!(s.schedule(&pod("a", "3", "5Gi")).unwrap().node, "big");
    // MostAllocated: small 62 vs big 50, but BalancedAllocation (87 vs 100) tips the sum to
    // "big" under default weights (149 vs 150); without it "small" wins.
    let most = Profile::default().with_strategy(ScoringStrategy::MostAllocated);
    let mut s = Scheduler::new(&nodes, &[], most).unwrap();
    assert_eq!(s.schedule(&pod("a", "3", "5Gi")).unwrap().node, "big");
    let no_balance = most.with_weights(Weights {
        balanced: 0,
        ..Weights::default()
    });
    let mut s = Scheduler::new(&nodes, &[], no_balance).unwrap();
    assert_eq!(s.schedule(&pod("a", "3", "5Gi")).unwrap().node, "small");
}

#[test]
fn pods_without_requests_score_with_default_requests_but_fit_anywhere() {
    assert_eq!(DEFAULT_MILLI_CPU_REQUEST, 100);
    assert_eq!(DEFAULT_MEMORY_REQUEST, 200 * 1024 * 1024);
    // A node with 100m free still fits a request-less pod (fit uses real requests).
    let mut s = sched(
        &[node("n", "100m", "1Gi")],
        &[bind(pod("a", "100m", ""), "n")],
    );
    assert!(s.schedule(&pod("b", "", "")).is_ok());
}

// ---- TaintToleration (taint_toleration_test.go) ----

#[test]
fn taints_need_matching_tolerations() {
    let tainted = taint_node(node("t", "4", "8Gi"), "dedicated", "user1", "NoSchedule");
    let cases: Vec<(Pod, bool)> = vec![
        (pod("none", "1", "1Gi"), false),
        (
            tolerate(
                pod("eq", "1", "1Gi"),
                "dedicated",
                "Equal",
                "user1",
                "NoSchedule",
            ),
            true,
        ),
        (
            tolerate(
                pod("other", "1", "1Gi"),
                "dedicated",
                "Equal",
                "user2",
                "NoSchedule",
            ),
            false,
        ),
        (
            tolerate(
                pod("exists", "1", "1Gi"),
                "dedicated",
                "Exists",
                "",
                "NoSchedule",
            ),
            true,
        ),
        (
            tolerate(
                pod("any-effect", "1", "1Gi"),
                "dedicated",
                "Equal",
                "user1",
                "",
            ),
            true,
        ),
        (
            tolerate(
                pod("wrong-effect", "1", "1Gi"),
                "dedicated",
                "Equal",
                "user1",
                "NoExecute",
            ),
            false,
        ),
        (tolerate(pod("all", "1", "1Gi"), "", "Exists", "", ""), true),
    ];
    for (p, ok) in cases {
        let mut s = sched(std::slice::from_ref(&tainted), &[]);
        let name = p.metadata.name.clone().unwrap();
        match s.schedule(&p) {
            Ok(_) => assert!(ok, "{name} should not fit"),
            Err(e) => {
                assert!(!ok, "{name} should fit: {e}");
                assert_eq!(
                    e.to_string(),
                    "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: user1}."
                );
            }
        }
    }
}

#[test]
fn prefer_no_schedule_taints_steer_scores() {
    // Two identical nodes; the first carries a PreferNoSchedule taint.
    let nodes = [
        taint_node(node("a", "4", "8Gi"), "spot", "true", "PreferNoSchedule"),
        node("b", "4", "8Gi"),
    ];
    let mut s = sched(&nodes, &[]);
    assert_eq!(s.schedule(&pod("x", "1", "1Gi")).unwrap().node, "b");
    let mut s = sched(&nodes, &[]);
    let p = tolerate(
        pod("y", "1", "1Gi"),
        "spot",
        "Exists",
        "",
        "PreferNoSchedule",
    );
    assert_eq!(s.schedule(&p).unwrap().node, "a");
}

#[test]
fn cordoned_nodes_need_the_unschedulable_toleration() {
    let mut n = node("c", "4", "8Gi");
    n.spec.get_or_insert_default().unschedulable = Some(true);
    let mut s = sched(std::slice::from_ref(&n), &[]);
    assert_eq!(
        unschedulable(&mut s, &pod("a", "1", "1Gi")).reasons,
        vec![(REASON_UNSCHEDULABLE.to_owned(), 1)]
    );
    let p = tolerate(
        pod("b", "1", "1Gi"),
        "node.kubernetes.io/unschedulable",
        "Exists",
        "",
        "NoSchedule",
    );
    assert!(s.schedule(&p).is_ok());
}

// ---- NodeAffinity (node_affinity_test.go) ----

#[test]
fn node_selector_and_required_affinity() {
    let nodes = [
        label_node(
            label_node(node("a", "4", "8Gi"), "foo", "bar"),
            "cores",
            "8",
        ),
        label_node(
            label_node(node("b", "4", "8Gi"), "foo", "baz"),
            "cores",
            "4",
        ),
    ];
    let cases: Vec<(Pod, Option<&str>)> = vec![
        (
            {
                let mut p = pod("sel", "1", "1Gi");
                p.spec.as_mut().unwrap().node_selector =
                    Some(BTreeMap::from([("foo".into(), "baz".into())]));
                p
            },
            Some("b"),
        ),
        (
            {
                let mut p = pod("sel-miss", "1", "1Gi");
                p.spec.as_mut().unwrap().node_selector =
                    Some(BTreeMap::from([("foo".into(), "qux".into())]));
                p
            },
            None,
        ),
        (
            require_nodes(
                pod("in", "1", "1Gi"),
                vec![vec![expr("foo", "In", &["bar", "value2"])]],
            ),
            Some("a"),
        ),
        (
            require_nodes(
                pod("notin", "1", "1Gi"),
                vec![vec![expr("foo", "NotIn", &["bar"])]],
            ),
            Some("b"),
        ),
        (
            require_nodes(
                pod("exists", "1", "1Gi"),
                vec![vec![expr("nope", "Exists", &[])]],
            ),
            None,
        ),
        (
            require_nodes(
                pod("dne", "1", "1Gi"),
                vec![vec![expr("nope", "DoesNotExist", &[])]],
            ),
            Some("a"),
        ),
        (
            require_nodes(
                pod("gt", "1", "1Gi"),
                vec![vec![expr("cores", "Gt", &["6"])]],
            ),
            Some("a"),
        ),
        (
            require_nodes(
                pod("lt", "1", "1Gi"),
                vec![vec![expr("cores", "Lt", &["6"])]],
            ),
            Some("b"),
        ),
        // Terms are ORed, expressions ANDed.
        (
            require_nodes(
                pod("or", "1", "1Gi"),
                vec![
                    vec![expr("foo", "In", &["zzz"])],
                    vec![expr("foo", "In", &["baz"])],
                ],
            ),
            Some("b"),
        ),
        (
            require_nodes(
                pod("and", "1", "1Gi"),
                vec![vec![
                    expr("foo", "In", &["bar"]),
                    expr("cores", "Lt", &["6"]),
                ]],
            ),
            None,
        ),
        // An empty term matches no node.
        (require_nodes(pod("empty", "1", "1Gi"), vec![vec![]]), None),
    ];
    for (p, want) in cases {
        let mut s = sched(&nodes, &[]);
        let name = p.metadata.name.clone().unwrap();
        match (s.schedule(&p), want) {
            (Ok(pl), Some(w)) => assert_eq!(pl.node, w, "{name}"),
            (Err(e), None) => assert_eq!(
                e.to_string(),
                format!("0/2 nodes are available: 2 {REASON_NODE_AFFINITY}."),
                "{name}"
            ),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn preferred_node_affinity_wins_over_resources() {
    let nodes = [
        node("a", "8", "16Gi"),
        label_node(node("b", "4", "8Gi"), "disk", "ssd"),
    ];
    let mut p = pod("p", "1", "1Gi");
    p.spec.as_mut().unwrap().affinity = Some(Affinity {
        node_affinity: Some(NodeAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                PreferredSchedulingTerm {
                    weight: 10,
                    preference: NodeSelectorTerm {
                        match_expressions: Some(vec![expr("disk", "In", &["ssd"])]),
                        match_fields: None,
                    },
                },
            ]),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(sched(&nodes, &[]).schedule(&p).unwrap().node, "b");
}
