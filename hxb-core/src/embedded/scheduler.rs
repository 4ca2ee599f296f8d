//! The default scheduler of the embedded cluster: filter, then pick the least-allocated node.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};

use super::quota::pod_totals;
use crate::error::Unschedulable;
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

fn free_fraction(alloc: &ResourceList, used: &ResourceList, name: &str) -> f64 {
    let a = alloc.get_or_zero(name).as_f64();
    if a <= 0.0 {
        0.0
    } else {
        (a - used.get_or_zero(name).as_f64()) / a
    }
}

impl PodScheduler for LeastAllocated {
    fn schedule(&self, pod: &Pod, snapshot: &ClusterSnapshot) -> Result<Placement, Unschedulable> {
        let req = requests(pod);
        let mut used: BTreeMap<&str, (ResourceList, i64)> = BTreeMap::new();
        for p in &snapshot.pods {
            if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
                let e = used.entry(n).or_default();
                e.0 =
                    e.0.checked_add(&requests(p))
                        .unwrap_or_else(|_| e.0.clone());
                e.1 += 1;
            }
        }
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let mut best: Option<(f64, &str)> = None;
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
            let empty = (ResourceList::new(), 0);
            let (node_used, count) = used.get(name).unwrap_or(&empty);
            let mut fits = true;
            let max_pods = alloc.get("pods").map_or(i128::MAX, |q| q.to_int_ceil());
            if i128::from(*count) + 1 > max_pods {
                *reasons.entry("Too many pods".into()).or_default() += 1;
                fits = false;
            }
            for (k, q) in req.iter() {
                if q.is_zero() || k.as_str() == "pods" {
                    continue;
                }
                let have = alloc.get_or_zero(k.as_str());
                let taken = node_used.get_or_zero(k.as_str());
                if taken.checked_add(q).map_or(true, |t| t > have) {
                    *reasons.entry(format!("Insufficient {k}")).or_default() += 1;
                    fits = false;
                }
            }
            if !fits {
                continue;
            }
            let after = node_used
                .checked_add(&req)
                .unwrap_or_else(|_| node_used.clone());
            let score = (free_fraction(&alloc, &after, "cpu")
                + free_fraction(&alloc, &after, "memory"))
                / 2.0;
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
