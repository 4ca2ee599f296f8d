//! Placement throughput: 50,000 pods onto 5,000 heterogeneous nodes, every feasible node
//! scored, on one core; then a validator pass (not timed) and a comparison with the
//! straightforward reference implementation on a slice.
//!
//! `cargo run --release -p hxb-scaling --example bench_placement [nodes] [pods] [reference_pods]`

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use hxb_core::Error;
use hxb_scaling::placement::reference::ReferenceCluster;
use hxb_scaling::placement::{LABEL_HOSTNAME, Profile, Scheduler, testing};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodAffinityTerm, PodAntiAffinity, PreferredSchedulingTerm, Toleration,
    TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// splitmix64: a tiny seeded generator, so the mix is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

const ZONE: &str = "topology.kubernetes.io/zone";
const ITYPE: &str = "node.kubernetes.io/instance-type";
const TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];

fn nodes(count: usize, rng: &mut Rng) -> Vec<Node> {
    // (instance type, cpu, memory GiB, max pods, weight)
    let types = [
        ("m5.large", 2, 8, 29, 10),
        ("m5.xlarge", 4, 16, 58, 25),
        ("m5.2xlarge", 8, 32, 58, 25),
        ("c5.4xlarge", 16, 32, 234, 15),
        ("r5.2xlarge", 8, 64, 58, 15),
        ("m5.8xlarge", 32, 128, 234, 10),
    ];
    let total: u64 = types.iter().map(|t| t.4).sum();
    (0..count)
        .map(|i| {
            let mut pick = rng.below(total);
            let t = types
                .iter()
                .find(|t| {
                    if pick < t.4 {
                        true
                    } else {
                        pick -= t.4;
                        false
                    }
                })
                .unwrap();
            let name = format!("node-{i:05}");
            // Allocatable: capacity minus system reservations.
            let mut n = testing::node(
                &name,
                &format!("{}m", t.1 * 1000 - 80 - 10 * t.1),
                &format!("{}Mi", t.2 * 1024 - 700),
            );
            n.status
                .as_mut()
                .unwrap()
                .allocatable
                .as_mut()
                .unwrap()
                .insert(
                    "pods".into(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity(t.3.to_string()),
                );
            n = testing::label_node(n, ZONE, &format!("us-east-1{}", ["a", "b", "c"][i % 3]));
            n = testing::label_node(n, ITYPE, t.0);
            let r = rng.below(100);
            if r < 8 {
                let tenant = TENANTS[rng.below(4) as usize];
                n = testing::label_node(n, "pool", &format!("dedicated-{tenant}"));
                n = testing::taint_node(n, "dedicated", tenant, "NoSchedule");
            } else if r < 11 {
                n = testing::label_node(n, "pool", "gpu");
                n = testing::taint_node(n, "nvidia.com/gpu", "present", "NoSchedule");
            } else {
                n = testing::label_node(n, "pool", "general");
                if r < 16 {
                    n = testing::label_node(n, "lifecycle", "spot");
                    n = testing::taint_node(n, "spot", "true", "PreferNoSchedule");
                }
            }
            if rng.below(1000) < 2 {
                n.spec.get_or_insert_default().unschedulable = Some(true);
            }
            n
        })
        .collect()
}

fn selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([("app".to_owned(), app.to_owned())])),
        ..Default::default()
    }
}

