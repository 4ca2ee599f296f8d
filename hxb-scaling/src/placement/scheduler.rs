//! The scheduler: cluster state, binding, and the scheduling cycle.

use std::collections::HashMap;
use std::sync::Arc;

use hxb_core::error::Unschedulable;
use hxb_core::scheduling::{ClusterSnapshot, Placement, Victim};
use hxb_core::{Error, Result};
use k8s_openapi::api::core::v1::{Node, Pod};

use super::node::NodeTable;
use super::pod::PodSpecInfo;
use super::profile::Profile;
use super::registry::Registry;
use super::score::{PodReq, add_normalized_default, argmax, resource_pass};
use super::shape::Shape;
use super::{explain, preempt, topology};

/// A pod bound to a node.
#[derive(Debug, Clone)]
pub(crate) struct BoundPod {
    pub namespace: String,
    pub name: String,
    pub shape: u32,
    pub node: u32,
    /// Binding order, standing in for the pod's start time (earlier = older).
    pub seq: u64,
}

/// A placement engine over a cluster snapshot, with kube-scheduler semantics.
///
/// [`Scheduler::schedule`] picks a node for a pod and *assumes* the pod there, so a sequence
/// of calls accumulates like a real cluster filling up. Every feasible node is scored
/// (no `percentageOfNodesToScore` sampling); ties go to the node listed first.
///
/// ```
/// use hxb_scaling::placement::{Profile, Scheduler, testing};
/// let nodes = vec![testing::node("a", "4", "8Gi"), testing::node("b", "8", "16Gi")];
/// let mut s = Scheduler::new(&nodes, &[], Profile::default())?;
/// let p = s.schedule(&testing::pod("web-1", "1", "1Gi"))?;
/// assert_eq!(p.node, "b"); // the emptier node
/// let err = s.schedule(&testing::pod("huge", "64", "1Gi")).unwrap_err();
/// assert_eq!(err.to_string(), "0/2 nodes are available: 2 Insufficient cpu.");
/// # Ok::<(), hxb_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Scheduler {
    pub(crate) profile: Profile,
    pub(crate) nodes: NodeTable,
    pub(crate) reg: Registry,
    pub(crate) shapes: Vec<Shape>,
    shape_ids: HashMap<Arc<PodSpecInfo>, u32>,
    pub(crate) pods: Vec<Option<BoundPod>>,
    free_ids: Vec<u32>,
    by_name: HashMap<(String, String), u32>,
    seq: u64,
    scores: Vec<i32>,
    topo: Vec<u8>,
    mask: Vec<u8>,
    total: Vec<i64>,
}

fn pod_key(pod: &Pod) -> Result<(String, String)> {
    let name = pod.metadata.name.clone().filter(|n| !n.is_empty());
    let name = name.ok_or_else(|| Error::invalid("pod.metadata.name", "missing"))?;
    Ok((
        pod.metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        name,
    ))
}

