//! The pod-scheduling hook of the embedded cluster.
//!
//! The embedded cluster binds every new pod to a node by asking a [`PodScheduler`]. hxb-core
//! ships a simple scheduler, [`LeastAllocated`](crate::embedded::LeastAllocated), inside the
//! embedded module; `hxb-scaling`
//! provides the full kube-scheduler-like placement engine (affinity, spread, preemption,
//! scoring), and the `hxb` facade plugs it in.

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::error::Unschedulable;

/// What a scheduler sees: every node and every pod already bound to a node
/// (`spec.nodeName` set).
#[derive(Debug, Clone, Default)]
pub struct ClusterSnapshot {
    /// All nodes.
    pub nodes: Vec<Node>,
    /// All bound pods.
    pub pods: Vec<Pod>,
}

/// A pod to evict so that the scheduled pod fits (preemption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Victim {
    /// Namespace of the pod to evict.
    pub namespace: String,
    /// Name of the pod to evict.
    pub name: String,
}

/// A scheduling decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The chosen node.
    pub node: String,
    /// Lower-priority pods to evict first (empty unless preemption was needed).
    pub victims: Vec<Victim>,
}

/// Chooses a node for a pod.
pub trait PodScheduler: Send + Sync + 'static {
    /// Place `pod` on one of `snapshot.nodes`, or explain per filter why none fits.
    fn schedule(&self, pod: &Pod, snapshot: &ClusterSnapshot) -> Result<Placement, Unschedulable>;
}
