//! A straightforward reference implementation of the same semantics, for differential tests
//! and for measuring what the engine's data layout buys.
//!
//! [`ReferenceCluster`] keeps k8s-openapi nodes and pods and, for every pod to place, walks
//! every node: it reads allocatable quantities and taints from the `Node` objects, sums the
//! requests of the pods on the node, builds topology counts in hash maps keyed by label
//! value, normalises each score plugin over the feasible nodes, and takes the highest total
//! (lowest node index among equals). It shares only pod parsing, the label/taint matchers and
//! the per-resource score formulas with the engine; none of the engine's struct-of-arrays
//! table, per-template caches or incremental counts.

use std::collections::HashMap;

use hxb_core::error::Unschedulable;
use hxb_core::{Error, Quantity, Result};
use k8s_openapi::api::core::v1::{Node, Pod};

use super::explain::{self, aggregate};
use super::pod::{LABEL_HOSTNAME, PodSpecInfo, PodTerm, Spread, Taint};
use super::profile::{Profile, ScoringStrategy};
use super::score::{MAX_NODE_SCORE, balanced, least_requested, most_requested};

/// Nodes and bound pods, as plain objects.
#[derive(Debug, Clone)]
pub struct ReferenceCluster {
    nodes: Vec<Node>,
    pods: Vec<(PodSpecInfo, usize)>,
    profile: Profile,
}

fn alloc(node: &Node, name: &str) -> i64 {
    let s = node.status.as_ref();
    let q = s
        .and_then(|s| s.allocatable.as_ref().and_then(|a| a.get(name)))
        .or_else(|| s.and_then(|s| s.capacity.as_ref().and_then(|c| c.get(name))));
    let Some(q) = q.and_then(|q| Quantity::try_from(q).ok()) else {
        return 0;
    };
    let v = if name == "cpu" {
        q.to_milli_ceil()
    } else {
        q.to_int_ceil()
    };
    v.clamp(0, 1 << 52) as i64
}

fn labels(node: &Node) -> std::collections::BTreeMap<String, String> {
    node.metadata.labels.clone().unwrap_or_default()
}

fn name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or("")
}

fn taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(Taint::from_k8s)
        .collect()
}

impl ReferenceCluster {
    /// A cluster of `nodes` with nothing bound.
    pub fn new(nodes: Vec<Node>, profile: Profile) -> Self {
        ReferenceCluster {
            nodes,
            pods: Vec::new(),
            profile,
        }
    }

    /// Remove the bound pod at position `index` in binding order (for evictions).
    pub fn unbind_at(&mut self, index: usize) {
        self.pods.remove(index);
    }

    /// Bound pods as `(namespace, labels, node index)` in binding order.
    pub fn bound(
        &self,
    ) -> impl Iterator<Item = (&str, &std::collections::BTreeMap<String, String>, usize)> {
        self.pods
            .iter()
            .map(|(p, n)| (p.namespace.as_str(), &p.labels, *n))
    }

    /// Bind `pod` to node index `node`.
    pub fn bind(&mut self, pod: &Pod, node: usize) -> Result<()> {
        if node >= self.nodes.len() {
            return Err(Error::invalid("node", "index out of range"));
        }
        self.pods.push((PodSpecInfo::from_pod(pod)?, node));
        Ok(())
    }

    /// The nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node index the engine's semantics pick for `pod`, or why none fits. Does not bind.
    pub fn select(&self, pod: &Pod) -> Result<std::result::Result<usize, Unschedulable>> {
        let spec = PodSpecInfo::from_pod(pod)?;
        let n = self.nodes.len();
        let mut by_node: Vec<Vec<&PodSpecInfo>> = vec![Vec::new(); n];
        for (p, i) in &self.pods {
            by_node[*i].push(p);
        }
        let topo = TopoState::new(self, &spec, &by_node);
        let reasons: Vec<Vec<String>> = (0..n)
            .map(|i| self.node_reasons(&spec, &by_node, &topo, i))
            .collect();
        let feasible: Vec<usize> = (0..n).filter(|&i| reasons[i].is_empty()).collect();
        if feasible.is_empty() {
            return Ok(Err(aggregate(n, reasons.into_iter().flatten())));
        }
        let total = self.scores(&spec, &by_node, &feasible);
        let best = total.iter().copied().max().unwrap_or(0);
        let pos = total.iter().position(|&t| t == best).unwrap_or(0);
        Ok(Ok(feasible[pos]))
    }