impl Scheduler {
    /// A scheduler over `nodes` with `pods` already bound (`spec.nodeName` set; pods without
    /// a node are ignored). Bad quantities, duplicate names or unknown nodes give
    /// [`hxb_core::ErrorKind::InvalidInput`].
    pub fn new(nodes: &[Node], pods: &[Pod], profile: Profile) -> Result<Self> {
        let nodes = NodeTable::new(nodes)?;
        let n = nodes.len();
        let mut s = Scheduler {
            profile,
            nodes,
            reg: Registry::new(n),
            shapes: Vec::new(),
            shape_ids: HashMap::new(),
            pods: Vec::new(),
            free_ids: Vec::new(),
            by_name: HashMap::new(),
            seq: 0,
            scores: Vec::new(),
            topo: Vec::new(),
            mask: Vec::new(),
            total: Vec::new(),
        };
        for pod in pods {
            if let Some(node) = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty())
            {
                s.assume(pod, &node)?;
            }
        }
        Ok(s)
    }

    /// A scheduler over the embedded cluster's snapshot.
    pub fn from_snapshot(snapshot: &ClusterSnapshot, profile: Profile) -> Result<Self> {
        Self::new(&snapshot.nodes, &snapshot.pods, profile)
    }

    /// The profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of bound pods.
    pub fn pod_count(&self) -> usize {
        self.by_name.len()
    }

    /// Node names, in the order used for tie-breaking.
    pub fn node_names(&self) -> &[String] {
        &self.nodes.names
    }

    /// The node a bound pod is on.
    pub fn node_of(&self, namespace: &str, name: &str) -> Option<&str> {
        let id = self.by_name.get(&(namespace.to_owned(), name.to_owned()))?;
        let p = self.pods[*id as usize].as_ref()?;
        Some(&self.nodes.names[p.node as usize])
    }

    /// Bound pods as `(namespace, name, node)`.
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &str, &str)> + '_ {
        self.pods.iter().flatten().map(|p| {
            (
                p.namespace.as_str(),
                p.name.as_str(),
                self.nodes.names[p.node as usize].as_str(),
            )
        })
    }

    pub(crate) fn shape_of(&mut self, pod: &Pod) -> Result<u32> {
        let spec = PodSpecInfo::from_pod(pod)?;
        if let Some(&id) = self.shape_ids.get(&spec) {
            return Ok(id);
        }
        let spec = Arc::new(spec);
        let pods = &self.pods;
        let shapes = &self.shapes;
        let mut bound = || {
            pods.iter()
                .flatten()
                .map(|p| (shapes[p.shape as usize].label_set, p.node))
                .collect()
        };
        let shape = Shape::compile(
            spec.clone(),
            &self.profile.filters,
            &mut self.nodes,
            &mut self.reg,
            &mut bound,
        );
        let id = self.shapes.len() as u32;
        self.shapes.push(shape);
        self.shape_ids.insert(spec, id);
        Ok(id)
    }

    /// Bind `pod` to `node` without checking filters (pods the cluster already runs, or a
    /// decision taken elsewhere).
    pub fn assume(&mut self, pod: &Pod, node: &str) -> Result<()> {
        let key = pod_key(pod)?;
        if self.by_name.contains_key(&key) {
            return Err(Error::already_exists("Pod", format!("{}/{}", key.0, key.1)));
        }
        let n = *self
            .nodes
            .index
            .get(node)
            .ok_or_else(|| Error::not_found("Node", node))?;
        let shape = self.shape_of(pod)?;
        self.bind(key, shape, n);
        Ok(())
    }

    pub(crate) fn bind(&mut self, key: (String, String), shape: u32, node: u32) -> u32 {
        let sh = &self.shapes[shape as usize];
        self.nodes.account(node as usize, sh.req, 1.0);
        self.reg.bind(sh.label_set, &sh.holds, node as usize, 1);
        self.seq += 1;
        let rec = BoundPod {
            namespace: key.0.clone(),
            name: key.1.clone(),
            shape,
            node,
            seq: self.seq,
        };
        let id = match self.free_ids.pop() {
            Some(id) => {
                self.pods[id as usize] = Some(rec);
                id
            }
            None => {
                self.pods.push(Some(rec));
                (self.pods.len() - 1) as u32
            }
        };
        self.nodes.pods_on[node as usize].push(id);
        self.by_name.insert(key, id);
        id
    }

    /// Remove a bound pod (deleted, evicted or finished).
    pub fn remove(&mut self, namespace: &str, name: &str) -> Result<()> {
        let id = self
            .by_name
            .get(&(namespace.to_owned(), name.to_owned()))
            .copied()
            .ok_or_else(|| Error::not_found("Pod", format!("{namespace}/{name}")))?;
        self.unbind(id);
        Ok(())
    }

    pub(crate) fn unbind(&mut self, id: u32) {
        let Some(p) = self.pods[id as usize].take() else {
            return;
        };
        let sh = &self.shapes[p.shape as usize];
        self.nodes.account(p.node as usize, sh.req, -1.0);
        self.reg.bind(sh.label_set, &sh.holds, p.node as usize, -1);
        self.nodes.pods_on[p.node as usize].retain(|&x| x != id);
        self.by_name.remove(&(p.namespace, p.name));
        self.free_ids.push(id);
    }

    /// Choose a node for `pod` and bind it there, evicting lower-priority pods if preemption
    /// is needed (the victims are removed from the snapshot and listed in the placement).
    ///
    /// A pod that fits nowhere gives [`Error::Unschedulable`] with per-filter node counts in
    /// kube-scheduler's wording; bad input gives `InvalidInput`. Either way nothing changes.
    pub fn schedule(&mut self, pod: &Pod) -> Result<Placement> {
        let key = pod_key(pod)?;
        if self.by_name.contains_key(&key) {
            return Err(Error::already_exists("Pod", format!("{}/{}", key.0, key.1)));
        }
        let shape = self.shape_of(pod)?;
        if let Some(node) = self.select(shape) {
            self.bind(key, shape, node as u32);
            return Ok(Placement {
                node: self.nodes.names[node].clone(),
                victims: Vec::new(),
            });
        }
        if self.profile.preemption
            && let Some((node, victims)) = preempt::find(self, shape)
        {
            let victims = victims
                .into_iter()
                .map(|id| {
                    let p = self.pods[id as usize].as_ref().expect("victim is bound");
                    let v = Victim {
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                    };
                    self.unbind(id);
                    v
                })
                .collect();
            self.bind(key, shape, node as u32);
            return Ok(Placement {
                node: self.nodes.names[node].clone(),
                victims,
            });
        }
        Err(Error::Unschedulable(self.explain(shape)))
    }

    /// Why no node fits a pod of `shape` right now.
    pub(crate) fn explain(&mut self, shape: u32) -> Unschedulable {
        let any_topo = topology::filter(
            &self.nodes,
            &self.reg,
            &self.shapes[shape as usize],
            &self.profile,
            &mut self.topo,
        );
        explain::unschedulable(
            &self.nodes,
            &self.shapes[shape as usize],
            &self.profile,
            any_topo.then_some(&self.topo[..]),
        )
    }

    /// Filter and score every node for a pod of `shape`; the best feasible node, if any.
    pub(crate) fn select(&mut self, shape: u32) -> Option<usize> {
        let sh = &self.shapes[shape as usize];
        let p = &self.profile;
        let n = self.nodes.len();
        let mask: &[u8] = if sh.topology_dependent()
            || !self.reg.label_sets[sh.label_set as usize].groups.is_empty()
        {
            let any = topology::filter(&self.nodes, &self.reg, sh, p, &mut self.topo);
            if any {
                self.mask.clear();
                self.mask.extend(
                    sh.static_ok
                        .iter()
                        .zip(&self.topo)
                        .map(|(&s, &t)| s & u8::from(t == 0)),
                );
                &self.mask
            } else {
                &sh.static_ok
            }
        } else {
            &sh.static_ok
        };
        let req = PodReq::new(sh.req, p.filters.resources);
        let feasible = resource_pass(
            &self.nodes,
            mask,
            req,
            p.strategy,
            p.weights.fit,
            p.weights.balanced,
            &mut self.scores,
        );
        if feasible == 0 {
            return None;
        }
        let w = &p.weights;
        let needs_more = (sh.taint_raw.is_some() && w.taint_toleration != 0)
            || (sh.affinity_raw.is_some() && w.node_affinity != 0)
            || sh.topology_dependent()
            || !self.reg.label_sets[sh.label_set as usize].groups.is_empty();
        if !needs_more {
            return argmax(&self.scores);
        }
        self.total.clear();
        self.total.extend(self.scores.iter().map(|&s| i64::from(s)));
        let total = &mut self.total[..n];
        if let Some(raw) = &sh.taint_raw {
            add_normalized_default(raw, &self.scores, true, w.taint_toleration, total);
        }
        if let Some(raw) = &sh.affinity_raw {
            add_normalized_default(raw, &self.scores, false, w.node_affinity, total);
        }
        topology::add_scores(&self.nodes, &self.reg, sh, p, &self.scores, total);
        argmax(total)
    }
}
