//! Property tests: on random small clusters, every placement passes every filter, and the
//! engine picks exactly the node the straightforward reference implementation picks
//! (deterministic tie-breaking: lowest node index).

use std::collections::BTreeMap;

use hxb_core::Error;
use hxb_scaling::placement::reference::ReferenceCluster;
use hxb_scaling::placement::testing::{label_node, label_pod, node, pod, taint_node};
use hxb_scaling::placement::{LABEL_HOSTNAME, Profile, Scheduler, ScoringStrategy};
use k8s_openapi::api::core::v1::{
    Node, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinity,
    PodAffinityTerm, PodAntiAffinity, PreferredSchedulingTerm, Toleration,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use proptest::prelude::*;

const ZONE: &str = "topology.kubernetes.io/zone";

#[derive(Debug, Clone)]
struct NodeGen {
    cpu: u32,
    mem_gi: u32,
    zone: Option<u8>,
    taint: u8,
    disk: bool,
}

#[derive(Debug, Clone)]
struct PodGen {
    app: u8,
    ns: u8,
    cpu_m: u32,
    mem_mi: u32,
    rule: u8,
    tolerate: bool,
}

fn node_gen() -> impl Strategy<Value = NodeGen> {
    (
        1u32..8,
        1u32..16,
        prop::option::weighted(0.85, 0u8..3),
        0u8..6,
        any::<bool>(),
    )
        .prop_map(|(cpu, mem_gi, zone, taint, disk)| NodeGen {
            cpu,
            mem_gi,
            zone,
            taint,
            disk,
        })
}

fn pod_gen() -> impl Strategy<Value = PodGen> {
    (
        0u8..4,
        0u8..2,
        0u32..2500,
        0u32..3000,
        0u8..12,
        any::<bool>(),
    )
        .prop_map(|(app, ns, cpu_m, mem_mi, rule, tolerate)| PodGen {
            app,
            ns,
            cpu_m,
            mem_mi,
            rule,
            tolerate,
        })
}

fn build_node(i: usize, g: &NodeGen) -> Node {
    let mut n = node(
        &format!("n{i}"),
        &g.cpu.to_string(),
        &format!("{}Gi", g.mem_gi),
    );
    if let Some(z) = g.zone {
        n = label_node(n, ZONE, &format!("z{z}"));
    }
    if g.disk {
        n = label_node(n, "disk", "ssd");
    }
    match g.taint {
        0 => n = taint_node(n, "dedicated", "a", "NoSchedule"),
        1 => n = taint_node(n, "spot", "true", "PreferNoSchedule"),
        _ => {}
    }
    n
}

fn selector(app: u8) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([("app".to_owned(), format!("a{app}"))])),
        ..Default::default()
    }
}

fn term(app: u8, key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(selector(app)),
        topology_key: key.into(),
        ..Default::default()
    }
}

fn build_pod(i: usize, g: &PodGen) -> Pod {
    let cpu = if g.cpu_m < 100 {
        String::new()
    } else {
        format!("{}m", g.cpu_m)
    };
    let mem = if g.mem_mi < 100 {
        String::new()
    } else {
        format!("{}Mi", g.mem_mi)
    };
    let mut p = label_pod(
        pod(&format!("p{i}"), &cpu, &mem),
        "app",
        &format!("a{}", g.app),
    );
    p.metadata.namespace = Some(format!("ns{}", g.ns));
    let spec = p.spec.as_mut().unwrap();
    if g.tolerate {
        spec.tolerations = Some(vec![Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        }]);
    }
    let aff = spec.affinity.get_or_insert_default();
    let spread = |key: &str, hard: bool, skew: i32| TopologySpreadConstraint {
        max_skew: skew,
        topology_key: key.into(),
        when_unsatisfiable: if hard {
            "DoNotSchedule"
        } else {
            "ScheduleAnyway"
        }
        .into(),
        label_selector: Some(selector(g.app)),
        ..Default::default()
    };
    match g.rule {
        0 => {
            aff.pod_anti_affinity = Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(
                    g.app,
                    LABEL_HOSTNAME,
                )]),
                ..Default::default()
            })
        }
        1 => {
            aff.pod_affinity = Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(g.app, ZONE)]),
                ..Default::default()
            })
        }
        2 => spec.topology_spread_constraints = Some(vec![spread(ZONE, true, 1)]),
        3 => spec.topology_spread_constraints = Some(vec![spread(ZONE, false, 1)]),
        4 => {
            spec.topology_spread_constraints = Some(vec![
                spread(LABEL_HOSTNAME, false, 2),
                spread(ZONE, true, 2),
            ])
        }
        5 => {
            aff.pod_anti_affinity = Some(PodAntiAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 40,
                        pod_affinity_term: term((g.app + 1) % 4, ZONE),
                    },
                ]),
                ..Default::default()
            });
            aff.pod_affinity = Some(PodAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 70,
                        pod_affinity_term: term(g.app, LABEL_HOSTNAME),
                    },
                ]),
                ..Default::default()
            });
        }
        6 => {
            aff.node_affinity = Some(NodeAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    PreferredSchedulingTerm {
                        weight: 30,
                        preference: NodeSelectorTerm {
                            match_expressions: Some(vec![NodeSelectorRequirement {
                                key: "disk".into(),
                                operator: "In".into(),
                                values: Some(vec!["ssd".into()]),
                            }]),
                            match_fields: None,
                        },
                    },
                ]),
                ..Default::default()
            })
        }
        7 => spec.node_selector = Some(BTreeMap::from([("disk".into(), "ssd".into())])),
        _ => {}
    }
    if spec
        .affinity
        .as_ref()
        .is_some_and(|a| a == &Default::default())
    {
        spec.affinity = None;
    }
    p
}