    /// The reasons node `i` rejects `pod` (empty when it fits), given the bound pods.
    pub fn check(&self, pod: &Pod, i: usize) -> Result<Vec<String>> {
        let spec = PodSpecInfo::from_pod(pod)?;
        let mut by_node: Vec<Vec<&PodSpecInfo>> = vec![Vec::new(); self.nodes.len()];
        for (p, n) in &self.pods {
            by_node[*n].push(p);
        }
        let topo = TopoState::new(self, &spec, &by_node);
        Ok(self.node_reasons(&spec, &by_node, &topo, i))
    }

    fn node_reasons(
        &self,
        spec: &PodSpecInfo,
        by_node: &[Vec<&PodSpecInfo>],
        topo: &TopoState<'_>,
        i: usize,
    ) -> Vec<String> {
        let node = &self.nodes[i];
        let f = &self.profile.filters;
        let lab = labels(node);
        let unsched = node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if f.node_unschedulable && unsched && !spec.tolerates_unschedulable() {
            return vec![explain::REASON_UNSCHEDULABLE.into()];
        }
        if spec.node_name.as_deref().is_some_and(|n| n != name(node)) {
            return vec![explain::REASON_NODE_NAME.into()];
        }
        if f.taint_toleration
            && let Some(t) = spec.untolerated_taint(&taints(node))
        {
            return vec![explain::reason_taint(&t.key, &t.value)];
        }
        if f.node_affinity && !spec.matches_node_affinity(name(node), &lab) {
            return vec![explain::REASON_NODE_AFFINITY.into()];
        }
        if f.resources {
            let used_cpu: i64 = by_node[i].iter().map(|p| p.cpu).sum();
            let used_mem: i64 = by_node[i].iter().map(|p| p.mem).sum();
            let mut r = Vec::new();
            if by_node[i].len() as i64 + 1 > alloc(node, "pods") {
                r.push(explain::REASON_TOO_MANY_PODS.to_string());
            }
            if spec.cpu > 0 && spec.cpu > alloc(node, "cpu") - used_cpu {
                r.push("Insufficient cpu".into());
            }
            if spec.mem > 0 && spec.mem > alloc(node, "memory") - used_mem {
                r.push("Insufficient memory".into());
            }
            if !r.is_empty() {
                return r;
            }
        }
        if f.topology_spread
            && let Some(r) = topo.spread_reason(spec, &lab)
        {
            return vec![r.into()];
        }
        if f.inter_pod_affinity
            && let Some(r) = topo.affinity_reason(spec, &lab)
        {
            return vec![r.into()];
        }
        Vec::new()
    }

