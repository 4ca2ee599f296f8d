//! Incremental pod counts for topology-dependent filters and scores.
//!
//! * A *tracked selector* (namespaces + label selector, from spread constraints and the pod
//!   (anti-)affinity terms of pods being scheduled) keeps, per node, how many bound pods match.
//! * A *term group* (one (anti-)affinity term shape held by bound pods) keeps, per node, how
//!   many bound pods hold it: this is how bound pods' terms act on incoming pods (symmetry).
//! * A *label set* (namespace + labels) caches which selectors and groups match it, so binding
//!   a pod updates counts without evaluating any selector.
//!
//! Domain counts for a topology key are summed from the per-node counts when a pod needs them
//! (one pass over the nodes), which keeps binding O(matching selectors).

use std::collections::{BTreeMap, HashMap};

use hxb_core::Selector;

use super::pod::{Namespaces, PodTerm};

/// How bound pods holding a term act on incoming pods that match it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum GroupKind {
    /// Required anti-affinity: a filter on the incoming pod.
    RequiredAnti,
    /// Required affinity: scores `hardPodAffinityWeight` per holder.
    RequiredAffinity,
    /// Preferred (anti-)affinity: scores the signed weight per holder.
    Preferred(i64),
}

#[derive(Debug, Clone)]
pub(crate) struct Tracked {
    pub namespaces: Namespaces,
    pub selector: Selector,
    pub per_node: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub kind: GroupKind,
    pub term: PodTerm,
    pub per_node: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct LabelSet {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub selectors: Vec<u32>,
    pub groups: Vec<u32>,
}

/// Pod id → (label set, node) for counting a new selector's matches.
pub(crate) type BoundPods<'a> = &'a mut dyn Iterator<Item = (u32, u32)>;

#[derive(Debug, Clone, Default)]
pub(crate) struct Registry {
    nodes: usize,
    label_set_ids: HashMap<(String, BTreeMap<String, String>), u32>,
    pub label_sets: Vec<LabelSet>,
    selector_ids: HashMap<(Namespaces, Selector), u32>,
    pub selectors: Vec<Tracked>,
    group_ids: HashMap<(GroupKind, PodTerm), u32>,
    pub groups: Vec<Group>,
}

impl Registry {
    pub fn new(nodes: usize) -> Self {
        Registry {
            nodes,
            ..Default::default()
        }
    }

    /// Intern a label set, computing which registered selectors and groups match it.
    pub fn label_set(&mut self, namespace: &str, labels: &BTreeMap<String, String>) -> u32 {
        if let Some(&id) = self
            .label_set_ids
            .get(&(namespace.to_owned(), labels.clone()))
        {
            return id;
        }
        let id = self.label_sets.len() as u32;
        let selectors = (0..self.selectors.len() as u32)
            .filter(|&s| {
                let t = &self.selectors[s as usize];
                t.namespaces.contains(namespace) && t.selector.matches(labels)
            })
            .collect();
        let groups = (0..self.groups.len() as u32)
            .filter(|&g| self.groups[g as usize].term.matches(namespace, labels))
            .collect();
        self.label_sets.push(LabelSet {
            namespace: namespace.to_owned(),
            labels: labels.clone(),
            selectors,
            groups,
        });
        self.label_set_ids
            .insert((namespace.to_owned(), labels.clone()), id);
        id
    }

    /// Intern a tracked selector; on first sight count the bound pods that match it.
    pub fn selector(
        &mut self,
        namespaces: &Namespaces,
        selector: &Selector,
        bound: BoundPods<'_>,
    ) -> u32 {
        let key = (namespaces.clone(), selector.clone());
        if let Some(&id) = self.selector_ids.get(&key) {
            return id;
        }
        let id = self.selectors.len() as u32;
        let mut matching = vec![false; self.label_sets.len()];
        for (i, ls) in self.label_sets.iter_mut().enumerate() {
            if namespaces.contains(&ls.namespace) && selector.matches(&ls.labels) {
                ls.selectors.push(id);
                matching[i] = true;
            }
        }
        let mut per_node = vec![0u32; self.nodes];
        for (ls, node) in bound {
            if matching[ls as usize] {
                per_node[node as usize] += 1;
            }
        }
        self.selectors.push(Tracked {
            namespaces: namespaces.clone(),
            selector: selector.clone(),
            per_node,
        });
        self.selector_ids.insert(key, id);
        id
    }

    /// Intern a term group (pods holding it are counted as they are bound).
    pub fn group(&mut self, kind: GroupKind, term: &PodTerm, holders: BoundPods<'_>) -> u32 {
        let key = (kind, term.clone());
        if let Some(&id) = self.group_ids.get(&key) {
            return id;
        }
        let id = self.groups.len() as u32;
        for ls in &mut self.label_sets {
            if term.matches(&ls.namespace, &ls.labels) {
                ls.groups.push(id);
            }
        }
        let mut per_node = vec![0u32; self.nodes];
        for (_, node) in holders {
            per_node[node as usize] += 1;
        }
        self.groups.push(Group {
            kind,
            term: term.clone(),
            per_node,
        });
        self.group_ids.insert(key, id);
        id
    }

    /// Count (`delta = 1`) or uncount (`-1`) a pod with label set `ls` holding `groups` on `node`.
    pub fn bind(&mut self, ls: u32, groups: &[u32], node: usize, delta: i32) {
        let set = &self.label_sets[ls as usize];
        for &s in &set.selectors {
            let c = &mut self.selectors[s as usize].per_node[node];
            *c = c.wrapping_add_signed(delta);
        }
        for &g in groups {
            let c = &mut self.groups[g as usize].per_node[node];
            *c = c.wrapping_add_signed(delta);
        }
    }
}

/// Sum per-node counts into domains; nodes with `eligible[i] == 0` (if given) are skipped.
pub(crate) fn domain_counts(
    per_node: &[u32],
    dom: &[u32],
    domains: usize,
    eligible: Option<&[bool]>,
) -> Vec<i64> {
    let mut out = vec![0i64; domains];
    for (i, (&c, &d)) in per_node.iter().zip(dom).enumerate() {
        if c != 0 && d != super::node::NO_DOMAIN && eligible.is_none_or(|e| e[i]) {
            out[d as usize] += i64::from(c);
        }
    }
    out
}
