//! A *shape* is everything the engine precomputes for one pod template: per-node results of
//! the filters and scores that depend only on the node (unschedulable, node name, taints,
//! node affinity), and the interned selectors and term groups its topology rules use.
//! Pods with equal [`PodSpecInfo`] share one shape, so a Deployment's replicas pay once.

use std::sync::Arc;

use super::node::NodeTable;
use super::pod::{LABEL_HOSTNAME, PodSpecInfo, PodTerm, Spread};
use super::profile::Filters;
use super::registry::{GroupKind, Registry};

/// A spread constraint with interned selector and key.
#[derive(Debug, Clone)]
pub(crate) struct SpreadRule {
    pub c: Spread,
    /// `None` when the constraint has no selector (matches no pod).
    pub selector: Option<u32>,
    pub self_match: bool,
    pub hostname: bool,
}

/// An (anti-)affinity term of the pod being placed, with interned selector.
#[derive(Debug, Clone)]
pub(crate) struct TermRule {
    pub selector: Option<u32>,
    pub key: String,
    pub weight: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub spec: Arc<PodSpecInfo>,
    pub label_set: u32,
    /// `[cpu, mem, cpu_nz, mem_nz]`.
    pub req: [i64; 4],
    /// All node-only filters pass.
    pub static_ok: Vec<u8>,
    /// NodeAffinity (selector + required affinity) passes.
    pub affinity_ok: Vec<bool>,
    /// TaintToleration passes.
    pub taint_ok: Vec<bool>,
    /// Intolerable PreferNoSchedule taints per node; `None` when zero everywhere.
    pub taint_raw: Option<Vec<i64>>,
    /// Preferred node-affinity weight per node; `None` when zero everywhere.
    pub affinity_raw: Option<Vec<i64>>,
    pub spread: Vec<SpreadRule>,
    pub affinity: Vec<TermRule>,
    pub anti_affinity: Vec<TermRule>,
    /// Preferred terms; anti-affinity ones carry a negative weight.
    pub preferred: Vec<TermRule>,
    /// Term groups that bound pods of this shape hold.
    pub holds: Vec<u32>,
    /// The pod matches every one of its own required affinity terms.
    pub self_affine: bool,
}

impl Shape {
    pub fn compile(
        spec: Arc<PodSpecInfo>,
        filters: &Filters,
        nodes: &mut NodeTable,
        reg: &mut Registry,
        bound: &mut dyn FnMut() -> Vec<(u32, u32)>,
    ) -> Shape {
        let n = nodes.len();
        let label_set = reg.label_set(&spec.namespace, &spec.labels);
        let tolerates_unsched = spec.tolerates_unschedulable();
        let mut static_ok = vec![0u8; n];
        let mut affinity_ok = vec![false; n];
        let mut taint_ok = vec![false; n];
        let mut taint_raw = vec![0i64; n];
        let mut affinity_raw = vec![0i64; n];
        for i in 0..n {
            let (name, labels, taints) = (&nodes.names[i], &nodes.labels[i], &nodes.taints[i]);
            affinity_ok[i] = spec.matches_node_affinity(name, labels);
            taint_ok[i] = spec.untolerated_taint(taints).is_none();
            let sched_ok = !nodes.unschedulable[i] || tolerates_unsched;
            let name_ok = spec.node_name.as_ref().is_none_or(|n| n == name);
            static_ok[i] = u8::from(
                (sched_ok || !filters.node_unschedulable)
                    && name_ok
                    && (taint_ok[i] || !filters.taint_toleration)
                    && (affinity_ok[i] || !filters.node_affinity),
            );
            taint_raw[i] = spec.intolerable_prefer_taints(taints);
            affinity_raw[i] = spec.preferred_node_score(name, labels);
        }
        let nonzero = |v: Vec<i64>| {
            if v.iter().any(|&x| x != 0) {
                Some(v)
            } else {
                None
            }
        };

        let own_ns = super::pod::Namespaces::Set([spec.namespace.clone()].into());
        let spread = spec
            .spread
            .iter()
            .map(|c| {
                nodes.domains(&c.topology_key);
                let selector = c.selector.as_ref().map(|s| {
                    let b = bound();
                    reg.selector(&own_ns, s, &mut b.into_iter())
                });
                SpreadRule {
                    self_match: c.selector.as_ref().is_some_and(|s| s.matches(&spec.labels)),
                    hostname: c.topology_key == LABEL_HOSTNAME,
                    c: c.clone(),
                    selector,
                }
            })
            .collect();
        let mut intern = |t: &PodTerm, reg: &mut Registry, nodes: &mut NodeTable| {
            nodes.domains(&t.topology_key);
            t.selector.as_ref().map(|s| {
                let b = bound();
                reg.selector(&t.namespaces, s, &mut b.into_iter())
            })
        };
        let mut rules = |terms: &mut dyn Iterator<Item = (i64, &PodTerm)>| -> Vec<TermRule> {
            terms
                .map(|(w, t)| TermRule {
                    selector: intern(t, reg, nodes),
                    key: t.topology_key.clone(),
                    weight: w,
                })
                .collect()
        };
        let affinity = rules(&mut spec.affinity.iter().map(|t| (1, t)));
        let anti_affinity = rules(&mut spec.anti_affinity.iter().map(|t| (1, t)));
        let mut preferred = rules(&mut spec.preferred_affinity.iter().map(|(w, t)| (*w, t)));
        preferred.extend(rules(
            &mut spec.preferred_anti_affinity.iter().map(|(w, t)| (-*w, t)),
        ));

        let mut holds = Vec::new();
        let mut hold = |kind: GroupKind, t: &PodTerm, reg: &mut Registry, nodes: &mut NodeTable| {
            nodes.domains(&t.topology_key);
            // A new group starts at zero: pods of this exact term are interned with it.
            holds.push(reg.group(kind, t, &mut std::iter::empty()));
        };
        for t in &spec.anti_affinity {
            hold(GroupKind::RequiredAnti, t, reg, nodes);
        }
        for t in &spec.affinity {
            hold(GroupKind::RequiredAffinity, t, reg, nodes);
        }
        for (w, t) in &spec.preferred_affinity {
            hold(GroupKind::Preferred(*w), t, reg, nodes);
        }
        for (w, t) in &spec.preferred_anti_affinity {
            hold(GroupKind::Preferred(-*w), t, reg, nodes);
        }
        let self_affine = spec
            .affinity
            .iter()
            .all(|t| t.matches(&spec.namespace, &spec.labels));

        Shape {
            req: [spec.cpu, spec.mem, spec.cpu_nz, spec.mem_nz],
            spec,
            label_set,
            static_ok,
            affinity_ok,
            taint_ok,
            taint_raw: nonzero(taint_raw),
            affinity_raw: nonzero(affinity_raw),
            spread,
            affinity,
            anti_affinity,
            preferred,
            holds,
            self_affine,
        }
    }

    /// Whether placement depends on where other pods are.
    pub fn topology_dependent(&self) -> bool {
        !(self.spread.is_empty()
            && self.affinity.is_empty()
            && self.anti_affinity.is_empty()
            && self.preferred.is_empty())
    }
}
