//! The default scheduler of the embedded cluster: filter, then pick the least-allocated node.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Container, Node, Pod, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

use super::quota::pod_totals;
use crate::error::Unschedulable;
use crate::quantity::Quantity;
use crate::resources::ResourceList;
use crate::scheduling::{ClusterSnapshot, Placement, PodScheduler};

/// A simple, deterministic scheduler in the spirit of kube-scheduler's defaults.
///
/// Filters, in order (a node fails on the first that refuses it, except resource fit which
/// reports every insufficient resource): `spec.unschedulable`, `nodeSelector`, taints with
/// effect `NoSchedule`/`NoExecute` not tolerated, pod count, then requests against
/// allocatable minus the requests of pods already bound. Among the nodes left it picks the
/// one with the most free cpu and memory (mean fraction), ties broken by name. It never
/// preempts; the full placement engine lives in `hxb-scaling`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeastAllocated;

/// The effective request of one resource (sum of containers, at least the largest init
/// container, plus overhead), without building resource lists: the scheduler's hot path.
fn request_nanos(pod: &Pod, name: &str) -> i128 {
    let Some(spec) = pod.spec.as_ref() else {
        return 0;
    };
    let parse = |m: Option<&BTreeMap<String, K8sQuantity>>| {
        m.and_then(|m| m.get(name))
            .and_then(|q| Quantity::parse(&q.0).ok())
            .map_or(0, |q| q.nanos())
    };
    let of = |c: &Container| parse(c.resources.as_ref().and_then(|r| r.requests.as_ref()));
    let sum = spec
        .containers
        .iter()
        .map(of)
        .fold(0i128, i128::saturating_add);
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(of)
        .max()
        .unwrap_or(0);
    sum.max(init).saturating_add(parse(spec.overhead.as_ref()))
}

fn requests(pod: &Pod) -> ResourceList {
    pod.spec
        .as_ref()
        .and_then(|s| pod_totals(s).ok())
        .map(|(r, _)| r)
        .unwrap_or_default()
}

fn allocatable(node: &Node) -> ResourceList {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| ResourceList::from_k8s(a).ok())
        .unwrap_or_default()
}

/// Whether `t` tolerates `taint` (operators `Equal`, the default, and `Exists`).
pub(crate) fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => t
            .key
            .as_deref()
            .is_none_or(|k| k.is_empty() || k == taint.key),
        _ => {
            t.key.as_deref() == Some(taint.key.as_str())
                && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
    }
}

fn untolerated<'a>(pod: &Pod, node: &'a Node) -> Option<&'a Taint> {
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or(&[]);
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())?
        .iter()
        .find(|taint| {
            matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
                && !tolerations.iter().any(|t| tolerates(t, taint))
        })
}

