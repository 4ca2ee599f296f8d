//! The node table: static node data plus free resources as struct-of-arrays.
//!
//! Resource amounts are kept as `f64` holding exact integers (milli-cpu, bytes, pod counts,
//! all below 2^52), so the hot loop runs in one numeric type the compiler can vectorise, and
//! every comparison and sum is exact.

use std::collections::{BTreeMap, HashMap};

use hxb_core::{Error, Quantity, Result};
use k8s_openapi::api::core::v1::Node;

use super::pod::{Taint, clamp};

/// Interned values of one topology key: a domain id per node.
#[derive(Debug, Clone)]
pub(crate) struct KeyDomains {
    /// Domain id per node, [`NO_DOMAIN`] when the node lacks the label.
    pub dom: Vec<u32>,
    /// Number of distinct values.
    pub count: usize,
}

/// Domain id of a node without the topology label.
pub(crate) const NO_DOMAIN: u32 = u32::MAX;

/// Every node, as parallel arrays indexed by node id.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeTable {
    pub names: Vec<String>,
    pub index: HashMap<String, u32>,
    pub labels: Vec<BTreeMap<String, String>>,
    pub taints: Vec<Vec<Taint>>,
    pub unschedulable: Vec<bool>,
    pub alloc_cpu: Vec<f64>,
    pub alloc_mem: Vec<f64>,
    pub alloc_pods: Vec<f64>,
    /// Allocatable, or +inf when zero (so `x / div` is 0, as upstream's "capacity == 0" rule).
    pub div_cpu: Vec<f64>,
    pub div_mem: Vec<f64>,
    /// 1.0 when both cpu and memory are allocatable (balanced allocation has two fractions).
    pub bal_mask: Vec<f64>,
    /// Allocatable minus the sum of requests.
    pub free_cpu: Vec<f64>,
    pub free_mem: Vec<f64>,
    /// Allocatable pods minus bound pods.
    pub free_pods: Vec<f64>,
    /// Allocatable minus the sum of scoring requests (with kube-scheduler's defaults).
    pub nzfree_cpu: Vec<f64>,
    pub nzfree_mem: Vec<f64>,
    /// Pod ids bound to each node.
    pub pods_on: Vec<Vec<u32>>,
    keys: HashMap<String, KeyDomains>,
}

fn allocatable(node: &Node, name: &str) -> Result<i64> {
    let status = node.status.as_ref();
    let q = status
        .and_then(|s| s.allocatable.as_ref().and_then(|a| a.get(name)))
        .or_else(|| status.and_then(|s| s.capacity.as_ref().and_then(|c| c.get(name))));
    let Some(q) = q else { return Ok(0) };
    let q = Quantity::try_from(q)
        .map_err(|e| Error::invalid(format!("status.allocatable.{name}"), e.to_string()))?;
    Ok(match name {
        "cpu" => clamp(q.to_milli_ceil()),
        _ => clamp(q.to_int_ceil()),
    })
}

impl NodeTable {
    /// Build from nodes; names must be unique and non-empty.
    pub fn new(nodes: &[Node]) -> Result<Self> {
        let mut t = NodeTable::default();
        for node in nodes {
            let name = node.metadata.name.clone().filter(|n| !n.is_empty());
            let name = name.ok_or_else(|| Error::invalid("node.metadata.name", "missing"))?;
            if t.index.insert(name.clone(), t.names.len() as u32).is_some() {
                return Err(Error::invalid(
                    "node.metadata.name",
                    format!("duplicate node {name:?}"),
                ));
            }
            let (cpu, mem, pods) = (
                allocatable(node, "cpu")?,
                allocatable(node, "memory")?,
                allocatable(node, "pods")?,
            );
            let spec = node.spec.as_ref();
            t.names.push(name);
            t.labels
                .push(node.metadata.labels.clone().unwrap_or_default());
            t.taints.push(
                spec.and_then(|s| s.taints.as_ref())
                    .into_iter()
                    .flatten()
                    .map(Taint::from_k8s)
                    .collect(),
            );
            t.unschedulable
                .push(spec.and_then(|s| s.unschedulable).unwrap_or(false));
            let (c, m) = (cpu as f64, mem as f64);
            t.alloc_cpu.push(c);
            t.alloc_mem.push(m);
            t.alloc_pods.push(pods as f64);
            t.div_cpu.push(if cpu > 0 { c } else { f64::INFINITY });
            t.div_mem.push(if mem > 0 { m } else { f64::INFINITY });
            t.bal_mask.push(if cpu > 0 && mem > 0 { 1.0 } else { 0.0 });
            t.free_cpu.push(c);
            t.free_mem.push(m);
            t.free_pods.push(pods as f64);
            t.nzfree_cpu.push(c);
            t.nzfree_mem.push(m);
            t.pods_on.push(Vec::new());
        }
        Ok(t)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Add (`sign = 1.0`) or remove (`-1.0`) a pod's requests on node `n`.
    pub fn account(&mut self, n: usize, req: [i64; 4], sign: f64) {
        self.free_cpu[n] -= sign * req[0] as f64;
        self.free_mem[n] -= sign * req[1] as f64;
        self.nzfree_cpu[n] -= sign * req[2] as f64;
        self.nzfree_mem[n] -= sign * req[3] as f64;
        self.free_pods[n] -= sign;
    }

    /// Domains of a topology key, interned on first use.
    pub fn domains(&mut self, key: &str) -> &KeyDomains {
        if !self.keys.contains_key(key) {
            let mut values: HashMap<&str, u32> = HashMap::new();
            let dom = self
                .labels
                .iter()
                .map(|l| match l.get(key) {
                    Some(v) => {
                        let next = values.len() as u32;
                        *values.entry(v.as_str()).or_insert(next)
                    }
                    None => NO_DOMAIN,
                })
                .collect();
            let count = values.len();
            self.keys.insert(key.to_owned(), KeyDomains { dom, count });
        }
        &self.keys[key]
    }

    /// Domains of a key already interned with [`NodeTable::domains`].
    pub fn interned(&self, key: &str) -> &KeyDomains {
        &self.keys[key]
    }
}