    fn scores(
        &self,
        spec: &PodSpecInfo,
        by_node: &[Vec<&PodSpecInfo>],
        feasible: &[usize],
    ) -> Vec<i64> {
        let w = &self.profile.weights;
        let mut total = vec![0i64; feasible.len()];
        let mut taint_raw = Vec::new();
        let mut aff_raw = Vec::new();
        for (k, &i) in feasible.iter().enumerate() {
            let node = &self.nodes[i];
            let (ac, am) = (alloc(node, "cpu"), alloc(node, "memory"));
            let nz_cpu = by_node[i].iter().map(|p| p.cpu_nz).sum::<i64>() + spec.cpu_nz;
            let nz_mem = by_node[i].iter().map(|p| p.mem_nz).sum::<i64>() + spec.mem_nz;
            let fit = match self.profile.strategy {
                ScoringStrategy::MostAllocated => {
                    (most_requested(nz_cpu, ac) + most_requested(nz_mem, am)) / 2
                }
                _ => (least_requested(nz_cpu, ac) + least_requested(nz_mem, am)) / 2,
            };
            let req_cpu = by_node[i].iter().map(|p| p.cpu).sum::<i64>() + spec.cpu;
            let req_mem = by_node[i].iter().map(|p| p.mem).sum::<i64>() + spec.mem;
            total[k] += w.fit * fit + w.balanced * balanced([req_cpu, req_mem], [ac, am]);
            taint_raw.push(spec.intolerable_prefer_taints(&taints(node)));
            aff_raw.push(spec.preferred_node_score(name(node), &labels(node)));
        }
        let normalize = |raw: &[i64], reverse: bool, weight: i64, total: &mut [i64]| {
            let max = raw.iter().copied().max().unwrap_or(0);
            for (t, r) in total.iter_mut().zip(raw) {
                let s = match (max, reverse) {
                    (0, true) => MAX_NODE_SCORE,
                    (0, false) => 0,
                    (m, true) => MAX_NODE_SCORE - MAX_NODE_SCORE * r / m,
                    (m, false) => MAX_NODE_SCORE * r / m,
                };
                *t += weight * s;
            }
        };
        normalize(&taint_raw, true, w.taint_toleration, &mut total);
        normalize(&aff_raw, false, w.node_affinity, &mut total);
        if w.topology_spread != 0 && spec.spread.iter().any(|c| !c.hard) {
            let s = self.spread_scores(spec, by_node, feasible);
            total
                .iter_mut()
                .zip(s)
                .for_each(|(t, s)| *t += w.topology_spread * s);
        }
        if w.inter_pod_affinity != 0 {
            let s = self.affinity_scores(spec, feasible);
            total
                .iter_mut()
                .zip(s)
                .for_each(|(t, s)| *t += w.inter_pod_affinity * s);
        }
        total
    }

    fn spread_scores(
        &self,
        spec: &PodSpecInfo,
        by_node: &[Vec<&PodSpecInfo>],
        feasible: &[usize],
    ) -> Vec<i64> {
        let soft: Vec<&Spread> = spec.spread.iter().filter(|c| !c.hard).collect();
        let has_all = |l: &std::collections::BTreeMap<String, String>| {
            soft.iter().all(|c| l.contains_key(&c.topology_key))
        };
        let ignored: Vec<bool> = feasible
            .iter()
            .map(|&i| !has_all(&labels(&self.nodes[i])))
            .collect();
        let mut raw = vec![0.0f64; feasible.len()];
        for c in &soft {
            let matching = |p: &PodSpecInfo| {
                p.namespace == spec.namespace
                    && c.selector.as_ref().is_some_and(|s| s.matches(&p.labels))
            };
            let mut pair_counts: HashMap<String, i64> = HashMap::new();
            let mut scored = 0usize;
            for (k, &i) in feasible.iter().enumerate() {
                if !ignored[k] {
                    scored += 1;
                    pair_counts
                        .entry(labels(&self.nodes[i])[&c.topology_key].clone())
                        .or_insert(0);
                }
            }
            let size = if c.topology_key == LABEL_HOSTNAME {
                scored
            } else {
                pair_counts.len()
            };
            let weight = ((size + 2) as f64).ln();
            for (i, node) in self.nodes.iter().enumerate() {
                let l = labels(node);
                let aff_ok = !c.honor_affinity || spec.matches_node_affinity(name(node), &l);
                let taint_ok = !c.honor_taints || spec.untolerated_taint(&taints(node)).is_none();
                if !aff_ok || !taint_ok || !has_all(&l) || c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                if let Some(cnt) = pair_counts.get_mut(&l[&c.topology_key]) {
                    *cnt += by_node[i].iter().filter(|p| matching(p)).count() as i64;
                }
            }
            for (k, &i) in feasible.iter().enumerate() {
                if ignored[k] {
                    continue;
                }
                let cnt = if c.topology_key == LABEL_HOSTNAME {
                    by_node[i].iter().filter(|p| matching(p)).count() as i64
                } else {
                    pair_counts[&labels(&self.nodes[i])[&c.topology_key]]
                };
                raw[k] += cnt as f64 * weight + (c.max_skew - 1) as f64;
            }
        }
        let raw: Vec<i64> = raw.iter().map(|r| r.round() as i64).collect();
        let scored: Vec<i64> = raw
            .iter()
            .zip(&ignored)
            .filter(|(_, ig)| !**ig)
            .map(|(r, _)| *r)
            .collect();
        let (min, max) = (
            scored.iter().copied().min().unwrap_or(0),
            scored.iter().copied().max().unwrap_or(0),
        );
        raw.iter()
            .zip(&ignored)
            .map(|(&r, &ig)| match (ig, max) {
                (true, _) => 0,
                (false, 0) => MAX_NODE_SCORE,
                _ => MAX_NODE_SCORE * (max + min - r) / max,
            })
            .collect()
    }