/// A Deployment-like template: namespace, labels, requests and placement rules.
fn template(k: usize, rng: &mut Rng) -> Pod {
    let cpus = [
        "50m", "100m", "250m", "500m", "750m", "1", "1500m", "2", "4",
    ];
    let mems = [
        "64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "3Gi", "4Gi", "8Gi",
    ];
    let c = rng.below(cpus.len() as u64) as usize;
    let m = (c + rng.below(3) as usize)
        .saturating_sub(1)
        .min(mems.len() - 1);
    let app = format!("app-{k}");
    let mut p = testing::pod("template", cpus[c], mems[m]);
    p.metadata.namespace = Some(format!("team-{}", k % 20));
    p = testing::label_pod(p, "app", &app);
    p = testing::label_pod(p, "tier", ["web", "api", "worker", "batch"][k % 4]);
    let spec = p.spec.as_mut().unwrap();
    let aff = spec.affinity.get_or_insert_default();
    let r = rng.below(100);
    if r < 6 {
        // A dedicated tenant's workload: tolerate and select its pool.
        let tenant = TENANTS[k % 4];
        spec.node_selector = Some(BTreeMap::from([(
            "pool".into(),
            format!("dedicated-{tenant}"),
        )]));
        spec.tolerations = Some(vec![Toleration {
            key: Some("dedicated".into()),
            operator: Some("Equal".into()),
            value: Some(tenant.into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }]);
    } else if r < 8 {
        spec.node_selector = Some(BTreeMap::from([("pool".into(), "gpu".into())]));
        spec.tolerations = Some(vec![Toleration {
            key: Some("nvidia.com/gpu".into()),
            operator: Some("Exists".into()),
            ..Default::default()
        }]);
    } else if r < 16 {
        let types: Vec<String> = ["m5.2xlarge", "r5.2xlarge", "m5.8xlarge"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        aff.node_affinity = Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(vec![NodeSelectorRequirement {
                        key: ITYPE.into(),
                        operator: "In".into(),
                        values: Some(types),
                    }]),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        });
    } else if r < 24 {
        aff.node_affinity = Some(NodeAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                PreferredSchedulingTerm {
                    weight: 50,
                    preference: NodeSelectorTerm {
                        match_expressions: Some(vec![NodeSelectorRequirement {
                            key: "lifecycle".into(),
                            operator: "In".into(),
                            values: Some(vec!["spot".into()]),
                        }]),
                        ..Default::default()
                    },
                },
            ]),
            ..Default::default()
        });
        spec.tolerations = Some(vec![Toleration {
            key: Some("spot".into()),
            operator: Some("Exists".into()),
            ..Default::default()
        }]);
    }
    let r = rng.below(100);
    if r < 10 {
        aff.pod_anti_affinity = Some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                label_selector: Some(selector(&app)),
                topology_key: LABEL_HOSTNAME.into(),
                ..Default::default()
            }]),
            ..Default::default()
        });
    } else if r < 25 {
        spec.topology_spread_constraints = Some(vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: ZONE.into(),
            when_unsatisfiable: if r < 18 {
                "DoNotSchedule"
            } else {
                "ScheduleAnyway"
            }
            .into(),
            label_selector: Some(selector(&app)),
            ..Default::default()
        }]);
    }
    if aff == &Affinity::default() {
        spec.affinity = None;
    }
    spec.priority = Some(if rng.chance(20) { 1000 } else { 0 });
    p
}

struct Mix {
    nodes: Vec<Node>,
    pods: Vec<Pod>,
}

fn mix(node_count: usize, pod_count: usize) -> Mix {
    let mut rng = Rng(0x5eed_2026);
    let nodes = nodes(node_count, &mut rng);
    let templates: Vec<Pod> = (0..300).map(|k| template(k, &mut rng)).collect();
    // Replica counts follow a skewed distribution; anti-affine apps stay small.
    let mut counters = vec![0usize; templates.len()];
    let pods = (0..pod_count)
        .map(|i| {
            let k = if i >= pod_count * 97 / 100 {
                rng.below(10) as usize // the last 3%: a burst of a few apps…
            } else {
                let a = rng.below(templates.len() as u64);
                let b = rng.below(templates.len() as u64);
                a.min(b) as usize // …after a skewed mix
            };
            let mut p = templates[k].clone();
            p.metadata.name = Some(format!("app-{k}-{}", counters[k]));
            counters[k] += 1;
            if i >= pod_count * 97 / 100 {
                // …of critical pods, which preempt when the cluster is full.
                p.spec.as_mut().unwrap().priority = Some(1_000_000);
            }
            p
        })
        .collect();
    Mix { nodes, pods }
}

fn main() -> hxb_core::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (node_count, pod_count, ref_pods) = (
        args.first().copied().unwrap_or(5000),
        args.get(1).copied().unwrap_or(50_000),
        args.get(2).copied().unwrap_or(300),
    );
    let Mix { nodes, pods } = mix(node_count, pod_count);
    println!("nodes: {node_count}, pods: {pod_count}, templates: 300");

    let mut s = Scheduler::new(&nodes, &[], Profile::default())?;
    let mut decisions: Vec<Option<(String, usize)>> = Vec::with_capacity(pods.len());
    let (mut placed, mut unschedulable, mut preemptions, mut victims) =
        (0usize, 0usize, 0usize, 0usize);
    let mut reasons: HashMap<String, usize> = HashMap::new();
    let start = Instant::now();
    for pod in &pods {
        match s.schedule(pod) {
            Ok(p) => {
                placed += 1;
                if !p.victims.is_empty() {
                    preemptions += 1;
                    victims += p.victims.len();
                }
                decisions.push(Some((p.node, p.victims.len())));
            }
            Err(Error::Unschedulable(u)) => {
                unschedulable += 1;
                if unschedulable <= 3 || reasons.len() < 5 {
                    *reasons.entry(u.to_string()).or_default() += 1;
                }
                decisions.push(None);
            }
            Err(e) => return Err(e),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "engine: {:.0} pods/s ({:.3} s for {} pods; {:.1} µs/pod)",
        pods.len() as f64 / secs,
        secs,
        pods.len(),
        secs * 1e6 / pods.len() as f64
    );
    println!(
        "placed {placed}, unschedulable {unschedulable}, preemptions {preemptions} evicting {victims} pods"
    );
    for (r, _) in reasons.iter().take(3) {
        println!("  e.g. {r}");
    }

    validate(&nodes, &pods, &s, &decisions);
    compare_with_reference(&nodes, &pods[..ref_pods.min(pods.len())])?;
    Ok(())
}