fn selector_matches(pod: &Pod, node: &Node) -> bool {
    let Some(sel) = pod.spec.as_ref().and_then(|s| s.node_selector.as_ref()) else {
        return true;
    };
    let labels = node.metadata.labels.as_ref();
    sel.iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

impl PodScheduler for LeastAllocated {
    fn schedule(&self, pod: &Pod, snapshot: &ClusterSnapshot) -> Result<Placement, Unschedulable> {
        let req = requests(pod);
        // only the resources this pod asks for, plus cpu and memory for scoring
        let mut names: Vec<&str> = req
            .iter()
            .filter(|(k, q)| !q.is_zero() && k.as_str() != "pods")
            .map(|(k, _)| k.as_str())
            .chain(["cpu", "memory"])
            .collect();
        names.sort_unstable();
        names.dedup();
        let want: Vec<i128> = names.iter().map(|n| req.get_or_zero(n).nanos()).collect();
        let mut used: HashMap<&str, (Vec<i128>, i64)> = HashMap::new();
        for p in &snapshot.pods {
            if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
                let e = used.entry(n).or_insert_with(|| (vec![0; names.len()], 0));
                for (j, name) in names.iter().enumerate() {
                    e.0[j] = e.0[j].saturating_add(request_nanos(p, name));
                }
                e.1 += 1;
            }
        }
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let mut best: Option<(f64, &str)> = None;
        let zero = (vec![0; names.len()], 0);
        for node in &snapshot.nodes {
            let name = node.metadata.name.as_deref().unwrap_or("");
            if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
                *reasons
                    .entry("node(s) were unschedulable".into())
                    .or_default() += 1;
                continue;
            }
            if !selector_matches(pod, node) {
                *reasons
                    .entry("node(s) didn't match Pod's node affinity/selector".into())
                    .or_default() += 1;
                continue;
            }
            if let Some(t) = untolerated(pod, node) {
                let r = format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    t.key,
                    t.value.as_deref().unwrap_or("")
                );
                *reasons.entry(r).or_default() += 1;
                continue;
            }
            let alloc = allocatable(node);
            let (node_used, count) = used.get(name).unwrap_or(&zero);
            let mut fits = true;
            let max_pods = alloc.get("pods").map_or(i128::MAX, |q| q.to_int_ceil());
            if i128::from(*count) + 1 > max_pods {
                *reasons.entry("Too many pods".into()).or_default() += 1;
                fits = false;
            }
            let have: Vec<i128> = names.iter().map(|n| alloc.get_or_zero(n).nanos()).collect();
            for (j, n) in names.iter().enumerate() {
                if want[j] > 0 && node_used[j].saturating_add(want[j]) > have[j] {
                    *reasons.entry(format!("Insufficient {n}")).or_default() += 1;
                    fits = false;
                }
            }
            if !fits {
                continue;
            }
            let free = |n: &str| {
                let j = names
                    .binary_search(&n)
                    .expect("cpu and memory are always scored");
                if have[j] <= 0 {
                    0.0
                } else {
                    (have[j] - node_used[j] - want[j]) as f64 / have[j] as f64
                }
            };
            let score = (free("cpu") + free("memory")) / 2.0;
            if best.is_none_or(|(s, n)| score > s || (score == s && name < n)) {
                best = Some((score, name));
            }
        }
        match best {
            Some((_, node)) => Ok(Placement {
                node: node.to_owned(),
                victims: Vec::new(),
            }),
            None => {
                let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
                reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Err(Unschedulable {
                    nodes: snapshot.nodes.len(),
                    reasons,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, cpu: &str, taint: bool) -> Node {
        let mut n: Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"disk": "ssd"}},
            "status": {"allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "2"}}
        }))
        .unwrap();
        if taint {
            n.spec = Some(
                serde_json::from_value(
                    json!({"taints": [{"key": "dedicated", "value": "a", "effect": "NoSchedule"}]}),
                )
                .unwrap(),
            );
        }
        n
    }

    fn pod(cpu: &str, node: Option<&str>) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}
        }))
        .unwrap()
    }

    #[test]
    fn picks_least_allocated_and_is_deterministic() {
        let snap = ClusterSnapshot {
            nodes: vec![node("a", "4", false), node("b", "4", false)],
            pods: vec![pod("2", Some("a"))],
        };
        assert_eq!(
            LeastAllocated
                .schedule(&pod("1", None), &snap)
                .unwrap()
                .node,
            "b"
        );
        let empty = ClusterSnapshot {
            nodes: vec![node("b", "4", false), node("a", "4", false)],
            pods: vec![],
        };
        assert_eq!(
            LeastAllocated
                .schedule(&pod("1", None), &empty)
                .unwrap()
                .node,
            "a"
        );
    }

    #[test]
    fn explains_like_kube_scheduler() {
        let snap = ClusterSnapshot {
            nodes: vec![node("a", "1", false), node("b", "8", true)],
            pods: vec![],
        };
        let e = LeastAllocated.schedule(&pod("2", None), &snap).unwrap_err();
        assert_eq!(
            e.to_string(),
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: a}."
        );
        let mut tolerant = pod("2", None);
        tolerant.spec.as_mut().unwrap().tolerations = Some(vec![
            serde_json::from_value(json!({"key": "dedicated", "operator": "Exists"})).unwrap(),
        ]);
        assert_eq!(LeastAllocated.schedule(&tolerant, &snap).unwrap().node, "b");
    }

    #[test]
    fn pod_count_and_node_selector_filter() {
        let snap = ClusterSnapshot {
            nodes: vec![node("a", "8", false)],
            pods: vec![pod("0", Some("a")), pod("0", Some("a"))],
        };
        let e = LeastAllocated.schedule(&pod("1", None), &snap).unwrap_err();
        assert_eq!(e.reasons, vec![("Too many pods".to_owned(), 1)]);
        let mut p = pod("1", None);
        p.spec.as_mut().unwrap().node_selector =
            Some([("disk".to_owned(), "hdd".to_owned())].into());
        let e = LeastAllocated
            .schedule(
                &p,
                &ClusterSnapshot {
                    nodes: vec![node("a", "8", false)],
                    pods: vec![],
                },
            )
            .unwrap_err();
        assert_eq!(
            e.reasons[0].0,
            "node(s) didn't match Pod's node affinity/selector"
        );
    }
}