    fn affinity_scores(&self, spec: &PodSpecInfo, feasible: &[usize]) -> Vec<i64> {
        let mut topo_score: HashMap<(String, String), i64> = HashMap::new();
        let mut add = |term: &PodTerm, node: usize, w: i64| {
            if let Some(v) = labels(&self.nodes[node]).get(&term.topology_key) {
                *topo_score
                    .entry((term.topology_key.clone(), v.clone()))
                    .or_insert(0) += w;
            }
        };
        for (p, node) in &self.pods {
            for (w, t) in &spec.preferred_affinity {
                if t.matches(&p.namespace, &p.labels) {
                    add(t, *node, *w);
                }
            }
            for (w, t) in &spec.preferred_anti_affinity {
                if t.matches(&p.namespace, &p.labels) {
                    add(t, *node, -*w);
                }
            }
            for t in &p.affinity {
                if self.profile.hard_pod_affinity_weight > 0
                    && t.matches(&spec.namespace, &spec.labels)
                {
                    add(t, *node, self.profile.hard_pod_affinity_weight);
                }
            }
            for (w, t) in &p.preferred_affinity {
                if t.matches(&spec.namespace, &spec.labels) {
                    add(t, *node, *w);
                }
            }
            for (w, t) in &p.preferred_anti_affinity {
                if t.matches(&spec.namespace, &spec.labels) {
                    add(t, *node, -*w);
                }
            }
        }
        let raw: Vec<i64> = feasible
            .iter()
            .map(|&i| {
                let l = labels(&self.nodes[i]);
                topo_score
                    .iter()
                    .filter(|((k, v), _)| l.get(k) == Some(v))
                    .map(|(_, s)| *s)
                    .sum()
            })
            .collect();
        let (min, max) = (
            raw.iter().copied().min().unwrap_or(0),
            raw.iter().copied().max().unwrap_or(0),
        );
        raw.iter()
            .map(|&r| {
                if max > min {
                    (MAX_NODE_SCORE as f64 * ((r - min) as f64 / (max - min) as f64)) as i64
                } else {
                    0
                }
            })
            .collect()
    }
}

/// Topology counts for one pod, built per call from the bound pods.
struct TopoState<'a> {
    spec: &'a PodSpecInfo,
    /// Per hard constraint: counts per domain value, the minimum, and the domain count.
    spread: Vec<(HashMap<String, i64>, i64)>,
    affinity: HashMap<(String, String), i64>,
    anti: HashMap<(String, String), i64>,
    existing_anti: HashMap<(String, String), i64>,
}

