//! Unit tests per filter and score, mirroring cases from kube-scheduler's plugin tests
//! (`noderesources/fit_test.go`, `least_allocated_test.go`, `balanced_allocation_test.go`,
//! `tainttoleration/taint_toleration_test.go`, `nodeaffinity/node_affinity_test.go`,
//! `interpodaffinity/filtering_test.go`, `podtopologyspread/filtering_test.go`,
//! `defaultpreemption/default_preemption_test.go`).

use std::collections::BTreeMap;

use hxb_core::ErrorKind;
use hxb_core::scheduling::{ClusterSnapshot, PodScheduler};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodAffinity, PodAffinityTerm, PodAntiAffinity, PreferredSchedulingTerm, Toleration,
    TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::testing::{bind, label_node, label_pod, node, pod, prioritize, taint_node};
use super::*;

const ZONE: &str = "topology.kubernetes.io/zone";

fn sched(nodes: &[Node], pods: &[Pod]) -> Scheduler {
    Scheduler::new(nodes, pods, Profile::default()).unwrap()
}

fn unschedulable(s: &mut Scheduler, p: &Pod) -> hxb_core::error::Unschedulable {
    match s.schedule(p) {
        Err(hxb_core::Error::Unschedulable(u)) => u,
        other => panic!("expected unschedulable, got {other:?}"),
    }
}

fn tolerate(mut p: Pod, key: &str, op: &str, value: &str, effect: &str) -> Pod {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    p.spec
        .as_mut()
        .unwrap()
        .tolerations
        .get_or_insert_default()
        .push(Toleration {
            key: opt(key),
            operator: opt(op),
            value: opt(value),
            effect: opt(effect),
            toleration_seconds: None,
        });
    p
}

fn expr(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
    }
}

fn require_nodes(mut p: Pod, terms: Vec<Vec<NodeSelectorRequirement>>) -> Pod {
    let terms = terms
        .into_iter()
        .map(|e| NodeSelectorTerm {
            match_expressions: Some(e),
            match_fields: None,
        })
        .collect();
    p.spec
        .as_mut()
        .unwrap()
        .affinity
        .get_or_insert_default()
        .node_affinity = Some(NodeAffinity {
        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
            node_selector_terms: terms,
        }),
        ..Default::default()
    });
    p
}

fn app_selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([("app".to_owned(), app.to_owned())])),
        ..Default::default()
    }
}

fn term(app: &str, key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(app_selector(app)),
        topology_key: key.into(),
        ..Default::default()
    }
}

fn anti(mut p: Pod, app: &str, key: &str) -> Pod {
    let a = p.spec.as_mut().unwrap().affinity.get_or_insert_default();
    a.pod_anti_affinity = Some(PodAntiAffinity {
        required_during_scheduling_ignored_during_execution: Some(vec![term(app, key)]),
        ..Default::default()
    });
    p
}

fn affine(mut p: Pod, app: &str, key: &str) -> Pod {
    let a = p.spec.as_mut().unwrap().affinity.get_or_insert_default();
    a.pod_affinity = Some(PodAffinity {
        required_during_scheduling_ignored_during_execution: Some(vec![term(app, key)]),
        ..Default::default()
    });
    p
}

fn spread(mut p: Pod, app: &str, key: &str, max_skew: i32, hard: bool) -> Pod {
    p.spec
        .as_mut()
        .unwrap()
        .topology_spread_constraints
        .get_or_insert_default()
        .push(TopologySpreadConstraint {
            max_skew,
            topology_key: key.into(),
            when_unsatisfiable: if hard {
                "DoNotSchedule"
            } else {
                "ScheduleAnyway"
            }
            .into(),
            label_selector: Some(app_selector(app)),
            ..Default::default()
        });
    p
}

fn zoned(name: &str, zone: &str) -> Node {
    label_node(node(name, "8", "32Gi"), ZONE, zone)
}

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

// ---- InterPodAffinity (filtering_test.go) ----

#[test]
fn anti_affinity_on_hostname_spreads_replicas_and_then_blocks() {
    let nodes = [node("a", "8", "16Gi"), node("b", "8", "16Gi")];
    let mut s = sched(&nodes, &[]);
    let replica = |i: usize| {
        anti(
            label_pod(pod(&format!("web-{i}"), "100m", "128Mi"), "app", "web"),
            "web",
            LABEL_HOSTNAME,
        )
    };
    let a = s.schedule(&replica(0)).unwrap().node;
    let b = s.schedule(&replica(1)).unwrap().node;
    assert_ne!(a, b);
    let u = unschedulable(&mut s, &replica(2));
    assert_eq!(u.reasons, vec![(REASON_ANTI_AFFINITY.to_owned(), 2)]);
}

#[test]
fn bound_pods_anti_affinity_is_symmetric() {
    let nodes = [node("a", "8", "16Gi"), node("b", "8", "16Gi")];
    // A bound pod on "a" refuses company of app=db.
    let lonely = bind(
        anti(
            label_pod(pod("lonely", "100m", "128Mi"), "app", "solo"),
            "db",
            LABEL_HOSTNAME,
        ),
        "a",
    );
    let mut s = sched(&nodes, &[lonely]);
    let db = label_pod(pod("db", "100m", "128Mi"), "app", "db");
    assert_eq!(s.schedule(&db).unwrap().node, "b");
    let mut s = sched(
        &[node("a", "8", "16Gi")],
        &[bind(
            anti(
                label_pod(pod("l", "1", "1Gi"), "app", "solo"),
                "db",
                LABEL_HOSTNAME,
            ),
            "a",
        )],
    );
    assert_eq!(
        unschedulable(&mut s, &db).reasons,
        vec![(REASON_EXISTING_ANTI_AFFINITY.to_owned(), 1)]
    );
}

