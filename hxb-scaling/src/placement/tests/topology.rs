//! InterPodAffinity and PodTopologySpread.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::*;
use crate::placement::testing::{bind, label_pod, node, pod};

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