impl<'a> TopoState<'a> {
    fn new(c: &ReferenceCluster, spec: &'a PodSpecInfo, by_node: &[Vec<&PodSpecInfo>]) -> Self {
        let hard: Vec<&Spread> = spec.spread.iter().filter(|s| s.hard).collect();
        let mut spread = Vec::new();
        for s in &hard {
            let mut counts: HashMap<String, i64> = HashMap::new();
            for (i, node) in c.nodes.iter().enumerate() {
                let l = labels(node);
                let aff_ok = !s.honor_affinity || spec.matches_node_affinity(name(node), &l);
                let taint_ok = !s.honor_taints || spec.untolerated_taint(&taints(node)).is_none();
                if !aff_ok || !taint_ok || !hard.iter().all(|h| l.contains_key(&h.topology_key)) {
                    continue;
                }
                let n = by_node[i]
                    .iter()
                    .filter(|p| {
                        p.namespace == spec.namespace
                            && s.selector.as_ref().is_some_and(|x| x.matches(&p.labels))
                    })
                    .count() as i64;
                *counts.entry(l[&s.topology_key].clone()).or_insert(0) += n;
            }
            let mut min = counts.values().copied().min().unwrap_or(i64::MAX / 2);
            if s.min_domains.is_some_and(|m| (counts.len() as i64) < m) {
                min = 0;
            }
            spread.push((counts, min));
        }
        let mut affinity = HashMap::new();
        let mut anti = HashMap::new();
        let mut existing_anti = HashMap::new();
        for (p, i) in &c.pods {
            let l = labels(&c.nodes[*i]);
            for t in &spec.affinity {
                if t.matches(&p.namespace, &p.labels)
                    && let Some(v) = l.get(&t.topology_key)
                {
                    *affinity
                        .entry((t.topology_key.clone(), v.clone()))
                        .or_insert(0) += 1;
                }
            }
            for t in &spec.anti_affinity {
                if t.matches(&p.namespace, &p.labels)
                    && let Some(v) = l.get(&t.topology_key)
                {
                    *anti.entry((t.topology_key.clone(), v.clone())).or_insert(0) += 1;
                }
            }
            for t in &p.anti_affinity {
                if t.matches(&spec.namespace, &spec.labels)
                    && let Some(v) = l.get(&t.topology_key)
                {
                    *existing_anti
                        .entry((t.topology_key.clone(), v.clone()))
                        .or_insert(0) += 1;
                }
            }
        }
        TopoState {
            spec,
            spread,
            affinity,
            anti,
            existing_anti,
        }
    }

    fn spread_reason(
        &self,
        spec: &PodSpecInfo,
        l: &std::collections::BTreeMap<String, String>,
    ) -> Option<&'static str> {
        for (s, (counts, min)) in spec.spread.iter().filter(|s| s.hard).zip(&self.spread) {
            let Some(v) = l.get(&s.topology_key) else {
                return Some(explain::REASON_SPREAD_MISSING_LABEL);
            };
            let self_match =
                i64::from(s.selector.as_ref().is_some_and(|x| x.matches(&spec.labels)));
            if counts.get(v).copied().unwrap_or(0) + self_match - min > s.max_skew {
                return Some(explain::REASON_SPREAD);
            }
        }
        None
    }

    fn affinity_reason(
        &self,
        spec: &PodSpecInfo,
        l: &std::collections::BTreeMap<String, String>,
    ) -> Option<&'static str> {
        let mut pods_exist = true;
        for t in &spec.affinity {
            let Some(v) = l.get(&t.topology_key) else {
                return Some(explain::REASON_AFFINITY);
            };
            if self
                .affinity
                .get(&(t.topology_key.clone(), v.clone()))
                .copied()
                .unwrap_or(0)
                <= 0
            {
                pods_exist = false;
            }
        }
        let self_affine = self
            .spec
            .affinity
            .iter()
            .all(|t| t.matches(&spec.namespace, &spec.labels));
        if !pods_exist && !(self.affinity.is_empty() && self_affine) {
            return Some(explain::REASON_AFFINITY);
        }
        for t in &spec.anti_affinity {
            if let Some(v) = l.get(&t.topology_key)
                && self
                    .anti
                    .get(&(t.topology_key.clone(), v.clone()))
                    .copied()
                    .unwrap_or(0)
                    > 0
            {
                return Some(explain::REASON_ANTI_AFFINITY);
            }
        }
        if l.iter().any(|(k, v)| {
            self.existing_anti
                .get(&(k.clone(), v.clone()))
                .copied()
                .unwrap_or(0)
                > 0
        }) {
            return Some(explain::REASON_EXISTING_ANTI_AFFINITY);
        }
        None
    }
}
