//! Filters and scores that depend on where other pods are: PodTopologySpread and
//! InterPodAffinity, following kube-scheduler's `podtopologyspread/{filtering,scoring}.go` and
//! `interpodaffinity/{filtering,scoring}.go`.

use std::collections::BTreeMap;

use super::node::{NO_DOMAIN, NodeTable};
use super::profile::Profile;
use super::registry::{GroupKind, Registry, domain_counts};
use super::score::MAX_NODE_SCORE;
use super::shape::Shape;

/// Per-node topology filter outcome (first failing check, in upstream plugin order).
pub(crate) mod code {
    pub const OK: u8 = 0;
    pub const SPREAD_MISSING_LABEL: u8 = 1;
    pub const SPREAD_SKEW: u8 = 2;
    pub const AFFINITY: u8 = 3;
    pub const ANTI_AFFINITY: u8 = 4;
    pub const EXISTING_ANTI_AFFINITY: u8 = 5;
}

fn set(out: &mut [u8], i: usize, c: u8) {
    if out[i] == code::OK {
        out[i] = c;
    }
}

/// Sum, per topology key, the domain counts of several selectors (upstream keeps one map of
/// `(key, value) -> count` per check, so terms sharing a key share counts).
fn merged_counts<'a>(
    nodes: &NodeTable,
    reg: &Registry,
    terms: impl Iterator<Item = (&'a str, Option<u32>)>,
) -> BTreeMap<&'a str, Vec<i64>> {
    let mut out: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (key, sel) in terms {
        let d = nodes.interned(key);
        let entry = out.entry(key).or_insert_with(|| vec![0; d.count]);
        if let Some(s) = sel {
            let c = domain_counts(&reg.selectors[s as usize].per_node, &d.dom, d.count, None);
            entry.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        }
    }
    out
}

/// Evaluate the topology filters of `shape` on every node into `out` (codes above).
/// Returns false (and leaves `out` all OK) when no topology filter applies.
pub(crate) fn filter(
    nodes: &NodeTable,
    reg: &Registry,
    shape: &Shape,
    profile: &Profile,
    out: &mut Vec<u8>,
) -> bool {
    let n = nodes.len();
    out.clear();
    out.resize(n, code::OK);
    let mut any = false;
    if profile.filters.topology_spread {
        any |= spread_filter(nodes, reg, shape, out);
    }
    if !profile.filters.inter_pod_affinity {
        return any;
    }
    // The pod's required affinity.
    if !shape.affinity.is_empty() {
        any = true;
        let counts = merged_counts(
            nodes,
            reg,
            shape.affinity.iter().map(|t| (t.key.as_str(), t.selector)),
        );
        let none_anywhere = counts.values().all(|c| c.iter().all(|&x| x == 0));
        let allow_all = none_anywhere && shape.self_affine;
        for i in 0..n {
            let mut pods_exist = true;
            let mut has_keys = true;
            for t in &shape.affinity {
                match nodes.interned(&t.key).dom[i] {
                    NO_DOMAIN => has_keys = false,
                    d => pods_exist &= counts[t.key.as_str()][d as usize] > 0,
                }
            }
            if !has_keys || !(pods_exist || allow_all) {
                set(out, i, code::AFFINITY);
            }
        }
    }
    // The pod's required anti-affinity.
    if !shape.anti_affinity.is_empty() {
        any = true;
        let counts = merged_counts(
            nodes,
            reg,
            shape
                .anti_affinity
                .iter()
                .map(|t| (t.key.as_str(), t.selector)),
        );
        for (key, c) in &counts {
            let dom = &nodes.interned(key).dom;
            for i in 0..n {
                if dom[i] != NO_DOMAIN && c[dom[i] as usize] > 0 {
                    set(out, i, code::ANTI_AFFINITY);
                }
            }
        }
    }
    // Bound pods' required anti-affinity against this pod.
    for &g in &reg.label_sets[shape.label_set as usize].groups {
        let group = &reg.groups[g as usize];
        if group.kind != GroupKind::RequiredAnti || group.per_node.iter().all(|&c| c == 0) {
            continue;
        }
        any = true;
        let d = nodes.interned(&group.term.topology_key);
        let c = domain_counts(&group.per_node, &d.dom, d.count, None);
        for i in 0..n {
            if d.dom[i] != NO_DOMAIN && c[d.dom[i] as usize] > 0 {
                set(out, i, code::EXISTING_ANTI_AFFINITY);
            }
        }
    }
    any
}

