//! The "why not" of a pod that fits nowhere, in kube-scheduler's words.

use std::collections::BTreeMap;

use hxb_core::error::Unschedulable;

use super::node::NodeTable;
use super::profile::Profile;
use super::shape::Shape;
use super::topology::code;

/// NodeUnschedulable's reason.
pub const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// NodeName's reason.
pub const REASON_NODE_NAME: &str = "node(s) didn't match the requested node name";
/// NodeAffinity's reason.
pub const REASON_NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
/// NodeResourcesFit's reason for the pod count.
pub const REASON_TOO_MANY_PODS: &str = "Too many pods";
/// PodTopologySpread's reason for a node without the topology key.
pub const REASON_SPREAD_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
/// PodTopologySpread's reason for a skew above maxSkew.
pub const REASON_SPREAD: &str = "node(s) didn't match pod topology spread constraints";
/// InterPodAffinity's reason for the pod's own affinity.
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// InterPodAffinity's reason for the pod's own anti-affinity.
pub const REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// InterPodAffinity's reason for bound pods' anti-affinity.
pub const REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// TaintToleration's reason for one taint.
pub fn reason_taint(key: &str, value: &str) -> String {
    format!("node(s) had untolerated taint {{{key}: {value}}}")
}

/// The reasons node `i` rejects a pod, from the first failing filter (in kube-scheduler's
/// default plugin order). Empty when the node fits.
pub(crate) fn node_reasons(
    nodes: &NodeTable,
    shape: &Shape,
    profile: &Profile,
    topo: Option<&[u8]>,
    i: usize,
) -> Vec<String> {
    let spec = &shape.spec;
    let f = &profile.filters;
    if f.node_unschedulable && nodes.unschedulable[i] && !spec.tolerates_unschedulable() {
        return vec![REASON_UNSCHEDULABLE.into()];
    }
    if spec
        .node_name
        .as_ref()
        .is_some_and(|n| *n != nodes.names[i])
    {
        return vec![REASON_NODE_NAME.into()];
    }
    if f.taint_toleration
        && let Some(t) = spec.untolerated_taint(&nodes.taints[i])
    {
        return vec![reason_taint(&t.key, &t.value)];
    }
    if f.node_affinity && !shape.affinity_ok[i] {
        return vec![REASON_NODE_AFFINITY.into()];
    }
    if f.resources {
        let mut r = Vec::new();
        if nodes.free_pods[i] < 1.0 {
            r.push(REASON_TOO_MANY_PODS.into());
        }
        if spec.cpu > 0 && (spec.cpu as f64) > nodes.free_cpu[i] {
            r.push("Insufficient cpu".into());
        }
        if spec.mem > 0 && (spec.mem as f64) > nodes.free_mem[i] {
            r.push("Insufficient memory".into());
        }
        if !r.is_empty() {
            return r;
        }
    }
    let reason = match topo.map_or(code::OK, |t| t[i]) {
        code::SPREAD_MISSING_LABEL => REASON_SPREAD_MISSING_LABEL,
        code::SPREAD_SKEW => REASON_SPREAD,
        code::AFFINITY => REASON_AFFINITY,
        code::ANTI_AFFINITY => REASON_ANTI_AFFINITY,
        code::EXISTING_ANTI_AFFINITY => REASON_EXISTING_ANTI_AFFINITY,
        _ => return Vec::new(),
    };
    vec![reason.into()]
}

/// Aggregate per-node reasons, most frequent first (ties by text).
pub(crate) fn aggregate(nodes: usize, reasons: impl IntoIterator<Item = String>) -> Unschedulable {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in reasons {
        *counts.entry(r).or_default() += 1;
    }
    let mut reasons: Vec<(String, usize)> = counts.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Unschedulable { nodes, reasons }
}

pub(crate) fn unschedulable(
    nodes: &NodeTable,
    shape: &Shape,
    profile: &Profile,
    topo: Option<&[u8]>,
) -> Unschedulable {
    aggregate(
        nodes.len(),
        (0..nodes.len()).flat_map(|i| node_reasons(nodes, shape, profile, topo, i)),
    )
}