fn run(
    nodes: Vec<NodeGen>,
    pods: Vec<PodGen>,
    strategy: ScoringStrategy,
) -> Result<(), TestCaseError> {
    let nodes: Vec<Node> = nodes
        .iter()
        .enumerate()
        .map(|(i, g)| build_node(i, g))
        .collect();
    let profile = Profile::default()
        .with_preemption(false)
        .with_strategy(strategy);
    let mut engine = Scheduler::new(&nodes, &[], profile).unwrap();
    let mut reference = ReferenceCluster::new(nodes.clone(), profile);
    for (i, g) in pods.iter().enumerate() {
        let p = build_pod(i, g);
        let want = reference.select(&p).unwrap();
        let got = engine.schedule(&p);
        match (got, want) {
            (Ok(pl), Ok(idx)) => {
                prop_assert_eq!(&pl.node, &format!("n{idx}"), "pod {} {:?}", i, g);
                // Every placement passes every filter, as checked by the reference.
                let why = reference.check(&p, idx).unwrap();
                prop_assert!(why.is_empty(), "placement of pod {} fails {:?}", i, why);
                reference.bind(&p, idx).unwrap();
            }
            (Err(Error::Unschedulable(u)), Err(v)) => prop_assert_eq!(u, v),
            (got, want) => prop_assert!(
                false,
                "pod {} {:?}: engine {:?}, reference {:?}",
                i,
                g,
                got,
                want
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn engine_matches_reference_least_allocated(
        nodes in prop::collection::vec(node_gen(), 1..8),
        pods in prop::collection::vec(pod_gen(), 1..40),
    ) {
        run(nodes, pods, ScoringStrategy::LeastAllocated)?;
    }

    #[test]
    fn engine_matches_reference_most_allocated(
        nodes in prop::collection::vec(node_gen(), 1..8),
        pods in prop::collection::vec(pod_gen(), 1..40),
    ) {
        run(nodes, pods, ScoringStrategy::MostAllocated)?;
    }
}

/// Preemption properties on random full clusters: victims all have lower priority than the
/// preemptor, the node's requests fit its allocatable afterwards, and no victim could have
/// stayed (putting any one back would overflow cpu, memory or the pod count).
fn preemption_case(
    caps: Vec<(u32, u32)>,
    fillers: Vec<(u32, u32, i32)>,
    urgent: (u32, u32),
) -> Result<(), TestCaseError> {
    use hxb_scaling::placement::testing::prioritize;
    let nodes: Vec<Node> = caps
        .iter()
        .enumerate()
        .map(|(i, (c, m))| node(&format!("n{i}"), &format!("{c}"), &format!("{m}Gi")))
        .collect();
    let mut s = Scheduler::new(&nodes, &[], Profile::default()).unwrap();
    let mut req: BTreeMap<String, (i64, i64, i32)> = BTreeMap::new();
    for (i, (c, m, prio)) in fillers.iter().enumerate() {
        let name = format!("f{i}");
        let p = prioritize(pod(&name, &format!("{c}m"), &format!("{m}Mi")), *prio);
        if s.schedule(&p).is_ok() {
            req.insert(name, (i64::from(*c), i64::from(*m) << 20, *prio));
        }
    }
    let (c, m) = urgent;
    let p = prioritize(pod("urgent", &format!("{c}m"), &format!("{m}Mi")), 100);
    let Ok(placement) = s.schedule(&p) else {
        return Ok(());
    };
    req.insert("urgent".into(), (i64::from(c), i64::from(m) << 20, 100));
    let idx: usize = placement.node[1..].parse().unwrap();
    let (cap_cpu, cap_mem) = (i64::from(caps[idx].0) * 1000, i64::from(caps[idx].1) << 30);
    let on_node: Vec<&str> = s
        .bindings()
        .filter(|b| b.2 == placement.node)
        .map(|b| b.1)
        .collect();
    let used_cpu: i64 = on_node.iter().map(|n| req[*n].0).sum();
    let used_mem: i64 = on_node.iter().map(|n| req[*n].1).sum();
    prop_assert!(used_cpu <= cap_cpu && used_mem <= cap_mem);
    for v in &placement.victims {
        let (vc, vm, vp) = req[&v.name];
        prop_assert!(vp < 100, "victim {} has priority {}", v.name, vp);
        prop_assert!(s.node_of("default", &v.name).is_none());
        let could_stay =
            used_cpu + vc <= cap_cpu && used_mem + vm <= cap_mem && on_node.len() < 110;
        prop_assert!(!could_stay, "victim {} could have stayed", v.name);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn preemption_evicts_only_lower_priority_pods_that_must_go(
        caps in prop::collection::vec((1u32..6, 1u32..8), 1..5),
        fillers in prop::collection::vec((100u32..2000, 100u32..3000, 0i32..4), 1..30),
        urgent in (100u32..3000, 100u32..4000),
    ) {
        preemption_case(caps, fillers, urgent)?;
    }
}