/// Nodes whose pods count for a spread constraint: node-inclusion policies plus "has every
/// key of the constraints of this kind" (`nodeLabelsMatchSpreadConstraints`).
fn spread_eligible(
    nodes: &NodeTable,
    shape: &Shape,
    hard: bool,
    honor_aff: bool,
    honor_taints: bool,
) -> Vec<bool> {
    let keys: Vec<&str> = shape
        .spread
        .iter()
        .filter(|r| r.c.hard == hard)
        .map(|r| r.c.topology_key.as_str())
        .collect();
    (0..nodes.len())
        .map(|i| {
            (!honor_aff || shape.affinity_ok[i])
                && (!honor_taints || shape.taint_ok[i])
                && keys.iter().all(|k| nodes.interned(k).dom[i] != NO_DOMAIN)
        })
        .collect()
}

fn spread_filter(nodes: &NodeTable, reg: &Registry, shape: &Shape, out: &mut [u8]) -> bool {
    let mut any = false;
    for r in shape.spread.iter().filter(|r| r.c.hard) {
        any = true;
        let d = nodes.interned(&r.c.topology_key);
        let eligible = spread_eligible(nodes, shape, true, r.c.honor_affinity, r.c.honor_taints);
        let counts = match r.selector {
            Some(s) => domain_counts(
                &reg.selectors[s as usize].per_node,
                &d.dom,
                d.count,
                Some(&eligible),
            ),
            None => vec![0; d.count],
        };
        let mut present = vec![false; d.count];
        for i in 0..nodes.len() {
            if eligible[i] {
                present[d.dom[i] as usize] = true;
            }
        }
        let domains = present.iter().filter(|&&p| p).count() as i64;
        let mut min = counts
            .iter()
            .zip(&present)
            .filter(|(_, p)| **p)
            .map(|(c, _)| *c)
            .min()
            .unwrap_or(i64::MAX / 2);
        if r.c.min_domains.is_some_and(|m| domains < m) {
            min = 0;
        }
        let self_match = i64::from(r.self_match);
        for i in 0..nodes.len() {
            let dom = d.dom[i];
            if dom == NO_DOMAIN {
                set(out, i, code::SPREAD_MISSING_LABEL);
            } else if counts[dom as usize] + self_match - min > r.c.max_skew {
                set(out, i, code::SPREAD_SKEW);
            }
        }
    }
    any
}

/// Add weighted PodTopologySpread and InterPodAffinity scores for feasible nodes
/// (`scores[i] >= 0`) to `total`.
pub(crate) fn add_scores(
    nodes: &NodeTable,
    reg: &Registry,
    shape: &Shape,
    profile: &Profile,
    scores: &[i32],
    total: &mut [i64],
) {
    if profile.weights.topology_spread != 0 && shape.spread.iter().any(|r| !r.c.hard) {
        spread_score(
            nodes,
            reg,
            shape,
            scores,
            profile.weights.topology_spread,
            total,
        );
    }
    if profile.weights.inter_pod_affinity != 0 {
        affinity_score(nodes, reg, shape, profile, scores, total);
    }
}