#[test]
fn affinity_needs_a_matching_pod_except_for_the_first_of_a_self_affine_group() {
    let nodes = [zoned("a", "z1"), zoned("b", "z2")];
    let mut s = sched(&nodes, &[]);
    // Not self-affine and nothing matches: unschedulable.
    let cache_user = affine(
        label_pod(pod("user", "100m", "128Mi"), "app", "web"),
        "cache",
        ZONE,
    );
    assert_eq!(
        unschedulable(&mut s, &cache_user).reasons,
        vec![(REASON_AFFINITY.to_owned(), 2)]
    );
    // Self-affine first pod: allowed anywhere; the next ones follow it.
    let member = |i: usize| {
        affine(
            label_pod(pod(&format!("c-{i}"), "100m", "128Mi"), "app", "cache"),
            "cache",
            ZONE,
        )
    };
    let first = s.schedule(&member(0)).unwrap().node;
    for i in 1..4 {
        assert_eq!(s.schedule(&member(i)).unwrap().node, first);
    }
    assert_eq!(s.schedule(&cache_user).unwrap().node, first);
}

// ---- PodTopologySpread (filtering_test.go) ----

#[test]
fn zone_spread_with_max_skew_one_rotates_zones() {
    let nodes = [
        zoned("a1", "z1"),
        zoned("a2", "z1"),
        zoned("b1", "z2"),
        zoned("c1", "z3"),
    ];
    let mut s = sched(&nodes, &[]);
    let mut per_zone: BTreeMap<&str, i32> = BTreeMap::new();
    for i in 0..9 {
        // Resource scores prefer z1's two empty nodes; the constraint keeps zones level.
        let p = spread(
            label_pod(pod(&format!("w-{i}"), "100m", "128Mi"), "app", "w"),
            "w",
            ZONE,
            1,
            true,
        );
        let node = s.schedule(&p).unwrap().node;
        let zone = match &node[..1] {
            "a" => "z1",
            "b" => "z2",
            _ => "z3",
        };
        *per_zone.entry(zone).or_default() += 1;
        let (min, max) = (
            per_zone.values().min().unwrap(),
            per_zone.values().max().unwrap(),
        );
        assert!(per_zone.len() < 3 || max - min <= 1, "{per_zone:?}");
    }
    assert_eq!(
        per_zone.values().copied().collect::<Vec<_>>(),
        vec![3, 3, 3]
    );
}

#[test]
fn spread_reports_missing_label_and_skew() {
    let nodes = [
        zoned("a", "z1"),
        zoned("b", "z2"),
        node("nolabel", "8", "16Gi"),
    ];
    let bound: Vec<Pod> = (0..2)
        .map(|i| {
            bind(
                label_pod(pod(&format!("w{i}"), "100m", "128Mi"), "app", "w"),
                "a",
            )
        })
        .collect();
    // z1 has 2, z2 has 0: z1 is over the skew; b is fine, so fill b to make both fail.
    let mut s = sched(&nodes, &bound);
    let p = |n: &str| {
        spread(
            label_pod(pod(n, "100m", "128Mi"), "app", "w"),
            "w",
            ZONE,
            1,
            true,
        )
    };
    assert_eq!(s.schedule(&p("x")).unwrap().node, "b");
    assert_eq!(s.schedule(&p("y")).unwrap().node, "b");
    // a's zone holds 2 and b's 2: fill b's cpu, add a third pod to a's zone; then a is over
    // the skew, b is out of cpu and the unlabelled node lacks the key.
    s.assume(&label_pod(pod("w2", "100m", "128Mi"), "app", "w"), "a")
        .unwrap();
    s.assume(&pod("hog", "7900m", "1Gi"), "b").unwrap();
    let u = unschedulable(&mut s, &p("z"));
    assert_eq!(u.nodes, 3);
    assert_eq!(
        u.reasons,
        vec![
            ("Insufficient cpu".to_owned(), 1),
            (REASON_SPREAD.to_owned(), 1),
            (REASON_SPREAD_MISSING_LABEL.to_owned(), 1),
        ]
    );
}

#[test]
fn min_domains_forces_zero_minimum() {
    // Two zones exist but minDomains is 3: the global minimum counts as 0, so each zone can
    // hold at most maxSkew matching pods.
    let nodes = [zoned("a", "z1"), zoned("b", "z2")];
    let mut s = sched(&nodes, &[]);
    let mk = |i: usize| {
        let mut p = spread(
            label_pod(pod(&format!("m{i}"), "100m", "128Mi"), "app", "m"),
            "m",
            ZONE,
            1,
            true,
        );
        p.spec
            .as_mut()
            .unwrap()
            .topology_spread_constraints
            .as_mut()
            .unwrap()[0]
            .min_domains = Some(3);
        p
    };
    assert!(s.schedule(&mk(0)).is_ok());
    assert!(s.schedule(&mk(1)).is_ok());
    assert_eq!(
        unschedulable(&mut s, &mk(2)).reasons,
        vec![(REASON_SPREAD.to_owned(), 2)]
    );
}

#[test]
fn soft_spread_prefers_the_emptier_zone() {
    let nodes = [zoned("a", "z1"), zoned("b", "z2")];
    let bound = vec![bind(label_pod(pod("w0", "100m", "128Mi"), "app", "w"), "b")];
    let mut s = sched(&nodes, &bound);
    let p = spread(
        label_pod(pod("w1", "100m", "128Mi"), "app", "w"),
        "w",
        ZONE,
        1,
        false,
    );
    assert_eq!(s.schedule(&p).unwrap().node, "a");
}

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