/// Re-check the final state (not timed): every bound pod passes the node-only filters on its
/// node, node totals are within allocatable, and required anti-affinity holds pairwise.
fn validate(nodes: &[Node], pods: &[Pod], s: &Scheduler, decisions: &[Option<(String, usize)>]) {
    let by_name: HashMap<(&str, &str), &Pod> = pods
        .iter()
        .map(|p| {
            (
                (
                    p.metadata.namespace.as_deref().unwrap(),
                    p.metadata.name.as_deref().unwrap(),
                ),
                p,
            )
        })
        .collect();
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.metadata.name.as_deref().unwrap(), i))
        .collect();
    // Rebuild a fresh reference cluster holding the final bindings and ask it, node by node,
    // whether each pod's node-only and resource filters hold with the pod itself removed.
    let mut per_node: Vec<Vec<&Pod>> = vec![Vec::new(); nodes.len()];
    for (ns, name, node) in s.bindings() {
        per_node[index[node]].push(by_name[&(ns, name)]);
    }
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for (i, on_node) in per_node.iter().enumerate() {
        // Resource totals and pod count.
        let mut probe = ReferenceCluster::new(vec![nodes[i].clone()], Profile::default());
        for (k, p) in on_node.iter().enumerate() {
            let others: Vec<&&Pod> = on_node
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, p)| p)
                .collect();
            if k == 0 {
                for o in &others {
                    probe.bind(o, 0).unwrap();
                }
                let why = probe.check(p, 0).unwrap();
                if !why.is_empty() {
                    failures.push(format!(
                        "{} on {}: {why:?}",
                        p.metadata.name.as_deref().unwrap(),
                        i
                    ));
                }
                checked += 1;
            } else {
                // Node-only filters for every other pod (taints, affinity, selector).
                let alone = ReferenceCluster::new(vec![nodes[i].clone()], Profile::default());
                let why = alone.check(p, 0).unwrap();
                if !why.is_empty() {
                    failures.push(format!(
                        "{} on {}: {why:?}",
                        p.metadata.name.as_deref().unwrap(),
                        i
                    ));
                }
                checked += 1;
            }
        }
    }
    // Pairwise required anti-affinity on hostname: no two pods of an anti-affine app share a node.
    for on_node in &per_node {
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for p in on_node {
            let anti = p
                .spec
                .as_ref()
                .unwrap()
                .affinity
                .as_ref()
                .and_then(|a| a.pod_anti_affinity.as_ref())
                .is_some();
            if anti {
                let app = p.metadata.labels.as_ref().unwrap()["app"].as_str();
                *seen
                    .entry((p.metadata.namespace.as_deref().unwrap(), app))
                    .or_default() += 1;
            }
        }
        if let Some(((ns, app), n)) = seen.into_iter().find(|(_, n)| *n > 1) {
            failures.push(format!("{n} pods of anti-affine {ns}/{app} share a node"));
        }
    }
    let bound = decisions.iter().flatten().count();
    println!(
        "validator: {checked} bound pods re-checked ({bound} placements made), {} violations",
        failures.len()
    );
    for f in failures.iter().take(5) {
        println!("  VIOLATION {f}");
    }
    assert!(failures.is_empty(), "placement violated a filter");
}

/// The straightforward reference implementation on the first `pods` of the mix, against the
/// engine on the same slice: throughput and agreement.
fn compare_with_reference(nodes: &[Node], pods: &[Pod]) -> hxb_core::Result<()> {
    let profile = Profile::default().with_preemption(false);
    let mut reference = ReferenceCluster::new(nodes.to_vec(), profile);
    let start = Instant::now();
    let mut ref_choices = Vec::new();
    for p in pods {
        match reference.select(p)? {
            Ok(i) => {
                reference.bind(p, i)?;
                ref_choices.push(Some(i));
            }
            Err(_) => ref_choices.push(None),
        }
    }
    let ref_secs = start.elapsed().as_secs_f64();
    let mut engine = Scheduler::new(nodes, &[], profile)?;
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.metadata.name.as_deref().unwrap(), i))
        .collect();
    let start = Instant::now();
    let mut choices = Vec::new();
    for p in pods {
        choices.push(engine.schedule(p).ok().map(|pl| index[pl.node.as_str()]));
    }
    let secs = start.elapsed().as_secs_f64();
    let agree = choices
        .iter()
        .zip(&ref_choices)
        .filter(|(a, b)| a == b)
        .count();
    println!(
        "reference on the first {} pods: {:.0} pods/s; engine on the same slice: {:.0} pods/s ({:.0}x); same node for {agree}/{} pods",
        pods.len(),
        pods.len() as f64 / ref_secs,
        pods.len() as f64 / secs,
        ref_secs / secs,
        pods.len()
    );
    assert_eq!(agree, pods.len(), "engine and reference disagree");
    Ok(())
}