fn spread_score(
    nodes: &NodeTable,
    reg: &Registry,
    shape: &Shape,
    scores: &[i32],
    weight: i64,
    total: &mut [i64],
) {
    let n = nodes.len();
    let soft: Vec<_> = shape.spread.iter().filter(|r| !r.c.hard).collect();
    let ignored: Vec<bool> = (0..n)
        .map(|i| {
            soft.iter()
                .any(|r| nodes.interned(&r.c.topology_key).dom[i] == NO_DOMAIN)
        })
        .collect();
    let scored = |i: usize| scores[i] >= 0 && !ignored[i];
    let mut raw = vec![0.0f64; n];
    for r in &soft {
        let d = nodes.interned(&r.c.topology_key);
        // Domains present among scored nodes, and the normalising weight log(size + 2).
        let mut present = vec![false; d.count];
        let mut scored_nodes = 0usize;
        for i in (0..n).filter(|&i| scored(i)) {
            present[d.dom[i] as usize] = true;
            scored_nodes += 1;
        }
        let size = if r.hostname {
            scored_nodes
        } else {
            present.iter().filter(|&&p| p).count()
        };
        let tp_weight = ((size + 2) as f64).ln();
        let per_node = r.selector.map(|s| &reg.selectors[s as usize].per_node);
        let counts = match per_node {
            Some(p) if !r.hostname => {
                let eligible =
                    spread_eligible(nodes, shape, false, r.c.honor_affinity, r.c.honor_taints);
                domain_counts(p, &d.dom, d.count, Some(&eligible))
            }
            _ => vec![0; d.count],
        };
        for i in (0..n).filter(|&i| scored(i)) {
            let cnt = if r.hostname {
                per_node.map_or(0, |p| i64::from(p[i]))
            } else {
                counts[d.dom[i] as usize]
            };
            raw[i] += cnt as f64 * tp_weight + (r.c.max_skew - 1) as f64;
        }
    }
    let raw: Vec<i64> = raw.iter().map(|s| s.round() as i64).collect();
    let (mut min, mut max) = (i64::MAX, 0i64);
    for i in (0..n).filter(|&i| scored(i)) {
        min = min.min(raw[i]);
        max = max.max(raw[i]);
    }
    for i in (0..n).filter(|&i| scores[i] >= 0) {
        let s = if ignored[i] {
            0
        } else if max == 0 {
            MAX_NODE_SCORE
        } else {
            MAX_NODE_SCORE * (max + min - raw[i]) / max
        };
        total[i] += weight * s;
    }
}

fn affinity_score(
    nodes: &NodeTable,
    reg: &Registry,
    shape: &Shape,
    profile: &Profile,
    scores: &[i32],
    total: &mut [i64],
) {
    let n = nodes.len();
    // (topology key, per-node counts, weight) contributions to topologyScore.
    let mut parts: Vec<(&str, &[u32], i64)> = Vec::new();
    for t in &shape.preferred {
        if let Some(s) = t.selector {
            parts.push((&t.key, &reg.selectors[s as usize].per_node, t.weight));
        }
    }
    for &g in &reg.label_sets[shape.label_set as usize].groups {
        let group = &reg.groups[g as usize];
        let w = match group.kind {
            GroupKind::RequiredAnti => continue,
            GroupKind::RequiredAffinity => profile.hard_pod_affinity_weight,
            GroupKind::Preferred(w) => w,
        };
        if w != 0 {
            parts.push((&group.term.topology_key, &group.per_node, w));
        }
    }
    if parts.is_empty() {
        return;
    }
    let mut raw = vec![0i64; n];
    for (key, per_node, w) in parts {
        let d = nodes.interned(key);
        let c = domain_counts(per_node, &d.dom, d.count, None);
        for i in 0..n {
            if d.dom[i] != NO_DOMAIN {
                raw[i] += w * c[d.dom[i] as usize];
            }
        }
    }
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    for i in (0..n).filter(|&i| scores[i] >= 0) {
        min = min.min(raw[i]);
        max = max.max(raw[i]);
    }
    let diff = max.saturating_sub(min);
    for i in (0..n).filter(|&i| scores[i] >= 0) {
        let s = if diff > 0 {
            (MAX_NODE_SCORE as f64 * ((raw[i] - min) as f64 / diff as f64)) as i64
        } else {
            0
        };
        total[i] += profile.weights.inter_pod_affinity * s;
    }
}
